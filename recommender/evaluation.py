"""Offline evaluation of the collaborative-filtering models.

Data loading (``seq`` and RecBole ``inter`` files), the two split protocols
(``loo`` leave-one-out, ``ratio`` 75/25 per user), top-k ranking metrics and
one runner, :func:`evaluate`, used by ``daogou recs eval`` and the benchmark.
Evaluation stays separate from the models (benfred/implicit style): models
see ordered training histories, never the held-out items, and are tuned on
validation folds carved from the training part only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recommender.cf import MODEL_NAMES, SERVED_MODEL, build_model
from recommender.cf.base import Fold, Recommender

FORMATS = ("seq", "inter")
PROTOCOLS = ("loo", "ratio")
RATIO_TRAIN_SHARE = 0.75
# Validation for ``ratio``: 10 % of each user's training items, two draws.
# A small hold-out keeps the tuning data close in size to the real training
# set; two draws halve the noise.
VALIDATION_TRAIN_SHARE = 0.9
VALIDATION_DRAWS = 2
SCORE_BATCH = 2048

# ``Split`` is the evaluation's name for a fold: training histories + targets.
Split = Fold


class DataError(ValueError):
    """The data file is missing or not in the announced format."""


@dataclass(frozen=True)
class Interactions:
    """Per-user histories in time order, with dense internal ids.

    ``sequences[u]`` holds internal item ids (``0..n_items-1``) of user ``u``
    oldest first; ``item_ids[i]`` is the external id of internal item ``i``.
    ``arrival[u][j]`` is the rank of ``sequences[u][j]`` among the user's
    lines in the file (the ``ratio`` split draws in file order, like the
    reference numbers). ``timestamps`` and ``ratings`` are aligned with
    ``sequences`` when the file has them. Users are sorted by id,
    numerically when the ids are numbers.
    """

    user_ids: list[str]
    item_ids: list[str]
    sequences: list[np.ndarray]
    arrival: list[np.ndarray]
    timestamps: list[np.ndarray] | None = None
    ratings: list[np.ndarray] | None = None

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))


@dataclass(frozen=True)
class _Event:
    time: float
    item: str
    rating: float


# ----------------------------------------------------------------- loading


def load_seq(path: str | Path) -> Interactions:
    """Load ``user item item ...`` lines (items oldest first, S3-Rec style)."""
    events: dict[str, list[_Event]] = {}
    for line_number, line in enumerate(_read_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2 or ":token" in fields[0]:
            raise DataError(f"{path}:{line_number}: expected 'user item item ...' (seq format)")
        user_events = events.setdefault(fields[0], [])
        offset = len(user_events)
        user_events.extend(
            _Event(float(offset + j), item, 1.0) for j, item in enumerate(fields[1:])
        )
    return _index(events, path, has_time=False, has_rating=False)


def load_inter(path: str | Path) -> Interactions:
    """Load a RecBole atomic ``.inter`` file; each user's items sorted by timestamp."""
    lines = _read_lines(path)
    if not lines:
        raise DataError(f"{path}: empty file")
    header = [name.split(":")[0] for name in lines[0].rstrip("\n").split("\t")]
    if "user_id" not in header or "item_id" not in header:
        raise DataError(f"{path}: header must name user_id:token and item_id:token columns")
    user_col, item_col = header.index("user_id"), header.index("item_id")
    time_col = header.index("timestamp") if "timestamp" in header else None
    rating_col = header.index("rating") if "rating" in header else None
    events: dict[str, list[_Event]] = {}
    for line_number, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\n").split("\t")
        if fields == [""]:
            continue
        if len(fields) < len(header):
            raise DataError(f"{path}:{line_number}: expected {len(header)} tab-separated fields")
        stamp = _parse_float(fields[time_col], path, line_number) if time_col is not None else 0.0
        rating = (
            _parse_float(fields[rating_col], path, line_number) if rating_col is not None else 1.0
        )
        events.setdefault(fields[user_col], []).append(_Event(stamp, fields[item_col], rating))
    return _index(events, path, has_time=time_col is not None, has_rating=rating_col is not None)


def load_interactions(path: str | Path, fmt: str) -> Interactions:
    """Load ``path`` in format ``seq`` or ``inter``."""
    if fmt == "seq":
        return load_seq(path)
    if fmt == "inter":
        return load_inter(path)
    raise DataError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _read_lines(path: str | Path) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{path}: no such file")
    try:
        return file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not a UTF-8 text file") from error


def _parse_float(text: str, path: str | Path, line_number: int) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise DataError(f"{path}:{line_number}: {text!r} is not a number") from error


def _user_order(user: str) -> tuple[int, int, str]:
    return (0, int(user), "") if user.isdigit() else (1, 0, user)


def _index(
    events: dict[str, list[_Event]], path: str | Path, has_time: bool, has_rating: bool
) -> Interactions:
    """Dense ids; time order with ties kept in file order; a repeated item keeps its first event.

    Relevance is binary, so a repeated user-item pair counts once.
    """
    if not events:
        raise DataError(f"{path}: no interactions")
    users = sorted(events, key=_user_order)
    item_index: dict[str, int] = {}
    sequences, arrival, timestamps, ratings = [], [], [], []
    for user in users:
        seen: set[str] = set()
        kept = []
        for position, event in enumerate(events[user]):
            if event.item not in seen:
                seen.add(event.item)
                kept.append((event.time, position, event))
        kept.sort(key=lambda entry: (entry[0], entry[1]))
        sequences.append(
            np.array([item_index.setdefault(e.item, len(item_index)) for _, _, e in kept], np.int32)
        )
        positions = np.array([p for _, p, _ in kept])
        arrival.append(np.argsort(np.argsort(positions, kind="stable")).astype(np.int32))
        timestamps.append(np.array([e.time for _, _, e in kept], dtype=np.float64))
        ratings.append(np.array([e.rating for _, _, e in kept], dtype=np.float32))
    return Interactions(
        user_ids=users,
        item_ids=list(item_index),
        sequences=sequences,
        arrival=arrival,
        timestamps=timestamps if has_time else None,
        ratings=ratings if has_rating else None,
    )


# ------------------------------------------------------------------ splits


def _take(
    lists: list[np.ndarray] | None, user: int, index: np.ndarray | slice
) -> np.ndarray | None:
    return None if lists is None else lists[user][index]


def _fold(
    train: list[np.ndarray],
    targets: list[np.ndarray],
    n_items: int,
    weights: list[np.ndarray | None],
    timestamps: list[np.ndarray | None],
) -> Fold:
    return Fold(
        histories=train,
        targets=targets,
        n_items=n_items,
        weights=None if not weights or weights[0] is None else weights,  # type: ignore[arg-type]
        timestamps=None if not timestamps or timestamps[0] is None else timestamps,  # type: ignore[arg-type]
    )


def leave_one_out(data: Interactions, holdout: str = "test") -> Split:
    """Hold out each user's last item (``test``) or second-to-last (``validation``).

    For ``validation`` the last item is dropped entirely, so tuning never sees
    a test item. A user too short to keep a training item gets no target.
    """
    drop = {"test": 1, "validation": 2}[holdout]
    train, targets, weights, stamps = [], [], [], []
    for user, sequence in enumerate(data.sequences):
        end = len(sequence) - drop
        if end < 1:
            keep = slice(0, max(end + 1, 0))
            target = sequence[:0]
        else:
            keep = slice(0, end)
            target = sequence[end : end + 1]
        train.append(sequence[keep])
        targets.append(target)
        weights.append(_take(data.ratings, user, keep))
        stamps.append(_take(data.timestamps, user, keep))
    return _fold(train, targets, data.n_items, weights, stamps)


def ratio_split(
    histories: Sequence[np.ndarray],
    n_items: int,
    share: float = RATIO_TRAIN_SHARE,
    seed: int = 42,
    arrival: Sequence[np.ndarray] | None = None,
    weights: Sequence[np.ndarray] | None = None,
    timestamps: Sequence[np.ndarray] | None = None,
) -> Split:
    """Stratified random split: per user ``round(share * n)`` items train, the rest test.

    One ``numpy.random.default_rng(seed)`` draws a permutation per user, in
    user order, over the user's items in file order (``arrival``; time order
    when absent). On MovieLens-100k this reproduces the split behind the
    reference numbers in the data notes (popularity nDCG@10 0.2562, EASE
    lambda=300 0.4903). Training items keep their time order.
    """
    rng = np.random.default_rng(seed)
    train, targets, train_weights, train_stamps = [], [], [], []
    for user, sequence in enumerate(histories):
        file_order = (
            np.argsort(arrival[user], kind="stable")
            if arrival is not None
            else np.arange(len(sequence))
        )
        drawn = file_order[rng.permutation(len(sequence))]
        cut = round(share * len(sequence))
        in_train = np.zeros(len(sequence), dtype=bool)
        in_train[drawn[:cut]] = True
        train.append(sequence[in_train])
        targets.append(sequence[drawn[cut:]])
        train_weights.append(None if weights is None else weights[user][in_train])
        train_stamps.append(None if timestamps is None else timestamps[user][in_train])
    return _fold(train, targets, n_items, train_weights, train_stamps)


def make_split(data: Interactions, protocol: str, seed: int = 42) -> tuple[list[Split], Split]:
    """The validation folds and the test split of ``protocol``.

    ``loo``: validation = second-to-last item with the last one removed.
    ``ratio``: test = 25 % per user; validation = 10 % of the training part,
    drawn twice (seeds ``seed + 1``, ``seed + 2``), so test items never
    enter tuning.
    """
    if protocol == "loo":
        return [leave_one_out(data, "validation")], leave_one_out(data, "test")
    if protocol == "ratio":
        test = ratio_split(
            data.sequences,
            data.n_items,
            seed=seed,
            arrival=data.arrival,
            weights=data.ratings,
            timestamps=data.timestamps,
        )
        folds = [
            ratio_split(
                test.histories,
                data.n_items,
                share=VALIDATION_TRAIN_SHARE,
                seed=seed + draw,
                weights=test.weights,
                timestamps=test.timestamps,
            )
            for draw in range(1, VALIDATION_DRAWS + 1)
        ]
        return folds, test
    raise DataError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")


# ----------------------------------------------------------------- metrics


def ranking_metrics(
    recommended: np.ndarray, targets: Sequence[np.ndarray], n_items: int, k: int = 10
) -> dict[str, float]:
    """Top-``k`` metrics over users with at least one target item, binary relevance.

    ``recommended`` is ``[users, >=k]`` item ids, best first (``-1`` pads).
    ``hr@k``: share of users with a hit. ``ndcg@k``: DCG over the ideal DCG
    of ``min(k, #relevant)`` hits. ``precision@k``: hits / k.
    ``recall@k``: hits / #relevant. ``map``: Microsoft Recommenders' ``map``
    (the metric behind their README's MAP column, which older releases
    called ``map_at_k``): the sum of precision at each hit rank within the
    top k, divided by the number of relevant items (their newer ``map_at_k``
    divides by ``min(k, #relevant)`` instead). ``coverage``: distinct
    recommended items over the catalogue.
    """
    top = recommended[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    totals = dict.fromkeys(("hr", "ndcg", "recall", "precision", "map"), 0.0)
    evaluated = 0
    for row, relevant in zip(top, targets, strict=True):
        if len(relevant) == 0:
            continue
        evaluated += 1
        hits = np.isin(row, relevant) & (row >= 0)
        n_hits = int(hits.sum())
        if n_hits == 0:
            continue
        ranks = np.flatnonzero(hits) + 1
        totals["hr"] += 1.0
        totals["ndcg"] += (
            discounts[: len(row)][hits].sum() / discounts[: min(k, len(relevant))].sum()
        )
        totals["recall"] += n_hits / len(relevant)
        totals["precision"] += n_hits / k
        totals["map"] += (np.arange(1, n_hits + 1) / ranks).sum() / len(relevant)
    metrics = {
        (name if name == "map" else f"{name}@{k}"): value / max(evaluated, 1)
        for name, value in totals.items()
    }
    shown = np.unique(top[top >= 0])
    metrics["coverage"] = len(shown) / n_items if n_items else 0.0
    return metrics


# ------------------------------------------------------------------ runner


def evaluated_users(split: Split) -> np.ndarray:
    return np.array([u for u, t in enumerate(split.targets) if len(t)], dtype=np.int64)


def recommend_for(model: Recommender, split: Split, users: np.ndarray, k: int) -> np.ndarray:
    """Top-``k`` items for ``users`` from their training histories, history excluded."""
    out = np.full((len(users), k), -1, dtype=np.int64)
    for start in range(0, len(users), SCORE_BATCH):
        batch = users[start : start + SCORE_BATCH]
        ids, _ = model.recommend_sequences(
            [split.histories[u] for u in batch],
            n=k,
            weights=None if split.weights is None else [split.weights[u] for u in batch],
            timestamps=None if split.timestamps is None else [split.timestamps[u] for u in batch],
        )
        out[start : start + len(batch), : ids.shape[1]] = ids
    return out


def score_split(model: Recommender, split: Split, k: int) -> tuple[dict[str, float], float]:
    """Rank for every user with targets; returns metrics and scoring seconds."""
    users = evaluated_users(split)
    started = time.perf_counter()
    recommended = recommend_for(model, split, users, k)
    score_s = time.perf_counter() - started
    metrics = ranking_metrics(recommended, [split.targets[u] for u in users], split.n_items, k)
    return metrics, score_s


def run_model(
    name: str, folds: Sequence[Split], test: Split, k: int = 10, seed: int = 42
) -> dict[str, object]:
    """Tune ``name`` on the validation ``folds`` (if it has knobs), fit on the test split's
    training part, and score the test items. ``train_s`` includes the tuning."""
    started = time.perf_counter()
    model = build_model(name, seed=seed)
    params = model.tune(folds, k=k)
    model.fit_sequences(test.histories, test.n_items, test.weights, test.timestamps)
    train_s = time.perf_counter() - started
    metrics, score_s = score_split(model, test, k)
    result: dict[str, object] = {"model": name}
    result.update({metric: round(float(value), 5) for metric, value in metrics.items()})
    result.update(
        train_s=round(train_s, 3),
        score_s=round(score_s, 3),
        users=int(len(evaluated_users(test))),
        items=int(test.n_items),
    )
    if params:
        result["params"] = params
    return result


def evaluate(
    data_path: str | Path,
    fmt: str,
    protocol: str,
    k: int = 10,
    model: str = SERVED_MODEL,
    seed: int = 42,
) -> dict[str, object]:
    """Load, split and evaluate one model (by default the served ranker); the dict is what
    ``daogou recs eval`` prints."""
    check_request(fmt, protocol, k, model)
    data = load_interactions(data_path, fmt)
    folds, test = make_split(data, protocol, seed=seed)
    return run_model(model, folds, test, k=k, seed=seed)


def check_request(fmt: str, protocol: str, k: int, model: str) -> None:
    """Reject unknown names before any slow work."""
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if protocol not in PROTOCOLS:
        raise DataError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    if model not in MODEL_NAMES:
        raise DataError(f"unknown model {model!r}; expected one of {', '.join(MODEL_NAMES)}")
    if k < 1:
        raise DataError("k must be at least 1")


__all__ = [
    "FORMATS",
    "PROTOCOLS",
    "DataError",
    "Interactions",
    "Split",
    "check_request",
    "evaluate",
    "leave_one_out",
    "load_inter",
    "load_interactions",
    "load_seq",
    "make_split",
    "ranking_metrics",
    "ratio_split",
    "run_model",
    "score_split",
]

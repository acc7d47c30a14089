"""Offline evaluation of the collaborative-filtering models.

Data loading (``seq`` and RecBole ``inter`` files), the two split protocols
(``loo`` leave-one-out, ``ratio`` 75/25 per user), top-k ranking metrics and
one runner, :func:`evaluate`, used by ``daogou recs eval`` and the benchmark.
Evaluation stays separate from the models (benfred/implicit style): models see
ordered training histories, never the held-out items.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recommender.cf import MODEL_NAMES, Recommender, build_model, to_user_items

FORMATS = ("seq", "inter")
PROTOCOLS = ("loo", "ratio")
RATIO_TRAIN_SHARE = 0.75
SCORE_BATCH = 2048


class DataError(ValueError):
    """The data file is missing or not in the announced format."""


@dataclass(frozen=True)
class Interactions:
    """Per-user histories in time order, with dense internal ids.

    ``sequences[u]`` holds internal item ids (``0..n_items-1``) of user ``u``
    oldest first; ``item_ids[i]`` is the external id of internal item ``i``.
    ``arrival[u][j]`` is the rank of ``sequences[u][j]`` among the user's
    lines in the file (the ``ratio`` split draws in file order, as the
    published reference numbers do). Users are sorted by id, numerically
    when the ids are numbers.
    """

    user_ids: list[str]
    item_ids: list[str]
    sequences: list[np.ndarray]
    arrival: list[np.ndarray]

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    def in_file_order(self, user: int) -> np.ndarray:
        return self.sequences[user][np.argsort(self.arrival[user], kind="stable")]


@dataclass(frozen=True)
class Split:
    """Ordered training histories and the held-out items for each user."""

    train: list[np.ndarray]
    targets: list[np.ndarray]
    n_items: int


# ----------------------------------------------------------------- loading


def load_seq(path: str | Path) -> Interactions:
    """Load ``user item item ...`` lines (items oldest first, S3-Rec style)."""
    events: dict[str, list[tuple[float, str]]] = {}
    for line_number, line in enumerate(_read_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise DataError(f"{path}:{line_number}: expected 'user item item ...'")
        user_events = events.setdefault(fields[0], [])
        user_events.extend((float(len(user_events) + j), item) for j, item in enumerate(fields[1:]))
    return _index(events, path)


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
    events: dict[str, list[tuple[float, str]]] = {}
    for line_number, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\n").split("\t")
        if fields == [""]:
            continue
        if len(fields) < len(header):
            raise DataError(f"{path}:{line_number}: expected {len(header)} tab-separated fields")
        stamp = _parse_float(fields[time_col], path, line_number) if time_col is not None else 0.0
        events.setdefault(fields[user_col], []).append((stamp, fields[item_col]))
    return _index(events, path)


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


def _index(events: dict[str, list[tuple[float, str]]], path: str | Path) -> Interactions:
    """Dense ids; time order with ties kept in file order; repeats keep the first event.

    Relevance is binary, so a repeated user-item pair counts once.
    """
    if not events:
        raise DataError(f"{path}: no interactions")
    users = sorted(events, key=_user_order)
    item_index: dict[str, int] = {}
    sequences, arrival = [], []
    for user in users:
        seen: set[str] = set()
        kept = []
        for position, (stamp, item) in enumerate(events[user]):
            if item not in seen:
                seen.add(item)
                kept.append((stamp, position, item))
        kept.sort()
        ids = [item_index.setdefault(item, len(item_index)) for _, _, item in kept]
        sequences.append(np.array(ids, dtype=np.int32))
        arrival.append(
            np.argsort(np.argsort([p for _, p, _ in kept], kind="stable")).astype(np.int32)
        )
    return Interactions(
        user_ids=users, item_ids=list(item_index), sequences=sequences, arrival=arrival
    )


# ------------------------------------------------------------------ splits


def leave_one_out(data: Interactions, holdout: str = "test") -> Split:
    """Hold out each user's last item (``test``) or second-to-last (``validation``).

    For ``validation`` the last item is dropped entirely, so tuning never sees
    a test item. Users too short to give a training item keep an empty target.
    """
    drop = {"test": 1, "validation": 2}[holdout]
    train, targets = [], []
    for sequence in data.sequences:
        if len(sequence) <= drop:
            train.append(sequence[: max(len(sequence) - drop + 1, 0)])
            targets.append(sequence[:0])
            continue
        train.append(sequence[:-drop])
        targets.append(sequence[len(sequence) - drop : len(sequence) - drop + 1])
    return Split(train=train, targets=targets, n_items=data.n_items)


def ratio_split(
    histories: Sequence[np.ndarray],
    n_items: int,
    share: float = RATIO_TRAIN_SHARE,
    seed: int = 42,
    arrival: Sequence[np.ndarray] | None = None,
) -> Split:
    """Stratified random split: per user ``round(share * n)`` items train, the rest test.

    One ``numpy.random.default_rng(seed)`` draws a permutation per user, in
    user order, over the user's items in file order (``arrival``; time order
    when absent). On MovieLens-100k this reproduces the split behind the
    reference numbers in the data notes (EASE lambda=300: nDCG@10 0.4903).
    Training items keep their time order.
    """
    rng = np.random.default_rng(seed)
    train, targets = [], []
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
    return Split(train=train, targets=targets, n_items=n_items)


def make_split(data: Interactions, protocol: str, seed: int = 42) -> tuple[Split, Split]:
    """The (validation, test) splits of ``protocol``.

    ``loo``: validation = second-to-last item with the last removed.
    ``ratio``: test = 25 % per user; validation = 25 % of the training part,
    drawn with ``seed + 1``, so the test items never enter tuning.
    """
    if protocol == "loo":
        return leave_one_out(data, "validation"), leave_one_out(data, "test")
    if protocol == "ratio":
        test = ratio_split(data.sequences, data.n_items, seed=seed, arrival=data.arrival)
        validation = ratio_split(test.train, data.n_items, seed=seed + 1)
        return validation, test
    raise DataError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")


# ----------------------------------------------------------------- metrics


def ranking_metrics(
    recommended: np.ndarray, targets: Sequence[np.ndarray], n_items: int, k: int = 10
) -> dict[str, float]:
    """Top-``k`` metrics over users with at least one target item, binary relevance.

    ``recommended`` is ``[users, >=k]`` item ids, best first (``-1`` pads).
    ``map`` is Microsoft Recommenders' ``map`` (their README's MAP column):
    the sum of precision at each hit rank within the top k, divided by the
    number of relevant items. ``ndcg`` divides by the ideal DCG of
    ``min(k, #relevant)`` hits. ``coverage`` counts distinct recommended
    items over the catalogue.
    """
    top = recommended[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    totals = dict.fromkeys(("hr", "ndcg", "recall", "precision", "map"), 0.0)
    evaluated = 0
    for row, relevant in zip(top, targets, strict=True):
        if len(relevant) == 0:
            continue
        evaluated += 1
        hits = np.isin(row, relevant)
        n_hits = int(hits.sum())
        if n_hits == 0:
            continue
        ranks = np.flatnonzero(hits) + 1
        totals["hr"] += 1.0
        totals["ndcg"] += discounts[hits].sum() / discounts[: min(k, len(relevant))].sum()
        totals["recall"] += n_hits / len(relevant)
        totals["precision"] += n_hits / k
        totals["map"] += (np.arange(1, n_hits + 1) / ranks).sum() / len(relevant)
    shown = np.unique(top[top >= 0])
    metrics = {
        f"{name}@{k}" if name != "map" else name: value / max(evaluated, 1)
        for name, value in totals.items()
    }
    metrics["coverage"] = len(shown) / n_items if n_items else 0.0
    return metrics


# ------------------------------------------------------------------ runner


def recommend_all(
    model: Recommender, histories: Sequence[np.ndarray], n_items: int, k: int, users: np.ndarray
) -> np.ndarray:
    """Top-``k`` items for ``users`` (indices into ``histories``), history excluded, in batches."""
    out = np.full((len(users), k), -1, dtype=np.int64)
    for start in range(0, len(users), SCORE_BATCH):
        batch = users[start : start + SCORE_BATCH]
        ids, _ = model.recommend_sequences([histories[u] for u in batch], n=k)
        out[start : start + len(batch)] = ids
    return out


def evaluated_users(split: Split) -> np.ndarray:
    return np.array([u for u, t in enumerate(split.targets) if len(t)], dtype=np.int64)


def score_split(model: Recommender, split: Split, k: int) -> tuple[dict[str, float], float]:
    """Rank for every user with targets; returns metrics and scoring seconds."""
    users = evaluated_users(split)
    started = time.perf_counter()
    recommended = recommend_all(model, split.train, split.n_items, k, users)
    score_s = time.perf_counter() - started
    metrics = ranking_metrics(recommended, [split.targets[u] for u in users], split.n_items, k)
    return metrics, score_s


def run_model(
    name: str, validation: Split, test: Split, k: int = 10, seed: int = 42
) -> dict[str, object]:
    """Tune ``name`` on ``validation`` where it has knobs, fit on ``test.train``, score test."""
    started = time.perf_counter()
    model = build_model(name, seed=seed)
    params = model.tune(validation.train, validation.targets, validation.n_items, k=k)
    model.fit_sequences(test.train, test.n_items)
    train_s = time.perf_counter() - started
    metrics, score_s = score_split(model, test, k)
    result: dict[str, object] = {"model": name, **_rounded(metrics)}
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
    model: str = "best",
    seed: int = 42,
) -> dict[str, object]:
    """Load, split and evaluate one model; the dict is what ``daogou recs eval`` prints.

    ``train_s`` includes tuning on the validation split (best model only).
    """
    if model not in MODEL_NAMES:
        raise DataError(f"unknown model {model!r}; expected one of {', '.join(MODEL_NAMES)}")
    if k < 1:
        raise DataError("k must be at least 1")
    data = load_interactions(data_path, fmt)
    validation, test = make_split(data, protocol, seed=seed)
    return run_model(model, validation, test, k=k, seed=seed)


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {name: round(float(value), 5) for name, value in metrics.items()}


__all__ = [
    "DataError",
    "Interactions",
    "Split",
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
    "to_user_items",
]

"""SessionBlend: a session-aware blend that weighs the shopper's latest items.

The collaborative part of what the shop serves: :class:`recommender.cf.served.ServedRanker`
holds one and puts the shop's catalog knowledge (intent, graph relations, price level,
exclusions, reasons) on top. ``benchmarks/recsys.py`` reports it alone beside ``served``;
on the public data sets, which have no catalog, the two rank alike.

Each signal is scored for every item, scaled to a maximum of 1 per shopper,
and summed with blend weights that :meth:`SessionBlend.tune` picks on a
validation split (never on test items):

``ease@g``  EASE-style linear item-item model (EDLAE with dropout emphasis)
            applied to the history with recency weights ``g ** age``
            (``g = 1``: order-free). Its Gram matrix adds co-occurrence
            within sessions (events less than ``session_gap`` seconds
            apart) when timestamps are known; weights (star ratings, or the
            shop's interaction strengths), when known, weight the input as
            ``(weight / mean) ** rating_power``.
``slit``    "What comes next": a linear transition model (after SLIT, Choi
            et al., WWW 2021) from the last ``slit_window`` items, decayed
            by ``slit_decay`` per step back, to the next item; it reuses
            the inverse EASE has just computed.
``als``     Implicit ALS factors (``implicit``): a smooth low-rank view.
``pop``     Log popularity: the prior for cold or short histories.
``late``    Penalty (-1) for items first seen more than ``late_slack``
            seconds after the request (by default the shopper's latest
            event): not yet available then.

Hyper-parameters inside the signals are fixed defaults chosen on the
validation splits of Amazon Beauty and MovieLens-100k; regularization
scales with the data (see ``ease.LAMBDA_SCALE``). Only blend weights are
tuned per data set (``tune``); ``DEFAULT_BLEND`` serves untuned use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.cf.als import ALS
from recommender.cf.base import (
    Fold,
    Histories,
    Recommender,
    StateValue,
    check_item_ids,
    similar_from_rows,
    sub_state,
    to_user_items,
    top_n,
)
from recommender.cf.blend_tuning import CandidatePool, coordinate_ascent
from recommender.cf.ease import (
    LAMBDA_SCALE,
    gram,
    regularized_inverse,
    scaled_regularization,
    weights_from_inverse,
)
from recommender.cf.spark_als import SparkALS

# Untuned default, between what validation picked on Beauty (recency and
# next-item heavy) and MovieLens (order-free): a shop's sessions matter.
DEFAULT_BLEND = {"ease@0.8": 1.0, "slit": 1.0, "pop": 0.05}
# Tuning starts from plain (order-free) EDLAE.
TUNING_START = {"ease@1": 1.0}
# Cold histories: a whisper of popularity breaks ties deterministically.
POPULARITY_TIE_BREAK = 1e-4
SCORE_BATCH = 2048
# Who fits the ALS signal: ``implicit`` in this process, or Spark MLlib for logs too large for
# it. Both save the same state, which loads as ``ALS`` (no Spark needed to serve).
ALS_ENGINES: dict[str, type[ALS]] = {"inprocess": ALS, "spark": SparkALS}


def scaled_to_unit(scores: np.ndarray) -> np.ndarray:
    """Divide each row by its largest absolute value (rows of zeros stay zero)."""
    peak = np.abs(scores).max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    return scores / peak


def recency_weights(length: int, decay: float) -> np.ndarray:
    """``decay ** age``: the latest item 1, the one before ``decay`` ..."""
    return (decay ** np.arange(length - 1, -1, -1)).astype(np.float32)


def split_sessions(
    histories: Histories, timestamps: Histories, gap: float, weights: Histories
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Cut each history where consecutive events are more than ``gap`` seconds apart."""
    sessions, session_weights = [], []
    for items, times, item_weights in zip(histories, timestamps, weights, strict=True):
        cuts = np.flatnonzero(np.diff(times) > gap) + 1
        for part, part_weights in zip(
            np.split(items, cuts), np.split(item_weights, cuts), strict=True
        ):
            if len(part) > 1:
                sessions.append(part)
                session_weights.append(part_weights)
    return sessions, session_weights


def transition_samples(
    histories: Histories, n_items: int, window: int, decay: float
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Sources (the ``window`` items before each step, decayed) and targets (the next item)."""
    src_rows, src_cols, src_vals, tgt_cols = [], [], [], []
    row = 0
    for items in histories:
        for step in range(1, len(items)):
            before = items[max(0, step - window) : step]
            src_rows.append(np.full(len(before), row))
            src_cols.append(before)
            src_vals.append(recency_weights(len(before), decay))
            tgt_cols.append(items[step])
            row += 1
    if row == 0:
        empty = sp.csr_matrix((0, n_items), dtype=np.float32)
        return empty, empty
    sources = sp.csr_matrix(
        (np.concatenate(src_vals), (np.concatenate(src_rows), np.concatenate(src_cols))),
        shape=(row, n_items),
        dtype=np.float32,
    )
    targets = sp.csr_matrix(
        (np.ones(row, np.float32), (np.arange(row), np.array(tgt_cols))),
        shape=(row, n_items),
        dtype=np.float32,
    )
    return sources, targets


def transition_weights(
    histories: Histories, n_items: int, window: int, decay: float, inverse: np.ndarray
) -> np.ndarray:
    """Ridge regression from the recent items to the next one: ``W = P S'T``.

    SLIT solves with ``P = (S'S + lambda I)^-1``; we reuse the inverse of the
    regularized co-occurrence Gram that EASE has just computed, since both
    are item-item second moments of the same histories. On the Beauty
    validation split this costs 0.002 HR@10, no NDCG, and saves an
    ``items^3`` inversion per fit.
    """
    sources, targets = transition_samples(histories, n_items, window, decay)
    # P @ (S'T) with S'T sparse: (T'S @ P)' since P is symmetric.
    cross = sp.csr_matrix(targets.T @ sources, dtype=np.float32)
    return np.ascontiguousarray((cross @ inverse).T, dtype=np.float32)


class SessionBlend(Recommender):
    """Blend of linear item-item, next-item, factor and popularity signals (see module doc).

    ``als_engine`` (``"inprocess"`` or ``"spark"``) only chooses who fits the ALS signal; it is
    not saved, since both engines save the same state (a loaded model refits in-process).
    """

    name = "session_blend"
    unsaved_params = ("als_engine",)

    def __init__(
        self,
        lambda_scale: float = LAMBDA_SCALE,
        dropout: float = 0.5,
        rating_power: float = 0.5,
        session_gap: float = 600.0,
        session_weight: float = 0.5,
        slit_window: int = 5,
        slit_decay: float = 0.5,
        recency_decays: Sequence[float] = (1.0, 0.9, 0.8, 0.7),
        als_factors: int = 256,
        als_regularization: float = 30.0,
        als_alpha: float = 5.0,
        late_slack: float = 86400.0,
        blend: dict[str, float] | None = None,
        max_tune_users: int = 8000,
        seed: int = 42,
        als_engine: str = "inprocess",
    ) -> None:
        if als_engine not in ALS_ENGINES:
            raise ValueError(f"als_engine must be one of {', '.join(ALS_ENGINES)}: {als_engine!r}")
        self.als_engine = als_engine
        self.lambda_scale = lambda_scale
        self.dropout = dropout
        self.rating_power = rating_power
        self.session_gap = session_gap
        self.session_weight = session_weight
        self.slit_window = slit_window
        self.slit_decay = slit_decay
        self.recency_decays = tuple(recency_decays)
        self.als_factors = als_factors
        self.als_regularization = als_regularization
        self.als_alpha = als_alpha
        self.late_slack = late_slack
        self.blend = dict(blend or DEFAULT_BLEND)
        self.max_tune_users = max_tune_users
        self.seed = seed
        self.ease = np.zeros((0, 0), np.float32)
        self.slit: np.ndarray | None = None
        self.als: ALS | None = None
        self.popularity = np.zeros(0, np.float32)
        self.first_seen: np.ndarray | None = None
        self.mean_weight = 1.0
        self._tuning = False  # while tuning, every signal is fitted

    # ------------------------------------------------------------- fitting

    def fit(self, user_items: sp.csr_matrix) -> Self:
        """Order-free fit: the weights in ``user_items`` as given, no transitions."""
        user_items = sp.csr_matrix(user_items, dtype=np.float32)
        self.n_items = user_items.shape[1]
        self._fit_item_models(user_items, gram(user_items), histories=None)
        self.first_seen = None
        return self

    def fit_sequences(
        self,
        histories: Histories,
        n_items: int,
        weights: Histories | None = None,
        timestamps: Histories | None = None,
    ) -> Self:
        self.n_items = n_items
        if weights is not None:
            flat = np.concatenate(weights) if len(weights) else np.ones(1)
            self.mean_weight = float(np.mean(flat)) if len(flat) and np.mean(flat) > 0 else 1.0
        input_weights = self._input_weights(histories, weights)
        user_items = to_user_items(histories, n_items, input_weights)
        co_occurrence = gram(user_items)
        if timestamps is not None and self.session_weight > 0:
            sessions, session_weights = split_sessions(
                histories, timestamps, self.session_gap, input_weights
            )
            co_occurrence += self.session_weight * gram(
                to_user_items(sessions, n_items, session_weights)
            )
        self._fit_item_models(user_items, co_occurrence, histories)
        self.first_seen = (
            _first_seen(histories, timestamps, n_items) if timestamps is not None else None
        )
        return self

    def _fit_item_models(
        self, user_items: sp.csr_matrix, co_occurrence: np.ndarray, histories: Histories | None
    ) -> None:
        regularization = scaled_regularization(user_items, self.lambda_scale)
        inverse = regularized_inverse(co_occurrence, regularization, self.dropout)
        del co_occurrence
        self.slit = None
        if histories is not None and self._uses("slit"):
            self.slit = transition_weights(
                histories, self.n_items, self.slit_window, self.slit_decay, inverse
            )
        self.ease = weights_from_inverse(inverse)
        del inverse
        counts = np.bincount(user_items.indices, minlength=self.n_items).astype(np.float32)
        self.popularity = np.log1p(counts) / max(float(np.log1p(counts).max()), 1e-9)
        self.als = None
        if self._uses("als"):
            self.als = ALS_ENGINES[self.als_engine](
                factors=self.als_factors,
                regularization=self.als_regularization,
                alpha=self.als_alpha,
                seed=self.seed,
            ).fit(user_items)

    def _uses(self, feature: str) -> bool:
        return self._tuning or self.blend.get(feature, 0.0) != 0.0

    def _input_weights(self, histories: Histories, weights: Histories | None) -> list[np.ndarray]:
        if weights is None:
            return [np.ones(len(h), np.float32) for h in histories]
        return [
            (np.maximum(np.asarray(w, np.float32), 0) / self.mean_weight) ** self.rating_power
            for w in weights
        ]

    # --------------------------------------------------------- persistence

    def state(self) -> dict[str, StateValue]:
        """The signals' weights; the tuned ``blend`` is saved with the parameters."""
        state: dict[str, StateValue] = {
            "ease": self.ease,
            "slit": self.slit,
            "popularity": self.popularity,
            "first_seen": self.first_seen,
            "mean_weight": self.mean_weight,
        }
        if self.als is not None:
            state.update({f"als.{k}": v for k, v in self.als.state().items()})
        return state

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        super().restore(n_items, state)
        self.ease = np.asarray(state["ease"], dtype=np.float32)
        slit, first_seen = state.get("slit"), state.get("first_seen")
        self.slit = None if slit is None else np.asarray(slit, dtype=np.float32)
        self.popularity = np.asarray(state["popularity"], dtype=np.float32)
        self.first_seen = None if first_seen is None else np.asarray(first_seen)
        self.mean_weight = float(state.get("mean_weight", 1.0))
        als_state = sub_state(state, "als.")
        self.als = None
        if als_state:
            self.als = ALS(
                factors=self.als_factors,
                regularization=self.als_regularization,
                alpha=self.als_alpha,
                seed=self.seed,
            )
            self.als.restore(n_items, als_state)

    # ------------------------------------------------------------- scoring

    def feature_names(self, with_time: bool) -> list[str]:
        names = [f"ease@{decay:g}" for decay in self.recency_decays]
        names += ["slit", "als", "pop"]
        return names + (["late"] if with_time and self.first_seen is not None else [])

    def features(
        self,
        histories: Histories,
        names: Sequence[str],
        weights: Histories | None = None,
        timestamps: Histories | None = None,
        request_times: Sequence[float | None] | None = None,
    ) -> dict[str, np.ndarray]:
        """Dense ``[len(histories), n_items]`` scores per signal, each scaled to max 1.

        ``request_times`` (seconds, one per history): when each recommendation is asked for;
        by default (or ``None`` in it) the history's latest event."""
        input_weights = self._input_weights(histories, weights)
        out: dict[str, np.ndarray] = {}
        for name in names:
            if name.startswith("ease@"):
                decay = float(name.split("@")[1])
                rows = to_user_items(
                    histories,
                    self.n_items,
                    [
                        w * recency_weights(len(h), decay)
                        for h, w in zip(histories, input_weights, strict=True)
                    ],
                )
                out[name] = scaled_to_unit(np.asarray(rows @ self.ease))
            elif name == "slit":
                out[name] = self._slit_scores(histories)
            elif name == "als":
                out[name] = self._als_scores(histories, input_weights)
            elif name == "pop":
                out[name] = np.broadcast_to(self.popularity, (len(histories), self.n_items))
            elif name == "late":
                out[name] = self._late_penalty(histories, timestamps, request_times)
        return out

    def _slit_scores(self, histories: Histories) -> np.ndarray:
        if self.slit is None:
            return np.zeros((len(histories), self.n_items), np.float32)
        tails = [h[-self.slit_window :] for h in histories]
        rows = to_user_items(
            tails, self.n_items, [recency_weights(len(t), self.slit_decay) for t in tails]
        )
        return scaled_to_unit(np.asarray(rows @ self.slit))

    def _als_scores(self, histories: Histories, input_weights: list[np.ndarray]) -> np.ndarray:
        if self.als is None:
            return np.zeros((len(histories), self.n_items), np.float32)
        return scaled_to_unit(self.als.score(to_user_items(histories, self.n_items, input_weights)))

    def _late_penalty(
        self,
        histories: Histories,
        timestamps: Histories | None,
        request_times: Sequence[float | None] | None,
    ) -> np.ndarray:
        penalty = np.zeros((len(histories), self.n_items), np.float32)
        if self.first_seen is None:
            return penalty
        for row in range(len(histories)):
            when = None if request_times is None else request_times[row]
            if when is None and timestamps is not None and len(timestamps[row]):
                when = float(np.max(timestamps[row]))
            if when is not None:
                penalty[row, self.first_seen > when + self.late_slack] = -1.0
        return penalty

    def blended_scores(
        self,
        histories: Histories,
        weights: Histories | None = None,
        timestamps: Histories | None = None,
        request_times: Sequence[float | None] | None = None,
    ) -> np.ndarray:
        """Every item's blended score per history (see :meth:`features` for the arguments)."""
        names = [name for name, w in self.blend.items() if w]
        parts = self.features(histories, names, weights, timestamps, request_times)
        scores = POPULARITY_TIE_BREAK * np.broadcast_to(
            self.popularity, (len(histories), self.n_items)
        )
        for name in names:
            scores = scores + self.blend[name] * parts[name]
        return np.asarray(scores, dtype=np.float32)

    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Order-free scoring: every item of a row counts as equally recent."""
        rows = sp.csr_matrix(user_items, dtype=np.float32)
        histories = [
            rows.indices[rows.indptr[r] : rows.indptr[r + 1]] for r in range(rows.shape[0])
        ]
        return self.blended_scores(histories)

    def recommend_sequences(
        self,
        histories: Histories,
        n: int = 10,
        filter_already_liked: bool = True,
        item_filter: np.ndarray | None = None,
        candidates: np.ndarray | None = None,
        weights: Histories | None = None,
        timestamps: Histories | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` for ordered histories (latest item last); the order matters here."""
        ids, scores = [], []
        for start in range(0, len(histories), SCORE_BATCH):
            batch = slice(start, start + SCORE_BATCH)
            part = histories[batch]
            blended = self.blended_scores(
                part,
                weights[batch] if weights is not None else None,
                timestamps[batch] if timestamps is not None else None,
            )
            exclude = to_user_items(part, self.n_items) if filter_already_liked else None
            batch_ids, batch_scores = top_n(blended, n, exclude, item_filter, candidates)
            ids.append(batch_ids)
            scores.append(batch_scores)
        if not ids:
            return np.zeros((0, n), np.int64), np.zeros((0, n), np.float32)
        return np.concatenate(ids), np.concatenate(scores)

    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items bought with this one (EASE row) or right after it (transition row)."""
        item_ids = check_item_ids(item_ids, self.n_items)
        rows = scaled_to_unit(self.ease[item_ids])
        if self.slit is not None:
            rows = rows + scaled_to_unit(self.slit[item_ids])
        return similar_from_rows(rows, item_ids, n)

    # -------------------------------------------------------------- tuning

    def tune(self, folds: Sequence[Fold], k: int = 10) -> dict[str, object]:
        """Choose blend weights by coordinate ascent on validation folds.

        Each fold refits every signal on its training part; candidate pools
        (each signal's top items plus the held-out ones) make trying a weight
        setting cost a small matrix product instead of a full ranking.
        """
        rng = np.random.default_rng(self.seed)
        pools = []
        self._tuning = True
        try:
            for fold in folds:
                users = np.array([u for u, t in enumerate(fold.targets) if len(t)], dtype=np.int64)
                if not len(users):
                    continue  # nothing held out in this fold
                self.fit_sequences(fold.histories, fold.n_items, fold.weights, fold.timestamps)
                names = self.feature_names(with_time=fold.timestamps is not None)
                if len(users) > self.max_tune_users:
                    users = np.sort(rng.choice(users, self.max_tune_users, replace=False))
                pools.append(self._candidate_pool(fold, users, names))
        finally:
            self._tuning = False
        if not pools:  # nothing held out: keep the blend as it is
            return {}
        pool = CandidatePool.concatenate(pools)
        if pool.values.size == 0:
            return {}
        self.blend = coordinate_ascent(pool, start=TUNING_START, k=k)
        return {"blend": {name: round(w, 4) for name, w in self.blend.items()}}

    def _candidate_pool(self, fold: Fold, users: np.ndarray, names: list[str]) -> CandidatePool:
        pieces = []
        for start in range(0, len(users), SCORE_BATCH):
            batch = users[start : start + SCORE_BATCH]
            histories = [fold.histories[u] for u in batch]
            parts = self.features(
                histories,
                names,
                [fold.weights[u] for u in batch] if fold.weights is not None else None,
                [fold.timestamps[u] for u in batch] if fold.timestamps is not None else None,
            )
            pieces.append(
                CandidatePool.build(
                    parts,
                    names,
                    to_user_items(histories, self.n_items),
                    [fold.targets[u] for u in batch],
                    allowed=None if fold.allowed is None else [fold.allowed[u] for u in batch],
                )
            )
        return CandidatePool.concatenate(pieces)


def _first_seen(histories: Histories, timestamps: Histories, n_items: int) -> np.ndarray:
    """Earliest training timestamp of each item (``inf`` when never seen)."""
    first = np.full(n_items, np.inf)
    if len(histories):
        np.minimum.at(first, np.concatenate(histories).astype(np.int64), np.concatenate(timestamps))
    return first

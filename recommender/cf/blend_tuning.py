"""Tuning blend weights cheaply: candidate pools and coordinate ascent.

Ranking every item for every validation user at each trial setting would
cost a full scoring pass per trial. Instead each user keeps a pool: the top
items of every signal plus the held-out items, with each signal's score. A
blend that is a non-negative mix of the signals almost never lifts an item
outside every signal's top ``POOL_PER_SIGNAL`` into its own top 10, so the
metrics on the pool match the full ranking closely.

Folds come from the evaluation (its protocol's validation split) or, for a model
tuned inside ``fit`` on nothing but its training histories, from
:func:`newest_item_fold`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.cf.base import Fold, Histories

POOL_PER_SIGNAL = 50
# Signals that only push items down do not nominate candidates.
PENALTY_SIGNALS = frozenset({"late"})
RECALL_WEIGHT = 0.5
ASCENT_ROUNDS = 3


def newest_item_fold(
    histories: Histories,
    n_items: int,
    weights: Histories | None = None,
    timestamps: Histories | None = None,
) -> Fold:
    """A validation split of training histories alone: each history loses the item it
    reached last (the latest item not seen before in it) and everything from its first
    event on; what is left trains. Histories with nothing left before it are kept whole
    and give no target, so no item is both trained on and held out for the same user."""
    kept, targets, kept_weights, kept_times = [], [], [], []
    for user, history in enumerate(histories):
        history = np.asarray(history)
        _, first = np.unique(history, return_index=True)
        cut = int(first.max()) if len(first) else 0
        keep = slice(0, cut) if cut > 0 else slice(0, len(history))
        kept.append(history[keep])
        targets.append(history[cut : cut + 1] if cut > 0 else history[:0])
        if weights is not None:
            kept_weights.append(np.asarray(weights[user])[keep])
        if timestamps is not None:
            kept_times.append(np.asarray(timestamps[user])[keep])
    return Fold(
        histories=kept,
        targets=targets,
        n_items=n_items,
        weights=kept_weights if weights is not None else None,
        timestamps=kept_times if timestamps is not None else None,
    )


@dataclass(frozen=True)
class CandidatePool:
    """``values[u, c, f]``: signal ``f`` of candidate ``c`` for user ``u`` (NaN pads)."""

    names: list[str]
    values: np.ndarray
    labels: np.ndarray
    n_relevant: np.ndarray

    @staticmethod
    def build(
        parts: dict[str, np.ndarray],
        names: list[str],
        seen: sp.csr_matrix,
        targets: Sequence[np.ndarray],
        per_signal: int = POOL_PER_SIGNAL,
        allowed: Sequence[np.ndarray | None] | None = None,
    ) -> CandidatePool:
        """Candidates per user: each signal's top ``per_signal`` items and the targets, never
        an item in ``seen``, and only items in the user's ``allowed`` ids when given."""
        n_users, n_items = seen.shape
        shown = np.ones((n_users, n_items), dtype=bool)
        for row, items in enumerate(allowed if allowed is not None else []):
            if items is not None:
                shown[row] = False
                shown[row, items] = True
        seen_rows, seen_cols = seen.nonzero()
        shown[seen_rows, seen_cols] = False
        chosen = np.zeros((n_users, n_items), dtype=bool)
        keep = min(per_signal, n_items - 1)
        for name in names:
            if name in PENALTY_SIGNALS or keep <= 0:
                continue
            scores = np.array(parts[name], dtype=np.float32, copy=True)
            scores[~shown] = -np.inf
            top = np.argpartition(-scores, keep, axis=1)[:, :keep]
            np.put_along_axis(chosen, top, True, axis=1)
        for row, relevant in enumerate(targets):
            chosen[row, relevant] = True
        chosen &= shown
        candidates = [np.flatnonzero(row) for row in chosen]
        width = max((len(c) for c in candidates), default=0)
        values = np.full((n_users, width, len(names)), np.nan, dtype=np.float32)
        labels = np.zeros((n_users, width), dtype=bool)
        for row, items in enumerate(candidates):
            for column, name in enumerate(names):
                values[row, : len(items), column] = parts[name][row, items]
            labels[row, : len(items)] = np.isin(items, targets[row])
        n_relevant = np.array([len(t) for t in targets], dtype=np.int64)
        return CandidatePool(names=list(names), values=values, labels=labels, n_relevant=n_relevant)

    @staticmethod
    def concatenate(pools: Sequence[CandidatePool]) -> CandidatePool:
        width = max(p.values.shape[1] for p in pools)
        names = pools[0].names

        def pad(array: np.ndarray, fill: float | bool) -> np.ndarray:
            extra = width - array.shape[1]
            widths = [(0, 0), (0, extra)] + [(0, 0)] * (array.ndim - 2)
            return np.pad(array, widths, constant_values=fill)

        return CandidatePool(
            names=names,
            values=np.concatenate([pad(p.values, np.nan) for p in pools]),
            labels=np.concatenate([pad(p.labels, False) for p in pools]),
            n_relevant=np.concatenate([p.n_relevant for p in pools]),
        )

    def metrics(self, weights: np.ndarray, k: int) -> tuple[float, float]:
        """Mean NDCG@k and recall@k of the blend ``values @ weights`` on the pool."""
        scores = np.nan_to_num(self.values @ weights.astype(np.float32), nan=-np.inf)
        depth = min(k, scores.shape[1])
        top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        hits = np.take_along_axis(self.labels, np.take_along_axis(top, order, axis=1), axis=1)
        discounts = 1.0 / np.log2(np.arange(2, depth + 2))
        ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[np.minimum(self.n_relevant, k) - 1]
        ndcg = (hits * discounts).sum(axis=1) / ideal
        recall = hits.sum(axis=1) / self.n_relevant
        return float(ndcg.mean()), float(recall.mean())


def objective(pool: CandidatePool, weights: np.ndarray, k: int) -> float:
    ndcg, recall = pool.metrics(weights, k)
    return ndcg + RECALL_WEIGHT * recall


def coordinate_ascent(
    pool: CandidatePool, start: dict[str, float], k: int = 10
) -> dict[str, float]:
    """Greedy per-signal weight search, a few rounds; returns the non-zero weights."""
    weights = np.array([start.get(name, 0.0) for name in pool.names], dtype=np.float64)
    best = objective(pool, weights, k)
    for _ in range(ASCENT_ROUNDS):
        improved = False
        for index in range(len(weights)):
            current = weights[index]
            trials = (
                [0.0, current * 0.5, current * 0.7, current * 1.4, current * 2.0]
                if current > 0
                else [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2]
            )
            for value in trials:
                candidate = weights.copy()
                candidate[index] = value
                if not candidate.any():
                    continue
                score = objective(pool, candidate, k)
                if score > best + 1e-6:
                    best, weights, improved = score, candidate, True
        if not improved:
            break
    return {name: float(w) for name, w in zip(pool.names, weights, strict=True) if w > 0}

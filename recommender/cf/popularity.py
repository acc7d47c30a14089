"""Most-popular items: the baseline every model must beat, and the cold-start prior."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.cf.base import Recommender, StateValue, check_item_ids, top_n


class Popularity(Recommender):
    """Scores each item by how many users interacted with it."""

    name = "pop"

    def __init__(self) -> None:
        self.item_counts = np.zeros(0, dtype=np.float32)

    def fit(self, user_items: sp.csr_matrix) -> Self:
        user_items = sp.csr_matrix(user_items)
        self.n_items = user_items.shape[1]
        self.item_counts = np.bincount(user_items.indices, minlength=self.n_items).astype(
            np.float32
        )
        return self

    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.item_counts, (user_items.shape[0], self.n_items))

    def state(self) -> dict[str, StateValue]:
        return {"item_counts": self.item_counts}

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        super().restore(n_items, state)
        self.item_counts = np.asarray(state["item_counts"], dtype=np.float32)

    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Without co-occurrence, the most popular other items."""
        item_ids = check_item_ids(item_ids, self.n_items)
        scores = np.tile(self.item_counts, (len(item_ids), 1))
        scores[np.arange(len(item_ids)), item_ids] = -np.inf
        return top_n(scores, n)

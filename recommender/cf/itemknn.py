"""Item-based k-nearest neighbours with shrunk cosine similarity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.cf.base import Recommender, StateValue, check_item_ids, similar_from_rows


def cosine_neighbours(
    user_items: sp.csr_matrix, neighbours: int, shrinkage: float
) -> sp.csr_matrix:
    """Item x item cosine ``c_ij / (|i| |j| + shrinkage)``, top ``neighbours`` per row, no diagonal.

    Shrinkage damps similarities resting on very few common users.
    """
    binary = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
    binary.data[:] = 1.0
    cooc = sp.csr_matrix(binary.T @ binary)
    cooc.setdiag(0)
    cooc.eliminate_zeros()
    norms = np.sqrt(np.bincount(binary.indices, minlength=cooc.shape[0])).astype(np.float32)
    coo = cooc.tocoo()
    values = coo.data / (norms[coo.row] * norms[coo.col] + shrinkage)
    similarity = sp.csr_matrix((values.astype(np.float32), (coo.row, coo.col)), shape=cooc.shape)
    return keep_top_per_row(similarity, neighbours)


def keep_top_per_row(matrix: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Zero all but the ``keep`` largest entries of each row."""
    matrix = sp.csr_matrix(matrix)
    rows, cols, vals = [], [], []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if end == start:
            continue
        data, idx = matrix.data[start:end], matrix.indices[start:end]
        if end - start > keep:
            best = np.argpartition(-data, keep - 1)[:keep]
            data, idx = data[best], idx[best]
        rows.append(np.full(len(idx), row))
        cols.append(idx)
        vals.append(data)
    if not rows:
        return sp.csr_matrix(matrix.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=matrix.shape,
        dtype=np.float32,
    )


class ItemKNN(Recommender):
    """Scores an item by the summed similarity to the items in the user's history."""

    name = "itemknn"

    def __init__(self, neighbours: int = 100, shrinkage: float = 10.0) -> None:
        self.neighbours = neighbours
        self.shrinkage = shrinkage
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, user_items: sp.csr_matrix) -> Self:
        self.n_items = user_items.shape[1]
        self.similarity = cosine_neighbours(user_items, self.neighbours, self.shrinkage)
        return self

    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        binary = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
        binary.data[:] = 1.0
        return np.asarray((binary @ self.similarity).todense(), dtype=np.float32)

    def state(self) -> dict[str, StateValue]:
        return {"similarity": self.similarity}

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        super().restore(n_items, state)
        self.similarity = sp.csr_matrix(state["similarity"], dtype=np.float32)

    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        item_ids = check_item_ids(item_ids, self.n_items)
        rows = self.similarity[item_ids].toarray()
        rows[rows == 0] = -np.inf  # no common users: not similar
        return similar_from_rows(rows, item_ids, n)

"""EASE (Steck, WWW 2019): a closed-form linear item-item model.

``B = I - P diag(1/diag(P))`` with ``P = (X'X + lambda I)^-1``, zero diagonal.
Dense ``items x items`` float32: 12k items take 580 MB, fine for catalogues
of tens of thousands of items on one machine.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.linalg.lapack as lapack
import scipy.sparse as sp

from recommender.cf.base import Recommender, check_item_ids, similar_from_rows


def gram(user_items: sp.csr_matrix) -> np.ndarray:
    """Dense float32 ``X'X``, computed sparse first (much faster than dense)."""
    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    return np.asarray((matrix.T @ matrix).toarray(), dtype=np.float32)


def ease_weights(gram_matrix: np.ndarray, regularization: float) -> np.ndarray:
    """EASE weights from ``X'X`` via a Cholesky inverse (LAPACK potrf/potri)."""
    regularized = np.array(gram_matrix, dtype=np.float32, copy=True)
    regularized[np.diag_indices_from(regularized)] += regularization
    factor, info = lapack.spotrf(regularized, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram matrix not positive definite (info={info})")
    inverse, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE inverse failed (info={info})")
    inverse = np.tril(inverse)
    inverse += np.tril(inverse, -1).T
    weights = inverse / -np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32, copy=False)


class EASE(Recommender):
    """Linear autoencoder: score = history @ B."""

    name = "ease"

    def __init__(self, regularization: float = 200.0) -> None:
        self.regularization = regularization
        self.weights = np.zeros((0, 0), dtype=np.float32)

    def fit(self, user_items: sp.csr_matrix) -> Self:
        self.n_items = user_items.shape[1]
        self.weights = ease_weights(gram(user_items), self.regularization)
        return self

    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        return np.asarray(sp.csr_matrix(user_items, dtype=np.float32) @ self.weights)

    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items that item ``i`` predicts most strongly (row ``B[i]``)."""
        item_ids = check_item_ids(item_ids, self.n_items)
        return similar_from_rows(self.weights[item_ids], item_ids, n)

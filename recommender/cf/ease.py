"""EASE (Steck, WWW 2019): a closed-form linear item-item model.

``B = I - P diag(1/diag(P))`` with ``P = (X'X + Lambda)^-1`` and a zero
diagonal. ``Lambda`` is ``lambda`` on the diagonal, plus ``p/(1-p) X'X_ii``
when ``dropout`` p > 0 (the dropout-emphasis of Steck's EDLAE, NeurIPS
2020, which regularizes popular items more). Dense ``items x items``
float32: 12k items take 580 MB, fine for catalogues of tens of thousands of
items on one machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import scipy.linalg.lapack as lapack
import scipy.sparse as sp

from recommender.cf.base import Recommender, StateValue, check_item_ids, similar_from_rows

# lambda = LAMBDA_SCALE x (mean interactions per item): picked on the
# validation splits of Amazon Beauty (lambda ~100) and MovieLens-100k
# (lambda ~350), where this one rule lands on both optima.
LAMBDA_SCALE = 8.0


def gram(user_items: sp.csr_matrix) -> np.ndarray:
    """Dense float32 ``X'X``, computed sparse first (much faster than dense)."""
    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    return np.asarray((matrix.T @ matrix).toarray(), dtype=np.float32)


def scaled_regularization(user_items: sp.csr_matrix, scale: float) -> float:
    """``scale`` times the mean number of interactions per item (at least ``scale``)."""
    n_items = max(user_items.shape[1], 1)
    return scale * max(user_items.nnz / n_items, 1.0)


def spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite float32 matrix (LAPACK potrf/potri), in place."""
    factor, info = lapack.spotrf(matrix, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix not positive definite (info={info})")
    inverse, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"inverse failed (info={info})")
    inverse = np.tril(inverse)
    inverse += np.tril(inverse, -1).T
    return inverse


def regularized_inverse(
    gram_matrix: np.ndarray, regularization: float, dropout: float = 0.0
) -> np.ndarray:
    """``P = (X'X + Lambda)^-1``; ``gram_matrix`` is not modified."""
    regularized = np.array(gram_matrix, dtype=np.float32, copy=True)
    diagonal = np.diag(gram_matrix).astype(np.float32)
    regularized[np.diag_indices_from(regularized)] += (
        regularization + dropout / (1.0 - dropout) * diagonal
    )
    return spd_inverse(regularized)


def weights_from_inverse(inverse: np.ndarray) -> np.ndarray:
    """EASE's constrained solution ``B = -P / diag(P)`` with a zero diagonal."""
    weights = inverse / -np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32, copy=False)


def ease_weights(
    gram_matrix: np.ndarray, regularization: float, dropout: float = 0.0
) -> np.ndarray:
    """EASE / EDLAE weights from ``X'X``."""
    return weights_from_inverse(regularized_inverse(gram_matrix, regularization, dropout))


class EASE(Recommender):
    """Linear autoencoder: score = history @ B.

    ``regularization=None`` sets lambda from the data (see ``LAMBDA_SCALE``).
    """

    name = "ease"

    def __init__(
        self,
        regularization: float | None = None,
        lambda_scale: float = LAMBDA_SCALE,
        dropout: float = 0.0,
    ) -> None:
        self.regularization = regularization
        self.lambda_scale = lambda_scale
        self.dropout = dropout
        self.fitted_regularization = 0.0
        self.weights = np.zeros((0, 0), dtype=np.float32)

    def fit(self, user_items: sp.csr_matrix) -> Self:
        user_items = sp.csr_matrix(user_items, dtype=np.float32)
        self.n_items = user_items.shape[1]
        self.fitted_regularization = (
            self.regularization
            if self.regularization is not None
            else scaled_regularization(user_items, self.lambda_scale)
        )
        self.weights = ease_weights(gram(user_items), self.fitted_regularization, self.dropout)
        return self

    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        return np.asarray(sp.csr_matrix(user_items, dtype=np.float32) @ self.weights)

    def state(self) -> dict[str, StateValue]:
        return {"weights": self.weights, "fitted_regularization": self.fitted_regularization}

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        super().restore(n_items, state)
        self.weights = np.asarray(state["weights"], dtype=np.float32)
        self.fitted_regularization = float(state.get("fitted_regularization", 0.0))

    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items that item ``i`` predicts most strongly (row ``B[i]``)."""
        item_ids = check_item_ids(item_ids, self.n_items)
        return similar_from_rows(self.weights[item_ids], item_ids, n)

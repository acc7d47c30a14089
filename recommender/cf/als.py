"""Implicit-feedback matrix factorisation (ALS) through the ``implicit`` library.

``implicit`` fits the factors. Scoring folds a history in with the same least-squares solve as
implicit's ``recalculate_user`` (``(Y'Y + Y'(C - I)Y + lambda I) x = Y'C p`` with
``C = alpha * weights``), done here in numpy through the Woodbury identity: ``(Y'Y + lambda
I)^-1`` is computed once, after which a history of ``k`` items costs a ``k x k`` solve instead
of a ``factors x factors`` one. The shop scores one shopper per chat turn: 256 factors took
5-13 ms a shopper through implicit (its thread pools and a ``factors^3`` Cholesky each time),
well under a millisecond this way; the results agree to float rounding
(``tests/unit/test_cf_models.py``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from recommender.cf.base import Recommender, StateValue, check_item_ids, similar_from_rows

if TYPE_CHECKING:  # implicit is imported when a model is fitted or loaded, not on import
    from implicit.cpu.als import AlternatingLeastSquares

_threadpools: ThreadpoolController | None = None


def _one_blas_thread() -> AbstractContextManager[object]:
    """implicit runs its own threads; a multi-threaded BLAS underneath only contends. One
    controller for the process: ``threadpool_limits`` rescans the loaded libraries each call
    (about a millisecond)."""
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1, user_api="blas")


class ALS(Recommender):
    """Hu, Koren and Volinsky's weighted ALS (``implicit.cpu.als``).

    Users' factors are recomputed from the rows passed to ``recommend``, so
    new or changed histories need no refit. The defaults (many factors,
    strong regularization) were picked on the MovieLens-100k validation
    folds: nDCG@10 0.18 there against 0.14 for implicit's usual
    ``factors=64, regularization=0.05``.
    """

    name = "als"

    def __init__(
        self,
        factors: int = 256,
        regularization: float = 30.0,
        alpha: float = 5.0,
        iterations: int = 15,
        seed: int = 42,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self._model = None
        self._inverse: np.ndarray | None = None  # (Y'Y + lambda I)^-1, float64

    def fit(self, user_items: sp.csr_matrix) -> Self:
        model = self._implicit_model()
        with _one_blas_thread():
            model.fit(sp.csr_matrix(user_items, dtype=np.float32), show_progress=False)
        self._fitted(user_items.shape[1], model)
        return self

    def _implicit_model(self) -> AlternatingLeastSquares:
        """implicit's model with these hyper-parameters, not fitted yet. Made under one BLAS
        thread: implicit's constructor warns about a multi-threaded OpenBLAS otherwise."""
        from implicit.cpu.als import AlternatingLeastSquares

        with _one_blas_thread():
            return AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
            )

    def _fitted(self, n_items: int, model: AlternatingLeastSquares | None) -> None:
        """Serve `model`'s item factors from now on; the fold-in's inverse is recomputed from
        them on first use."""
        self.n_items = n_items
        self._inverse = None
        self._model = model

    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        with _one_blas_thread():
            users = self.user_factors(user_items)
            return np.asarray(users @ self._model.item_factors.T, dtype=np.float32)

    def user_factors(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Each row's factors, as implicit's ``recalculate_user`` computes them."""
        rows = sp.csr_matrix(user_items, dtype=np.float64)
        rows.sum_duplicates()
        factors = np.asarray(self._model.item_factors, dtype=np.float64)
        if self._inverse is None:
            gram = factors.T @ factors
            gram[np.diag_indices_from(gram)] += self.regularization
            self._inverse = np.linalg.inv(gram)
        inverse = self._inverse
        out = np.zeros((rows.shape[0], factors.shape[1]), dtype=np.float32)
        for r in range(rows.shape[0]):
            span = slice(rows.indptr[r], rows.indptr[r + 1])
            confidence = self.alpha * rows.data[span]
            keep = confidence > 0
            if not keep.any():
                continue
            confidence = confidence[keep]
            items = factors[rows.indices[span][keep]]  # k x f
            solved = inverse @ (items.T @ confidence)  # B^-1 Y'C p
            projected = items @ inverse  # k x f: U B^-1
            # (B + U'DU)^-1 = B^-1 - B^-1 U' (I + D U B^-1 U')^-1 D U B^-1, D = C - I
            scale = confidence - 1.0
            small = np.eye(len(confidence)) + scale[:, None] * (projected @ items.T)
            correction = np.linalg.solve(small, scale * (items @ solved))
            out[r] = solved - projected.T @ correction
        return out

    def state(self) -> dict[str, StateValue]:
        """implicit's own ``save`` of the fitted model, as bytes."""
        if self._model is None:
            return {}
        buffer = io.BytesIO()
        self._model.save(buffer)
        return {"implicit": np.frombuffer(buffer.getvalue(), dtype=np.uint8)}

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        super().restore(n_items, state)
        saved = state.get("implicit")
        model = (
            None
            if saved is None
            else AlternatingLeastSquares.load(io.BytesIO(np.asarray(saved).tobytes()))
        )
        self._fitted(n_items, model)

    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of the item factors."""
        item_ids = check_item_ids(item_ids, self.n_items)
        factors = self._model.item_factors
        unit = factors / np.maximum(np.linalg.norm(factors, axis=1, keepdims=True), 1e-9)
        return similar_from_rows(unit[item_ids] @ unit.T, item_ids, n)

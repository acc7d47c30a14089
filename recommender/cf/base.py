"""The shape every collaborative-filtering model shares (after benfred/implicit).

Sparse ``users x items`` matrices in, arrays out. ``recommend`` takes the
users' *current* histories as rows of ``user_items``, so a shopper's new
clicks count at once, without a refit. Models that use the order of a
history (``SessionBlend``, ``ServedRanker``) also read the ordered ``histories`` given to
:meth:`Recommender.fit_sequences` / :meth:`Recommender.recommend_sequences`;
the evaluation runner only calls those two, so every model runs under it.

Every model saves what it learned with :meth:`Recommender.save` and comes back
with :meth:`Recommender.load` (implicit's shape: one ``.npz`` at the caller's
path, no pickle): the constructor arguments as JSON, the learned arrays as
they are. A model defines what it learned in :meth:`Recommender.state` and
:meth:`Recommender.restore`; nothing outside a model sets its arrays.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

Histories = Sequence[np.ndarray]


@dataclass(frozen=True)
class Fold:
    """Ordered training histories and held-out ``targets`` per user.

    ``weights`` (for example star ratings) and ``timestamps`` (seconds) are
    optional and aligned with ``histories``; models may ignore them.
    ``allowed``, when given, holds per user the item ids a ranking for them
    may show (``None``: every item), so tuning measures what is shown.
    """

    histories: list[np.ndarray]
    targets: list[np.ndarray]
    n_items: int
    weights: list[np.ndarray] | None = None
    timestamps: list[np.ndarray] | None = None
    allowed: list[np.ndarray | None] | None = None


def to_user_items(
    histories: Histories, n_items: int, weights: Sequence[np.ndarray] | None = None
) -> sp.csr_matrix:
    """``len(histories) x n_items`` float32 CSR; weight 1 unless ``weights`` are given."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    cols = np.concatenate(histories).astype(np.int64) if lengths.sum() else np.zeros(0, np.int64)
    if weights is None:
        data = np.ones(len(cols), dtype=np.float32)
    else:
        data = np.concatenate(weights).astype(np.float32) if len(cols) else np.zeros(0, np.float32)
    # CSR from its parts (a third of the time of the COO route, which counts per shopper).
    matrix = sp.csr_matrix((data, cols, indptr), shape=(len(histories), n_items), dtype=np.float32)
    matrix.sum_duplicates()
    return matrix


def top_n(
    scores: np.ndarray,
    n: int,
    exclude: sp.csr_matrix | None = None,
    item_filter: np.ndarray | None = None,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``n`` columns per row of ``scores``; excluded items never appear.

    Rows with fewer than ``n`` allowed items are padded with id ``-1`` and
    score ``-inf``.
    """
    scores = np.array(scores, dtype=np.float32, copy=True)
    if exclude is not None and exclude.nnz:
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    if item_filter is not None and len(item_filter):
        scores[:, np.asarray(item_filter, dtype=np.int64)] = -np.inf
    if candidates is not None:
        allowed = np.zeros(scores.shape[1], dtype=bool)
        allowed[np.asarray(candidates, dtype=np.int64)] = True
        scores[:, ~allowed] = -np.inf
    n = min(n, scores.shape[1])
    if n == 0:
        return np.zeros((len(scores), 0), np.int64), np.zeros((len(scores), 0), np.float32)
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    ids = np.take_along_axis(part, order, axis=1).astype(np.int64)
    best = np.take_along_axis(part_scores, order, axis=1)
    ids[~np.isfinite(best)] = -1
    return ids, best


def rows_for(user_ids: np.ndarray, user_items: sp.csr_matrix) -> sp.csr_matrix:
    """The history rows for ``user_ids``.

    As in implicit 0.7, row ``i`` of ``user_items`` belongs to ``user_ids[i]``;
    a full matrix (more rows than users asked for) is indexed by the ids.
    """
    user_ids = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
    user_items = sp.csr_matrix(user_items, dtype=np.float32)
    if user_items.shape[0] == len(user_ids):
        return user_items
    return user_items[user_ids]


# One saved value: an array, a sparse matrix, a number, or None (not saved).
StateValue = np.ndarray | sp.spmatrix | float | int | None
CSR_PARTS = ("csr_data", "csr_indices", "csr_indptr", "csr_shape")


def npz_path(path: str | Path) -> Path:
    """``path`` with the ``.npz`` suffix numpy's ``savez`` would give it (as implicit does)."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def flatten_state(state: Mapping[str, StateValue], prefix: str = "") -> dict[str, np.ndarray]:
    """Arrays for ``np.savez``: a sparse matrix becomes its CSR parts, ``None`` is left out."""
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if value is None:
            continue
        if sp.issparse(value):
            matrix = sp.csr_matrix(value)
            parts = (matrix.data, matrix.indices, matrix.indptr, np.array(matrix.shape))
            arrays.update({f"{prefix}{key}.{n}": a for n, a in zip(CSR_PARTS, parts, strict=True)})
        else:
            arrays[prefix + key] = np.asarray(value)
    return arrays


def unflatten_state(arrays: Mapping[str, np.ndarray], prefix: str = "") -> dict[str, StateValue]:
    """The inverse of :func:`flatten_state` for the keys under ``prefix``."""
    state: dict[str, StateValue] = {}
    for key, value in arrays.items():
        if not key.startswith(prefix):
            continue
        key = key[len(prefix) :]
        name, _, part = key.rpartition(".")
        if part == CSR_PARTS[0]:
            data, indices, indptr, shape = (arrays[f"{prefix}{name}.{n}"] for n in CSR_PARTS)
            state[name] = sp.csr_matrix((data, indices, indptr), shape=tuple(shape.tolist()))
        elif part not in CSR_PARTS:
            state[key] = value
    return state


def sub_state(state: Mapping[str, StateValue], prefix: str) -> dict[str, StateValue]:
    """The part of a flat state that belongs to a sub-model saved under ``prefix``."""
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def json_ready(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


class Recommender(ABC):
    """Base class: subclasses implement ``fit``, ``score`` and ``similar_items``.

    Persistence: ``save``/``load`` keep the constructor arguments (read back
    from attributes of the same names, as scikit-learn does; those listed in
    ``unsaved_params`` are part of ``state`` instead) and what ``state``
    returns.
    """

    name: ClassVar[str] = "base"
    unsaved_params: ClassVar[tuple[str, ...]] = ()
    n_items: int = 0

    @abstractmethod
    def fit(self, user_items: sp.csr_matrix) -> Self:
        """Learn from a ``users x items`` matrix of implicit weights."""

    @abstractmethod
    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Dense float32 ``[rows, n_items]`` scores for the histories in ``user_items``."""

    @abstractmethod
    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Most similar items (never the item itself), best first."""

    def recommend(
        self,
        user_ids: np.ndarray,
        user_items: sp.csr_matrix,
        n: int = 10,
        filter_already_liked: bool = True,
        item_filter: np.ndarray | None = None,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` item ids and scores per user, best first.

        ``item_filter``: ids never to recommend (implicit's ``filter_items``);
        ``candidates``: if given, only these ids may be recommended.
        """
        rows = rows_for(user_ids, user_items)
        exclude = rows if filter_already_liked else None
        return top_n(self.score(rows), n, exclude, item_filter, candidates)

    def fit_sequences(
        self,
        histories: Histories,
        n_items: int,
        weights: Histories | None = None,
        timestamps: Histories | None = None,
    ) -> Self:
        """Fit on ordered histories (item ids oldest first).

        The order-free baselines treat every interaction as weight 1 and
        ignore ``weights`` and ``timestamps``: they are the canonical binary
        implicit-feedback models the published numbers use.
        """
        return self.fit(to_user_items(histories, n_items))

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
        """Recommend for ordered histories (one row of output per history)."""
        rows = to_user_items(histories, self.n_items)
        return self.recommend(
            np.arange(len(histories)), rows, n, filter_already_liked, item_filter, candidates
        )

    def tune(self, folds: Sequence[Fold], k: int = 10) -> dict[str, object]:
        """Pick hyper-parameters on validation folds; returns the choice (none here)."""
        return {}

    # ------------------------------------------------------------ persistence

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        return {n: json_ready(getattr(self, n)) for n in names if n not in self.unsaved_params}

    def state(self) -> dict[str, StateValue]:
        """What ``fit`` (and ``tune``) learned, by name; ``None`` where nothing was."""
        return {}

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        """Take back what :meth:`state` returned (``load`` calls this on a fresh model)."""
        self.n_items = n_items

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` (``.npz`` added if missing); returns the file written."""
        path = npz_path(path)
        arrays = {
            "model": np.array(self.name),
            "params": np.array(json.dumps(self.get_params(), ensure_ascii=False)),
            "n_items": np.array(self.n_items, dtype=np.int64),
            **flatten_state(self.state(), prefix="state."),
        }
        with path.open("wb") as file:
            np.savez(file, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """A model written by :meth:`save` of this class."""
        with np.load(npz_path(path), allow_pickle=False) as saved:
            arrays = {key: saved[key] for key in saved.files}
        name = str(arrays.get("model", ""))
        if name != cls.name:
            raise ValueError(f"{path}: holds a {name or 'unknown'!r} model, not {cls.name!r}")
        model = cls(**json.loads(str(arrays["params"])))
        model.restore(int(arrays["n_items"]), unflatten_state(arrays, prefix="state."))
        return model


def check_item_ids(item_ids: np.ndarray, n_items: int) -> np.ndarray:
    item_ids = np.atleast_1d(np.asarray(item_ids, dtype=np.int64))
    if len(item_ids) and (item_ids.min() < 0 or item_ids.max() >= n_items):
        raise IndexError(f"item ids must lie in 0..{n_items - 1}")
    return item_ids


def similar_from_rows(
    rows: np.ndarray, item_ids: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``n`` of dense similarity ``rows`` (one per item), the item itself excluded."""
    rows = np.array(rows, dtype=np.float32, copy=True)
    rows[np.arange(len(item_ids)), item_ids] = -np.inf
    return top_n(rows, n)

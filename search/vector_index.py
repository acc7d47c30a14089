"""FAISS index of product embeddings with add, update and remove by SKU, persisted under var/.

Exact inner product (IndexFlatIP) up to `EXACT_LIMIT` products: at that size a full scan of
384-d vectors takes well under a millisecond per thousand. Beyond it, IVF with a flat quantiser
(IndexIVFFlat), which still supports removal — HNSW cannot remove ids. Both sit inside an ID map
so that ids are stable integers we assign to SKUs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import faiss
import numpy as np

EXACT_LIMIT = 50_000


def choose_index(dim: int, expected_size: int, training: np.ndarray | None = None) -> faiss.Index:
    if expected_size <= EXACT_LIMIT or training is None:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    lists = int(4 * math.sqrt(expected_size))
    quantiser = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantiser, dim, lists, faiss.METRIC_INNER_PRODUCT)
    ivf.train(training)
    ivf.nprobe = max(8, lists // 16)
    return faiss.IndexIDMap2(ivf)


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self.index = index or choose_index(dim, 0)
        self.ids: dict[str, int] = {}
        self.next_id = 0
        self._skus_by_id: dict[int, str] | None = None  # rebuilt after a change, not per search

    @classmethod
    def build(cls, skus: Sequence[str], vectors: np.ndarray) -> VectorIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        index = cls(dim, choose_index(dim, len(skus), vectors if len(skus) > EXACT_LIMIT else None))
        index.upsert(skus, vectors)
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(self, skus: Sequence[str], vectors: np.ndarray) -> None:
        """Adds new SKUs and replaces the vectors of known ones."""
        if not len(skus):
            return
        self.remove([s for s in skus if s in self.ids])
        new_ids = np.arange(self.next_id, self.next_id + len(skus), dtype=np.int64)
        self.next_id += len(skus)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), new_ids)
        self.ids.update(zip(skus, new_ids.tolist(), strict=True))
        self._skus_by_id = None

    def remove(self, skus: Iterable[str]) -> None:
        ids = [self.ids.pop(s) for s in skus if s in self.ids]
        if ids:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))
            self._skus_by_id = None

    def vectors_of(self, skus: Sequence[str]) -> np.ndarray:
        return (
            np.vstack([self.index.reconstruct(self.ids[s]) for s in skus])
            if skus
            else np.zeros((0, self.dim), np.float32)
        )

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        k = min(k, len(self.ids))
        scores, ids = self.index.search(
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k
        )
        if self._skus_by_id is None:
            self._skus_by_id = {v: s for s, v in self.ids.items()}
        by_id = self._skus_by_id
        return [(by_id[i], float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i in by_id]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "products.faiss.tmp"
        faiss.write_index(self.index, str(tmp))
        tmp.replace(folder / "products.faiss")
        (folder / "products.ids.json").write_text(
            json.dumps({"next_id": self.next_id, "ids": self.ids})
        )

    @classmethod
    def load(cls, folder: Path) -> VectorIndex:
        index = faiss.read_index(str(folder / "products.faiss"))
        meta = json.loads((folder / "products.ids.json").read_text())
        loaded = cls(index.d, index)
        loaded.ids = {k: int(v) for k, v in meta["ids"].items()}
        loaded._skus_by_id = None
        loaded.next_id = int(meta["next_id"])
        return loaded

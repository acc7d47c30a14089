from __future__ import annotations

import yaml

from cn_text import lexicon
from cn_text.prices import NameWords, extract_prices
from knowledge_graph.export import (
    jieba_dictionary,
    lookup_values,
    price_names,
    rasa_nlu_yaml,
    synonyms,
    write_nlu_exports,
)


def test_lookup_tables_hold_catalog_names(mini_view):
    values = lookup_values(mini_view.graph)
    assert "Mate 60 Pro" in values["product"] and "mate60pro" in values["product"]
    assert {"华为", "HUAWEI"} <= set(values["brand"])
    assert "跑鞋" in values["category"] and "白色" in values["color"]


def test_jieba_dictionary_keeps_names_whole_but_not_question_phrases(mini_view):
    words = {line.split(" ")[0] for line in jieba_dictionary(mini_view.graph).splitlines()}
    assert "mate60pro" in words and "Mate60Pro" in words  # spaces removed: jieba words have none
    assert "屏幕多大" not in words and "支持5G" not in words
    assert "电池容量" in words


def test_synonyms_never_map_one_alias_two_ways(mini_view):
    mapping = synonyms(mini_view.graph)
    assert "HUAWEI" in mapping["华为"]
    seen = [alias for aliases in mapping.values() for alias in aliases]
    assert len(seen) == len(set(seen))
    assert all(alias not in mapping for alias in seen)


def test_rasa_yaml_is_valid(mini_view, tmp_path):
    doc = yaml.safe_load(rasa_nlu_yaml(mini_view.graph))
    kinds = {next(iter(block)) for block in doc["nlu"]}
    assert kinds == {"lookup", "synonym"} and doc["version"] == "3.1"
    first_hash = write_nlu_exports(mini_view.graph, tmp_path)
    assert (tmp_path / "jieba" / "userdict.txt").exists()
    assert write_nlu_exports(mini_view.graph, tmp_path) == first_hash  # deterministic


def test_price_names_are_brand_spellings_and_numbered_model_lines(mini_view):
    names = price_names(mini_view.graph)
    assert {"华为", "HUAWEI", "huawei", "小米", "MI"} <= set(names["brand"])
    assert names["line"] == ["Mate", "Pegasus", "iPhone"]  # "Mate 60 Pro", "iPhone 15", ...


def test_price_names_file_is_what_the_price_rules_read(mini_view, tmp_path):
    write_nlu_exports(mini_view.graph, tmp_path)
    path = tmp_path / lexicon.DIRECTORY / lexicon.NAMES
    assert lexicon.read_lexicon(path) == price_names(mini_view.graph)
    names = NameWords.read(path)
    assert extract_prices("小米400", names) == []  # a model number after a catalog brand
    assert extract_prices("iPhone 5000以内", names)[0].max == 5000

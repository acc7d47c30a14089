from __future__ import annotations

import pytest

from knowledge_graph.linking import normalise


def products(view, text):
    return [(m.value, m.method) for m in view.linker.link(text) if m.kind == "product"]


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("华为Mate60 Pro多少钱", "Mate 60 Pro"),
        ("mate60pro还有货吗", "Mate 60 Pro"),
        ("HUAWEI Mate 60 Pro 续航", "Mate 60 Pro"),
        ("ＭＡＴＥ６０ ＰＲＯ多少钱", "Mate 60 Pro"),  # full-width
        ("mate60多少钱", "Mate 60"),  # not the Pro
        ("Mate 60", "Mate 60"),
        ("小米14怎么样", "小米14"),
        ("xiaomi 14 电池多大", "小米14"),
        ("iPhone15有粉色吗", "iPhone 15"),
        ("苹果15多少钱", "iPhone 15"),
        ("爱疯15", "iPhone 15"),
        ("飞马40跑鞋", "Pegasus 40"),
    ],
)
def test_aliases_and_mixed_scripts(mini_view, text, model):
    assert products(mini_view, text)[0][0] == model


def test_typos_in_latin_names_match_by_edit_distance(mini_view):
    assert products(mini_view, "iphnoe15多少钱") == [("iPhone 15", "fuzzy")]
    assert products(mini_view, "mate60 por 多少钱")[0][0] == "Mate 60 Pro"


def test_typo_keeps_model_number(mini_view):
    # mate50 is a different phone: never silently answer with the Mate 60.
    assert products(mini_view, "mate50多少钱") == []
    assert products(mini_view, "小米13") == []


def test_homophone_typos_match_by_pinyin(mini_view):
    brands = [m for m in mini_view.linker.link("华维的手机") if m.kind == "brand"]
    assert brands and brands[0].value == "华为" and brands[0].method == "pinyin"
    assert [m.value for m in mini_view.linker.link("小迷的手机") if m.kind == "brand"] == ["小米"]


def test_traditional_characters(mini_view):
    kinds = {(m.kind, m.value) for m in mini_view.linker.link("華為手機")}
    assert ("brand", "华为") in kinds and ("category", "手机") in kinds


def test_categories_attributes_colours_and_spans(mini_view):
    text = "有没有白色的手机，续航要好"
    mentions = mini_view.linker.link(text)
    found = {(m.kind, m.value) for m in mentions}
    assert {("color", "白色"), ("category", "手机"), ("attribute", "电池容量")} <= found
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_unknown_and_hostile_text(mini_view):
    assert products(mini_view, "诺基亚3310多少钱") == []
    assert mini_view.linker.link("") == []
    assert mini_view.linker.link("😀😀😀") == []
    assert isinstance(mini_view.linker.link("<script>alert(1)</script>' OR 1=1 --"), list)
    assert isinstance(mini_view.linker.link("华为" * 5000), list)


def test_suggest_close_names(mini_view):
    assert "Mate 60 Pro" in mini_view.linker.suggest("mate70 pro")


def test_normalise_maps_back_to_original_positions():
    norm, positions = normalise("Mate 60 Ｐｒｏ")
    assert norm == "mate60pro"
    assert positions[0] == 0 and positions[-1] == len("Mate 60 Ｐｒｏ") - 1

"""Kinds and attribute requirements read from the seed catalog's own words."""

from __future__ import annotations

import pytest

from knowledge_graph import constraints
from tests.shopper_suite import seed_graph


@pytest.fixture(scope="module")
def graph():
    return seed_graph()


@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        ("口红推荐 300以内", "口红", "彩妆"),
        ("电饭煲 300以内", "电饭煲", "小家电"),
        ("想要个控油的洗面奶", "洁面", "护肤品"),
        ("推荐个精华", "精华", "护肤品"),
        ("红宝石精华水怎么样", "精华水", "护肤品"),
        ("过年走亲戚 想买个坚果礼盒", "坚果礼盒", "零食饮料"),
        ("要头戴式的", "头戴式", "耳机"),
    ],
)
def test_kind_words_name_the_catalogs_kind(graph, text, kind, category):
    assert constraints.kind_in(graph, text.lower()) == (kind, category)


def test_generic_kinds_name_nothing(graph):
    assert constraints.kind_in(graph, "充电器套装") == ("充电器", "手机配件")
    assert constraints.kind_in(graph, "三千以内的手机") is None


def _mentions(graph, text):
    from knowledge_graph.linking import EntityLinker

    return [m for m in EntityLinker(graph).link(text) if m.kind == "attribute"]


def test_requirements_bool_number_and_value_words(graph):
    text = "有碳板的跑鞋"
    assert constraints.attribute_requirements(graph, text, "跑步鞋", _mentions(graph, text)) == {
        "碳板": True
    }
    text = "内存要32G的"
    wanted = constraints.attribute_requirements(graph, text, "笔记本电脑", _mentions(graph, text))
    assert wanted == {"内存": (32.0, None)}
    text = "要4060显卡"
    wanted = constraints.attribute_requirements(graph, text, "笔记本电脑", _mentions(graph, text))
    assert wanted == {"显卡": frozenset({"4060"})}
    text = "预算4060以内"
    assert constraints.attribute_requirements(graph, text, "笔记本电脑", []) == {}
    text = "不要碳板的"  # refused: only shoes without one
    assert constraints.attribute_requirements(graph, text, "跑步鞋", _mentions(graph, text)) == {
        "碳板": False
    }


def test_fits_checks_every_requirement(graph):
    laptops = [p for p in graph.products.values() if p.category == "笔记本电脑"]
    with_4060 = [p for p in laptops if constraints.fits(p, graph, {"显卡": frozenset({"4060"})})]
    assert with_4060 and all("4060" in p.attributes["显卡"] for p in with_4060)
    big = [p for p in laptops if constraints.fits(p, graph, {"内存": (32.0, None)})]
    assert big and all(float(str(p.attributes["内存"]).rstrip("GB")) >= 32 for p in big)
    skin = {"适用肤质": frozenset({"油皮"})}
    for product in (p for p in graph.products.values() if p.category == "护肤品"):
        told = " ".join(map(str, product.attributes.get("适用肤质") or []))
        assert constraints.fits(product, graph, skin) == ("油皮" in told or "所有肤质" in told)


@pytest.mark.parametrize(
    ("text", "system", "excluded_brands"),
    [
        ("我用的iPhone，想买个能测心率的手表", "ios", {"三星", "OPPO", "vivo"}),
        ("我是安卓手机 推荐个手表", "android", {"苹果"}),
    ],
)
def test_the_shoppers_phone_decides_which_watches_work(graph, text, system, excluded_brands):
    wanted = constraints.attribute_requirements(graph, text, "智能手表", _mentions(graph, text))
    assert wanted[constraints.SYSTEM_KEY] == frozenset({system})
    watches = [p for p in graph.products.values() if p.category == "智能手表"]
    kept = [p for p in watches if constraints.fits(p, graph, wanted)]
    assert kept and not {p.brand for p in kept} & excluded_brands
    for product in kept:
        systems = [s.lower() for s in product.attributes[constraints.SYSTEM_KEY]]
        assert system in systems


def test_a_phone_named_for_a_phone_case_is_no_system_requirement(graph):
    text = "iPhone 15的手机壳"
    assert constraints.SYSTEM_KEY not in constraints.attribute_requirements(
        graph, text, "手机配件", _mentions(graph, text)
    )


def test_a_line_name_is_every_model_of_that_line(graph):
    line = constraints.product_line_in(graph, "剪视频用 想买MacBook 预算15000以内")
    assert line is not None and line.brand == "苹果" and line.category == "笔记本电脑"
    macbooks = {s for s, p in graph.products.items() if (p.model or "").startswith("MacBook")}
    assert set(line.skus) == macbooks and len(macbooks) >= 4
    assert constraints.product_line_in(graph, "有没有thinkpad").brand == "联想"
    # a word inside another word, a brand's own name and a generic word are no line
    assert constraints.product_line_in(graph, "想要个ipadair的壳") is None
    assert constraints.product_line_in(graph, "apple的手表") is None
    assert constraints.product_line_in(graph, "pro版多少钱") is None
    assert constraints.product_line_in(graph, "mate70 pro多少钱") is None  # one model


def test_kind_synonyms_of_shoppers(graph):
    assert constraints.kind_in(graph, "宿舍用 想买个小锅煮个面") == ("料理锅", "小家电")


def test_a_bare_word_inside_one_attributes_values(graph):
    wanted = constraints.attribute_requirements(graph, "辣的", "零食饮料", [])
    assert wanted == {"口味": frozenset({"辣"})}
    snacks = [p for p in graph.products.values() if p.category == "零食饮料"]
    spicy = [p for p in snacks if constraints.fits(p, graph, wanted)]
    assert spicy and all("辣" in " ".join(p.attributes["口味"]) for p in spicy)
    assert constraints.attribute_requirements(graph, "好的", "零食饮料", []) == {}


def test_better_grade_of_a_text_attribute(graph):
    text = "要缓震好一点的"
    wanted = constraints.attribute_requirements(graph, text, "跑步鞋", _mentions(graph, text))
    grades = wanted["缓震"]
    assert "轻缓震" not in grades and "高缓震" in grades

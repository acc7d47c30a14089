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
    text = "不要碳板的"
    assert constraints.attribute_requirements(graph, text, "跑步鞋", _mentions(graph, text)) == {}


def test_fits_checks_every_requirement(graph):
    laptops = [p for p in graph.products.values() if p["category"] == "笔记本电脑"]
    with_4060 = [p for p in laptops if constraints.fits(p, graph, {"显卡": frozenset({"4060"})})]
    assert with_4060 and all("4060" in p["attributes"]["显卡"] for p in with_4060)
    big = [p for p in laptops if constraints.fits(p, graph, {"内存": (32.0, None)})]
    assert big and all(float(str(p["attributes"]["内存"]).rstrip("GB")) >= 32 for p in big)
    skin = {"适用肤质": frozenset({"油皮"})}
    for product in (p for p in graph.products.values() if p["category"] == "护肤品"):
        told = " ".join(map(str, product["attributes"].get("适用肤质") or []))
        assert constraints.fits(product, graph, skin) == ("油皮" in told or "所有肤质" in told)

"""Amounts with units in shoppers' words as bounds on the catalog's specs
(knowledge_graph/measures.py through search.query.filters_from, as the chat and the search box
read a message), on the seed catalog."""

from __future__ import annotations

import pytest

from knowledge_graph import constraints, measures
from knowledge_graph.graph import numeric_value
from knowledge_graph.linking import EntityLinker
from knowledge_graph.service import CatalogView
from search import query
from tests.shopper_suite import seed_graph


@pytest.fixture(scope="module")
def view() -> CatalogView:
    graph = seed_graph()
    return CatalogView(graph=graph, linker=EntityLinker(graph))


@pytest.mark.parametrize(
    ("text", "category", "wanted"),
    [
        ("6.5寸以上的手机", "手机", {"屏幕尺寸": (6.5, None)}),
        ("屏幕小于6.3英寸的手机", "手机", {"屏幕尺寸": (None, 6.3)}),
        ("6.7寸的手机", "手机", {"屏幕尺寸": (6.566, 6.834)}),  # more is not better: near it
        ("重量200g以下的手机", "手机", {"重量": (None, 200.0)}),  # 200 is no memory size
        ("180克以下的手机", "手机", {"重量": (None, 180.0)}),
        ("5000毫安左右的手机", "手机", {"电池容量": (4500.0, 5500.0)}),
        ("电池至少5000mAh的手机", "手机", {"电池容量": (5000.0, None)}),
        ("1亿像素的手机", "手机", {"主摄像素": (10000.0, None)}),  # the spec is in 万像素
        ("120W快充的手机", "手机", {"充电功率": (120.0, None)}),
        ("1.5kg以下的笔记本", "笔记本电脑", {"重量": (None, 1.5)}),
        ("轻薄本 不超过1200克", "笔记本电脑", {"重量": (None, 1.2)}),  # grams against kg
        ("续航7天以上的手表", "智能手表", {"续航": (168.0, None)}),  # days against hours
        ("续航20小时以上的耳机", "耳机", {"续航": (20.0, None)}),
    ],
)
def test_an_amount_with_its_unit_bounds_the_spec_of_that_unit(view, text, category, wanted):
    filters = query.filters_from(view, text)
    assert filters.category == category
    assert {k: v for k, v in filters.attributes.items() if k in wanted} == wanted


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("5G手机 两千以内", {"5G": True}),  # the network, not 5 GB of RAM nor 5 g
        ("5g手机", {"5G": True}),
        ("256G的5G手机", {"5G": True, "存储容量": (256.0, 256.0)}),
        ("4G运存的手机", {"运行内存": (4.0, None)}),
        ("1TB的手机", {"存储容量": (1024.0, 1024.0)}),  # memory units are no weights
        ("512GB的手机", {"存储容量": (512.0, 512.0)}),
        ("2T的手机", {"存储容量": (2048.0, 2048.0)}),
        ("拍照好的手机3000左右", {}),  # a budget, not 3000万像素
        ("续航好的手机 2000以内", {}),  # a budget, not 2000 mAh
    ],
)
def test_networks_memory_and_budgets_are_no_measures(view, text, wanted):
    assert query.filters_from(view, text).attributes == wanted


def test_every_card_of_a_measured_search_keeps_the_bound(view):
    """The bound is a hard filter: the phones that fit have it, and it leaves some out."""
    graph = view.graph
    phones = [p for p in graph.products.values() if p.category == "手机"]
    for text, key, low, high in [
        ("6.7寸以上的手机", "屏幕尺寸", 6.7, None),
        ("190g以下的手机", "重量", None, 190.0),
    ]:
        wanted = query.filters_from(view, text).attributes
        fitting = [p for p in phones if constraints.fits(p, graph, wanted)]
        values = [numeric_value(p.attributes.get(key)) for p in fitting]
        assert fitting and len(fitting) < len(phones)
        assert all(v is not None and (low is None or v >= low) for v in values)
        assert all(high is None or v <= high for v in values)


def test_several_specs_of_one_unit_take_the_one_named_before_the_amount():
    class Spec:
        def __init__(self, unit: str, better: str | None = None) -> None:
            self.unit, self.better = unit, better

    schema = {"续航": Spec("分钟", "higher"), "保修期": Spec("天")}
    text = "续航60分钟以上"
    assert measures.measured_requirements(text, schema, [(2, "续航")]) == {"续航": (60.0, None)}
    assert measures.measured_requirements(text, schema) == {}  # which one: not said


@pytest.mark.parametrize(
    ("key", "wanted", "unit", "text"),
    [
        ("重量", (None, 200.0), "g", "重量200g以下"),
        ("屏幕尺寸", (6.5, None), "英寸", "屏幕尺寸6.5英寸以上"),
        ("屏幕尺寸", (6.566, 6.834), "英寸", "屏幕尺寸6.7英寸左右"),
        ("存储容量", (256.0, 256.0), "GB", "存储容量256GB"),
        ("5G", True, "", "带5G"),
    ],
)
def test_a_requirement_is_restated_as_the_shopper_said_it(key, wanted, unit, text):
    assert constraints.requirement_text(key, wanted, unit) == text


def test_memory_specs_are_restated_in_gb(view):
    units = constraints.spec_units(view.graph, "手机")
    assert units["存储容量"] == "GB" and units["重量"] == "g" and units["屏幕尺寸"] == "英寸"


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("有没有不带碳板的跑鞋", {"碳板": False}),
        ("有没有碳板的跑鞋", {"碳板": True}),  # a question, not a refusal
        ("不要降噪的耳机", {"降噪": False}),
        ("要不要降噪的耳机", {"降噪": True}),
        ("能不能打电话的手表", {"eSIM": True}),
        ("不能打电话的手表也行", {}),  # also fine: no requirement
        ("有独显的笔记本", {"独立显卡": True}),  # the feature, not the 显卡 text spec
        ("不要独显的笔记本", {"独立显卡": False}),
        ("能手写的平板", {"支持手写笔": True}),
    ],
)
def test_a_yes_no_feature_refused_is_required_absent(view, text, wanted):
    assert query.filters_from(view, text).attributes == wanted


@pytest.mark.parametrize(
    ("text", "excluded"),
    [
        ("除了华为和小米以外的手机", {"华为", "小米"}),
        ("华为和小米以外的手机", {"华为", "小米"}),
        ("小米的不要 手机", {"小米"}),
        ("别推荐三星的手机", {"三星"}),
    ],
)
def test_every_brand_of_a_refusal_is_left_out(view, text, excluded):
    filters = query.filters_from(view, text)
    makers = {p.brand for p in view.graph.products.values() if p.category == "手机"}
    assert set(filters.brands) == makers - excluded


def test_a_brand_after_besides_and_a_comma_is_wanted(view):
    assert query.filters_from(view, "除了华为，小米也行").brands == ["小米"]


@pytest.mark.parametrize(
    ("text", "colour", "avoided"),
    [
        ("不要黑色的耳机", None, ["黑色"]),
        ("黑色或者白色的不要 耳机", None, ["黑色", "白色"]),
        ("白色的耳机", "白色", []),
    ],
)
def test_refused_colours_are_avoided_not_asked(view, text, colour, avoided):
    filters = query.filters_from(view, text)
    assert (filters.colour, filters.avoided_colours) == (colour, avoided)


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        # bigger or smaller without a number: better than the category's median product
        ("电池要大的手机", {"电池容量": (5000.0, None)}),  # phones' median 5050 mAh, rounded down
        ("大电池手机", {"电池容量": (5000.0, None)}),
        ("续航长一点的耳机", {"续航": (30.0, None)}),
        ("重量轻一点的笔记本", {"重量": (None, 1.6)}),
        ("拍照好的手机", {}),  # more pixels are no better photos: ranked, not filtered
        # a number without a unit after the spec's word, on the side that makes sense for it
        ("重量200以内的手机", {"重量": (None, 200.0)}),
        ("电池5000以上的手机", {"电池容量": (5000.0, None)}),
        ("电池3000以内的手机", {}),  # a budget
    ],
)
def test_a_spec_asked_bigger_or_with_a_bare_number(view, text, wanted):
    assert query.filters_from(view, text).attributes == wanted


def test_the_specs_number_is_no_budget_and_the_budget_stays(view):
    filters = query.filters_from(view, "重量200以内 3000以内的手机")
    assert filters.attributes == {"重量": (None, 200.0)}
    assert (filters.min_price, filters.max_price) == (None, 3000.0)
    assert query.filters_from(view, "重量200以内的手机").max_price is None


@pytest.mark.parametrize(("text", "budget"), [("3000", 3000.0), ("三千块", 3000.0)])
def test_an_amount_alone_is_a_budget_at_most(view, text, budget):
    filters = query.filters_from(view, text)
    assert (filters.min_price, filters.max_price) == (None, budget)
    assert query.filters_from(view, f"{text}左右").min_price == budget * 0.8  # asked around


def test_refused_brands_are_said_back_as_refused_not_as_the_other_eleven(view):
    from actions.listing import describe

    filters = query.filters_from(view, "除了华为和小米以外的手机 四千以内")
    assert filters.avoided_brands == ["华为", "小米"] and len(filters.brands) == 11
    assert describe(filters) == "华为、小米以外的4000元以内的手机"
    wanted = query.filters_from(view, "华为的手机 不要小米")
    assert (wanted.brands, wanted.avoided_brands) == (["华为"], ["小米"])
    assert describe(wanted) == "华为的手机"

"""Reading shoppers' descriptions against the seed catalog: models not named, sizes and chips,
kinds inside question words, what someone likes. Exact SKUs from the generated catalog."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge_graph import policy, qa
from knowledge_graph.graph import model_number_better
from knowledge_graph.linking import EntityLinker
from knowledge_graph.scenes import hobby_of
from knowledge_graph.service import CatalogView
from search import query
from tests.shopper_suite import seed_graph


@pytest.fixture(scope="module")
def view() -> CatalogView:
    graph = seed_graph()
    return CatalogView(graph=graph, linker=EntityLinker(graph))


def test_a_description_that_fits_one_product_names_it(view):
    product = query.described_product(view, "小米20000mAh充电宝能上飞机不")
    assert product is not None and product.sku == "AC-XM-MIPB20000"
    assert "约 74Wh" in policy.air_travel(product) and policy.may_carry_on(product)
    assert query.described_product(view, "华为手机能上飞机吗") is None  # many models


def test_a_device_described_for_its_accessories(view):
    device = query.described_device(view, "苹果手表表带 46mm的", "手机配件")
    assert device is not None and device.sku == "WT-AP-AWS10-46"
    assert query.described_device(view, "华为手表的表带", "手机配件") is None  # several watches


def test_units_name_the_spec_and_category_words_hold_features(view):
    assert query.filters_from(view, "小米20000mAh充电宝").attributes == {"容量": (20000.0, None)}
    assert query.filters_from(view, "推荐个降噪耳机 1500以内").attributes == {"降噪": True}
    assert query.filters_from(view, "有什么配件").category == "手机配件"  # inside 「什么配件」


def test_a_bare_size_only_where_the_category_is_sold_by_size(view):
    assert query.bare_size(view, "43", "跑步鞋") == "43"
    assert query.bare_size(view, "xl", "运动服饰") == "XL"
    assert query.bare_size(view, "43", "手机") is None
    assert query.bare_size(view, "3000", "跑步鞋") is None


def test_a_product_line_keeps_its_maker_and_only_its_models(view):
    filters = query.filters_from(view, "剪视频用 想买MacBook 预算15000以内")
    assert filters.category == "笔记本电脑" and filters.brands == ["苹果"]
    assert filters.within and all(
        view.graph.products[s].model.startswith("MacBook") for s in filters.within
    )
    assert filters.max_price == 15000
    cases = query.filters_from(view, "iPhone手机壳")
    assert cases.brands == [] and cases.kind == "手机壳"  # cases for iPhones, of any maker
    assert "AC-TL-CASE-IPHONE15" in cases.within


@pytest.mark.parametrize(
    ("a", "b", "better"),
    [
        ("骁龙8 Gen3", "骁龙8 Gen2", "a"),
        ("RTX 4050", "RTX 4060", "b"),
        ("英特尔酷睿i7-13620H", "英特尔酷睿i5-13500H", "a"),
        ("骁龙8 Gen3", "骁龙870", None),  # different naming schemes
        ("天玑9300", "骁龙8 Gen3", None),  # different makers
    ],
)
def test_chips_compare_within_one_family(a, b, better):
    assert model_number_better(a, b) == better


def test_opened_returns_by_kind_and_what_someone_likes():
    assert "不支持7天无理由退货" in policy.opened_return_in("零食饮料", "薯片")
    assert "吊牌完好" in policy.opened_return_in("跑步鞋", "跑鞋")
    assert hobby_of("她平时喜欢做饭") == "做饭" and hobby_of("我想买个手机") is None


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("42码的跑鞋", "42"),
        ("跑鞋42码半", "42.5"),
        ("要个M号的运动服", "M"),
        ("男款运动服 XL", "XL"),  # a letter size needs no 码
        ("XXXL的运动服", "3XL"),  # as the catalog writes it
        ("2XL码", "XXL"),
        ("M2芯片的笔记本", None),  # no size
        ("42的跑鞋", None),  # a bare number may be a price
    ],
)
def test_sizes_as_shoppers_write_them(text, size):
    assert query.asked_size(text) == size


def test_a_letter_size_without_its_word_is_kept_on_every_card(view):
    filters = query.filters_from(view, "男款运动服 XL")
    assert (filters.category, filters.size, filters.gender) == ("运动服饰", "XL", "男")
    shown = qa.filter_products(view, filters)
    every = qa.filter_products(view, replace(filters, size=None))
    assert shown and all("XL" in p.attributes["尺码"] for p in shown)
    assert len(shown) < len(every)  # the size left some out


@pytest.mark.parametrize(
    ("text", "within"),
    [
        ("mate60的膜", ["AC-UG-FILM-MATE60"]),  # the Mate 60's film, not a Mate 60
        ("iPhone15的壳", ["AC-AP-OCASE-IPHONE15", "AC-BS-CASE2-IPHONE15", "AC-TL-CASE-IPHONE15"]),
        ("iphone15手机壳", None),  # names cases already: the search ranks them
    ],
)
def test_a_search_for_a_devices_accessory_keeps_to_what_fits_it(view, text, within):
    filters = query.understand_query(view, text)
    assert filters.category == "手机配件"
    assert (sorted(filters.within) if filters.within is not None else None) == within

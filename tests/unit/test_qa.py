from __future__ import annotations

import pytest

from knowledge_graph import qa
from search import query


def test_product_refs_prefer_text_then_entities(mini_view):
    refs = qa.product_refs(mini_view, "华为Mate60 Pro多少钱")
    assert refs[0].model == "Mate 60 Pro"
    assert set(refs[0].skus) == {"PH-HW-M60P-256", "PH-HW-M60P-512"}
    assert qa.product_refs(mini_view, "这个多少钱", ["小米14"])[0].model == "小米14"


def test_representative_is_cheapest_in_stock(mini_view):
    product = qa.representative(mini_view, ["PH-HW-M60P-512", "PH-HW-M60P-256"])
    assert product.sku == "PH-HW-M60P-256"


def test_asked_fields(mini_view):
    assert qa.asked_fields(mini_view, "华为Mate60 Pro多少钱") == ["price"]
    assert qa.asked_fields(mini_view, "还有货吗") == ["stock"]
    assert "重量" in qa.asked_fields(mini_view, "这款多重")
    assert "颜色" in qa.asked_fields(mini_view, "有几种颜色")
    assert "电池容量" in qa.asked_fields(mini_view, "续航怎么样")


def test_filters_from_text_and_price_entities(mini_view):
    # The text is parsed by cn_text, the same rules as the NLU's price extractor.
    text_only = query.filters_from(mini_view, "三千以内的华为手机")
    assert (text_only.category, text_only.brands, text_only.max_price) == ("手机", ["华为"], 3000)
    # Price entities fill in only when the text itself has no price wish the parser reads.
    entities = [{"entity": "price", "role": "max", "value": "6000", "start": 0, "end": 2}]
    filters = query.filters_from(mini_view, "预算刚好的华为手机", entities)
    assert filters.category == "手机" and filters.brands == ["华为"] and filters.max_price == 6000
    around = query.filters_from(mini_view, "五千左右的手机")
    assert (around.min_price, around.max_price) == (4000, 6000)
    found = qa.filter_products(mini_view, filters)
    assert [p.sku for p in found] == ["PH-HW-M60-256"]


def test_one_per_model_dedupes_variants(mini_view):
    phones = mini_view.graph.filter(category="手机", brands=["华为"])
    models = [p.model for p in qa.one_per_model(phones)]
    assert sorted(models) == ["Mate 60", "Mate 60 Pro"]


SHOWN = ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    ("text", "focus", "previous", "expected"),
    [
        ("第二个多少钱", None, None, ["B"]),
        ("第2款怎么样", None, None, ["B"]),
        ("对比一下前两个", None, None, ["A", "B"]),
        ("前3个哪个好", None, None, ["A", "B", "C"]),
        ("第一个和第三个哪个续航好", None, None, ["A", "C"]),
        ("最后一个有货吗", None, None, ["D"]),
        ("这款多重", "C", None, ["C"]),
        ("它支持5G吗", "B", None, ["B"]),
        ("刚才那个多少钱", "C", "A", ["A"]),
        ("上一个呢", "C", "B", ["B"]),
        ("第九个", None, None, []),  # only four were shown
        ("有没有便宜的", "C", None, []),
    ],
)
def test_resolve_references(text, focus, previous, expected):
    assert qa.resolve_references(text, SHOWN, focus, previous) == expected


def test_this_with_single_shown_product_and_nothing_shown():
    assert qa.resolve_references("这个多少钱", ["X"], None) == ["X"]
    assert qa.resolve_references("第二个", [], None) == []


def test_numbers_inside_a_named_product_are_not_budgets(mini_view):
    # An NLU price entity over the model name is ignored, and the text has no budget.
    entities = [{"entity": "price", "role": "around", "value": "60", "start": 4, "end": 6}]
    filters = query.filters_from(mini_view, "华为Mate60 Pro多少钱", entities)
    assert (filters.min_price, filters.max_price) == (None, None)


def test_gender_is_a_hard_filter(mini_view):
    assert query.filters_from(mini_view, "女款跑步鞋").gender == "女"
    women = qa.filter_products(mini_view, query.filters_from(mini_view, "女款跑步鞋"))
    assert women == []  # the only shoe is a men's one: never offered to a woman
    men = qa.filter_products(mini_view, query.filters_from(mini_view, "男士跑步鞋"))
    assert [p.sku for p in men] == ["SH-NK-PEG40-42"]

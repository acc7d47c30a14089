"""The labelled shopper queries for the search benchmark: fresh, broad and well-formed labels,
and the small condition language that produces them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
import yaml

from benchmarks.label_queries import (
    CONSTRAINTS,
    KINDS,
    LABELS_PATH,
    MAX_RELEVANT,
    SETS,
    SpecError,
    build_labels,
    dump_labels,
    grade,
    label_query,
    load_spec,
    matches,
    parse_number,
    validate_spec,
)
from data.catalog_schema import load_catalog
from data.generate_catalog import build_catalog
from knowledge_graph.product import Product

# The contract's leaf categories (test_seed_catalog pins them).
CATEGORIES = [c.name for c in load_catalog().taxonomy.categories]


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return build_catalog()


@pytest.fixture(scope="module")
def committed() -> list[dict[str, Any]]:
    return yaml.safe_load(LABELS_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def products_by_sku(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p for p in catalog["products"]}


# -- the committed labels ----------------------------------------------------------------


def test_committed_labels_equal_what_the_script_produces_now(catalog: dict[str, Any]) -> None:
    expected = dump_labels(build_labels(load_spec(), catalog))
    actual = LABELS_PATH.read_text(encoding="utf-8")
    assert actual == expected, "stale labels: run .venv/bin/python benchmarks/label_queries.py"


def test_at_least_150_queries(committed: list[dict[str, Any]]) -> None:
    assert len(committed) >= 150


def test_every_category_is_queried_at_least_8_times(committed: list[dict[str, Any]]) -> None:
    counts = Counter(r["category"] for r in committed)
    assert {c: counts[c] for c in CATEGORIES if counts[c] < 8} == {}


def test_queries_are_unique_even_ignoring_case_and_spaces(committed: list[dict[str, Any]]) -> None:
    normalized = Counter(re.sub(r"\s+", "", r["query"]).lower() for r in committed)
    assert [q for q, n in normalized.items() if n > 1] == []


def test_records_have_the_shape_the_benchmark_reads(committed: list[dict[str, Any]]) -> None:
    for record in committed:
        optional = [k for k in (*CONSTRAINTS, "set") if k in record]
        assert list(record) == ["query", "kind", "category", *optional, "labels"]
        assert isinstance(record["query"], str) and record["query"].strip()
        assert record["kind"] in KINDS
        assert record.get("set", SETS[0]) in SETS
        assert all(isinstance(g, int) and g in (1, 2) for g in record["labels"].values())


def test_at_least_50_shopper_style_queries(committed: list[dict[str, Any]]) -> None:
    assert sum(1 for r in committed if r.get("set") == "shopper") >= 50


def test_every_labelled_sku_meets_the_constraints_its_query_names(
    committed: list[dict[str, Any]], products_by_sku: dict[str, dict[str, Any]]
) -> None:
    def breaks(record: dict[str, Any], product: dict[str, Any]) -> bool:
        brand = record.get("brand")
        return (
            (
                brand is not None
                and product["brand"] not in ([brand] if isinstance(brand, str) else brand)
            )
            or product["price"] < record.get("min_price", 0)
            or product["price"] > record.get("max_price", float("inf"))
        )

    wrong = [
        (r["query"], sku)
        for r in committed
        for sku in r["labels"]
        if breaks(r, products_by_sku[sku])
    ]
    assert wrong == []


def test_every_labelled_sku_exists_in_the_query_category(
    committed: list[dict[str, Any]], products_by_sku: dict[str, dict[str, Any]]
) -> None:
    wrong = [
        (r["query"], sku)
        for r in committed
        for sku in r["labels"]
        if sku not in products_by_sku or products_by_sku[sku]["category"] != r["category"]
    ]
    assert wrong == []


def test_each_query_has_between_1_and_60_relevant_products(
    committed: list[dict[str, Any]],
) -> None:
    sizes = {r["query"]: len(r["labels"]) for r in committed}
    assert {q: n for q, n in sizes.items() if not 1 <= n <= MAX_RELEVANT} == {}


def test_each_query_has_a_strong_match(committed: list[dict[str, Any]]) -> None:
    # A `better` clause that no product meets is almost always a typo in the spec.
    assert [r["query"] for r in committed if 2 not in r["labels"].values()] == []


def test_queries_by_meaning_are_the_largest_kind(committed: list[dict[str, Any]]) -> None:
    # In the labelled set; the shopper-style set is brand names, device accessories, product
    # types and budgets on purpose.
    labelled = [r for r in committed if r.get("set", SETS[0]) == SETS[0]]
    kinds = Counter(r["kind"] for r in labelled)
    assert set(kinds) == set(KINDS)
    assert kinds["need"] * 2 >= len(labelled)


# -- the condition language --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("512GB", 512.0),
        ("1TB", 1024.0),
        ("750g（30袋）", 750.0),
        ("1kg", 1000.0),
        (6.78, 6.78),
        (5000, 5000.0),
        (True, None),
        ("无", None),
        (["黑色"], None),
    ],
)
def test_parse_number(value: Any, number: float | None) -> None:
    assert parse_number(value) == number


PHONE = Product.from_dict(
    {
        "sku": "PH-TEST-1",
        "title": "测试 X1 Pro 12GB+1TB 5G手机",
        "brand": "华为",
        "category": "手机",
        "model": "X1 Pro",
        "aliases": ["x1pro", "测试X1Pro"],
        "price": 5999.0,
        "tags": ["拍照", "旗舰"],
        "attributes": {
            "存储容量": "1TB",
            "电池容量": 5000,
            "颜色": ["黑色", "白色"],
            "处理器": "骁龙8 Gen3 for Galaxy",
            "折叠屏": False,
        },
    }
)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({}, True),
        ({"brand": "华为"}, True),
        ({"brand": ["苹果", "小米"]}, False),
        ({"model": "x1 pro"}, True),
        ({"model": "X1"}, False),
        ({"tags_any": ["游戏", "拍照"]}, True),
        ({"tags_all": ["拍照", "游戏"]}, False),
        ({"attr_min": {"存储容量": 512}}, True),
        ({"attr_max": {"存储容量": 512}}, False),
        ({"attr_min": {"屏幕尺寸": 6}}, False),
        ({"attr_contains": {"颜色": "白色"}}, True),
        ({"attr_contains": {"颜色": "白"}}, False),
        ({"attr_contains": {"处理器": ["天玑9300", "骁龙8 Gen3"]}}, True),
        ({"attr_is": {"折叠屏": False}}, True),
        ({"attr_is": {"折叠屏": True}}, False),
        ({"title_any": ["X1PRO"]}, True),
        ({"title_any": ["Ultra"]}, False),
        ({"price_min": 5999, "price_max": 5999}, True),
        ({"price_max": 5000}, False),
        ({"brand": "华为", "price_max": 5000}, False),
    ],
)
def test_matches(conditions: dict[str, Any], expected: bool) -> None:
    assert matches(PHONE, conditions) is expected


def test_grade_needs_the_category_then_must_then_better() -> None:
    entry = {"category": "手机", "must": {"tags_any": ["拍照"]}, "better": {"price_max": 5000}}
    assert grade(PHONE, entry) == 1
    assert grade(PHONE, {**entry, "better": {"price_min": 5000}}) == 2
    assert grade(PHONE, {**entry, "better": None}) == 2
    assert grade(PHONE, {**entry, "must": {"tags_any": ["老人"]}}) == 0
    assert grade(PHONE, {**entry, "category": "平板电脑"}) == 0


def test_grade_needs_the_constraints_the_query_names() -> None:
    entry = {"category": "手机", "must": {"tags_any": ["拍照"]}}
    assert grade(PHONE, {**entry, "brand": "华为", "max_price": 5999}) == 2
    assert grade(PHONE, {**entry, "brand": ["苹果", "小米"]}) == 0
    assert grade(PHONE, {**entry, "min_price": 6000}) == 0
    assert grade(PHONE, {**entry, "max_price": 5000}) == 0


def test_label_query_keeps_only_relevant_products_sorted_by_sku() -> None:
    other = replace(PHONE, sku="PH-TEST-0", tags=("老人",), price=999.0)
    third = replace(PHONE, sku="PH-TEST-2", price=3999.0)
    entry = {"category": "手机", "must": {"tags_any": ["拍照"]}, "better": {"price_max": 5000}}
    labels = label_query(entry, [PHONE, other, third])
    assert labels == {"PH-TEST-1": 1, "PH-TEST-2": 2}
    assert list(labels) == sorted(labels)


@pytest.mark.parametrize(
    "bad",
    [
        {"must": {"attr_min": {"像素": 5000}}},
        {"must": {"tags_any": ["拍照好"]}},
        {"must": {"brand": "华为手机"}},
        {"must": {"keyword": "拍照"}},
        {"kind": "semantic"},
        {"category": "数码"},
        {"colour": "黑色"},
        {"brand": "华为手机"},
        {"max_price": "三千"},
        {"min_price": 5000, "max_price": 3000},
        {"set": "new"},
    ],
)
def test_validate_spec_rejects_typos(catalog: dict[str, Any], bad: dict[str, Any]) -> None:
    entry = {"query": "拍照好的手机", "kind": "need", "category": "手机", **bad}
    with pytest.raises(SpecError):
        validate_spec([entry], catalog)


def test_validate_spec_rejects_duplicate_queries(catalog: dict[str, Any]) -> None:
    entry = {"query": "华为手机", "kind": "brand", "category": "手机", "must": {"brand": "华为"}}
    validate_spec([entry], catalog)
    with pytest.raises(SpecError):
        validate_spec([entry, dict(entry)], catalog)

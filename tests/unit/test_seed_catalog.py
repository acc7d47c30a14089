"""The generated seed catalog: deterministic, complete, internally consistent and realistic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from data.generate_catalog import build_catalog, main

CATEGORIES = [
    "手机",
    "笔记本电脑",
    "平板电脑",
    "耳机",
    "智能手表",
    "手机配件",
    "跑步鞋",
    "运动服饰",
    "护肤品",
    "彩妆",
    "小家电",
    "零食饮料",
]
RELATION_TYPES = {"ACCESSORY_OF", "COMPATIBLE_WITH", "SAME_SERIES", "ALTERNATIVE_TO", "BUNDLE_WITH"}
ORDER_STATUSES = {
    "pending_payment",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunding",
    "refunded",
}


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return build_catalog()


@pytest.fixture(scope="module")
def products(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p for p in catalog["products"]}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _by_model(catalog: dict[str, Any], model: str) -> list[dict[str, Any]]:
    return [p for p in catalog["products"] if p["model"] == model]


def test_two_builds_are_identical(catalog: dict[str, Any]) -> None:
    again = build_catalog()
    assert json.dumps(again, ensure_ascii=False, sort_keys=True) == json.dumps(
        catalog, ensure_ascii=False, sort_keys=True
    )


def test_script_writes_the_same_bytes_and_a_summary(tmp_path, capsys) -> None:
    first, second = tmp_path / "a" / "catalog.json", tmp_path / "b.json"
    assert main(["--out", str(first)]) == 0
    assert main(["--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    summary = capsys.readouterr().err
    assert "笔记本电脑:" in summary and "interactions:" in summary
    assert json.loads(first.read_text(encoding="utf-8"))["version"] == 1


def test_bytes_do_not_depend_on_the_hash_seed(tmp_path) -> None:
    """Set and dict iteration must not leak into the output: run the script as users do."""
    repo = Path(__file__).resolve().parents[2]
    outputs = []
    for hash_seed in ("1", "4242"):
        out = tmp_path / f"catalog-{hash_seed}.json"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "data.generate_catalog", "--out", str(out)], env=env,
                       cwd=repo, check=True, capture_output=True, timeout=120)  # fmt: skip
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_top_level_shape(catalog: dict[str, Any]) -> None:
    assert set(catalog) == {
        "version",
        "merchants",
        "categories",
        "attribute_schema",
        "brands",
        "products",
        "relations",
        "orders",
        "users",
        "interactions",
    }
    assert [c["name"] for c in catalog["categories"]] == CATEGORIES
    assert set(catalog["attribute_schema"]) == set(CATEGORIES)
    assert all(c["parent"] and c["aliases"] for c in catalog["categories"])
    laptop = next(c for c in catalog["categories"] if c["name"] == "笔记本电脑")
    assert {"笔记本", "电脑", "laptop"} <= set(laptop["aliases"])
    snacks = next(c for c in catalog["categories"] if c["name"] == "零食饮料")
    assert {"零食", "饮料", "吃的"} <= set(snacks["aliases"])


def test_counts(catalog: dict[str, Any]) -> None:
    per_category = Counter(p["category"] for p in catalog["products"])
    assert len(catalog["products"]) >= 800
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 40, per_category
    assert len(catalog["brands"]) >= 60
    assert len(catalog["merchants"]) >= 3
    assert len(catalog["users"]) >= 200
    assert len(catalog["orders"]) >= 60
    assert len(catalog["interactions"]) >= 15_000


def test_skus_are_unique_stable_ascii(catalog: dict[str, Any]) -> None:
    skus = [p["sku"] for p in catalog["products"]]
    assert len(skus) == len(set(skus))
    assert all(re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)+", s) and len(s) <= 64 for s in skus)
    assert "PH-HW-MATE60PRO-512" in skus


def test_products_reference_known_brands_and_merchants(catalog: dict[str, Any]) -> None:
    brands = {b["name"] for b in catalog["brands"]}
    merchants = {m["id"] for m in catalog["merchants"]}
    assert all(p["brand"] in brands and p["merchant_id"] in merchants for p in catalog["products"])
    assert all(b["aliases"] and b["origin"] for b in catalog["brands"])
    huawei = next(b for b in catalog["brands"] if b["name"] == "华为")
    assert {"HUAWEI", "huawei"} <= set(huawei["aliases"])


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    return isinstance(value, str) and bool(value)


def test_attributes_follow_the_category_schema(catalog: dict[str, Any]) -> None:
    schema = catalog["attribute_schema"]
    for spec in (s for attrs in schema.values() for s in attrs.values()):
        assert spec["type"] in {"number", "text", "list", "bool"}
        assert spec["better"] in {"higher", "lower", None}
    for p in catalog["products"]:
        attrs = schema[p["category"]]
        assert p["attributes"], p["sku"]
        for key, value in p["attributes"].items():
            assert key in attrs, (p["sku"], key)
            assert _type_ok(attrs[key]["type"], value), (p["sku"], key, value)
    phone = next(p for p in catalog["products"] if p["category"] == "手机")
    assert {
        "屏幕尺寸",
        "电池容量",
        "存储容量",
        "运行内存",
        "主摄像素",
        "5G",
        "重量",
        "颜色",
    } <= set(phone["attributes"])


def test_prices_ratings_stock_and_tags(catalog: dict[str, Any]) -> None:
    from data.catalog_schema import load_catalog

    tags = set(load_catalog().taxonomy.tags)
    for p in catalog["products"]:
        assert p["price"] > 0 and isinstance(p["price"], float)
        assert 0 <= p["rating"] <= 5 and round(p["rating"], 1) == p["rating"]
        assert isinstance(p["stock"], int) and p["stock"] >= 0
        assert set(p["tags"]) <= tags, p["sku"]
        assert p["image"] is None and p["title"] and p["description"]
    out_of_stock = sum(p["stock"] == 0 for p in catalog["products"]) / len(catalog["products"])
    assert 0.02 <= out_of_stock <= 0.1


def test_prices_are_realistic(catalog: dict[str, Any]) -> None:
    mate = _by_model(catalog, "Mate 60 Pro")
    assert {p["price"] for p in mate} >= {6499.0, 6999.0}
    redmi_note = [
        p["price"] for p in catalog["products"] if (p["model"] or "").startswith("Redmi Note")
    ]
    assert redmi_note and min(redmi_note) <= 1200 and max(redmi_note) <= 2500
    assert _by_model(catalog, "AirPods Pro 2（USB-C）")[0]["price"] == 1899.0
    shoes = [p["price"] for p in catalog["products"] if p["category"] == "跑步鞋"]
    assert min(shoes) >= 250 and max(shoes) <= 2500
    snacks = [p["price"] for p in catalog["products"] if p["category"] == "零食饮料"]
    assert min(snacks) >= 10 and max(snacks) <= 200


def test_known_aliases(catalog: dict[str, Any]) -> None:
    alias_owner: dict[str, set[str]] = defaultdict(set)
    for p in catalog["products"]:
        for alias in p["aliases"]:
            alias_owner[alias].add(p["model"] or "")
    assert alias_owner["mate60"] == {"Mate 60"}
    assert alias_owner["小米14"] == {"小米14"}
    assert (
        {"iPhone 15"} == alias_owner["爱疯15"] == alias_owner["苹果15"] == alias_owner["iphone15"]
    )
    assert "Redmi K70" in alias_owner["红米k70"]


def test_key_example_mate60_pro_is_findable(catalog: dict[str, Any]) -> None:
    wanted = _compact("华为Mate60 Pro")
    hits = [
        p
        for p in catalog["products"]
        if p["brand"] == "华为"
        and any(wanted in (_compact(a), _compact("华为" + a)) for a in p["aliases"])
    ]
    assert hits and all(p["model"] == "Mate 60 Pro" and p["price"] > 0 for p in hits)


def test_descriptions_vary_and_use_attributes(catalog: dict[str, Any]) -> None:
    descriptions = [p["description"] for p in catalog["products"]]
    assert len(set(descriptions)) >= 0.97 * len(descriptions)
    for p in catalog["products"]:
        assert 2 <= p["description"].count("。") <= 4, p["sku"]
        # No template leftovers or Python values ('True Wireless' is a model name, not a bool).
        assert not re.search(
            r"[{}]|None|(?<![A-Za-z])(True|False)(?![ A-Za-z])", p["description"]
        ), p["sku"]
    mate = next(p for p in catalog["products"] if p["sku"] == "PH-HW-MATE60PRO-512")
    assert "Mate 60 Pro" in mate["description"]


def test_relations_are_valid_and_cover_every_kind(
    catalog: dict[str, Any], products: dict[str, Any]
) -> None:
    rels = catalog["relations"]
    assert {r["type"] for r in rels} == RELATION_TYPES
    assert all(r["source"] in products and r["target"] in products for r in rels)
    assert all(r["source"] != r["target"] for r in rels)
    keys = [(r["source"], r["target"], r["type"]) for r in rels]
    assert len(keys) == len(set(keys))
    for r in rels:
        if r["type"] in {"ACCESSORY_OF", "COMPATIBLE_WITH"}:
            assert products[r["source"]]["category"] == "手机配件"


def test_relation_semantics(catalog: dict[str, Any], products: dict[str, Any]) -> None:
    pairs = {(r["type"], frozenset((r["source"], r["target"]))) for r in catalog["relations"]}
    mate, mi_ultra = (
        _by_model(catalog, "Mate 60 Pro")[0]["sku"],
        _by_model(catalog, "小米14 Ultra")[0]["sku"],
    )
    assert ("ALTERNATIVE_TO", frozenset((mate, mi_ultra))) in pairs
    accessory_targets = defaultdict(set)
    for r in catalog["relations"]:
        if r["type"] == "ACCESSORY_OF":
            accessory_targets[r["source"]].add(products[r["target"]]["category"])
    cases = [p for p in catalog["products"] if p["attributes"].get("类型") == "手机壳"]
    assert cases and all(accessory_targets[c["sku"]] == {"手机"} for c in cases)
    bundle_categories = {
        frozenset((products[a]["category"], products[b]["category"]))
        for kind, pair in pairs
        if kind == "BUNDLE_WITH"
        for a, b in [tuple(pair)]
    }
    assert {
        frozenset(("手机", "手机配件")),
        frozenset(("跑步鞋", "运动服饰")),
        frozenset(("护肤品",)),
    } <= bundle_categories
    for kind, pair in pairs:
        if kind == "ALTERNATIVE_TO":
            a, b = (products[s] for s in pair)
            assert a["category"] == b["category"]


def test_orders(catalog: dict[str, Any], products: dict[str, Any]) -> None:
    users = {u["user_id"] for u in catalog["users"]}
    ids = [o["order_id"] for o in catalog["orders"]]
    assert len(ids) == len(set(ids))
    assert {o["status"] for o in catalog["orders"]} == ORDER_STATUSES
    for o in catalog["orders"]:
        assert re.fullmatch(r"DG\d{14}", o["order_id"]) and o["user_id"] in users
        created = datetime.fromisoformat(o["created_at"])
        assert created.utcoffset().total_seconds() == 8 * 3600
        assert o["order_id"][2:10] == created.strftime("%Y%m%d")
        assert o["items"] and all(
            i["sku"] in products and i["qty"] >= 1 and i["price"] > 0 for i in o["items"]
        )
        shipped = o["status"] in {"shipped", "delivered", "refunding", "refunded"}
        assert bool(o["carrier"] and o["tracking_no"]) == shipped
        assert o["address_city"]


def test_users(catalog: dict[str, Any]) -> None:
    ids = [u["user_id"] for u in catalog["users"]]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"u\d{4}", i) for i in ids)
    segments = Counter(u["segment"] for u in catalog["users"])
    assert {"学生", "白领", "宝妈"} <= set(segments) and len(segments) >= 6
    assert all(u["nickname"] and u["city"] for u in catalog["users"])


def test_interactions_are_valid_and_time_ordered(
    catalog: dict[str, Any], products: dict[str, Any]
) -> None:
    users = {u["user_id"] for u in catalog["users"]}
    last_seen: dict[str, str] = {}
    for e in catalog["interactions"]:
        assert e["sku"] in products and e["user_id"] in users
        assert e["type"] in {"view", "click", "add_to_cart", "purchase"}
        assert e["source"] in {"storefront", "chat", "widget"}
        assert e["ts"] >= last_seen.get(e["user_id"], "")
        last_seen[e["user_id"]] = e["ts"]
    assert set(last_seen) == users
    counts = Counter(e["type"] for e in catalog["interactions"])
    assert (
        counts["view"]
        >= 2 * counts["click"]
        > 2 * counts["add_to_cart"]
        > 2 * counts["purchase"]
        > 0
    )
    assert all(
        products[e["sku"]]["stock"] > 0 for e in catalog["interactions"] if e["type"] == "purchase"
    )


def test_behaviour_has_plausible_structure(
    catalog: dict[str, Any], products: dict[str, Any]
) -> None:
    events = catalog["interactions"]
    # Long tail: the most viewed tenth of products gets a large share of all views.
    views = Counter(e["sku"] for e in events if e["type"] == "view")
    top = sum(n for _, n in views.most_common(len(products) // 10))
    assert top / sum(views.values()) >= 0.3
    # Students skew cheap: their phone views are cheaper than business people's.
    segment = {u["user_id"]: u["segment"] for u in catalog["users"]}

    def median_phone_price(seg: str) -> float:
        prices = sorted(
            products[e["sku"]]["price"]
            for e in events
            if segment[e["user_id"]] == seg and products[e["sku"]]["category"] == "手机"
        )
        return prices[len(prices) // 2]

    assert median_phone_price("学生") < median_phone_price("商务人士")
    # Phone buyers go on to accessories of the phone they bought.
    accessories = defaultdict(set)
    for r in catalog["relations"]:
        if r["type"] == "ACCESSORY_OF":
            accessories[r["target"]].add(r["source"])
    bought: dict[str, set[str]] = defaultdict(set)
    follow_ups = 0
    for e in events:
        if any(e["sku"] in accessories[s] for s in bought[e["user_id"]]):
            follow_ups += 1
        if e["type"] == "purchase" and products[e["sku"]]["category"] == "手机":
            bought[e["user_id"]].add(e["sku"])
    assert follow_ups >= 20

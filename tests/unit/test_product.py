"""The product type every package passes around: typed, frozen, and the same JSON as before."""

from __future__ import annotations

import dataclasses

import pytest

from actions.formatting import card
from knowledge_graph.product import Product, Suggested


def test_products_from_the_store_are_typed_and_frozen(mini_store):
    detail = mini_store.get_product("PH-XM-14-256")
    product = detail.product
    assert (product.sku, product.brand, product.category) == ("PH-XM-14-256", "小米", "手机")
    assert product.price == 3999.0 and isinstance(product.price, float)
    assert isinstance(product.tags, tuple) and isinstance(product.aliases, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        product.price = 1.0  # type: ignore[misc]
    assert {(r.type, r.direction) for r in detail.relations}  # relations come with the detail


def test_json_shape_round_trips(mini_store):
    product = mini_store.get_product("PH-HW-M60P-256").product
    data = product.to_dict()
    assert isinstance(data["tags"], list) and isinstance(data["attributes"], dict)
    assert Product.from_dict({**data, "relations": [], "score": 0.5}) == product


def test_a_card_carries_the_reason_only_of_a_suggestion(mini_store):
    product = mini_store.get_product("PH-XM-14-256").product
    assert "reason" not in card(product)
    suggested = Suggested.of(product, "和您看过的华为 Mate 60 Pro 同价位")
    shown = card(suggested)
    assert shown["reason"] == "和您看过的华为 Mate 60 Pro 同价位"
    assert {k: shown[k] for k in ("sku", "price", "stock")} == {
        "sku": "PH-XM-14-256",
        "price": 3999.0,
        "stock": product.stock,
    }

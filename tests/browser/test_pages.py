"""The storefront's pages (web/routes/storefront.py, web/templates/) over the mini catalog,
without a browser or the bot: quick, so that a template error shows without Chromium."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from web.app import create_app
from web.routes.storefront import spec_value, yuan


@pytest.fixture()
def client(mini_services) -> TestClient:
    return TestClient(create_app(mini_services))


def widget_tag(html: str) -> str:
    match = re.search(r'<script src="/static/widget/widget\.js"[^>]*>', html)
    assert match, "no widget script tag"
    return match.group(0)


def test_grid_shows_every_product_once_with_the_widget(client, mini_view):
    page = client.get("/")
    assert page.status_code == 200
    skus = re.findall(r'<article class="card" data-sku="([^"]+)"', page.text)
    assert sorted(skus) == sorted(mini_view.graph.products)
    tag = widget_tag(page.text)
    assert 'data-rasa-url="http://127.0.0.1:9"' in tag and "data-product-sku" not in tag
    assert "cdn" not in page.text.lower() and "//unpkg" not in page.text


def test_category_filter_and_unknown_category(client, mini_view):
    phones = client.get("/", params={"category": "手机"}).text
    skus = re.findall(r'<article class="card" data-sku="([^"]+)"', phones)
    assert skus and all(mini_view.graph.products[s].category == "手机" for s in skus)
    assert client.get("/", params={"category": "<script>"}).status_code == 200


def test_product_page_passes_its_sku_to_the_widget(client, mini_view):
    product = next(p for p in mini_view.graph.products.values() if p.category == "手机")
    page = client.get(f"/products/{product.sku}")
    assert page.status_code == 200
    assert f"<h1>{product.title}</h1>" in page.text
    assert f'<span class="price">{yuan(product.price)}</span>' in page.text
    assert f'data-product-sku="{product.sku}"' in widget_tag(page.text)


def test_unknown_product_is_a_chinese_404_page(client):
    page = client.get("/products/NO-SUCH-SKU")
    assert page.status_code == 404 and "没有找到这件商品" in page.text


def test_prices_and_specs_as_shown():
    assert [yuan(2999), yuan(2999.0), yuan(89.9), yuan(12999)] == [
        "¥2,999", "¥2,999", "¥89.90", "¥12,999"
    ]  # fmt: skip
    assert spec_value(6.82, "英寸") == "6.82英寸" and spec_value(5000, "mAh") == "5000mAh"
    assert (
        spec_value(True, None) == "有"
        and spec_value(["雅川青", "白沙银"], None) == "雅川青、白沙银"
    )

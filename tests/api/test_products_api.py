from __future__ import annotations

import dataclasses
import threading

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import BigramEncoder
from web.app import create_app

CATALOG_FIELDS = {"sku", "title", "brand", "category", "price", "attributes", "tags",
                  "description", "stock", "rating", "merchant_id"}  # fmt: skip


@pytest.fixture()
def client(mini_services) -> TestClient:
    return TestClient(create_app(mini_services))


def test_list_is_sorted_by_sku_with_total(client):
    body = client.get("/api/products").json()
    assert body["total"] == 7
    skus = [p["sku"] for p in body["items"]]
    assert skus == sorted(skus)
    assert set(body["items"][0]) >= CATALOG_FIELDS


def test_filters_and_paging(client):
    body = client.get(
        "/api/products", params={"category": "手机", "brand": "华为", "max_price": 6000}
    ).json()
    assert [p["sku"] for p in body["items"]] == ["PH-HW-M60-256"] and body["total"] == 1
    page = client.get("/api/products", params={"category": "手机", "limit": 2, "offset": 2}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert client.get("/api/products", params={"q": "Mate"}).json()["total"] == 3


def test_limit_is_capped(client):
    assert client.get("/api/products", params={"limit": 1000}).status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": "ten"}, {"offset": -1}, {"min_price": "cheap"}, {"min_price": -5},
     {"min_price": 500, "max_price": 100}, {"q": "x" * 500}],
)  # fmt: skip
def test_bad_parameters_are_4xx_json(client, params):
    response = client.get("/api/products", params=params)
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["code"] and error["message"]


def test_product_detail_with_relations(client):
    body = client.get("/api/products/PH-AP-15-128").json()
    assert body["price"] == 5999 and body["stock"] == 0
    assert {"type": "COMPATIBLE_WITH", "sku": "AC-CASE-IP15", "direction": "in"} in body[
        "relations"
    ]


def test_unknown_sku_and_route_are_json_404(client):
    response = client.get("/api/products/NOPE-404")
    assert response.status_code == 404 and response.json()["error"]["code"] == "product_not_found"
    assert client.get("/api/nothing-here").json()["error"]["code"] == "not_found"


def test_health_is_starting_until_search_is_loaded(mini_services):
    loaded = threading.Event()

    def slow_encoder() -> BigramEncoder:
        loaded.wait(10)
        return BigramEncoder()

    app = create_app(dataclasses.replace(mini_services, _encoder=slow_encoder))
    with TestClient(app) as client:
        starting = client.get("/health")
        assert starting.status_code == 503 and starting.json()["status"] == "starting"
        loaded.set()
        assert app.state.web.ready.wait(10)
        ready = client.get("/health")
        body = ready.json()
        assert ready.status_code == 200 and body["components"]["search"] == "ok"
        assert body["components"]["database"] == "ok"
        assert body["status"] == "degraded"  # Rasa is not running in this test


def test_storefront_page(client):
    page = client.get("/")
    assert page.status_code == 200 and "导购" in page.text
    assert client.get("/static/storefront.js").status_code == 200


def test_chat_without_rasa_is_503_json(client):
    response = client.post("/api/chat", json={"sender": "u1", "message": "你好"})
    assert (
        response.status_code == 503 and response.json()["error"]["code"] == "assistant_unavailable"
    )
    bad = client.post(
        "/api/chat", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 422

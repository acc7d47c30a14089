from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from web.app import create_app
from web.ratelimit import RateLimiter


@pytest.fixture()
def client(mini_services) -> TestClient:
    return TestClient(create_app(mini_services))


def test_search_respects_filters_and_scores(client):
    body = client.get(
        "/api/search", params={"q": "拍照手机", "category": "手机", "max_price": 6000}
    ).json()
    assert body["total"] == len(body["items"]) > 0
    assert all(p["category"] == "手机" and p["price"] <= 6000 for p in body["items"])
    scores = [p["score"] for p in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_search_bad_input(client):
    assert (
        client.get("/api/search", params={"q": "x", "min_price": 9, "max_price": 1}).status_code
        == 400
    )
    assert client.get("/api/search", params={"k": 0}).status_code == 422
    assert client.get("/api/search", params={"q": "😀" * 10}).status_code == 200


def test_event_then_recommendations_change(client, mini_services):
    mini_services.consent.decide("shopper-1", True)  # agreed to personal recommendations
    cold = client.get("/api/recommendations", params={"user_id": "shopper-1", "k": 3}).json()
    assert all(item["reason"] for item in cold["items"])
    response = client.post(
        "/api/events",
        json={"user_id": "shopper-1", "sku": "PH-HW-M60-256", "type": "click", "source": "widget"},
    )
    assert response.status_code == 202
    warm = client.get("/api/recommendations", params={"user_id": "shopper-1", "k": 3}).json()
    assert warm["items"][0]["model"] == "Mate 60 Pro"
    assert "Mate 60" in warm["items"][0]["reason"]


@pytest.mark.parametrize(
    "body",
    [{"user_id": "u", "sku": "NOPE", "type": "view"}, {"user_id": "u", "sku": "PH-XM-14-256", "type": "like"},
     {"user_id": "", "sku": "PH-XM-14-256", "type": "view"}, {"sku": "PH-XM-14-256"}, ["not", "an", "object"]],
)  # fmt: skip
def test_bad_events_are_4xx(client, body):
    response = client.post("/api/events", json=body)
    assert 400 <= response.status_code < 500 and "error" in response.json()


def test_events_are_rate_limited(client):
    # A limiter that refills slowly, so a slow machine cannot refill it between requests.
    client.app.state.web.event_limiter = RateLimiter(rate_per_second=0.01, burst=5)
    statuses = {
        client.post(
            "/api/events", json={"user_id": "flood", "sku": "PH-XM-14-256", "type": "view"}
        ).status_code
        for _ in range(80)
    }
    assert 429 in statuses


def test_recommendations_unknown_context(client):
    assert client.get("/api/recommendations", params={"context_sku": "NOPE"}).status_code == 404


def test_search_box_understands_constraints_written_in_the_query(client, mini_view):
    body = client.get("/api/search", params={"q": "六千以内的华为手机"}).json()
    assert body["understood"] == {"category": "手机", "brand": "华为", "brands": ["华为"],
                                  "max_price": 6000}  # fmt: skip
    expected = {
        p.sku
        for p in mini_view.graph.filter(category="手机", brands=["华为"], max_price=6000)
        if p.stock > 0
    }
    assert body["items"] and {p["sku"] for p in body["items"]} <= expected


@pytest.mark.parametrize(
    ("q", "attributes", "fits"),
    [
        # 「5G」 is the network: no RAM of 5 GB, no weight of 5 g
        ("5G手机 六千以内", {"5G": True}, lambda p: p.attributes["5G"] and p.price <= 6000),
        (
            "重量200g以下的手机",
            {"重量": {"min": None, "max": 200.0}},
            lambda p: p.attributes["重量"] <= 200,
        ),
        (
            "6.5寸以上的手机",
            {"屏幕尺寸": {"min": 6.5, "max": None}},
            lambda p: p.attributes["屏幕尺寸"] >= 6.5,
        ),
    ],
)
def test_search_box_keeps_a_measured_requirement(client, mini_view, q, attributes, fits):
    body = client.get("/api/search", params={"q": q}).json()
    assert body["understood"]["category"] == "手机"
    assert body["understood"]["attributes"] == attributes
    expected = {
        p.sku
        for p in mini_view.graph.products.values()
        if p.category == "手机" and p.stock > 0 and fits(p)
    }
    assert expected and body["relaxed"] is None
    assert {p["sku"] for p in body["items"]} == expected


def test_search_box_keeps_to_the_category_of_a_named_product(client, mini_view):
    body = client.get("/api/search", params={"q": "mate60pro"}).json()
    assert body["understood"]["category"] == "手机"
    assert body["items"] and all(p["category"] == "手机" for p in body["items"])


def test_explicit_parameters_win_over_the_query(client):
    body = client.get("/api/search", params={"q": "三千以内的手机", "max_price": 9000}).json()
    assert body["understood"]["max_price"] == 3000  # what the text said, for the chips
    assert any(p["price"] > 3000 for p in body["items"])  # the explicit bound was applied


def test_search_box_with_nothing_fitting_shows_the_nearest_and_says_so(client):
    body = client.get("/api/search", params={"q": "三千以内的华为手机"}).json()
    assert body["relaxed"] == "price" and body["understood"]["max_price"] == 3000
    # The cheapest Huawei phone in stock comes first, though above the budget.
    assert body["items"][0]["sku"] == "PH-HW-M60-256"


def test_the_search_page_restates_a_measured_requirement_with_its_unit(client):
    page = client.get("/", params={"q": "重量200g以下的手机"}).text
    assert "已按 <strong>手机 · 重量200g以下</strong> 筛选" in page
    page = client.get("/", params={"q": "6.7寸左右的手机"}).text
    assert "已按 <strong>手机 · 屏幕尺寸6.7英寸左右</strong> 筛选" in page


@pytest.mark.parametrize("q", ["iPhone15的壳", "iphone15 壳", "苹果15的手机壳"])
def test_search_box_shows_the_accessories_made_for_a_named_device(client, q):
    body = client.get("/api/search", params={"q": q}).json()
    assert body["understood"]["category"] == "手机配件"
    assert [p["sku"] for p in body["items"]] == ["AC-CASE-IP15"]


def test_search_box_leaves_out_refused_brands_and_says_which(client):
    body = client.get("/api/search", params={"q": "除了华为以外的手机"}).json()
    assert body["understood"]["avoided_brands"] == ["华为"]
    assert body["items"] and all(p["brand"] != "华为" for p in body["items"])

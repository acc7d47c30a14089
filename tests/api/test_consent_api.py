"""GET/POST /api/widget/consent (issue #19): the shopper's own answer, stored server-side per
signed shopper id; it decides whether /api/recommendations uses their history."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from knowledge_graph import consent
from recommender.events import EventStore
from web import identity
from web.app import create_app


@pytest.fixture()
def app(mini_services):
    return create_app(mini_services)


def as_shopper(app, key: str, sender: str) -> TestClient:
    token = identity.mint_shopper_token(key, sender)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_only_a_known_shopper_reads_or_answers(app):
    anonymous = TestClient(app)
    assert anonymous.get("/api/widget/consent").status_code == 401
    assert anonymous.post("/api/widget/consent", json={"granted": True}).status_code == 401
    forged = TestClient(app, headers={"Authorization": "Bearer not-a-token"})
    assert forged.post("/api/widget/consent", json={"granted": True}).status_code == 401


def test_the_answer_is_stored_for_the_cookie_shopper_and_survives_a_new_client(app, mini_services):
    browser = TestClient(app)
    sender = browser.get("/api/widget/session").json()["sender_id"]
    unanswered = browser.get("/api/widget/consent")
    assert unanswered.status_code == 200
    assert unanswered.json() == {"granted": None, "decided_at": None}
    assert unanswered.headers["cache-control"] == "no-store"

    answered = browser.post("/api/widget/consent", json={"granted": False})
    assert answered.status_code == 200, answered.text
    assert answered.json()["granted"] is False
    stored = consent.decision(mini_services.store, sender)
    assert stored is not None and stored.granted is False
    assert datetime.fromisoformat(answered.json()["decided_at"]) == stored.decided_at

    # The same shopper on a second device (the shop's signed token): no new question.
    device = as_shopper(app, mini_services.settings.shopper_key, sender)
    assert device.get("/api/widget/consent").json()["granted"] is False
    assert device.post("/api/widget/consent", json={"granted": True}).json()["granted"] is True
    assert consent.is_granted(mini_services.store, sender) is True
    assert browser.get("/api/widget/consent").json()["granted"] is True


@pytest.mark.parametrize("body", [{"granted": "yes"}, {"granted": 1}, {}, ["granted"]])
def test_a_malformed_answer_is_refused_and_nothing_is_stored(app, mini_services, body):
    shopper = as_shopper(app, mini_services.settings.shopper_key, "s-bad")
    response = shopper.post("/api/widget/consent", json=body)
    assert response.status_code == 422
    assert "error" in response.json()
    assert consent.decision(mini_services.store, "s-bad") is None


def test_recommendations_follow_the_answer_at_once(app, mini_services):
    key = mini_services.settings.shopper_key
    shopper = as_shopper(app, key, "s-fan")
    for u in range(6):  # simulated shoppers: Mate 60 viewers also click the Mate 60 Pro
        EventStore(mini_services.store).record_many(
            [
                {"user_id": f"b{u}", "sku": "PH-HW-M60-256", "type": "view", "ts": "2026-12-01T08:00:00+00:00"},
                {"user_id": f"b{u}", "sku": "PH-HW-M60P-256", "type": "click", "ts": "2026-12-01T08:00:00+00:00"},
            ]
        )  # fmt: skip
    shopper.post("/api/widget/consent", json={"granted": True})
    posted = shopper.post(
        "/api/events",
        json={"user_id": "s-fan", "sku": "PH-HW-M60-256", "type": "click", "source": "widget"},
    )
    assert posted.status_code == 202

    def recommended() -> list[tuple[str, str]]:
        body = shopper.get("/api/recommendations", params={"user_id": "s-fan", "k": 3}).json()
        return [(item["sku"], item["reason"]) for item in body["items"]]

    anonymous = TestClient(app).get("/api/recommendations", params={"k": 3}).json()["items"]
    personal = recommended()
    assert personal[0][0] == "PH-HW-M60P-256" and "Mate 60" in personal[0][1]
    assert shopper.post("/api/widget/consent", json={"granted": False}).status_code == 200
    assert recommended() == [(item["sku"], item["reason"]) for item in anonymous]

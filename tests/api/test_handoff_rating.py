"""The shopper's rating of a handoff (issue #16): the widget is told which released handoff still
waits for a rating (GET /api/widget/history `rating_due`), and the staff dashboard shows the
average, the count and the 1-5 distribution of the handoffs that ended in the chosen period."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from knowledge_graph.handoff import HandoffQueue
from web import identity
from web.accounts import create_account
from web.app import create_app
from web.review.analytics import handoff_ratings
from web.review.fake_history import create_events_table

PASSWORD = "correct-horse-9"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in the shop (China Standard Time)


@pytest.fixture()
def services(mini_services, tmp_path):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    create_events_table(create_engine(tracker_url))
    settings = dataclasses.replace(mini_services.settings, tracker_db_url=tracker_url)
    return dataclasses.replace(mini_services, settings=settings)


@pytest.fixture()
def app(services):
    create_account(services.store, "staff1", PASSWORD, "staff")
    return create_app(services)


def staff(app) -> TestClient:
    login = TestClient(app).post(
        "/api/auth/login", json={"username": "staff1", "password": PASSWORD}
    )
    return TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def served(store, sender: str, at: datetime, rating: int | None = None) -> int:
    """A handoff a person took and released at `at`, rated by the shopper if `rating`."""
    queue = HandoffQueue(store, clock=lambda: at)
    record = queue.request(sender, "转人工")
    queue.take(record.id, "staff1")
    queue.release(record.id, "staff1")
    if rating is not None:
        queue.rate(sender, rating)
    return record.id


def test_average_count_and_distribution_of_the_period(services):
    store = services.store
    for i, rating in enumerate((5, 4, 4, 2)):
        served(store, f"in-{i}", T0 + timedelta(hours=i), rating)
    served(store, "unrated", T0 + timedelta(hours=5))  # not rated: not counted
    served(store, "before", T0 - timedelta(days=2), 1)
    served(store, "after", T0 + timedelta(days=2), 1)
    report = handoff_ratings(store, T0 - timedelta(hours=1), T0 + timedelta(days=1))
    assert report.count == 4
    assert report.average == 15 / 4
    assert report.distribution == (0, 1, 0, 2, 1)
    everything = handoff_ratings(store, T0 - timedelta(days=3), T0 + timedelta(days=3))
    assert (everything.count, everything.average) == (6, 17 / 6)
    assert everything.distribution == (2, 1, 0, 2, 1)
    # the period's end is exclusive, as for every other figure of the dashboard
    assert handoff_ratings(store, T0 - timedelta(hours=1), T0).count == 0


def test_the_dashboard_api_shows_the_ratings_and_none_when_nobody_rated(app, services):
    served(services.store, "s-a", T0, 5)
    served(services.store, "s-b", T0 + timedelta(minutes=30), 2)
    served(services.store, "s-c", T0 + timedelta(minutes=40))  # ended, never rated
    client = staff(app)
    # naive times are the shop's: 2026-12-01 00:00 to 2026-12-02 00:00 CST
    body = client.get(
        "/api/analytics", params={"since": "2026-12-01T00:00:00", "until": "2026-12-02T00:00:00"}
    )
    assert body.status_code == 200, body.text
    assert body.json()["dashboard"]["handoff_ratings"] == {
        "count": 2,
        "average": 3.5,
        "distribution": [0, 1, 0, 0, 1],
    }
    quiet = client.get(
        "/api/analytics", params={"since": "2026-11-01T00:00:00", "until": "2026-11-08T00:00:00"}
    ).json()["dashboard"]["handoff_ratings"]
    assert quiet == {"count": 0, "average": None, "distribution": [0, 0, 0, 0, 0]}


def test_the_dashboard_page_says_no_rating_yet(app):
    page = staff(app).get("/console/dashboard")
    assert page.status_code == 200
    assert "人工服务评分" in page.text and "data-rating-average" in page.text
    script = TestClient(app).get("/static/console/staff.js").text
    assert '"暂无评分"' in script


def shopper(app, services, sender: str) -> TestClient:
    token = identity.mint_shopper_token(services.settings.shopper_key, sender)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_history_names_the_released_handoff_until_it_is_rated(app, services):
    alice = shopper(app, services, "alice")
    assert alice.get("/api/widget/history").json()["rating_due"] is None
    # A request nobody took (expired, then back to the bot) is never to be rated.
    queue = HandoffQueue(services.store, clock=lambda: T0)
    expired = queue.request("alice")
    queue.expire(expired.id, "timeout")
    queue.back_to_bot(expired.id)
    assert alice.get("/api/widget/history").json()["rating_due"] is None

    handoff_id = served(services.store, "alice", T0 + timedelta(minutes=5))
    assert alice.get("/api/widget/history").json()["rating_due"] == handoff_id
    assert shopper(app, services, "bob").get("/api/widget/history").json()["rating_due"] is None
    rated = alice.post("/api/widget/handoff-rating", json={"rating": 4})
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    assert alice.get("/api/widget/history").json()["rating_due"] is None

"""The staff dashboard's A/B test block (issue #18): GET /api/analytics carries the current
experiment's name and each arm's figures for the chosen period (arms in the configured order,
the control first), leaves out another experiment with the same arm names and the arm events
that name no experiment (counting those), nothing when the period has neither, and the page
has the block."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert

from knowledge_graph.tables import Event
from recommender.ab import Experiment
from recommender.events import EventStore
from web.accounts import create_account
from web.app import create_app
from web.review.fake_history import create_events_table

PASSWORD = "correct-horse-9"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in the shop (China Standard Time)
ARMS = ("session_blend", "served")  # the control is the first: session_blend here
DAY = {"since": "2026-12-01T00:00:00", "until": "2026-12-02T00:00:00"}


@pytest.fixture()
def services(mini_services, tmp_path):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    create_events_table(create_engine(tracker_url))
    settings = dataclasses.replace(
        mini_services.settings, tracker_db_url=tracker_url, ab_arms=ARMS, ab_experiment="ranker"
    )
    return dataclasses.replace(mini_services, settings=settings)


@pytest.fixture()
def staff(services) -> TestClient:
    create_account(services.store, "staff1", PASSWORD, "staff")
    app = create_app(services)
    login = TestClient(app).post(
        "/api/auth/login", json={"username": "staff1", "password": PASSWORD}
    )
    return TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def traffic(services) -> None:
    """Two shoppers per arm: served 6 impressions 3 clicks 1 cart (2 + 1, 4 + 2 clicks),
    session_blend 4 impressions 1 click (2 + 0, 2 + 1), all on the first of December."""
    experiment = Experiment("ranker", ARMS)
    events = EventStore(services.store, experiment=experiment)
    users = {arm: [u for u in (f"s{i}" for i in range(50)) if experiment.arm_of(u) == arm][:2]
             for arm in ARMS}  # fmt: skip
    plan = {
        users["served"][0]: (2, 1, 1),
        users["served"][1]: (4, 2, 0),
        users["session_blend"][0]: (2, 0, 0),
        users["session_blend"][1]: (2, 1, 0),
    }
    rows = []
    for user, (impressions, clicks, carts) in plan.items():
        for kind, count in (("impression", impressions), ("click", clicks), ("add_to_cart", carts)):
            rows += [{"user_id": user, "sku": "PH-XM-14-256", "type": kind, "ts": T0}] * count
    events.record_many(rows)
    EventStore(services.store).record("no-test", "PH-XM-14-256", "click", "widget", ts=T0)


def other_tests(services) -> None:
    """The same day: an earlier experiment with the same arm names (3 events) and 2 arm events
    recorded before events named their experiment."""
    earlier = EventStore(services.store, experiment=Experiment("ranker-2026-11", ARMS))
    for user in ("e1", "e2", "e3"):
        earlier.record(user, "PH-XM-14-256", "click", "widget", ts=T0)
    unnamed = {"sku": "PH-XM-14-256", "source": "widget", "ts": T0, "experiment": None}
    with services.store.session() as session:
        session.connection().execute(
            insert(Event.__table__),
            [
                {**unnamed, "user_id": "old1", "type": "impression", "arm": "served"},
                {**unnamed, "user_id": "old1", "type": "click", "arm": "served"},
            ],
        )


def test_dashboard_api_returns_each_arms_figures(staff, services):
    traffic(services)
    other_tests(services)
    body = staff.get("/api/analytics", params=DAY)
    assert body.status_code == 200, body.text
    test = body.json()["ab_test"]
    assert (test["experiment"], test["control"], test["unnamed_events"]) == (
        "ranker", "session_blend", 2,
    )  # fmt: skip
    figures = [
        (a["arm"], a["shoppers"], a["impressions"], a["clicks"], a["add_to_cart"])
        for a in test["arms"]
    ]
    assert figures == [("session_blend", 2, 4, 1, 0), ("served", 2, 6, 3, 1)]
    control, treated = test["arms"]
    assert control["ctr"]["value"] == pytest.approx(0.25)
    # served: CTR 3/6, residuals 1 - 1 = 0 and 2 - 2 = 0: no spread between its shoppers
    assert treated["ctr"] == {"value": 0.5, "low": 0.5, "high": 0.5, "se": 0.0}
    assert treated["cart_rate"]["value"] == pytest.approx(1 / 6)
    [difference] = test["differences"]
    assert (difference["arm"], difference["control"]) == ("served", "session_blend")
    assert difference["ctr"]["value"] == pytest.approx(0.25)
    # session_blend CTR 1/4, residuals -0.5 and 0.5: se = sqrt(2 * 0.5) / 4
    assert difference["ctr"]["se"] == pytest.approx(0.25)
    assert body.json()["dashboard"]["funnel"]  # the rest of the dashboard is still there


def test_no_ab_block_without_arm_events_in_the_period(staff, services):
    traffic(services)
    week_before = {"since": "2026-11-20T00:00:00", "until": "2026-11-27T00:00:00"}
    assert staff.get("/api/analytics", params=week_before).json()["ab_test"] is None


def test_only_unnamed_arm_events_show_the_block_with_no_arms(staff, services):
    other_tests(services)
    test = staff.get("/api/analytics", params=DAY).json()["ab_test"]
    assert (test["experiment"], test["arms"], test["unnamed_events"]) == ("ranker", [], 2)


def test_dashboard_page_has_the_ab_block(staff):
    page = staff.get("/console/dashboard")
    assert page.status_code == 200
    assert "A/B 测试" in page.text and "data-ab-arms" in page.text
    assert "data-ab-experiment" in page.text and "data-ab-unnamed" in page.text
    script = staff.get("/static/console/staff.js").text
    assert "function drawAbTest" in script and '"（对照组）"' in script
    assert '" · 实验：" + test.experiment' in script

"""The web app's /metrics (web/app.py, daogou/metrics.py): requests timed under their route
template and status class with exact counts, handoffs counted from the shared table as staff
take and release them through the API, the catalog, model files and Rasa's status read at scrape
time, and the token enforced when one is set."""

from __future__ import annotations

import dataclasses
import os

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from daogou import metrics
from knowledge_graph.handoff import HandoffQueue
from tests.api.test_handoff_api import PASSWORD, FakeRasa, bearer
from web.accounts import create_account
from web.app import create_app
from web.handoff_loop import RasaPush
from web.review.fake_history import create_events_table

TOKEN = "scrape-me-9"
EVENTS, OPEN = ("requested", "taken", "closed"), ("waiting", "active", "expired")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture()
def rasa(monkeypatch) -> FakeRasa:
    fake = FakeRasa()
    monkeypatch.setattr(RasaPush, "_post", lambda self, *a, **k: fake.post(self, *a, **k))
    return fake


@pytest.fixture()
def services(mini_services, tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "SCRAPE_CACHE_SECONDS", 0.0)  # every scrape reads anew
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    create_events_table(create_engine(tracker))
    settings = dataclasses.replace(mini_services.settings, tracker_db_url=tracker, service_hours="")
    return dataclasses.replace(mini_services, settings=settings)


def app_with(services, token: str | None = None):
    settings = dataclasses.replace(services.settings, metrics_token=token)
    return create_app(dataclasses.replace(services, settings=settings))


def scrape(client: TestClient, **headers: str) -> Samples:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_requests_are_counted_by_route_template_and_status_class(services):
    client = TestClient(app_with(services))
    skus = [p.sku for p in services.store.list_products(limit=2).items]
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/products").status_code == 200
    for sku in skus:
        assert client.get(f"/api/products/{sku}").status_code == 200
    assert client.get("/api/products/NO-SUCH").status_code == 404
    assert client.get("/no/such/page/123").status_code == 404
    assert client.get("/static/no-such-file.js").status_code == 404
    after = scrape(client)

    count = "daogou_http_request_duration_seconds_count"
    one = {"route": "/api/products/{sku}", "method": "GET"}
    assert delta(before, after, count, route="/api/products", method="GET", status="2xx") == 3
    assert delta(before, after, count, **one, status="2xx") == 2
    assert delta(before, after, count, **one, status="4xx") == 1
    assert delta(before, after, count, route="unmatched", method="GET", status="4xx") == 1
    assert delta(before, after, count, route="/static/{path}", method="GET", status="4xx") == 1
    # the scrape before this one is counted too, under its own route
    assert delta(before, after, count, route="/metrics", method="GET", status="2xx") == 1
    routes = {dict(labels).get("route") for name, labels in after if name == count}
    assert not any(sku in str(route) for sku in skus for route in routes)  # never a raw path
    bucket = "daogou_http_request_duration_seconds_bucket"
    assert delta(before, after, bucket, **one, status="2xx", le="+Inf") == 2


def test_handoffs_are_counted_as_staff_take_and_release_them(services, rasa):
    create_account(services.store, "staff1", PASSWORD, "staff")
    app = app_with(services)
    client, staff = TestClient(app), bearer(app, "staff1")

    def handoffs() -> tuple[dict[str, float], dict[str, float]]:
        page = scrape(client)
        total = {e: page[("daogou_handoffs_total", (("event", e),))] for e in EVENTS}
        open_now = {s: page[("daogou_handoffs_open", (("status", s),))] for s in OPEN}
        return total, open_now

    assert handoffs() == (dict.fromkeys(EVENTS, 0), dict.fromkeys(OPEN, 0))

    record = HandoffQueue(services.store).request("alice", "转人工")  # action_request_human's way
    HandoffQueue(services.store).request("alice", "转人工")  # already open: not a second one
    assert handoffs() == (
        {"requested": 1, "taken": 0, "closed": 0},
        {"waiting": 1, "active": 0, "expired": 0},
    )
    assert staff.post(f"/api/handoffs/{record.id}/take").status_code == 200
    assert handoffs() == (
        {"requested": 1, "taken": 1, "closed": 0},
        {"waiting": 0, "active": 1, "expired": 0},
    )
    assert staff.post(f"/api/handoffs/{record.id}/release").status_code == 200
    assert handoffs() == (
        {"requested": 1, "taken": 1, "closed": 1},
        {"waiting": 0, "active": 0, "expired": 0},
    )


def test_versions_model_files_and_rasa_status(services, monkeypatch):
    var = services.settings.var_dir
    nlu, recs = var / "models" / "daogou.tar.gz", var / "recs" / "model.npz"
    for path, mtime in ((nlu, 1_700_000_000), (recs, 1_700_000_500)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"model")
        os.utime(path, (mtime, mtime))
    client = TestClient(app_with(services))

    page = scrape(client)  # Rasa is not running (nothing listens on port 9)
    assert page[("daogou_rasa_up", ())] == 0
    assert not any(name == "daogou_rasa_model_info" for name, _ in page)
    assert page[("daogou_catalog_version", ())] == services.view().version
    assert page[("daogou_nlu_model_info", (("file", "daogou.tar.gz"),))] == 1
    assert page[("daogou_nlu_model_mtime_seconds", ())] == 1_700_000_000
    assert page[("daogou_recommender_model_mtime_seconds", ())] == 1_700_000_500
    assert not any(name.startswith("daogou_search_") for name, _ in page)  # not warmed up yet
    client.app.state.web.ready.set()  # as the warm-up does once the searcher is built
    page = scrape(client)
    assert page[("daogou_search_index_version", ())] == services.view().version
    assert page[("daogou_search_index_size", ())] == len(services.view().graph.products)

    asked = []

    def status(url, params, timeout):
        asked.append((url, params["token"], timeout))
        body = {"model_id": "4f2c9e", "model_file": "/srv/var/models/daogou.tar.gz"}
        return httpx.Response(200, json=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(metrics.httpx, "get", status)
    page = scrape(client)
    assert page[("daogou_rasa_up", ())] == 1
    model = (("file", "daogou.tar.gz"), ("model_id", "4f2c9e"))
    assert page[("daogou_rasa_model_info", model)] == 1
    assert asked == [("http://127.0.0.1:9/status", services.settings.rasa_token, 1.0)]


def test_rasa_is_asked_at_most_every_few_seconds(services, monkeypatch):
    monkeypatch.setattr(metrics, "SCRAPE_CACHE_SECONDS", 5.0)
    asked = []

    def status(url, params, timeout):
        asked.append(url)
        return httpx.Response(503, request=httpx.Request("GET", url))

    monkeypatch.setattr(metrics.httpx, "get", status)
    client = TestClient(app_with(services))
    for _ in range(3):
        assert scrape(client)[("daogou_rasa_up", ())] == 0
    assert len(asked) == 1


def test_the_token_is_enforced_when_set(services):
    client = TestClient(app_with(services, token=TOKEN))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json() == {
            "error": {"code": "unauthorized", "message": "请提供有效的监控令牌"}
        }
        assert answer.headers["www-authenticate"] == "Bearer"
    assert ("daogou_rasa_up", ()) in scrape(client, Authorization=f"Bearer {TOKEN}")
    assert client.get("/api/products").status_code == 200  # the rest of the app stays open


def test_openmetrics_when_the_scraper_asks_for_it(services):
    client = TestClient(app_with(services))
    answer = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n")


def test_the_launchers_children_are_reported_by_service(services):
    """The launcher's state file (var/run/services.json) read at scrape time: a live child with
    its own memory and CPU, a dead one reported down."""
    import subprocess
    import sys
    import time

    from daogou.process_health import ServiceEntry, state_file, write_state

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        write_state(
            state_file(services.settings, "default"),
            [
                ServiceEntry("rasa", live.pid, 5005, time.time()),
                ServiceEntry("actions", dead.pid, 5055, time.time()),
            ],
            "default",
        )
        page = scrape(TestClient(app_with(services)))
        rasa = (("profile", "default"), ("service", "rasa"))
        actions = (("profile", "default"), ("service", "actions"))
        assert page[("daogou_service_up", rasa)] == 1
        assert page[("daogou_service_up", actions)] == 0
        assert page[("daogou_service_resident_memory_bytes", rasa)] > 1_000_000
        assert ("daogou_service_cpu_seconds_total", rasa) in page
        assert page[("daogou_service_restarts", rasa)] == 0
    finally:
        live.kill()
        live.wait()

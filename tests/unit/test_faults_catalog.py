"""The catalog database becomes unreachable mid-way (the store's engine pointed at a PostgreSQL
port nothing listens on, or at a SQLite file that cannot be opened), then comes back: the live
catalog keeps serving the view it loaded last and logs the outage once, the actions answer
product questions from it, order status (which needs the database) fails so that Rasa tells the
shopper politely (bot/patches/action_timeout.py), `/health` on the web app and on the action
server says `degraded` with `catalog: unreachable`, and everything is current again after the
database answers, without a restart."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from actions import runtime, server
from actions.after_sales import ActionOrderStatus
from actions.product_qa import ActionAnswerAttribute
from actions.search import ActionSearchProducts
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore
from web.app import create_app

DEAD_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
    "sqlite": "sqlite:////nonexistent-daogou-dir/catalog.db",
}
BY_DATABASE = pytest.mark.parametrize("dead_url", DEAD_URLS.values(), ids=DEAD_URLS.keys())


@contextmanager
def database_down(store: CatalogStore, dead_url: str) -> Iterator[None]:
    """Every new query of `store` goes to a database that does not answer, until the end."""
    live = store.engine, store._sessions
    dead = create_engine(dead_url)
    store.engine, store._sessions = dead, sessionmaker(dead, expire_on_commit=False)
    try:
        yield
    finally:
        store.engine, store._sessions = live
        dead.dispose()


def outage_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "knowledge_graph.service"]


@BY_DATABASE
def test_the_last_view_is_served_while_the_database_is_down_then_the_current_one(
    mini_store, caplog, dead_url
):
    service = CatalogService(mini_store, check_interval=0.0)
    loaded = service.current()
    assert service.reachable and loaded.graph.products["PH-XM-14-256"].price == 3999
    caplog.set_level(logging.INFO, logger="knowledge_graph.service")
    with database_down(mini_store, dead_url):
        for _ in range(3):
            assert service.current() is loaded
        assert service.refresh() is loaded
        assert not service.reachable
    logged = outage_logs(caplog)
    assert len(logged) == 1 and logged[0].startswith("catalog database unreachable (")
    assert f"serving the catalog of version {loaded.version}" in logged[0]

    mini_store.update_product("PH-XM-14-256", {"price": 3799})
    current = service.current()
    assert service.reachable and current.version > loaded.version
    assert current.graph.products["PH-XM-14-256"].price == 3799
    assert outage_logs(caplog)[1:] == ["catalog database reachable again"]


def test_a_process_that_never_loaded_the_catalog_gets_the_error(mini_store):
    service = CatalogService(mini_store, check_interval=0.0)
    with database_down(mini_store, DEAD_URLS["sqlite"]), pytest.raises(OperationalError):
        service.current()
    assert service.current().graph.products  # and loads once the database answers


def test_readers_do_not_wait_for_a_check_under_way(mini_store):
    service = CatalogService(mini_store, check_interval=0.0)
    loaded = service.current()
    with service._lock:  # a check by another reader, stuck on a slow database
        started = time.monotonic()
        assert service.current() is loaded
        assert time.monotonic() - started < 0.1


def tracker(text: str, sender: str = "shopper-1") -> Tracker:
    latest = {"text": text, "intent": {"name": ""}, "entities": [], "intent_ranking": []}
    return Tracker(sender, {}, latest, [], False, None, {}, "action_listen")


def answer(action, text: str) -> tuple[str, list[str]]:
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker(text), {})
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    cards = next((m["custom"]["items"] for m in dispatcher.messages if m.get("custom")), [])
    return text, [card["sku"] for card in cards]


@BY_DATABASE
def test_actions_answer_from_the_last_view_and_order_status_fails_for_rasa_to_say_so(
    mini_services, monkeypatch, dead_url
):
    monkeypatch.setattr(runtime, "_services", None)
    runtime.install(mini_services)
    runtime.view()  # loaded while the database answered
    runtime.search()
    with database_down(mini_services.store, dead_url):
        text, skus = answer(ActionAnswerAttribute(), "华为Mate60 Pro多少钱")
        assert "6499元" in text and skus[0] == "PH-HW-M60P-256"
        text, skus = answer(ActionSearchProducts(), "六千以内的华为手机")
        assert skus == ["PH-HW-M60-256"]
        # rasa_sdk answers Rasa 500, and Rasa says 「订单查询暂时不可用…」 (tests/rasa)
        with pytest.raises(OperationalError):
            answer(ActionOrderStatus(), "我的订单DG20261105001234到哪了")
        assert server.health_body() == {
            "status": "degraded",
            "components": {"catalog": "unreachable", "search": "ok"},
        }
    assert server.health_body() == {
        "status": "ok",
        "components": {"catalog": "ok", "search": "ok"},
    }


@BY_DATABASE
def test_web_health_names_the_unreachable_catalog_and_recovers(mini_services, dead_url):
    app = create_app(mini_services)
    with TestClient(app) as client:
        assert app.state.web.ready.wait(10)
        before = client.get("/health").json()
        assert before["components"]["catalog"] == "ok"
        with database_down(mini_services.store, dead_url):
            down = client.get("/health")
        after = client.get("/health").json()
    assert down.status_code == 200
    body = down.json()
    assert body["status"] == "degraded"
    assert body["components"]["catalog"] == "unreachable"
    assert body["components"]["database"] == "unreachable"
    assert body["components"]["catalog_version"] == before["components"]["catalog_version"]
    assert body["components"]["search"] == "ok"
    assert after["components"]["catalog"] == "ok" and after["components"]["database"] == "ok"

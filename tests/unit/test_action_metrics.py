"""The action server's /metrics (actions/server.py, daogou/metrics.py): every action run counted
and timed under its name, fallbacks counted, errors counted by component, a name Rasa made up
never becomes a label, and the token is enforced. Driven through rasa_sdk's own Sanic app."""

from __future__ import annotations

import logging

import pytest
import rasa_sdk
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from actions import runtime
from actions.server import MeasuredExecutor, serve_metrics
from daogou.metrics import ErrorCounter, count_logged_errors

TOKEN = "scrape-me-9"


@pytest.fixture(autouse=True)
def mini_runtime(monkeypatch, mini_services):
    monkeypatch.setattr(runtime, "_services", None)  # restored after each test
    runtime.install(mini_services)


@pytest.fixture()
def error_counter():
    """Errors counted as the server's main() counts them, for this test only."""
    count_logged_errors("actions")
    yield
    for logger in (logging.getLogger(), logging.getLogger("uvicorn")):
        for handler in [h for h in logger.handlers if isinstance(h, ErrorCounter)]:
            logger.removeHandler(handler)


def action_server(token: str | None = None, search=lambda: None) -> tuple[Sanic, MeasuredExecutor]:
    Sanic.test_mode = True  # several apps named "rasa_sdk" in one process
    executor = MeasuredExecutor()
    executor.register_package("actions")
    app = create_app(executor)
    serve_metrics(app, token, search)
    return app, executor


def action_call(action: str, text: str, intent: str) -> dict:
    ranking = [{"name": "search_product", "confidence": 0.4}, {"name": intent, "confidence": 0.3}]
    return {
        "next_action": action,
        "version": rasa_sdk.__version__,  # Rasa 3.6's own only adds a version warning
        "domain": {"responses": {"utter_ask_rephrase": [{"text": "请换个说法"}]}},
        "tracker": {
            "sender_id": "tester",
            "slots": {},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.3},
                "entities": [],
                "intent_ranking": ranking,
            },
            "events": [],
            "paused": False,
            "latest_action_name": "action_listen",
        },
    }


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(app: Sanic, **headers: str) -> dict[tuple[str, tuple], float]:
    _, answer = app.test_client.get("/metrics", headers=headers)
    assert answer.status == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_each_run_is_counted_and_timed_under_its_action(mini_view):
    app, _ = action_server()
    before = scrape(app)
    for _ in range(2):
        _, answer = app.test_client.post(
            "/webhook",
            json=action_call("action_default_ask_affirmation", "嗯嗯那个", "nlu_fallback"),
        )
        assert answer.status == 200, answer.text
        assert answer.json["responses"]  # it answered the shopper
    _, answer = app.test_client.post("/webhook", json=action_call("action_greet", "你好", "greet"))
    assert answer.status == 200, answer.text
    after = scrape(app)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    fallback = {"action": "action_default_ask_affirmation"}
    greet = {"action": "action_greet"}
    assert delta("daogou_turns_total", **fallback) == 2
    assert delta("daogou_turns_total", **greet) == 1
    assert delta("daogou_action_latency_seconds_count", **fallback) == 2
    assert delta("daogou_action_latency_seconds_count", **greet) == 1
    assert delta("daogou_action_latency_seconds_sum", **greet) > 0
    # every run is in the +Inf bucket; a greeting takes less than 3 s
    assert delta("daogou_action_latency_seconds_bucket", le="+Inf", **greet) == 1
    assert delta("daogou_action_latency_seconds_bucket", le="3.0", **greet) == 1
    assert delta("daogou_fallbacks_total", **fallback) == 2
    assert delta("daogou_fallbacks_total", **greet) == 0
    assert after[("daogou_catalog_version", ())] == mini_view.version
    assert not any(name.startswith("daogou_search_") for name, _ in after)  # not built: absent


def test_an_unknown_action_name_is_one_label(error_counter):
    app, _ = action_server()
    before = value("daogou_turns_total", action="unknown")
    errors = value("daogou_errors_total", component="actions")
    _, answer = app.test_client.post(
        "/webhook", json=action_call("action_made_up_1", "你好", "greet")
    )
    assert answer.status == 404
    assert value("daogou_turns_total", action="unknown") == before + 1
    assert value("daogou_turns_total", action="action_made_up_1") == 0
    assert value("daogou_errors_total", component="actions") == errors + 1  # rasa_sdk logs it


def test_a_failing_action_counts_an_error_and_its_time(error_counter):
    app, executor = action_server()

    def broken(dispatcher, tracker, domain):
        raise RuntimeError("the graph is gone")

    executor.actions["action_greet"] = broken
    runs = value("daogou_action_latency_seconds_count", action="action_greet")
    errors = value("daogou_errors_total", component="actions")
    _, answer = app.test_client.post("/webhook", json=action_call("action_greet", "你好", "greet"))
    assert answer.status == 500
    assert value("daogou_action_latency_seconds_count", action="action_greet") == runs + 1
    assert value("daogou_errors_total", component="actions") == errors + 1

    # an error our domain packages log is theirs, not the server's
    domain = value("daogou_errors_total", component="knowledge_graph")
    logging.getLogger("knowledge_graph.service").error("catalog check failed")
    logging.getLogger("knowledge_graph.service").warning("only a warning")
    assert value("daogou_errors_total", component="knowledge_graph") == domain + 1


def test_the_token_is_enforced_when_set():
    app, _ = action_server(token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        _, answer = app.test_client.get("/metrics", headers=headers)
        assert answer.status == 401, headers
        assert answer.json["error"]["code"] == "unauthorized"
        assert answer.headers["www-authenticate"] == "Bearer"
    _, answer = app.test_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status == 200
    assert "# TYPE daogou_turns_total counter" in answer.text


def test_the_search_index_it_serves(mini_services, mini_view):
    app, _ = action_server(search=runtime.search)
    page = scrape(app)
    assert page[("daogou_search_index_version", ())] == mini_view.version
    assert page[("daogou_search_index_size", ())] == len(mini_view.graph.products)
    assert page[("daogou_search_dense_ready", ())] == 1


def test_an_error_is_counted_once_however_many_counters_see_it(error_counter):
    count_logged_errors("actions", ("", "uvicorn"))  # uvicorn's logger here propagates to the root
    count_logged_errors("actions", ("", "uvicorn"))  # a second call adds nothing
    errors = value("daogou_errors_total", component="actions")
    logging.getLogger("uvicorn.error").error("Exception in ASGI application")
    assert value("daogou_errors_total", component="actions") == errors + 1

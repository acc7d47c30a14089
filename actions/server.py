"""Runs the rasa-sdk action server in one process, with the graph, model and indexes loaded first.

`python -m rasa_sdk` serves through Sanic's worker manager, which spawns a second process that
imports everything again (twice the memory for the embedding model) and refuses to start once
torch has fixed the multiprocessing start method. One process per replica is what we want;
scale out with more replicas behind a load balancer.

`/health` answers 200 while the server serves (the launcher waits for it), with `degraded` and
the component named when the catalog database does not answer (the actions then answer from
the catalog loaded last) or search is keyword-only while its vector index is rebuilt.

`/metrics` (daogou/metrics.py): every action run counted and timed by its name, the fallback
actions counted, errors logged, and the catalog and search index versions this process serves.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor, ActionExecutorRunResult
from sanic import Request, Sanic, response

from actions import runtime
from cn_text.pii import mask_log_records
from daogou.container import build_services
from daogou.metrics import (
    ACTION_LATENCY,
    FALLBACKS,
    TURNS,
    CatalogCollector,
    MetricsPage,
    authorized,
    bounded,
    count_logged_errors,
)
from daogou.settings import load_settings
from search.hybrid import ProductSearch

# The actions that answer what the bot did not understand (bot/data/rules.yml: nlu_fallback
# goes to the first; the second is out_of_scope's). Rasa's own action_default_fallback runs
# inside Rasa, never here.
FALLBACK_ACTIONS = frozenset({"action_default_ask_affirmation", "action_out_of_scope"})
UNKNOWN_ACTION = "unknown"


def main() -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description="Daogou action server")
    parser.add_argument("--port", type=int, default=settings.action_port)
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    mask_log_records()  # shoppers' phone numbers, ID numbers and addresses never reach a log
    count_logged_errors("actions")
    executor = MeasuredExecutor()
    executor.register_package("actions")
    runtime.install(build_services(settings, "actions"))
    runtime.warm_up()
    # The model, graph and indexes live as long as the process: keep them out of every later
    # garbage collection, whose full passes over them stalled all shoppers (see bot/serve.py).
    gc.collect()
    gc.freeze()
    app = create_app(executor)
    answer_health_with_components(app)
    # Built by the warm-up above: asking for it costs nothing (as /health does).
    serve_metrics(app, settings.metrics_token, runtime.search)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False)


def health_body() -> dict[str, Any]:
    """rasa_sdk's `{"status": "ok"}`, or `degraded` with what is not ok."""
    components: dict[str, str] = {}
    catalog = runtime.catalog()
    try:
        catalog.current()  # a version check when one is due; the last view otherwise
        components["catalog"] = "ok" if catalog.reachable else "unreachable"
    except Exception:  # no catalog loaded at all
        components["catalog"] = "unreachable"
    try:
        components["search"] = "ok" if runtime.search().dense_ready else "keyword"
    except Exception:
        components["search"] = "error"
    healthy = all(state == "ok" for state in components.values())
    return {"status": "ok" if healthy else "degraded", "components": components}


def answer_health_with_components(app: Sanic) -> None:
    """rasa_sdk's own `/health` route cannot be replaced, so a request middleware answers it
    first (in a thread: a database check must not hold up the actions' event loop)."""

    @app.on_request
    async def health(request: Request) -> Any:
        if request.path == "/health" and request.method == "GET":
            return response.json(await asyncio.to_thread(health_body))
        return None


class MeasuredExecutor(ActionExecutor):
    """rasa_sdk's executor, with every run counted and timed by its action's name (names that
    are not registered count as `unknown`, so a caller cannot add labels)."""

    async def run(
        self, action_call: dict[str, Any], *args: Any, **kwargs: Any
    ) -> ActionExecutorRunResult | None:
        name = action_call.get("next_action")
        if not name:
            return await super().run(action_call, *args, **kwargs)
        label = bounded(name, self.actions, UNKNOWN_ACTION)
        TURNS.labels(label).inc()
        if label in FALLBACK_ACTIONS:
            FALLBACKS.labels(label).inc()
        started = time.perf_counter()
        try:
            return await super().run(action_call, *args, **kwargs)
        finally:
            ACTION_LATENCY.labels(label).observe(time.perf_counter() - started)


def serve_metrics(
    app: Sanic, token: str | None, search: Callable[[], ProductSearch | None]
) -> None:
    """GET /metrics: the process's metrics and the catalog and index it serves, rendered in a
    thread (a version check reads the database); with `token` set, only for that Bearer."""
    page = MetricsPage([CatalogCollector(runtime.view, search)])

    @app.get("/metrics")
    async def metrics(request: Request) -> Any:
        if not authorized(request.headers.get("authorization"), token):
            return response.json(
                {"error": {"code": "unauthorized", "message": "请提供有效的监控令牌"}},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body, content_type = await asyncio.to_thread(page.render, request.headers.get("accept"))
        return response.raw(body, content_type=content_type)


if __name__ == "__main__":
    main()

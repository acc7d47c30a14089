"""Runs the rasa-sdk action server in one process, with the graph, model and indexes loaded first.

`python -m rasa_sdk` serves through Sanic's worker manager, which spawns a second process that
imports everything again (twice the memory for the embedding model) and refuses to start once
torch has fixed the multiprocessing start method. One process per replica is what we want;
scale out with more replicas behind a load balancer.

`/health` answers 200 while the server serves (the launcher waits for it), with `degraded` and
the component named when the catalog database does not answer (the actions then answer from
the catalog loaded last) or search is keyword-only while its vector index is rebuilt.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic, response

from actions import runtime
from cn_text.pii import mask_log_records
from daogou.container import build_services
from daogou.settings import load_settings


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
    executor = ActionExecutor()
    executor.register_package("actions")
    runtime.install(build_services(settings, "actions"))
    runtime.warm_up()
    # The model, graph and indexes live as long as the process: keep them out of every later
    # garbage collection, whose full passes over them stalled all shoppers (see bot/serve.py).
    gc.collect()
    gc.freeze()
    app = create_app(executor)
    answer_health_with_components(app)
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


if __name__ == "__main__":
    main()

"""Runs the rasa-sdk action server in one process, with the graph, model and indexes loaded first.

`python -m rasa_sdk` serves through Sanic's worker manager, which spawns a second process that
imports everything again (twice the memory for the embedding model) and refuses to start once
torch has fixed the multiprocessing start method. One process per replica is what we want;
scale out with more replicas behind a load balancer.
"""

from __future__ import annotations

import argparse
import gc
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor

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
    app.run(host=args.host, port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()

"""Starts Rasa and the action server for a benchmark, on free ports, and stops them after."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from daogou import botprep
from daogou.services import service_specs, start, stop_all, wait_healthy
from daogou.settings import Settings, load_settings
from knowledge_graph.store import CatalogStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_bot() -> Iterator[Settings]:
    base = load_settings()
    rasa_port, action_port = _free_port(), _free_port()
    settings = dataclasses.replace(
        base,
        rasa_port=rasa_port,
        action_port=action_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{action_port}/webhook",
    )
    botprep.prepare(settings, CatalogStore.from_url(settings.database_url))
    processes = []
    try:
        for service in service_specs(settings):
            if service.name == "web app":
                continue
            process = start(service, settings.var_dir / "logs")
            processes.append(process)
            wait_healthy(service, process, timeout=300)
        yield settings
    finally:
        stop_all(processes)

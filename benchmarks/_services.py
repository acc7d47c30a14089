"""Starts Rasa and the action server for a benchmark, on free ports, and stops them after."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import yaml

from daogou import botprep
from daogou.services import service_specs, start, stop_all, wait_healthy
from daogou.settings import Settings, load_settings
from knowledge_graph.store import CatalogStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_bot(private: str | None = None) -> Iterator[Settings]:
    """Rasa and the action server on free ports, for the length of the `with` block.

    `private`: a folder name under var/bench/ for this run's own endpoints file, tracker
    database and logs, leaving var/bot/ untouched. `make test` writes var/bot/endpoints.yml
    for its own ports just before starting its Rasa; a benchmark started meanwhile would
    otherwise overwrite it and point that Rasa at an action server the benchmark stops.
    Needs the trained model (which implies var/bot/ was prepared for it).
    """
    base = load_settings()
    rasa_port, action_port = _free_port(), _free_port()
    settings = dataclasses.replace(
        base,
        rasa_port=rasa_port,
        action_port=action_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{action_port}/webhook",
    )
    log_dir = settings.var_dir / "logs"
    endpoints_file = None
    if private:
        folder = settings.var_dir / "bench" / private
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("tracker.db*"):  # each run starts with no conversations
            old.unlink()
        settings = dataclasses.replace(
            settings, tracker_db_url=f"sqlite:///{folder / 'tracker.db'}"
        )
        endpoints_file = folder / "endpoints.yml"
        endpoints_file.write_text(
            yaml.safe_dump(botprep.endpoints(settings), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        log_dir = folder / "logs"
    else:
        botprep.prepare(settings, CatalogStore.from_url(settings.database_url))
    processes = []
    try:
        for service in service_specs(settings):
            if service.name == "web app":
                continue
            if endpoints_file and "--endpoints" in service.args:
                service.args[service.args.index("--endpoints") + 1] = str(endpoints_file)
            process = start(service, log_dir)
            processes.append(process)
            wait_healthy(service, process, timeout=300)
        yield settings
    finally:
        stop_all(processes)


class RestChat:
    """Rasa's REST channel as a callable (sender, text) -> replies, one HTTP client per thread."""

    def __init__(self, rasa_url: str) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.local = threading.local()

    def __call__(self, sender: str, text: str) -> list[dict[str, Any]]:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(timeout=60)
        response = self.local.client.post(self.url, json={"sender": sender, "message": text})
        response.raise_for_status()
        return response.json()

"""Real processes: the trained Rasa model (from `make test`'s train step) and the action server."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator

import httpx
import pytest

from daogou.botprep import model_path
from daogou.services import service_specs, start, stop_all, wait_healthy
from daogou.settings import load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class Bot:
    rasa_url: str
    token: str

    def say(self, sender: str, text: str) -> list[dict]:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def parse(self, text: str) -> dict:
        response = httpx.post(
            f"{self.rasa_url}/model/parse",
            params={"token": self.token},
            json={"text": text},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def settings():
    base = load_settings()
    if not model_path(base).exists():
        pytest.fail(f"no trained model at {model_path(base)}: run `make test` (it trains first)")
    rasa_port, action_port = free_port(), free_port()
    return dataclasses.replace(
        base,
        rasa_port=rasa_port,
        action_port=action_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{action_port}/webhook",
    )


@pytest.fixture(scope="session")
def bot(settings) -> Iterator[Bot]:
    from daogou import botprep
    from knowledge_graph.store import CatalogStore

    # endpoints.yml must name this run's action-server port.
    botprep.prepare(settings, CatalogStore.from_url(settings.database_url))
    processes = []
    try:
        for service in service_specs(settings):
            if service.name == "web app":
                continue
            process = start(service, settings.var_dir / "logs")
            processes.append(process)
            wait_healthy(service, process, timeout=240)
        yield Bot(settings.rasa_url, settings.rasa_token)
    finally:
        stop_all(processes)

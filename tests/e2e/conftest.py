"""Real processes: the trained Rasa model (from `make test`'s train step) and the action server.

`Bot.say(sender, text)` talks as `sender`: it signs that shopper's token (web/identity.py) with
the key the launcher gave Rasa, as the web app does for its shoppers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from daogou.launcher import on_free_ports, running_bot
from daogou.nlu.botprep import model_path
from daogou.settings import load_settings
from web.identity import mint_shopper_token


@dataclasses.dataclass
class Bot:
    rasa_url: str
    token: str
    shopper_key: str

    def shopper_token(self, sender: str, ttl: int = 3600) -> str:
        return mint_shopper_token(self.shopper_key, sender, ttl)

    def auth(self, sender: str) -> dict[str, str]:
        """The headers of a message from `sender`."""
        return {"Authorization": f"Bearer {self.shopper_token(sender)}"}

    def say(self, sender: str, text: str) -> list[dict]:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=self.auth(sender),
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
    return on_free_ports(base)


@pytest.fixture(scope="session")
def bot(settings) -> Iterator[Bot]:
    with running_bot(settings):
        yield Bot(settings.rasa_url, settings.rasa_token, settings.shopper_key)

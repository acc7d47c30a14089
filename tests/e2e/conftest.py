"""Real processes: the trained Rasa model (from `make test`'s train step) and the action server.

`Bot.say(sender, text)` talks as `sender`: it signs that shopper's token (web/identity.py) with
the key the launcher gave Rasa, as the web app does for its shoppers. The test shoppers have
agreed to personal recommendations (issue #19: recorded in the catalog database before their
first message), so the conversations are answered as they were before consent was asked."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from cn_text.ratelimit import loopback_address
from daogou.launcher import on_free_ports, running_bot
from daogou.nlu.botprep import model_path
from daogou.settings import load_settings
from knowledge_graph import consent
from knowledge_graph.store import CatalogStore
from web.identity import mint_shopper_token


@dataclasses.dataclass
class Bot:
    rasa_url: str
    token: str
    shopper_key: str
    store: CatalogStore | None = None  # the services' catalog database: consent is kept there
    _agreed: set[str] = dataclasses.field(default_factory=set)

    def agree(self, sender: str) -> None:
        """The shopper agreed to personal recommendations (once per sender and run)."""
        if self.store is not None and sender not in self._agreed:
            consent.decide(self.store, sender, True)
            self._agreed.add(sender)

    def shopper_token(self, sender: str, ttl: int = 3600) -> str:
        return mint_shopper_token(self.shopper_key, sender, ttl)

    def auth(self, sender: str) -> dict[str, str]:
        """The headers of a message from `sender`."""
        return {"Authorization": f"Bearer {self.shopper_token(sender)}"}

    def say(self, sender: str, text: str) -> list[dict]:
        self.agree(sender)
        # Each shopper from its own loopback address, as real shoppers are: Rasa's per-address
        # limit (bot/channels/guard.py) would otherwise count the whole suite as one client.
        transport = httpx.HTTPTransport(local_address=loopback_address(sender))
        with httpx.Client(transport=transport, timeout=60) as http:
            response = http.post(
                f"{self.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                headers=self.auth(sender),
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
        store = CatalogStore.from_url(settings.database_url)
        yield Bot(settings.rasa_url, settings.rasa_token, settings.shopper_key, store)

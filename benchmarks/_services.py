"""Talking to the bot in benchmarks: Rasa's REST channel from many threads.

Starting the services is ``daogou.launcher.running_bot``, shared with the tests.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from cn_text.ratelimit import loopback_address
from knowledge_graph import consent
from knowledge_graph.store import CatalogStore
from web.identity import mint_shopper_token

ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)


class RestChat:
    """Rasa's REST channel as a callable (sender, text) -> replies, one HTTP client per thread
    and loopback address; each message signed as its sender's (web/identity.py) with the key
    Rasa was given, and sent from the sender's own 127.0.0.x (`loopback_address`), as real
    shoppers come from their own addresses: Rasa's per-address limit would otherwise count the
    whole run as one client (bot/channels/guard.py). With `database_url` (the services'
    catalog database) every sender has agreed to personal recommendations before their first
    message (issue #19), as the simulated shoppers' answers were always personalised."""

    def __init__(self, rasa_url: str, shopper_key: str, database_url: str | None = None) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.shopper_key = shopper_key
        self.local = threading.local()
        self.store = CatalogStore.from_url(database_url) if database_url else None
        self.agreed: set[str] = set()
        self.lock = threading.Lock()

    def agree(self, sender: str) -> None:
        if self.store is None:
            return
        with self.lock:
            if sender in self.agreed:
                return
            self.agreed.add(sender)
        consent.decide(self.store, sender, True)

    def __call__(self, sender: str, text: str) -> list[dict[str, Any]]:
        self.agree(sender)
        if not hasattr(self.local, "clients"):
            self.local.clients = {}
        clients = self.local.clients
        address = loopback_address(sender)
        if address not in clients:  # at most 253 per thread, each with one idle connection
            transport = httpx.HTTPTransport(local_address=address, limits=ONE_CONNECTION)
            clients[address] = httpx.Client(transport=transport, timeout=60)
        token = mint_shopper_token(self.shopper_key, sender)
        response = clients[address].post(
            self.url,
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        return response.json()

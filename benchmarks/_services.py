"""Talking to the bot in benchmarks: Rasa's REST channel from many threads.

Starting the services is ``daogou.launcher.running_bot``, shared with the tests.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from web.identity import mint_shopper_token


class RestChat:
    """Rasa's REST channel as a callable (sender, text) -> replies, one HTTP client per thread;
    each message signed as its sender's (web/identity.py) with the key Rasa was given."""

    def __init__(self, rasa_url: str, shopper_key: str) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.shopper_key = shopper_key
        self.local = threading.local()

    def __call__(self, sender: str, text: str) -> list[dict[str, Any]]:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(timeout=60)
        token = mint_shopper_token(self.shopper_key, sender)
        response = self.local.client.post(
            self.url,
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        return response.json()

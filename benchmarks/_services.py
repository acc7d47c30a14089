"""Talking to the bot in benchmarks: Rasa's REST channel from many threads.

Starting the services is ``daogou.launcher.running_bot``, shared with the tests.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx


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

"""Rasa's REST channel (same URL, /webhooks/rest/webhook) with shopper text sanitised."""

from __future__ import annotations

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from cn_text.sanitize import clean_message


class ShopperRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        sender = body.get("sender")
        return str(sender)[:128] if sender not in (None, "") else None

    def _extract_message(self, req: Request) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        return clean_message(body.get("message", ""))

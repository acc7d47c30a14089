"""Rasa's REST channel (same URL, /webhooks/rest/webhook) for signed-in shoppers only, with
shopper text sanitised.

A message must carry a shopper token (bot/channels/identity.py) as `Authorization: Bearer
<jwt>`, or as a `token` field of the JSON body; the sender is the token's `sub`, and a `sender`
in the body is ignored. Without a valid token (missing, signed with another key, expired, not
of type "shopper") the answer is 401 `{"error": {"code": "unauthorized", "message": ...}}` and
nothing reaches Rasa's tracker.

Credentials (bot/credentials.yml; var/bot/credentials.yml as the launcher renders it):
  jwt_key     the key shopper tokens are signed with (setting `shopper_key`)
  jwt_method  its algorithm, default HS256
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import Unauthorized
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.identity import ShopperTokens, bearer_token
from cn_text.sanitize import clean_message

UNAUTHORIZED = {
    "error": {
        "code": "unauthorized",
        "message": "a valid shopper token is required (Authorization: Bearer <token>)",
    }
}


def _body(req: Request) -> dict[str, Any]:
    try:
        body = req.json
    except Exception:  # malformed JSON: no token in it
        return {}
    return body if isinstance(body, dict) else {}


class ShopperRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(credentials.get("jwt_key"), credentials.get("jwt_method", "HS256"))

    def __init__(self, jwt_key: str | None = None, jwt_method: str = "HS256") -> None:
        self.tokens = ShopperTokens(jwt_key, jwt_method)

    def shopper(self, req: Request) -> str | None:
        """The signed-in shopper of a request: the header's token, else the body's `token`."""
        token = bearer_token(req.headers.get("authorization")) or _body(req).get("token")
        return self.tokens.sender(token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def signed_in_only(req: Request) -> HTTPResponse | None:
            """Refuses a message without a valid token before Rasa's handler sees it."""
            if req.method != "POST" or not req.path.rstrip("/").endswith("/webhook"):
                return None  # the channel's health check
            sender = self.shopper(req)
            if sender is None:
                return response.json(UNAUTHORIZED, status=401)
            req.ctx.shopper = sender
            return None

        return webhook

    async def _extract_sender(self, req: Request) -> str | None:
        sender = getattr(req.ctx, "shopper", None) or self.shopper(req)
        if sender is None:  # only if the middleware did not run: never Rasa's "default" sender
            raise Unauthorized("a valid shopper token is required")
        return sender

    def _extract_message(self, req: Request) -> str | None:
        body = req.json  # malformed JSON: Sanic's 400
        return clean_message(body.get("message", "") if isinstance(body, dict) else "")

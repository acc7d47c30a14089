"""Rasa's REST channel (same URL, /webhooks/rest/webhook) for signed-in shoppers only, with
shopper text sanitised.

A message must carry a shopper token (bot/channels/identity.py) as `Authorization: Bearer
<jwt>`, or as a `token` field of the JSON body; the sender is the token's `sub`, and a `sender`
in the body is ignored. Without a valid token (missing, signed with another key, expired, not
of type "shopper") the answer is 401 `{"error": {"code": "unauthorized", "message": ...}}` and
nothing reaches Rasa's tracker.

A signed-in shopper's message then passes the channel's guard (bot/channels/guard.py): over the
rate limit (per shopper, per client address) the answer is 429 with `Retry-After` and the
channel's usual list of messages, here one polite text; with one of the shop's sensitive words
it is 200 with a polite refusal. Neither reaches Rasa's tracker. The client address is the peer,
or the X-Forwarded-For of a trusted proxy or of the web app's /api/chat (X-Daogou-Proxy).

Credentials (bot/credentials.yml; var/bot/credentials.yml as the launcher renders it):
  jwt_key     the key shopper tokens are signed with (setting `shopper_key`)
  jwt_method  its algorithm, default HS256
  rate_per_shopper, rate_per_ip, trusted_proxies, proxy_token, sensitive_words: the guard's
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

from bot.channels.guard import PROXY_HEADER, ChatGuard, Refusal, shopper_metadata
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
        return cls(
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            ChatGuard.from_credentials(credentials),
        )

    def __init__(
        self,
        jwt_key: str | None = None,
        jwt_method: str = "HS256",
        guard: ChatGuard | None = None,
    ) -> None:
        self.tokens = ShopperTokens(jwt_key, jwt_method)
        self.guard = guard or ChatGuard()

    def shopper(self, req: Request) -> str | None:
        """The signed-in shopper of a request: the header's token, else the body's `token`."""
        token = bearer_token(req.headers.get("authorization")) or _body(req).get("token")
        return self.tokens.sender(token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def signed_in_and_guarded(req: Request) -> HTTPResponse | None:
            """Refuses a message without a valid token, too fast or with a sensitive word
            before Rasa's handler sees it."""
            if req.method != "POST" or not req.path.rstrip("/").endswith("/webhook"):
                return None  # the channel's health check
            sender = self.shopper(req)
            if sender is None:
                return response.json(UNAUTHORIZED, status=401)
            req.ctx.shopper = sender
            refusal = self.guard.check(sender, self.client(req), self._text(req))
            return None if refusal is None else _refused(sender, refusal)

        return webhook

    def client(self, req: Request) -> str:
        """The client's address (bot/channels/guard.py): Sanic's peer, never its `remote_addr`,
        which believes any Forwarded header."""
        return self.guard.client_address(
            req.ip, req.headers.get("x-forwarded-for"), req.headers.get(PROXY_HEADER)
        )

    @staticmethod
    def _text(req: Request) -> str | None:
        return clean_message(_body(req).get("message"))

    async def _extract_sender(self, req: Request) -> str | None:
        sender = getattr(req.ctx, "shopper", None) or self.shopper(req)
        if sender is None:  # only if the middleware did not run: never Rasa's "default" sender
            raise Unauthorized("a valid shopper token is required")
        return sender

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """The body's ``metadata`` (a product page's ``product_sku``), as the Socket.IO channel
        takes it: Rasa's REST channel passes none."""
        return shopper_metadata(_body(request).get("metadata")) or None

    def _extract_message(self, req: Request) -> str | None:
        body = req.json  # malformed JSON: Sanic's 400
        return clean_message(body.get("message", "") if isinstance(body, dict) else "")


def _refused(sender: str, refusal: Refusal) -> HTTPResponse:
    """The channel's usual answer, a list of messages, holding the guard's one polite text."""
    messages = [{"recipient_id": sender, "text": refusal.text}]
    if refusal.reason == "throttled":
        return response.json(
            messages, status=429, headers={"Retry-After": refusal.retry_after_header}
        )
    return response.json(messages)

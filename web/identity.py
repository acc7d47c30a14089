"""The shopper's signed identity: who a chat, its history and its order questions belong to.

A shopper's id is Rasa's `sender_id` of their conversation and the `user_id` of their events
(docs: CONTRACT, *Identity*). The client never chooses it:

- An anonymous shopper gets a random id (`s-` and 22 URL-safe characters) from the web app, kept
  in the HttpOnly, SameSite=Lax cookie `daogou_shopper` as ``<id>.<HMAC-SHA256 of it>``, so a
  reload or a second tab is the same shopper and a cookie edited by hand is simply not one.
- What reaches Rasa is a short-lived JWT (HS256) with claims ``sub`` (the id), ``iat``, ``exp``
  and ``typ`` = ``"shopper"``, signed with the shop's key (setting `shopper_key`,
  `DAOGOU_SHOPPER_KEY`). Rasa's channels (bot/channels/) verify it with the same rules as
  :func:`verify_shopper_token` and take the sender from ``sub`` alone.
- A shop with its own login signs such a token itself (``sub`` = its customer id) and sends it
  as ``Authorization: Bearer``: that id is then the shopper, on Rasa and in the web app alike.

The cookie's MAC and the tokens use the one key, apart by construction: the MAC covers a
label and a NUL byte before the id, which no JWT signing input (base64url text) contains.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

COOKIE = "daogou_shopper"
COOKIE_MAX_AGE = 365 * 24 * 3600  # the anonymous shopper stays themselves for a year
ALGORITHM = "HS256"
TOKEN_TYPE = "shopper"
TOKEN_TTL = 3600  # seconds; the widget asks for a new one when it reconnects
# Clock difference tolerated between the shop's servers (that sign tokens) and ours.
LEEWAY = 30
# Rasa's REST channel has always cut sender ids at 128 characters; a longer `sub` is refused.
MAX_SENDER_LENGTH = 128
_COOKIE_LABEL = b"daogou_shopper cookie\x00"


def new_sender_id() -> str:
    """A fresh anonymous shopper id: `s-` and 22 URL-safe characters (128 random bits)."""
    return "s-" + secrets.token_urlsafe(16)


def mint_shopper_token(
    key: str, sender_id: str, ttl: int = TOKEN_TTL, *, now: float | None = None
) -> str:
    """The JWT that names `sender_id` to Rasa's channels for `ttl` seconds."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": sender_id, "iat": issued, "exp": issued + ttl, "typ": TOKEN_TYPE}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify_shopper_token(key: str, token: str) -> str | None:
    """The shopper id a token names, or None unless it is signed with `key` (HS256), unexpired,
    of type `shopper`, and names a non-empty id of at most 128 characters."""
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}, leeway=LEEWAY
        )
    except jwt.PyJWTError:
        return None
    sender = claims.get("sub")
    if claims.get("typ") != TOKEN_TYPE or not isinstance(sender, str):
        return None
    return sender if 0 < len(sender) <= MAX_SENDER_LENGTH else None


def _mac(key: str, sender_id: str) -> str:
    digest = hmac.new(key.encode(), _COOKIE_LABEL + sender_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cookie_value(key: str, sender_id: str) -> str:
    """The `daogou_shopper` cookie for `sender_id`: the id and its MAC."""
    return f"{sender_id}.{_mac(key, sender_id)}"


def sender_of_cookie(key: str, value: str | None) -> str | None:
    """The shopper id in a `daogou_shopper` cookie, or None if it was not signed with `key`."""
    if not value:
        return None
    sender_id, _, mac = value.rpartition(".")
    if not sender_id or len(sender_id) > MAX_SENDER_LENGTH:
        return None
    return sender_id if hmac.compare_digest(mac, _mac(key, sender_id)) else None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    scheme, _, value = (authorization or "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class Shopper:
    """Who the request is from. `source`: "bearer" (the shop's signed token), "cookie" (our
    cookie), or "new" (an id issued by this request: the response sets the cookie)."""

    sender_id: str
    source: str

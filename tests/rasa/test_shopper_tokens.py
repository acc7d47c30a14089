"""bot/channels/identity.py: which shopper tokens Rasa's channels accept (run by the Rasa
Python). The web app's side of the same rules: tests/api/test_widget_api.py; both channels
against the real bot: tests/e2e/test_identity.py."""

from __future__ import annotations

import time

import jwt
import pytest

from bot.channels.identity import ShopperTokens, bearer_token
from bot.channels.rest import ShopperRestInput
from bot.channels.socketio import ProductSocketIOInput

KEY = "the-shops-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def token(key: str | None = KEY, algorithm: str = "HS256", **changes) -> str:
    now = int(time.time())
    claims = {"sub": "u0058", "iat": now, "exp": now + 600, "typ": "shopper", **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def test_a_valid_token_names_its_shopper():
    tokens = ShopperTokens(KEY)
    assert tokens.sender(token()) == "u0058"
    assert tokens.sender("Bearer " + token()) == "u0058"  # as Rasa's stock channel accepts it
    assert tokens.sender(token(exp=int(time.time()) - 5)) == "u0058"  # within the clock leeway


@pytest.mark.parametrize(
    "bad",
    [
        token(key="another-key-0123456789abcdefghijklmnopqrstuvwxyz"),
        token(exp=int(time.time()) - 3600),
        token(typ="access"),
        token(typ=None),
        token(exp=None),
        token(sub=None),
        token(sub=""),
        token(sub="x" * 129),
        token(key=None, algorithm="none"),
        token(algorithm="HS512"),
        "not.a.jwt",
        "",
        None,
        {"token": "x"},
    ],
    ids=["other key", "expired", "typ access", "no typ", "no exp", "no sub", "empty sub",
         "long sub", "unsigned", "other algorithm", "garbage", "empty", "none", "not a string"],
)  # fmt: skip
def test_anything_else_is_refused(bad):
    assert ShopperTokens(KEY).sender(bad) is None


def test_without_a_key_every_token_is_refused():
    assert ShopperTokens(None).sender(token()) is None
    assert ShopperTokens("").sender(token()) is None


def test_channels_take_the_key_from_their_credentials():
    credentials = {"jwt_key": KEY, "jwt_method": "HS256"}
    assert ShopperRestInput.from_credentials(credentials).tokens.sender(token()) == "u0058"
    assert ProductSocketIOInput.from_credentials(credentials).tokens.sender(token()) == "u0058"
    assert ShopperRestInput.from_credentials(None).tokens.sender(token()) is None


def test_bearer_header():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token(None) is None


def test_a_check_costs_microseconds():
    """Checked on every REST message: it must not show in a turn's ~50 ms."""
    tokens, valid = ShopperTokens(KEY), token()
    started = time.perf_counter()
    for _ in range(2000):
        tokens.sender(valid)
    each = (time.perf_counter() - started) / 2000
    assert each < 500e-6, f"{each * 1e6:.0f} µs per token"

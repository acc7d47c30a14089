"""The shopper's identity in the web app (web/identity.py, web/routes/widget.py, /api/chat):
issued once and kept in a signed HttpOnly cookie, or taken from the shop's signed token; the
history and the chat are only ever the caller's own."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from daogou.container import build_services
from tests.fixtures import BigramEncoder
from web import identity
from web.app import create_app
from web.review.fake_history import append_events, create_events_table

OTHER_KEY = "another-shop-key-0123456789abcdefghijklmnopqrstuvwxyz"
CARD = {"sku": "PH-HW-M60-256", "title": "华为 Mate 60 Pro", "brand": "华为", "price": 5999.0}
CHEAPER = {"title": "便宜点的", "payload": '/search_product{"price": "2000"}'}


@pytest.fixture()
def settings(mini_store, tmp_path):
    from daogou.settings import load_settings

    return dataclasses.replace(
        load_settings(),
        var_dir=tmp_path,
        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9/webhook",
    )


@pytest.fixture()
def client(settings, mini_store) -> TestClient:
    services = build_services(
        settings, store=mini_store, encoder=BigramEncoder(), catalog_check_interval=0.0
    )
    return TestClient(create_app(services))


@pytest.fixture()
def key(settings) -> str:
    return settings.shopper_key


def claims(key: str, token: str) -> dict[str, Any]:
    return jwt.decode(token, key, algorithms=["HS256"])


def shop_token(key: str, sub: str, **changes: Any) -> str:
    now = int(time.time())
    payload = {"sub": sub, "iat": now, "exp": now + 600, "typ": "shopper", **changes}
    return jwt.encode(payload, key, algorithm="HS256")


# -- issuing ------------------------------------------------------------------------------------


def test_session_issues_a_signed_identity_in_an_httponly_cookie(client, key):
    response = client.get("/api/widget/session")
    assert response.status_code == 200
    body = response.json()
    sender = body["sender_id"]
    assert sender.startswith("s-") and len(sender) == 24
    assert body["expires_in"] == identity.TOKEN_TTL == 3600
    token = claims(key, body["token"])
    assert token["sub"] == sender and token["typ"] == "shopper"
    assert token["exp"] - token["iat"] == 3600 and abs(token["iat"] - time.time()) < 60
    assert response.headers["cache-control"] == "no-store"

    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{identity.COOKIE}={sender}.")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert identity.sender_of_cookie(key, client.cookies[identity.COOKIE]) == sender


def test_second_call_with_the_cookie_is_the_same_shopper(client):
    first = client.get("/api/widget/session").json()
    again = client.get("/api/widget/session")
    assert again.json()["sender_id"] == first["sender_id"]
    assert "set-cookie" not in again.headers  # nothing new to keep


@pytest.mark.parametrize("tamper", ["other id", "other mac", "no mac", "other key", "garbage"])
def test_tampered_cookie_gets_a_new_identity(client, key, tamper):
    victim = identity.new_sender_id()
    value = {
        "other id": identity.cookie_value(key, victim).replace(victim, "s-guessed-by-someone1"),
        "other mac": identity.cookie_value(key, victim)[:-2] + "AA",
        "no mac": victim,
        "other key": identity.cookie_value(OTHER_KEY, victim),
        "garbage": "....",
    }[tamper]
    client.cookies.set(identity.COOKIE, value)
    response = client.get("/api/widget/session")
    assert response.status_code == 200
    sender = response.json()["sender_id"]
    assert sender != victim and sender.startswith("s-")
    assert response.headers["set-cookie"].startswith(f"{identity.COOKIE}={sender}.")


def test_the_shops_token_is_the_shopper(client, key):
    """A storefront with its own login signs `sub` = its customer id: that is the shopper, and
    no cookie is set (a later anonymous visitor on the same browser is not that customer)."""
    response = client.get(
        "/api/widget/session", headers={"Authorization": f"Bearer {shop_token(key, 'u0058')}"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["sender_id"] == "u0058" and claims(key, body["token"])["sub"] == "u0058"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "make",
    [
        lambda key: shop_token(OTHER_KEY, "u0058"),
        lambda key: shop_token(key, "u0058", exp=int(time.time()) - 120),
        lambda key: shop_token(key, "u0058", typ="access"),
        lambda key: shop_token(key, "x" * 129),
        lambda key: jwt.encode({"sub": "u0058", "typ": "shopper"}, key, algorithm="HS256"),
        lambda key: "not-a-jwt",
    ],
    ids=["other key", "expired", "not shopper", "too long", "no exp", "garbage"],
)
def test_a_bad_shop_token_is_refused(client, key, make):
    response = client.get("/api/widget/session", headers={"Authorization": f"Bearer {make(key)}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert "set-cookie" not in response.headers


def test_token_helpers_agree(key):
    token = identity.mint_shopper_token(key, "u0001", ttl=60)
    assert identity.verify_shopper_token(key, token) == "u0001"
    assert identity.verify_shopper_token(OTHER_KEY, token) is None
    old = identity.mint_shopper_token(key, "u0001", ttl=60, now=time.time() - 3600)
    assert identity.verify_shopper_token(key, old) is None


# -- history ------------------------------------------------------------------------------------


def conversation(text: str, reply: str, at: float) -> list[dict[str, Any]]:
    """A session as Rasa stores it: a question answered with cards and a quick reply, then the
    quick reply clicked (the stored text is the button's payload)."""
    parse = {"intent": {"name": "search_product", "confidence": 0.98}, "entities": []}
    return [
        {"event": "action", "name": "action_session_start", "timestamp": at},
        {"event": "session_started", "timestamp": at},
        {"event": "action", "name": "action_listen", "timestamp": at},
        {"event": "user", "text": text, "parse_data": parse, "timestamp": at + 1},
        {"event": "action", "name": "action_search_products", "timestamp": at + 1.1},
        {
            "event": "bot",
            "text": reply,
            "data": {"buttons": [CHEAPER]},
            "metadata": {"skill": "search"},
            "timestamp": at + 1.2,
        },
        {
            "event": "bot",
            "text": None,
            "data": {"custom": {"type": "products", "items": [CARD]}},
            "timestamp": at + 1.3,
        },
        {"event": "action", "name": "action_listen", "timestamp": at + 1.4},
        {"event": "user", "text": CHEAPER["payload"], "parse_data": parse, "timestamp": at + 5},
        {"event": "bot", "text": "这些便宜一些", "data": {}, "timestamp": at + 5.2},
    ]


@pytest.fixture()
def tracker(settings):
    engine = create_engine(settings.tracker_db_url)
    create_events_table(engine)
    yield engine
    engine.dispose()


def test_history_is_the_callers_own_conversation(client, key, tracker):
    me = client.get("/api/widget/session").json()["sender_id"]
    other = "u0058"
    at = time.time() - 600
    append_events(tracker, [(other, e) for e in conversation("B的秘密问题", "B的回答", at - 50)])
    append_events(tracker, [(me, e) for e in conversation("有没有华为手机", "有的", at)])

    body = client.get("/api/widget/history", params={"sender_id": other}).json()
    assert body["sender_id"] == me and body["total"] == 5
    items = body["items"]
    assert [(m["sender"], m["text"]) for m in items] == [
        ("user", "有没有华为手机"),
        ("bot", "有的"),
        ("bot", None),
        ("user", "便宜点的"),  # the clicked quick reply shows its title
        ("bot", "这些便宜一些"),
    ]
    assert items[1]["buttons"] == [CHEAPER]
    assert items[2]["custom"] == {"type": "products", "items": [CARD]}
    assert items[3]["payload"] == CHEAPER["payload"]
    assert abs(_epoch(items[0]["timestamp"]) - (at + 1)) < 1e-3
    assert "B的" not in str(body)

    latest = client.get("/api/widget/history", params={"limit": 2}).json()
    assert latest["total"] == 5 and [m["text"] for m in latest["items"]] == [
        "便宜点的",
        "这些便宜一些",
    ]

    # The shop's signed-in customer sees theirs, whatever cookie the browser has.
    theirs = client.get(
        "/api/widget/history", headers={"Authorization": f"Bearer {shop_token(key, other)}"}
    ).json()
    assert theirs["sender_id"] == other and theirs["items"][0]["text"] == "B的秘密问题"


def test_history_needs_an_identity(client, tracker):
    response = client.get("/api/widget/history", params={"sender_id": "u0058"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "no_shopper"
    assert "set-cookie" not in response.headers


def test_history_of_a_new_shopper_is_empty(client):
    """No tracker database yet (Rasa has not written one): an empty history, not an error."""
    client.get("/api/widget/session")
    body = client.get("/api/widget/history").json()
    assert body["items"] == [] and body["total"] == 0


def _epoch(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


# -- /api/chat ----------------------------------------------------------------------------------


class FakeRasa:
    """Stands in for httpx.AsyncClient in web/routes/chat.py and records what Rasa was sent."""

    sent: list[dict[str, Any]] = []

    def __init__(self, **_: Any) -> None:
        pass

    async def __aenter__(self) -> FakeRasa:
        return self

    async def __aexit__(self, *_: Any) -> None:
        return None

    async def post(self, url: str, json: dict, headers: dict) -> Any:
        import httpx

        FakeRasa.sent.append({"url": url, "json": json, "headers": headers})
        return httpx.Response(200, json=[{"recipient_id": "?", "text": "您好"}])


@pytest.fixture()
def rasa(monkeypatch) -> list[dict[str, Any]]:
    import web.routes.chat

    FakeRasa.sent = []
    monkeypatch.setattr(web.routes.chat.httpx, "AsyncClient", FakeRasa)
    return FakeRasa.sent


def sender_sent(key: str, request: dict[str, Any]) -> str:
    scheme, _, token = request["headers"]["Authorization"].partition(" ")
    assert scheme == "Bearer"
    return claims(key, token)["sub"]


def test_chat_ignores_a_client_chosen_sender(client, key, rasa):
    response = client.post("/api/chat", json={"sender": "u0058", "message": "你好"})
    assert response.status_code == 200 and response.json()[0]["text"] == "您好"
    (request,) = rasa
    assert request["url"].endswith("/webhooks/rest/webhook")
    assert "sender" not in request["json"] and request["json"]["message"] == "你好"
    me = sender_sent(key, request)
    assert me != "u0058" and me.startswith("s-")
    # The chat issued the identity: the widget's session and the next message agree with it.
    assert client.get("/api/widget/session").json()["sender_id"] == me
    client.post("/api/chat", json={"message": "还有别的吗"})  # `sender` may be left out
    assert sender_sent(key, rasa[1]) == me


def test_chat_as_the_shops_customer(client, key, rasa):
    headers = {"Authorization": f"Bearer {shop_token(key, 'u0058')}"}
    assert (
        client.post("/api/chat", json={"message": "我的订单"}, headers=headers).status_code == 200
    )
    assert sender_sent(key, rasa[0]) == "u0058"
    refused = client.post(
        "/api/chat",
        json={"message": "我的订单"},
        headers={"Authorization": f"Bearer {shop_token(OTHER_KEY, 'u0058')}"},
    )
    assert refused.status_code == 401 and len(rasa) == 1

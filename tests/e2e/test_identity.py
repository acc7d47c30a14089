"""The shopper's signed identity against the real bot: Rasa's REST and Socket.IO channels take
the sender from a valid shopper token only (bot/channels/identity.py), and the order check
trusts that sender.

A token here is minted as the web app mints it (web/identity.py) with the key the launcher gave
Rasa; "nothing stored" is read from Rasa's tracker database itself, since asking Rasa's HTTP
API for a conversation would create one."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import jwt
import pytest
import socketio
import sqlalchemy as sa

from knowledge_graph.orders import OrderStore
from knowledge_graph.store import CatalogStore
from tests.e2e.test_socketio_channel import (
    QUESTION,
    SocketShopper,
    products,
    tracker,
    turn_done,
    user_turns,
)
from web.identity import mint_shopper_token
from web.review.events import EVENTS, readonly_engine

pytestmark = pytest.mark.e2e

OTHER_KEY = "not-the-shops-key-0123456789abcdefghijklmnopqrstuvwxyz"


def shopper_id(who: str) -> str:
    return f"id-{who}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def stored(settings):
    """Rows of Rasa's tracker database for a sender (every event, of every session)."""
    engine = readonly_engine(settings.tracker_db_url)

    def rows(sender: str) -> list[dict]:
        with engine.connect() as conn:
            data = conn.execute(
                sa.select(EVENTS.c.data).where(EVENTS.c.sender_id == sender).order_by(EVENTS.c.id)
            ).scalars()
            return [json.loads(d) for d in data]

    yield rows
    engine.dispose()


def said(rows: list[dict]) -> list[str]:
    return [e.get("text") for e in rows if e.get("event") == "user"]


def post(bot, body: dict, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{bot.rasa_url}/webhooks/rest/webhook", json=body, headers=headers, timeout=60
    )


def bad_tokens(bot, sender: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": sender, "iat": now, "exp": now + 600, "typ": "shopper"}
    return {
        "other key": jwt.encode(claims, OTHER_KEY, algorithm="HS256"),
        "expired": mint_shopper_token(bot.shopper_key, sender, ttl=60, now=now - 3600),
        "not a shopper token": jwt.encode({**claims, "typ": "access"}, bot.shopper_key),
        "no expiry": jwt.encode({"sub": sender, "typ": "shopper"}, bot.shopper_key),
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "garbage": "not.a.jwt",
    }


# -- REST -----------------------------------------------------------------------------------------


def test_rest_without_a_token_is_refused_and_nothing_is_stored(bot, stored):
    sender = shopper_id("anon")
    response = post(bot, {"sender": sender, "message": "你好"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert stored(sender) == []


@pytest.mark.parametrize(
    "kind",
    ["other key", "expired", "not a shopper token", "no expiry", "unsigned", "garbage"],
)
def test_rest_with_a_bad_token_is_refused(bot, stored, kind):
    sender = shopper_id("bad")
    token = bad_tokens(bot, sender)[kind]
    for body, header in (({"sender": sender, "message": "你好"}, token),
                         ({"sender": sender, "message": "你好", "token": token}, None)):  # fmt: skip
        response = post(bot, body, header)
        assert response.status_code == 401, (kind, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
    assert stored(sender) == []


def test_rest_reply_goes_to_the_tokens_shopper(bot, stored):
    a, b = shopper_id("a"), shopper_id("b")
    response = post(bot, {"sender": b, "message": QUESTION}, bot.shopper_token(a))
    assert response.status_code == 200
    replies = response.json()
    assert products(replies) and {m["recipient_id"] for m in replies} == {a}
    assert said(stored(a)) == [QUESTION]
    assert stored(b) == []  # the body's sender was only a claim

    # The token may also come in the body (clients that cannot set headers).
    again = post(bot, {"message": "第一个多少钱", "token": bot.shopper_token(a)})
    assert again.status_code == 200 and again.json()
    assert said(stored(a)) == [QUESTION, "第一个多少钱"]


def test_rest_channel_health_needs_no_token(bot):
    assert httpx.get(f"{bot.rasa_url}/webhooks/rest/", timeout=30).json() == {"status": "ok"}


# -- Socket.IO ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def origin(settings) -> str:
    return f"http://localhost:{settings.web_port}"


@pytest.fixture()
def sockets(bot, origin):
    opened: list[SocketShopper] = []

    def open_socket(transport: str, token: str | None) -> SocketShopper:
        opened.append(SocketShopper(bot, transport, origin, token))
        return opened[-1]

    yield open_socket
    for shopper in opened:
        shopper.close()


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_socket_without_a_valid_token_is_refused(bot, sockets, transport):
    sender = shopper_id("sock")
    for token in [None, *bad_tokens(bot, sender).values()]:
        stranger = sockets(transport, token)
        with pytest.raises(socketio.exceptions.ConnectionError):
            stranger.connect()
        assert not stranger.client.connected
        stranger.close()
    assert user_turns(tracker(bot, sender)) == 0


def settle(shopper: SocketShopper, seconds: float = 1.5) -> int:
    """Waits until nothing has arrived for `seconds`; the number of messages received."""
    seen, quiet_since = len(shopper.messages), time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        time.sleep(0.1)
        if len(shopper.messages) != seen:
            seen, quiet_since = len(shopper.messages), time.monotonic()
    return seen


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_socket_cannot_join_another_shoppers_conversation(bot, sockets, stored, transport):
    a, b = shopper_id("a"), shopper_id("b")
    victim = sockets(transport, bot.shopper_token(b)).connect()
    assert victim.start_session(b) == b
    intruder = sockets(transport, bot.shopper_token(a)).connect()
    assert intruder.start_session(b) == a  # asked for B's session, confirmed as itself

    replies = victim.say(QUESTION)  # B's turn, in B's room
    assert products(replies)
    assert settle(intruder) == 0, intruder.messages  # nothing of B's turn reached A

    # A message that names B's session is A's: it lands in A's conversation and B hears nothing.
    heard = settle(victim, 0.5)
    intruder.client.emit("user_uttered", {"message": "你好", "session_id": b})
    deadline = time.monotonic() + 90
    while not turn_done(tracker(bot, a), 1):
        assert time.monotonic() < deadline, "A's message was not answered"
        time.sleep(0.2)
    assert settle(intruder) > 0
    assert settle(victim) == heard
    assert said(stored(b)) == [QUESTION]
    assert said(stored(a)) == ["你好"]


# -- the order check -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_order(settings) -> dict:
    """A shipped order of the test catalog (var/test/seed/catalog.json), as the store has it."""
    seed = json.loads((settings.var_dir / "seed" / "catalog.json").read_text(encoding="utf-8"))
    orders = OrderStore(CatalogStore.from_url(settings.database_url))
    for order in seed["orders"]:
        if order["status"] == "shipped" and order.get("tracking_no"):
            stored_order = orders.get(order["order_id"])
            assert stored_order and stored_order["user_id"] == order["user_id"]
            return stored_order
    pytest.fail("no shipped order with a tracking number in the seed catalog")


def texts(replies: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in replies)


def test_order_of_another_shopper_is_not_described(bot, shipped_order):
    order_id, owner = shipped_order["order_id"], shipped_order["user_id"]
    question = f"订单{order_id}到哪了"

    own = texts(bot.say(owner, question))
    assert order_id in own and shipped_order["tracking_no"] in own, own

    # Another shopper (their own token), and one who only claims to be the owner.
    stranger = shopper_id("stranger")
    for replies in (
        bot.say(stranger, question),
        post(bot, {"sender": owner, "message": question}, bot.shopper_token(stranger)).json(),
    ):
        answer = texts(replies)
        assert "不是您账号下的订单" in answer, answer
        assert shipped_order["tracking_no"][-4:] not in answer
        assert shipped_order["carrier"] not in answer, answer

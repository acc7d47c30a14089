"""The Socket.IO channel (bot/channels/socketio.py) against the real bot, over both transports:
a turn arrives whole and in the REST channel's shapes (text, quick replies, product cards),
only the shop's origins may connect, and a reconnect of the same shopper (a new connection with
their token) continues the conversation. Who may connect at all: tests/e2e/test_identity.py."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
import socketio

from knowledge_graph.store import CatalogStore

pytestmark = pytest.mark.e2e

TRANSPORTS = ["polling", "websocket"]
QUESTION = "有没有三千以内的华为手机"
# What a REST reply may carry; a Socket.IO reply carries these too (module docstring there).
REST_KEYS = ("text", "buttons", "image", "attachment", "custom")


def tracker(bot, sender: str) -> dict:
    response = httpx.get(
        f"{bot.rasa_url}/conversations/{sender}/tracker", params={"token": bot.token}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def user_turns(state: dict) -> int:
    return sum(1 for e in state["events"] if e["event"] == "user")


def turn_done(state: dict, turns: int) -> bool:
    """The tracker holds `turns` user messages and the bot listens again: Rasa has sent every
    message of the turn (it sends them before it predicts action_listen)."""
    events = state["events"]
    return (
        user_turns(state) == turns
        and events[-1]["event"] == "action"
        and events[-1]["name"] == "action_listen"
    )


class SocketShopper:
    """A Socket.IO client as the widget uses it: connects with the shopper's token (`auth`),
    session_request, then user_uttered messages with the session id; replies collected from
    bot_uttered. `token` None: connects without one."""

    def __init__(self, bot, transport: str, origin: str, token: str | None = None) -> None:
        self.bot = bot
        self.transport = transport
        self.origin = origin
        self.token = token
        self.session_id: str | None = None
        self.messages: list[dict] = []
        self.confirmed = threading.Event()
        # websocket-client adds an Origin of its own; ours goes in `headers` on both transports.
        self.client = socketio.Client(
            reconnection=False, websocket_extra_options={"suppress_origin": True}
        )
        self.client.on("bot_uttered", self.messages.append)
        self.client.on("session_confirm", self._confirm)

    def _confirm(self, session_id: str) -> None:
        self.session_id = session_id
        self.confirmed.set()

    def connect(self) -> SocketShopper:
        self.client.connect(
            self.bot.rasa_url,
            transports=[self.transport],
            headers={"Origin": self.origin},
            auth={"token": self.token} if self.token else None,
            wait_timeout=15,
        )
        return self

    def start_session(self, session_id: str | None = None) -> str:
        """Asks for a session (naming `session_id`, as the widget does with a stored one) and
        returns the one the channel confirmed: always the token's shopper."""
        self.client.emit("session_request", {"session_id": session_id} if session_id else {})
        assert self.confirmed.wait(15), "no session_confirm"
        assert self.session_id
        return self.session_id

    def say(self, text: str, timeout: float = 90) -> list[dict]:
        assert self.session_id
        turns = user_turns(tracker(self.bot, self.session_id)) + 1
        start = len(self.messages)
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        deadline = time.monotonic() + timeout
        while not turn_done(tracker(self.bot, self.session_id), turns):
            assert time.monotonic() < deadline, f"turn 「{text}」 did not finish"
            time.sleep(0.2)
        # Every message is emitted by now; give the transport a moment to deliver the last one.
        seen, quiet_since = len(self.messages), time.monotonic()
        while time.monotonic() - quiet_since < 1.0:
            time.sleep(0.1)
            if len(self.messages) != seen:
                seen, quiet_since = len(self.messages), time.monotonic()
        return self.messages[start:]

    def close(self) -> None:
        # Closes the Engine.IO connection without waiting for the pending long poll, as a
        # browser does: the server (Engine.IO on Sanic) releases that one only at its ping
        # timeout, and `Client.disconnect()` would wait ~45 s for it on the polling transport.
        if self.client.connected:
            self.client.eio.disconnect(abort=True)


def as_rest(message: dict) -> dict:
    """A Socket.IO message less the keys kept for Rasa's stock widgets."""
    rest = {k: v for k, v in message.items() if k in REST_KEYS}
    if "image" in rest:
        rest.pop("attachment", None)  # Rasa's image attachment, mirroring `image`
    return rest


def kinds(messages: list[dict]) -> list[tuple[str, ...]]:
    return [tuple(k for k in REST_KEYS if m.get(k)) for m in messages]


def products(messages: list[dict]) -> list[dict]:
    cards = [m["custom"] for m in messages if (m.get("custom") or {}).get("type") == "products"]
    assert len(cards) <= 1, cards
    return cards[0]["items"] if cards else []


@pytest.fixture(scope="module")
def origin(settings) -> str:
    """The storefront's origin, which the channel allows by default."""
    return f"http://localhost:{settings.web_port}"


@pytest.fixture(scope="module")
def store(settings) -> CatalogStore:
    return CatalogStore.from_url(settings.database_url)


@pytest.fixture()
def shoppers(bot, origin):
    """Opens a connection for a shopper (a new one unless `sender` is named), with their token."""
    opened: list[SocketShopper] = []

    def open_shopper(transport: str, sender: str | None = None) -> SocketShopper:
        token = bot.shopper_token(sender or session())
        opened.append(SocketShopper(bot, transport, origin, token).connect())
        return opened[-1]

    yield open_shopper
    for shopper in opened:
        shopper.close()


def session() -> str:
    return f"sio-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_turn_arrives_whole_with_product_cards(bot, store, shoppers, transport):
    sender = session()
    shopper = shoppers(transport, sender)
    assert shopper.start_session(sender) == sender
    replies = shopper.say(QUESTION)

    texts = [m["text"] for m in replies if m.get("text")]
    assert texts, replies
    buttons = [b for m in replies for b in m.get("buttons") or []]
    assert buttons and all(b.get("title") and b.get("payload") for b in buttons), replies
    # Rasa's own key for quick replies still comes along for stock widgets.
    assert any(m.get("quick_replies") for m in replies)

    items = products(replies)
    assert items, replies
    for item in items:
        assert {"sku", "title", "brand", "category", "price", "rating", "stock", "image"} <= set(
            item
        )
        stored = store.get_product(item["sku"]).product  # the card shows a catalog product
        assert (stored.brand, stored.category) == ("华为", "手机"), item
        assert stored.price <= 3000 and item["price"] == stored.price, item

    # The same question on the REST channel, for a fresh shopper: the same messages.
    rest = bot.say(session(), QUESTION)
    assert kinds([as_rest(m) for m in replies]) == kinds(rest)
    assert [p["sku"] for p in items] == [p["sku"] for p in products(rest)]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_disallowed_origin_is_refused(bot, transport):
    """Even with a valid token: a page of another site may not open the shopper's socket."""
    stranger = SocketShopper(bot, transport, "http://evil.example", bot.shopper_token(session()))
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect()
    assert not stranger.client.connected


def test_polling_answers_cors_once(bot, origin):
    """Engine.IO alone answers CORS on its path: a second Access-Control-Allow-Origin header
    (Rasa's `--cors` used to add one) makes browsers reject the response."""
    response = httpx.get(
        f"{bot.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": origin},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers.get_list("access-control-allow-origin") == [origin]
    refused = httpx.get(
        f"{bot.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": "http://evil.example"},
        timeout=30,
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reconnect_with_same_session_continues_conversation(bot, store, shoppers, transport):
    session_id = session()
    first = shoppers(transport, session_id)
    first.start_session(session_id)
    shown = products(first.say(QUESTION))
    assert shown
    first.close()

    again = shoppers(transport, session_id)  # a new connection with a new token of the shopper
    assert again.start_session() == session_id
    replies = again.say("第一个多少钱")
    items = products(replies)
    assert [p["sku"] for p in items] == [shown[0]["sku"]], replies
    price = store.get_product(shown[0]["sku"]).product.price
    assert any(f"{price:.0f}元" in (m.get("text") or "") for m in replies), replies
    assert user_turns(tracker(bot, session_id)) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_message_without_session_id_is_the_shoppers(bot, shoppers, transport):
    """The token decides the conversation: a message that names no session (Rasa's stock
    channel ignored those under session_persistence) is the connected shopper's, never one of
    the socket's own id."""
    sender = session()
    shopper = shoppers(transport, sender)
    shopper.start_session(sender)
    shopper.client.emit("user_uttered", {"message": "你好"})
    deadline = time.monotonic() + 90
    while not turn_done(tracker(bot, sender), 1):
        assert time.monotonic() < deadline, "the message without a session id was not answered"
        time.sleep(0.2)
    replies = shopper.say(QUESTION)
    assert products(replies)
    assert user_turns(tracker(bot, sender)) == 2
    assert user_turns(tracker(bot, shopper.client.get_sid())) == 0

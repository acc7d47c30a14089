"""The live handoff to a person against the real Rasa and action server: a shopper on Socket.IO
asks for a person, waits (one holding message from the web app), a staff member takes the
request through the web app's API and talks to them (text and a product card, pushed to the
shopper's socket), the paused bot stays silent, and after the release the bot answers again.
Also the other way out: nobody takes it, and the shopper goes back to the bot with one click.

The web app is built in-process (`web.app.create_app`); its handoff loop is started by hand (the
app's lifespan would also load the embedding model, which none of this needs)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from daogou.container import build_services
from daogou.db import migrate
from knowledge_graph import handoff as h
from knowledge_graph.handoff import HandoffQueue
from knowledge_graph.store import CatalogStore
from tests.e2e.test_socketio_channel import QUESTION, SocketShopper, products, tracker
from web.accounts import create_account
from web.app import create_app
from web.handoff_loop import HandoffDesk
from web.routes.handoff import desk_of

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-9"


@pytest.fixture(scope="module")
def web(bot, settings) -> Iterator[tuple[TestClient, HandoffDesk, str]]:
    """The web app over the bot's settings (no expiry, always in service) and a staff client."""
    migrate(settings.database_url)  # the handoffs table, should this var/ predate it
    web_settings = dataclasses.replace(
        settings, handoff_wait_seconds=600, service_hours="", handoff_webhook_url=None
    )
    services = build_services(web_settings, "web")
    app = create_app(services)
    username = f"staff-{uuid.uuid4().hex[:6]}"
    create_account(services.store, username, PASSWORD, "staff")
    login = TestClient(app).post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    staff = TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})
    desk = desk_of(app)
    desk.loop.interval = 0.3
    desk.loop.start()
    yield staff, desk, username
    desk.loop.stop()


@pytest.fixture()
def shopper(bot, settings) -> Iterator[SocketShopper]:
    sender = f"live-{uuid.uuid4().hex[:10]}"
    origin = f"http://localhost:{settings.web_port}"
    client = SocketShopper(bot, "websocket", origin, bot.shopper_token(sender)).connect()
    assert client.start_session(sender) == sender
    yield client
    client.close()


def wait_for(check: Callable[[], object], what: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def user_texts(bot, sender: str) -> list[str]:
    return [e["text"] for e in tracker(bot, sender)["events"] if e["event"] == "user"]


def send_paused(bot, shopper: SocketShopper, text: str) -> None:
    """A message to the paused bot: it is stored (and answers nothing, see the callers)."""
    count = user_texts(bot, shopper.session_id).count(text)
    shopper.client.emit("user_uttered", {"message": text, "session_id": shopper.session_id})
    wait_for(lambda: user_texts(bot, shopper.session_id).count(text) > count, f"「{text}」 stored")


def received(shopper: SocketShopper, since: int, test: Callable[[dict], bool], what: str) -> dict:
    return wait_for(lambda: next((m for m in shopper.messages[since:] if test(m)), None), what)  # type: ignore[return-value]


def ask_for_a_person(shopper: SocketShopper, text: str) -> None:
    """The turn that pauses the bot ends without `action_listen`: wait for its answer instead."""
    seen = len(shopper.messages)
    shopper.client.emit("user_uttered", {"message": text, "session_id": shopper.session_id})
    received(shopper, seen, lambda m: "转接人工客服" in (m.get("text") or ""), "the handoff answer")


def test_request_queue_take_talk_release(bot, settings, web, shopper):
    staff, desk, name = web
    sender = shopper.session_id
    ask_for_a_person(shopper, "我要转人工客服")

    queue = HandoffQueue(CatalogStore.from_url(settings.database_url))
    record = wait_for(lambda: queue.open_for(sender), "the request in the queue")
    assert record.status == h.WAITING

    # The shopper describes the problem: acknowledged once by the web app, not by the bot.
    seen = len(shopper.messages)
    send_paused(bot, shopper, "手机屏幕碎了能修吗")
    ack = received(shopper, seen, lambda m: (m.get("text") or "").startswith("已收到"), "ack")
    assert "预计等待约" in ack["text"] and ack["metadata"] == {"skill": "handoff"}
    send_paused(bot, shopper, "在吗")
    time.sleep(1.5)
    assert sum((m.get("text") or "").startswith("已收到") for m in shopper.messages) == 1

    listed = staff.get("/api/handoffs").json()
    mine = next(i for i in listed["items"] if i["sender_id"] == sender)
    assert mine["status"] == "waiting" and mine["position"] >= 1
    assert mine["last_shopper_message"] == "在吗"

    # Take: the widget hears that a person is here.
    seen = len(shopper.messages)
    taken = staff.post(f"/api/handoffs/{record.id}/take")
    assert taken.status_code == 200, taken.text
    started = received(shopper, seen, lambda m: (m.get("custom") or {}).get("type") == "handoff",
                       "handoff started")  # fmt: skip
    assert started["custom"] == {"type": "handoff", "state": "started", "agent": name}

    # A staff message and a product card reach the shopper's socket, marked as staff's.
    seen = len(shopper.messages)
    said = staff.post(f"/api/handoffs/{record.id}/messages", json={"text": "您好，我是客服，请问是什么型号的手机？"})  # fmt: skip
    assert said.status_code == 200, said.text
    text = received(shopper, seen, lambda m: "我是客服" in (m.get("text") or ""), "staff text")
    assert text["metadata"] == {"staff": name}
    sku = bot_sku(settings)
    card = staff.post(f"/api/handoffs/{record.id}/messages", json={"sku": sku})
    assert card.status_code == 200, card.text
    cards = received(shopper, seen, lambda m: bool(products([m])), "staff's product card")
    assert [p["sku"] for p in products([cards])] == [sku]

    # While a person answers, the bot stays silent: Rasa is paused and runs no action.
    seen = len(shopper.messages)
    events_before = len(tracker(bot, sender)["events"])
    send_paused(bot, shopper, "有没有三千以内的华为手机")
    time.sleep(3)
    assert shopper.messages[seen:] == []
    state = tracker(bot, sender)
    assert state["paused"] is True
    after = state["events"][events_before:]
    assert [e["event"] for e in after] == ["user"], after
    # The staff messages are in the transcript as bot messages with the staff's name.
    staff_events = [
        e for e in state["events"] if e["event"] == "bot" and (e.get("metadata") or {}).get("staff")
    ]
    assert any("我是客服" in (e.get("text") or "") for e in staff_events)

    # Release: the bot is back and answers the next message.
    seen = len(shopper.messages)
    released = staff.post(f"/api/handoffs/{record.id}/release")
    assert released.status_code == 200, released.text
    ended = received(shopper, seen, lambda m: (m.get("custom") or {}).get("state") == "ended",
                     "handoff ended")  # fmt: skip
    assert ended["text"] == h.ENDED_TEXT
    assert tracker(bot, sender)["paused"] is False
    bot_answers(bot, shopper, QUESTION)
    assert queue.get(record.id).status == h.CLOSED


def test_nobody_takes_it_and_the_shopper_goes_back_to_the_bot(bot, settings, web, shopper):
    _, desk, _ = web
    sender = shopper.session_id
    desk.loop.holding.wait_seconds = 2
    try:
        seen = len(shopper.messages)
        ask_for_a_person(shopper, "转人工")
        expired = received(shopper, seen, lambda m: bool(m.get("buttons")) and
                           "留言给客服" in (m.get("text") or ""), "the offer")  # fmt: skip
        assert [b["title"] for b in expired["buttons"]] == [h.LEAVE_MESSAGE, h.BACK_TO_BOT]
    finally:
        desk.loop.holding.wait_seconds = 600
    seen = len(shopper.messages)
    send_paused(bot, shopper, h.BACK_TO_BOT)
    received(shopper, seen, lambda m: m.get("text") == h.BACK_TO_BOT_TEXT, "back to the bot")
    wait_for(lambda: tracker(bot, sender)["paused"] is False, "Rasa resumed")
    bot_answers(bot, shopper, QUESTION)


def bot_answers(bot, shopper: SocketShopper, text: str) -> list[dict]:
    """The bot's whole turn (with product cards) for `text`; the last events if it has none."""
    try:
        replies = shopper.say(text, timeout=60)
    except AssertionError:
        events = tracker(bot, shopper.session_id)["events"][-10:]
        raise AssertionError(f"no answer; the tracker ends with {events}") from None
    assert products(replies), replies
    return replies


def bot_sku(settings) -> str:
    store = CatalogStore.from_url(settings.database_url)
    return store.list_products(category="手机", limit=1).items[0].sku


def test_leaving_a_message_then_the_bot_answers(bot, settings, web, shopper):
    staff, desk, _ = web
    sender = shopper.session_id
    desk.loop.holding.wait_seconds = 2
    try:
        seen = len(shopper.messages)
        ask_for_a_person(shopper, "找客服")
        received(shopper, seen, lambda m: bool(m.get("buttons")), "the offer")
    finally:
        desk.loop.holding.wait_seconds = 600
    seen = len(shopper.messages)
    send_paused(bot, shopper, h.LEAVE_MESSAGE)
    received(shopper, seen, lambda m: m.get("text") == h.LEAVE_PROMPT_TEXT, "the prompt")
    seen = len(shopper.messages)
    send_paused(bot, shopper, "耳机左边没声音，想换货")
    received(shopper, seen, lambda m: m.get("text") == h.LEFT_TEXT, "the thanks")
    wait_for(lambda: tracker(bot, sender)["paused"] is False, "Rasa resumed")
    left = staff.get("/api/handoffs", params={"status": "left_message", "limit": 100}).json()
    mine = [i for i in left["items"] if i["sender_id"] == sender]
    assert [i["left_message"] for i in mine] == ["耳机左边没声音，想换货"]
    bot_answers(bot, shopper, QUESTION)


def test_push_route_needs_the_token(bot):
    url = f"{bot.rasa_url}/webhooks/socketio/push"
    body = {"sender_id": "nobody", "message": {"text": "hi"}}
    assert httpx.post(url, json=body, timeout=30).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.post(url, json=body, headers=wrong, timeout=30).status_code == 401
    right = {"Authorization": f"Bearer {bot.token}"}
    assert httpx.post(url, json={"sender_id": "x"}, headers=right, timeout=30).status_code == 400
    assert httpx.post(url, json=body, headers=right, timeout=30).json() == {"status": "sent"}

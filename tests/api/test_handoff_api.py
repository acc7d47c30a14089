"""The handoff API (web/routes/handoff.py): staff take a request, talk, hand back; only staff and
admins; a second taker is told who owns it. Rasa is replaced by recording its HTTP calls
(`RasaPush._post`); the loop is ticked by hand over a tracker table written here."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from knowledge_graph import handoff as h
from knowledge_graph.handoff import HandoffQueue
from tests.unit.test_review_tracker import History
from web import identity
from web.accounts import create_account
from web.app import create_app
from web.handoff_loop import HandoffFeed, RasaPush
from web.review.fake_history import append_events, create_events_table
from web.routes.handoff import desk_of, sse_stream

PASSWORD = "correct-horse-9"


class FakeRasa:
    """Records what would have gone to Rasa; `fail` makes every call a 503."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, dict]] = []
        self.fail = False

    def post(self, push: RasaPush, path: str, payload, *, params=None, headers=None):
        self.calls.append((path, payload, {"params": params, "headers": headers}))
        status = 503 if self.fail else 200
        return httpx.Response(status, json={}, request=httpx.Request("POST", "http://rasa" + path))

    def events(self, sender: str) -> list[dict]:
        out = []
        for path, payload, _ in self.calls:
            if path == f"/conversations/{sender}/tracker/events":
                out.extend(payload)
        return out

    def pushed(self, sender: str) -> list[dict]:
        return [
            p["message"]
            for path, p, _ in self.calls
            if path == "/webhooks/socketio/push" and p["sender_id"] == sender
        ]


@pytest.fixture()
def rasa(monkeypatch) -> FakeRasa:
    fake = FakeRasa()
    monkeypatch.setattr(RasaPush, "_post", lambda self, *a, **k: fake.post(self, *a, **k))
    return fake


@pytest.fixture()
def tracker_engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    create_events_table(engine)
    return engine


@pytest.fixture()
def services(mini_services, tmp_path, tracker_engine):
    settings = dataclasses.replace(
        mini_services.settings,
        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        handoff_wait_seconds=180,
        service_hours="",
    )
    return dataclasses.replace(mini_services, settings=settings)


@pytest.fixture()
def app(services, rasa):
    for name, role in (("staff1", "staff"), ("staff2", "staff"), ("boss", "admin")):
        create_account(services.store, name, PASSWORD, role)
    create_account(services.store, "m1", PASSWORD, "merchant", "m001")
    return create_app(services)


@pytest.fixture()
def queue(services) -> HandoffQueue:
    return HandoffQueue(services.store)


def bearer(app, username: str) -> TestClient:
    login = TestClient(app).post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def test_staff_and_admins_only(app, queue):
    record = queue.request("alice")
    merchant, anonymous = bearer(app, "m1"), TestClient(app)
    calls = [
        ("get", "/api/handoffs"),
        ("get", "/api/handoffs/stream"),
        ("post", f"/api/handoffs/{record.id}/take"),
        ("post", f"/api/handoffs/{record.id}/messages"),
        ("post", f"/api/handoffs/{record.id}/release"),
        ("get", "/api/canned-replies"),
        ("post", "/api/canned-replies"),
    ]
    for method, path in calls:
        kwargs = {"json": {"text": "你好", "title": "t"}} if method == "post" else {}
        assert getattr(merchant, method)(path, **kwargs).status_code == 403, path
        assert getattr(anonymous, method)(path, **kwargs).status_code == 401, path
    assert bearer(app, "boss").get("/api/handoffs").status_code == 200
    assert queue.get(record.id).status == h.WAITING


def test_take_talk_release(app, queue, rasa, services):
    queue.request("someone-else")
    record = queue.request("alice", "我要转人工，电话13800138000")
    staff1, staff2 = bearer(app, "staff1"), bearer(app, "staff2")

    listed = staff1.get("/api/handoffs").json()
    assert listed["total"] == 2
    alice = listed["items"][1]
    assert (alice["status"], alice["position"], alice["taken_by"]) == ("waiting", 2, None)
    assert "13800138000" not in alice["request_text"]
    assert alice["conversation"] == "/api/conversations/alice"

    taken = staff1.post(f"/api/handoffs/{record.id}/take")
    assert taken.status_code == 200, taken.text
    assert (taken.json()["status"], taken.json()["taken_by"]) == ("active", "staff1")
    started = {"type": "handoff", "state": "started", "agent": "staff1"}
    assert rasa.pushed("alice") == [{"custom": started, "metadata": {"staff": "staff1"}}]
    assert rasa.events("alice") == [
        {"event": "bot", "text": None, "data": {"custom": started}, "metadata": {"staff": "staff1"}}
    ]
    # the Rasa token goes with both calls
    token = services.settings.rasa_token
    assert all(
        (c["params"] or {}).get("token") == token
        or (c["headers"] or {}).get("Authorization") == f"Bearer {token}"
        for _, _, c in rasa.calls
    )

    second = staff2.post(f"/api/handoffs/{record.id}/take")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "handoff_conflict"
    assert "staff1" in second.json()["error"]["message"]
    assert (
        staff2.post(f"/api/handoffs/{record.id}/messages", json={"text": "我来"}).status_code == 409
    )

    sent = staff1.post(f"/api/handoffs/{record.id}/messages", json={"text": "您好，我是客服小王"})
    assert sent.status_code == 200, sent.text
    assert rasa.pushed("alice")[-1] == {
        "text": "您好，我是客服小王",
        "metadata": {"staff": "staff1"},
    }
    assert rasa.events("alice")[-1]["text"] == "您好，我是客服小王"

    product = services.store.list_products(limit=1).items[0]
    card = staff1.post(f"/api/handoffs/{record.id}/messages", json={"sku": product.sku})
    assert card.status_code == 200, card.text
    custom = rasa.pushed("alice")[-1]["custom"]
    assert custom["type"] == "products" and custom["items"][0]["sku"] == product.sku
    assert {"title", "brand", "category", "price", "rating", "stock", "image"} <= set(
        custom["items"][0]
    )
    assert rasa.events("alice")[-1]["data"]["custom"] == custom
    unknown = staff1.post(f"/api/handoffs/{record.id}/messages", json={"sku": "NO-SUCH"})
    assert unknown.status_code == 404
    both = staff1.post(f"/api/handoffs/{record.id}/messages", json={"text": "a", "sku": "b"})
    scam = staff1.post(f"/api/handoffs/{record.id}/messages", json={"text": "加微信转账更便宜"})
    assert (
        scam.status_code == 422
        and scam.json()["error"]["message"] == "包含不允许的词：「加微信转账」"
    )
    assert both.status_code == 422

    assert staff2.post(f"/api/handoffs/{record.id}/release").status_code == 409
    released = staff1.post(f"/api/handoffs/{record.id}/release")
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "closed"
    resume, ended, listen = rasa.events("alice")[-3:]
    assert resume == {"event": "resume"}
    assert listen == {"event": "action", "name": "action_listen"}
    assert ended["text"] == h.ENDED_TEXT and ended["data"]["custom"]["state"] == "ended"
    assert rasa.pushed("alice")[-1]["custom"] == {
        "type": "handoff", "state": "ended", "handoff_id": record.id
    }  # fmt: skip
    closed = staff1.get("/api/handoffs", params={"status": "closed"}).json()
    assert [i["id"] for i in closed["items"]] == [record.id]
    assert staff1.get("/api/handoffs", params={"status": "nope"}).status_code == 422


def test_admin_may_release_anyones(app, queue, rasa):
    record = queue.request("alice")
    assert bearer(app, "staff1").post(f"/api/handoffs/{record.id}/take").status_code == 200
    assert bearer(app, "boss").post(f"/api/handoffs/{record.id}/release").status_code == 200


def test_rasa_down_message_is_an_error_and_release_changes_nothing(app, queue, rasa):
    record = queue.request("alice")
    staff1 = bearer(app, "staff1")
    assert staff1.post(f"/api/handoffs/{record.id}/take").status_code == 200
    rasa.fail = True
    failed = staff1.post(f"/api/handoffs/{record.id}/messages", json={"text": "在吗"})
    assert failed.status_code == 502 and failed.json()["error"]["code"] == "push_failed"
    assert staff1.post(f"/api/handoffs/{record.id}/release").status_code == 502
    assert queue.get(record.id).status == h.ACTIVE  # still paused and owned: retry later
    rasa.fail = False
    assert staff1.post(f"/api/handoffs/{record.id}/release").status_code == 200


def test_loop_acknowledges_once_and_the_list_masks(app, queue, rasa, tracker_engine):
    record = queue.request("alice", "转人工")
    t = time.time() + 1
    history = History()
    history.user("alice", t, "我的电话是13800138000", "inform", 0.9)
    history.user("alice", t + 1, "在吗", "greet", 0.9)
    append_events(tracker_engine, history.events)
    desk = desk_of(app)
    desk.loop.tick()
    desk.loop.tick()
    pushed = rasa.pushed("alice")
    assert [m["text"] for m in pushed] == [h.acknowledgement(0, 3)]
    assert pushed[0]["metadata"] == {"skill": "handoff"}
    item = bearer(app, "staff1").get("/api/handoffs").json()["items"][0]
    assert item["id"] == record.id and item["last_shopper_message"] == "在吗"
    history = History()
    history.user("alice", t + 2, "电话13800138000", "inform", 0.9)
    append_events(tracker_engine, history.events)
    desk.loop.tick()
    item = bearer(app, "staff1").get("/api/handoffs").json()["items"][0]
    assert "13800138000" not in item["last_shopper_message"]
    assert len(rasa.pushed("alice")) == 1  # acknowledged once


def test_left_messages_are_listed(app, queue, rasa, tracker_engine, services):
    desk = desk_of(app)
    desk.loop.holding.wait_seconds = 0
    record = queue.request("alice")
    desk.loop.tick()
    assert queue.get(record.id).status == h.EXPIRED
    assert rasa.pushed("alice")[-1]["buttons"][0]["title"] == h.LEAVE_MESSAGE
    history = History()
    t = time.time() + 1
    history.user("alice", t, h.LEAVE_MESSAGE, "inform", 0.5)
    history.user("alice", t + 1, "耳机坏了，麻烦回电13800138000", "inform", 0.5)
    append_events(tracker_engine, history.events)
    desk.loop.tick()
    assert rasa.events("alice")[-2:] == [
        {"event": "resume"},
        {"event": "action", "name": "action_listen"},
    ]
    listed = bearer(app, "staff1").get("/api/handoffs", params={"status": "left_message"}).json()
    assert listed["total"] == 1
    assert listed["items"][0]["left_message"].startswith("耳机坏了")
    assert "13800138000" not in listed["items"][0]["left_message"]


def test_shopper_rates_their_latest_handoff(app, queue, rasa, services):
    key = services.settings.shopper_key
    shopper = TestClient(
        app, headers={"Authorization": f"Bearer {identity.mint_shopper_token(key, 'alice')}"}
    )
    assert shopper.post("/api/widget/handoff-rating", json={"rating": 5}).status_code == 404
    assert TestClient(app).post("/api/widget/handoff-rating", json={"rating": 5}).status_code == 401
    record = queue.request("alice")
    staff1 = bearer(app, "staff1")
    staff1.post(f"/api/handoffs/{record.id}/take")
    staff1.post(f"/api/handoffs/{record.id}/release")
    assert shopper.post("/api/widget/handoff-rating", json={"rating": 9}).status_code == 422
    rated = shopper.post("/api/widget/handoff-rating", json={"rating": 4})
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    assert shopper.post("/api/widget/handoff-rating", json={"rating": 5}).status_code == 409
    listed = staff1.get("/api/handoffs", params={"status": "closed"}).json()
    assert listed["items"][0]["rating"] == 4


def test_canned_replies(app):
    staff1 = bearer(app, "staff1")
    made = staff1.post(
        "/api/canned-replies", json={"title": "问候", "text": "您好，请问有什么可以帮您？"}
    )
    assert made.status_code == 201, made.text
    assert [r["title"] for r in staff1.get("/api/canned-replies").json()["items"]] == ["问候"]
    assert staff1.delete(f"/api/canned-replies/{made.json()['id']}").status_code == 204
    assert staff1.delete(f"/api/canned-replies/{made.json()['id']}").status_code == 404
    refused = staff1.post("/api/canned-replies", json={"title": "优惠", "text": "帮您刷 单有返现"})
    assert refused.status_code == 422 and "刷 单" in refused.json()["error"]["message"]


def test_event_stream_format_and_keep_alive():
    async def run() -> list[str]:
        feed = HandoffFeed()
        chunks: list[str] = []
        calls = 0

        async def disconnected() -> bool:
            nonlocal calls
            calls += 1
            return calls > 6

        stream = sse_stream(feed, disconnected, keep_alive=0.05, poll=0.02)
        chunks.append(await anext(stream))  # subscribed now
        feed.publish("taken", {"id": 1, "taken_by": "王"})
        async for chunk in stream:
            chunks.append(chunk)
        return chunks

    chunks = asyncio.run(run())
    assert chunks[0] == "retry: 3000\n\n"
    assert chunks[1] == 'event: taken\ndata: {"id": 1, "taken_by": "王"}\n\n'
    assert ": keep-alive\n\n" in chunks[2:]


def test_the_loop_feeds_the_stream(app, queue, rasa):
    desk = desk_of(app)
    events: list[tuple[str, dict]] = []
    desk.feed.publish = lambda event, data: events.append((event, data))
    desk.loop.tick()  # first look
    record = queue.request("alice")
    desk.loop.tick()
    queue.take(record.id, "staff1")
    desk.loop.tick()
    queue.release(record.id, "staff1")
    desk.loop.tick()
    assert [(e, d["id"], d["status"]) for e, d in events] == [
        ("request", record.id, "waiting"),
        ("taken", record.id, "active"),
        ("closed", record.id, "closed"),
    ]


def test_webhook_failures_are_logged_not_raised(caplog):
    push = RasaPush("http://127.0.0.1:9", "t", webhook_url="http://127.0.0.1:9/hook", timeout=1)
    push.notify({"type": "request"})  # returns at once; the post fails in its thread
    time.sleep(1.5)
    assert any("handoff webhook" in r.message for r in caplog.records)


def test_loop_expires_even_when_the_tracker_cannot_be_read(app, queue, rasa, tmp_path):
    desk = desk_of(app)
    desk.loop.tracker = create_engine(f"sqlite:///file:{tmp_path / 'none.db'}?mode=ro&uri=true")
    desk.loop.holding.wait_seconds = 0
    record = queue.request("alice")
    desk.loop.tick()
    assert queue.get(record.id).status == h.EXPIRED
    assert rasa.pushed("alice")[-1]["buttons"][1]["title"] == h.BACK_TO_BOT

"""An admin reveals one masked message of a transcript, giving a reason, and the audit log keeps
who, when, whose conversation, which message and why, never the text; staff and merchants get
403 (web/routes/conversations.py ``unmask_message``, the transcript page's 「显示原文」)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from knowledge_graph.tables import AuditEntry
from tests.api.test_conversations_api import PASSWORD, T0, bearer, history
from web.accounts import create_account
from web.app import create_app
from web.review.fake_history import append_events, create_events_table

PHONE_MESSAGE = "我的手机号是13800138000，到了打给我"
ADDRESS = "北京市朝阳区建国路88号院3号楼2单元501室"
BOT_REPEAT = f"好的，送到{ADDRESS}。"


@pytest.fixture()
def services(mini_services, tmp_path):
    """The conversations of the API tests, plus a bot reply that repeats an address."""
    h = history()
    h.bot("alice", T0 + 6, BOT_REPEAT)
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(tracker_url)
    create_events_table(engine)
    append_events(engine, h.saved())
    settings = dataclasses.replace(mini_services.settings, tracker_db_url=tracker_url)
    return dataclasses.replace(mini_services, settings=settings)


@pytest.fixture()
def app(services):
    create_account(services.store, "staff1", PASSWORD, "staff")
    create_account(services.store, "m1", PASSWORD, "merchant", "m001")
    create_account(services.store, "admin1", PASSWORD, "admin")
    return create_app(services)


def event_ids(client: TestClient, sender: str) -> dict[str, int]:
    """Masked text -> event id, of every shopper and bot message of the transcript."""
    detail = client.get(f"/api/conversations/{sender}").json()
    found = {}
    for session in detail["transcript"]["sessions"]:
        for turn in session["turns"]:
            if turn["shopper"]:
                found[turn["shopper"]["text"]] = turn["shopper"]["event_id"]
            for message in turn["bot"]:
                found[message["text"]] = message["event_id"]
    return found


def unmask(client: TestClient, sender: str, event_id: int, body: dict) -> object:
    return client.post(f"/api/conversations/{sender}/messages/{event_id}/unmask", json=body)


def audit_rows(services) -> list[AuditEntry]:
    with services.store._sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_an_admin_sees_the_message_as_typed_and_the_read_is_logged(app, services):
    admin = bearer(app, "admin1")
    ids = event_ids(admin, "alice")
    phone_event = ids["我的手机号是138****8000，到了打给我"]
    answer = unmask(admin, "alice", phone_event, {"reason": "  顾客来电，核对收货手机号 "})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["sender_id"], body["event_id"], body["text"]) == (
        "alice",
        phone_event,
        PHONE_MESSAGE,
    )
    [row] = audit_rows(services)
    assert (row.actor, row.action, row.target) == ("admin1", "unmask", "alice")
    assert row.detail == {"event_id": phone_event, "reason": "顾客来电，核对收货手机号"}
    assert body["audit_id"] == row.id
    log = admin.get("/api/conversations/alice/unmasks").json()
    assert log["total"] == 1
    [entry] = log["items"]
    assert (entry["actor"], entry["event_id"], entry["reason"]) == (
        "admin1",
        phone_event,
        "顾客来电，核对收货手机号",
    )
    assert admin.get("/api/conversations/bob/unmasks").json() == {"items": [], "total": 0}
    # the catalog's change log stays the catalog's
    assert admin.get("/api/audit").json()["total"] == 0


def test_a_bot_message_that_repeats_an_address_can_be_revealed_too(app, services):
    admin = bearer(app, "admin1")
    ids = event_ids(admin, "alice")
    assert "好的，送到北京市朝阳区****。" in ids
    answer = unmask(admin, "alice", ids["好的，送到北京市朝阳区****。"], {"reason": "核对地址"})
    assert answer.status_code == 200 and answer.json()["text"] == BOT_REPEAT


def test_the_log_never_holds_the_text_not_even_pasted_into_the_reason(app, services):
    admin = bearer(app, "admin1")
    phone_event = event_ids(admin, "alice")["我的手机号是138****8000，到了打给我"]
    reason = "顾客说号码13800138000打不通，核对一下"
    assert unmask(admin, "alice", phone_event, {"reason": reason}).status_code == 200
    [row] = audit_rows(services)
    assert row.detail["reason"] == "顾客说号码138****8000打不通，核对一下"
    assert "13800138000" not in str(row.detail) and "13800138000" not in row.target
    listed = admin.get("/api/conversations/alice/unmasks").text
    assert "13800138000" not in listed


def test_staff_and_merchants_are_refused_and_nothing_is_logged(app, services):
    phone_event = event_ids(bearer(app, "staff1"), "alice")["我的手机号是138****8000，到了打给我"]
    for username in ("staff1", "m1"):
        client = bearer(app, username)
        refused = unmask(client, "alice", phone_event, {"reason": "想看看"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        assert "13800138000" not in refused.text
        assert client.get("/api/conversations/alice/unmasks").status_code == 403
    assert (
        TestClient(app)
        .post(f"/api/conversations/alice/messages/{phone_event}/unmask", json={"reason": "x"})
        .status_code
        == 401
    )
    assert audit_rows(services) == []


def test_a_reason_is_required(app, services):
    admin = bearer(app, "admin1")
    phone_event = event_ids(admin, "alice")["我的手机号是138****8000，到了打给我"]
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "长" * 201}):
        answer = unmask(admin, "alice", phone_event, body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == "invalid_parameter"
        assert "13800138000" not in answer.text
    assert audit_rows(services) == []


def test_unknown_conversation_or_message_is_404(app, services):
    admin = bearer(app, "admin1")
    phone_event = event_ids(admin, "alice")["我的手机号是138****8000，到了打给我"]
    nobody = unmask(admin, "nobody", phone_event, {"reason": "核对"})
    assert nobody.status_code == 404
    assert nobody.json()["error"]["code"] == "conversation_not_found"
    bob_event = event_ids(admin, "bob")["转人工"]
    elsewhere = unmask(admin, "alice", bob_event, {"reason": "核对"})  # bob's message
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "message_not_found"
    assert unmask(admin, "alice", 999_999, {"reason": "核对"}).status_code == 404
    assert audit_rows(services) == []


def test_a_browser_session_needs_the_csrf_token(app, services):
    client = TestClient(app)
    login = client.post("/api/auth/login", json={"username": "admin1", "password": PASSWORD})
    phone_event = event_ids(client, "alice")["我的手机号是138****8000，到了打给我"]
    url = f"/api/conversations/alice/messages/{phone_event}/unmask"
    assert client.post(url, json={"reason": "核对"}).status_code == 403
    assert audit_rows(services) == []
    csrf = {"X-CSRF-Token": login.cookies["csrf_token"]}
    answer = client.post(url, json={"reason": "核对"}, headers=csrf)
    assert answer.status_code == 200 and answer.json()["text"] == PHONE_MESSAGE


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return client


def test_the_transcript_offers_admins_the_masked_messages_only(app, services):
    admin = signed_in(app, "admin1")
    ids = event_ids(admin, "alice")
    page = admin.get("/console/conversations/alice").text
    offered = {int(i) for i in re.findall(r'data-unmask="(\d+)"', page)}
    assert offered == {
        ids["我的手机号是138****8000，到了打给我"],
        ids["好的，送到北京市朝阳区****。"],
    }
    assert 'id="unmask-dialog"' in page and "还没有人查看过这段对话的原文" in page
    assert "13800138000" not in page and "建国路" not in page
    csrf = {"X-CSRF-Token": admin.cookies["csrf_token"]}
    event = ids["我的手机号是138****8000，到了打给我"]
    admin.post(
        f"/api/conversations/alice/messages/{event}/unmask",
        json={"reason": "顾客来电核对"},
        headers=csrf,
    )
    page = admin.get("/console/conversations/alice").text
    log = page.split("data-unmask-log")[1].split("</ul>")[0]
    assert "admin1" in log and f"查看了消息 #{event}" in log and "原因：顾客来电核对" in log
    assert "13800138000" not in page
    staff_page = signed_in(app, "staff1").get("/console/conversations/alice").text
    assert "显示原文" not in staff_page and "unmask-dialog" not in staff_page
    assert "原文查看记录" not in staff_page

"""Staff review over the API: the list built on Rasa's own tracker table with filters and
Chinese search, one transcript, tags/note/reviewed, personal data masked, staff only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from knowledge_graph.conversations import record_flag
from tests.unit.test_review_tracker import PHONES, History
from web.accounts import create_account
from web.app import create_app
from web.review.fake_history import append_events, create_events_table

PASSWORD = "correct-horse-9"
DAY = 86_400.0
T0 = 1_780_000_000.0


def history() -> History:
    h = History()
    # 1: a search with cards, the shopper leaves a phone number
    h.session("alice", T0)
    h.user("alice", T0 + 1, "有没有三千以内的华为手机", "search_product", 0.93)
    h.action("alice", T0 + 1.1, "action_search_products")
    h.bot("alice", T0 + 1.2, "为您找到这些：", skill="action_search_products", custom=PHONES)
    h.slot("alice", T0 + 1.3, "shown_products", ["HW-M60P", "HW-P70"])
    h.user("alice", T0 + 5, "我的手机号是13800138000，到了打给我", "inform", 0.61)
    h.bot("alice", T0 + 5.2, "好的，已记下。")
    # 2: unclear, then asks for a person
    h.session("bob", T0 + DAY)
    h.user("bob", T0 + DAY + 1, "那个啥", "nlu_fallback", 0.4, ranking=[("greet", 0.21)])
    h.action("bob", T0 + DAY + 1.1, "action_default_ask_affirmation")
    h.bot("bob", T0 + DAY + 1.2, "您是想找商品还是问售后呢？")
    h.user("bob", T0 + DAY + 3, "转人工", "request_human", 0.97)
    h.action("bob", T0 + DAY + 3.1, "action_request_human")
    h.bot("bob", T0 + DAY + 3.2, "正在为您转接人工客服。")
    return h


@pytest.fixture()
def services(mini_services, tmp_path):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(tracker_url)
    create_events_table(engine)
    append_events(engine, history().saved())
    settings = dataclasses.replace(mini_services.settings, tracker_db_url=tracker_url)
    return dataclasses.replace(mini_services, settings=settings)


@pytest.fixture()
def app(services):
    create_account(services.store, "staff1", PASSWORD, "staff")
    create_account(services.store, "m1", PASSWORD, "merchant", "m001")
    return create_app(services)


def bearer(app, username: str) -> TestClient:
    login = TestClient(app).post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    return TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def senders(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["summary"]["sender_id"] for item in response.json()["items"]]


def test_list_newest_first_with_filters(app):
    staff = bearer(app, "staff1")
    assert senders(staff.get("/api/conversations")) == ["bob", "alice"]
    assert senders(staff.get("/api/conversations", params={"fallback": True})) == ["bob"]
    assert senders(staff.get("/api/conversations", params={"handoff": True})) == ["bob"]
    assert senders(staff.get("/api/conversations", params={"intent": "search_product"})) == [
        "alice"
    ]
    assert senders(staff.get("/api/conversations", params={"confidence_below": 0.3})) == ["bob"]
    assert senders(staff.get("/api/conversations", params={"q": "华为"})) == ["alice"]
    assert senders(staff.get("/api/conversations", params={"q": "人工"})) == ["bob"]
    page = staff.get("/api/conversations", params={"limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1


def test_phone_numbers_are_masked_in_list_and_transcript(app):
    staff = bearer(app, "staff1")
    alice = next(
        item for item in staff.get("/api/conversations").json()["items"]
        if item["summary"]["sender_id"] == "alice"
    )  # fmt: skip
    assert alice["summary"]["last_shopper_message"] == "我的手机号是138****8000，到了打给我"
    detail = staff.get("/api/conversations/alice").json()
    texts = [
        t["shopper"]["text"] for t in detail["transcript"]["sessions"][0]["turns"] if t["shopper"]
    ]
    assert texts == ["有没有三千以内的华为手机", "我的手机号是138****8000，到了打给我"]
    assert "13800138000" not in str(detail)


def test_transcript_shows_intents_actions_cards_and_slots(app):
    detail = bearer(app, "staff1").get("/api/conversations/alice").json()
    first = next(t for t in detail["transcript"]["sessions"][0]["turns"] if t["shopper"])
    assert (first["shopper"]["intent"], first["shopper"]["confidence"]) == ("search_product", 0.93)
    assert [a["name"] for a in first["actions"]] == ["action_search_products"]
    [reply] = first["bot"]
    assert reply["skill"] == "action_search_products"
    assert [p["sku"] for p in reply["custom"]["items"]] == ["HW-M60P", "HW-P70"]
    assert first["slots"]["shown_products"] == ["HW-M60P", "HW-P70"]
    assert bearer(app, "staff1").get("/api/conversations/nobody").status_code == 404


def test_tags_note_reviewed_and_their_filters(app, services):
    staff = bearer(app, "staff1")
    saved = staff.patch(
        "/api/conversations/bob", json={"tags": ["转人工", " 需跟进 ", "转人工"], "note": "已回电"}
    )
    assert saved.status_code == 200
    assert saved.json()["tags"] == ["转人工", "需跟进"] and saved.json()["updated_by"] == "staff1"
    staff.patch("/api/conversations/alice", json={"reviewed": True})
    assert senders(staff.get("/api/conversations", params={"tag": "需跟进"})) == ["bob"]
    assert senders(staff.get("/api/conversations", params={"reviewed": True})) == ["alice"]
    assert senders(staff.get("/api/conversations", params={"reviewed": False})) == ["bob"]
    record_flag(services.store, "alice", "feedback_down", "推荐的不对")
    negative = staff.get("/api/conversations", params={"negative_feedback": True})
    assert senders(negative) == ["alice"]
    assert negative.json()["items"][0]["summary"]["flags"][0]["kind"] == "feedback_down"
    assert staff.patch("/api/conversations/nobody", json={"reviewed": True}).status_code == 404


def test_only_staff_and_admins(app):
    assert TestClient(app).get("/api/conversations").status_code == 401
    merchant = bearer(app, "m1")
    assert merchant.get("/api/conversations").status_code == 403
    assert merchant.get("/api/conversations/alice").status_code == 403


def test_dashboard_counts_rates_intents_unplaced_questions_and_funnel(app, services):
    events = services.events
    for kind in ("impression", "impression", "impression", "impression", "click", "add_to_cart"):
        events.record("alice", "PH-XM-14-256", kind, "widget")
    events.record("alice", "PH-XM-14-256", "impression", "chat")
    staff = bearer(app, "staff1")
    since = datetime.fromtimestamp(T0 - DAY, UTC).isoformat()
    until = datetime.fromtimestamp(T0 + 3 * DAY, UTC).isoformat()
    body = staff.get("/api/analytics", params={"since": since, "until": until})
    assert body.status_code == 200, body.text
    report = body.json()["dashboard"]
    assert report["conversations"] == 2
    assert report["fallback_rate"] == 0.5 and report["handoff_rate"] == 0.5
    assert report["answered_without_person"] == 0.5
    per_day = {d["day"]: d for d in report["days"]}
    alice_day = datetime.fromtimestamp(T0, timezone(timedelta(hours=8))).date().isoformat()
    assert per_day[alice_day]["conversations"] == 1 and per_day[alice_day]["shopper_messages"] == 2
    assert sum(d["conversations"] for d in report["days"]) == 2
    intents = {c["name"]: c["count"] for c in report["top_intents"]}
    assert intents["request_human"] == 1 and intents["search_product"] == 1
    assert report["unanswered"] == [{"name": "那个啥", "count": 1}]
    assert report["funnel"] == []  # the events below were recorded today, not then
    recent = staff.get("/api/analytics", params={"days": 7}).json()
    funnel = {f["source"]: f for f in recent["dashboard"]["funnel"]}
    assert (funnel["widget"]["impressions"], funnel["widget"]["clicks"]) == (4, 1)
    assert funnel["widget"]["add_to_cart"] == 1 and funnel["chat"]["impressions"] == 1
    assert recent["click_rates"]["widget"] == 0.25 and recent["cart_rates"]["widget"] == 1.0
    assert staff.get("/api/analytics", params={"since": until, "until": since}).status_code == 422
    assert bearer(app, "m1").get("/api/analytics").status_code == 403


def shopper_event(staff: TestClient, sender: str, text: str) -> int:
    detail = staff.get(f"/api/conversations/{sender}").json()
    turns = [t for s in detail["transcript"]["sessions"] for t in s["turns"] if t["shopper"]]
    return next(t["shopper"]["event_id"] for t in turns if t["shopper"]["text"] == text)


@pytest.fixture()
def annotated_app(app, tmp_path):
    app.state.web.annotations_file = tmp_path / "nlu" / "console_annotations.yml"
    return app


def test_annotation_inbox_and_export_to_nlu_yaml(annotated_app):
    staff = bearer(annotated_app, "staff1")
    event = shopper_event(staff, "alice", "有没有三千以内的华为手机")
    entities = [
        {"start": 3, "end": 7, "entity": "price", "value": "3000", "role": "max"},
        {"start": 8, "end": 10, "entity": "brand"},
        {"start": 10, "end": 12, "entity": "category"},
    ]
    created = staff.post(
        "/api/conversations/alice/annotations",
        json={"event_id": event, "intent": "search_product", "entities": entities},
    )
    assert created.status_code == 201, created.text
    assert created.json()["predicted_intent"] == "search_product"
    masked = shopper_event(staff, "alice", "我的手机号是138****8000，到了打给我")
    staff.post(
        "/api/conversations/alice/annotations", json={"event_id": masked, "intent": "inform"}
    )
    unclear = shopper_event(staff, "bob", "那个啥")
    dropped = staff.post(
        "/api/conversations/bob/annotations", json={"event_id": unclear, "intent": "greet"}
    ).json()
    assert staff.patch(f"/api/annotations/{dropped['id']}", json={"status": "discarded"}).is_success
    inbox = staff.get("/api/annotations").json()
    assert inbox["total"] == 2 and {a["intent"] for a in inbox["items"]} == {
        "inform",
        "search_product",
    }
    exported = staff.post("/api/annotations/export")
    assert exported.status_code == 200 and exported.json()["examples"] == 2
    path = annotated_app.state.web.annotations_file
    assert path.read_text(encoding="utf-8").endswith(
        'version: "3.1"\n'
        "nlu:\n"
        "  - intent: inform\n"
        "    examples: |\n"
        "      - 我的手机号是138****8000，到了打给我\n"
        "  - intent: search_product\n"
        "    examples: |\n"
        '      - 有没有[三千以内]{"entity": "price", "value": "3000", "role": "max"}的[华为](brand)[手机](category)\n'
    )
    assert "alice" not in path.read_text(encoding="utf-8")
    assert staff.get("/api/annotations").json()["total"] == 0  # the inbox is empty now
    assert staff.get("/api/annotations", params={"status": "exported"}).json()["total"] == 2


def test_annotations_rasa_would_refuse_are_explained(annotated_app):
    staff = bearer(annotated_app, "staff1")
    event = shopper_event(staff, "alice", "有没有三千以内的华为手机")

    def problem(intent: str, entities: list[dict]) -> str:
        response = staff.post(
            "/api/conversations/alice/annotations",
            json={"event_id": event, "intent": intent, "entities": entities},
        )
        assert response.status_code == 422, response.text
        return response.json()["error"]["message"]

    assert "不在机器人的领域定义里" in problem("buy_a_car", [])
    assert "标准答复" in problem("faq/no_such_answer", [])
    assert "具体的问题" in problem("faq", [])
    assert "超出" in problem("search_product", [{"start": 7, "end": 40, "entity": "brand"}])
    assert "角色" in problem(
        "search_product", [{"start": 2, "end": 6, "entity": "price", "role": "x"}]
    )
    missing = staff.post(
        "/api/conversations/alice/annotations", json={"event_id": 999999, "intent": "greet"}
    )
    assert missing.status_code == 404


def test_a_conversation_becomes_a_test_conversation(annotated_app):
    text = bearer(annotated_app, "staff1").get("/api/conversations/alice/test-conversation").text
    document = yaml.safe_load(text)
    [case] = document
    assert [t["user"] for t in case["turns"]] == [
        "有没有三千以内的华为手机",
        "我的手机号是138****8000，到了打给我",
    ]
    assert case["turns"][0]["expect"] == {
        "intent": "search_product",
        "products": {"min": 1, "category": "手机"},
    }
    assert "alice" not in text

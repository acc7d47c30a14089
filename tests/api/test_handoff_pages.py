"""The staff's handoff desk (web/routes/handoff_pages.py) without a browser: who may open it, the
queue as the server renders it (groups, places, owners, the last shopper message masked), the
navigation's badge of waiting requests on every staff page and never on a merchant's, the
conversation as lines for the page, and closing a left message. Rasa is the recording fake of
the handoff API's tests; the loop is ticked by hand over a tracker table written here."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from knowledge_graph import handoff as h
from tests.api import test_handoff_api as base
from tests.api.test_handoff_api import PASSWORD, bearer
from tests.unit.test_review_tracker import PHONES, History
from web.review.fake_history import append_events
from web.routes.handoff import desk_of

# The handoff API tests' fake Rasa, tracker table, services, accounts and app, reused as they are.
rasa = base.rasa
tracker_engine = base.tracker_engine
services = base.services
app = base.app
queue = base.queue


def signed_in(app, username: str) -> TestClient:
    """A browser-like client: the session cookie, redirects not followed."""
    client = TestClient(app, follow_redirects=False)
    login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return client


def queue_ids(html: str, group: str) -> list[int]:
    """The handoff ids listed in one group of the rendered queue, in order."""
    part = html.split(f'data-queue="{group}"')[1].split("</ul>")[0]
    return [int(i) for i in re.findall(r'data-handoff-id="(\d+)"', part)]


def queue_item(html: str, handoff_id: int) -> str:
    return html.split(f'data-handoff-id="{handoff_id}"')[1].split("</li>")[0]


def badge(html: str) -> tuple[str, bool]:
    """The navigation badge's number and whether it is shown."""
    found = re.search(r"<span class=\"nav-badge\" data-handoff-badge([^>]*)>(\d+)</span>", html)
    assert found, "no badge in the navigation"
    return found.group(2), "hidden" not in found.group(1)


def shopper_says(engine, sender: str, *texts: str) -> None:
    t, history = time.time() + 1, History()
    for n, text in enumerate(texts):
        history.user(sender, t + n, text, "inform", 0.9)
    append_events(engine, history.events)


def left_message(queue, sender: str, text: str):
    record = queue.request(sender)
    assert queue.expire(record.id, "timeout")
    assert queue.await_message(record.id)
    assert queue.leave_message(record.id, text)
    return queue.get(record.id)


def test_only_staff_and_admins_open_the_desk(app):
    anonymous = TestClient(app, follow_redirects=False).get("/console/handoffs")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/console/login?next=/console/handoffs"
    merchant = signed_in(app, "m1").get("/console/handoffs")
    assert merchant.status_code == 403 and "没有权限" in merchant.text
    for username in ("staff1", "boss"):
        page = signed_in(app, username).get("/console/handoffs")
        assert page.status_code == 200, username
        assert page.headers["cache-control"] == "no-store"
        assert "<h1>人工接待</h1>" in page.text
        assert 'id="handoff-desk" data-me="' + username + '"' in page.text


def test_the_queue_is_rendered_with_places_owners_and_masked_messages(app, queue, tracker_engine):
    alice = queue.request("shopper-alice", "转人工")
    bob = queue.request("shopper-bob", "我要找客服")
    carol = queue.request("shopper-carol", "转人工")
    dave = left_message(queue, "shopper-dave", "耳机坏了，请回电13912345678")
    queue.take(carol.id, "staff2")
    shopper_says(tracker_engine, "shopper-alice", "在吗", "我的电话是13800138000，想退货")
    desk = desk_of(app)
    desk.loop.tick()

    html = signed_in(app, "staff1").get("/console/handoffs").text
    assert queue_ids(html, "waiting") == [alice.id, bob.id]
    assert queue_ids(html, "active") == [carol.id]
    assert queue_ids(html, "left") == [dave.id]

    first = queue_item(html, alice.id)
    assert '<span class="place">第 1 位</span>' in first
    assert '<span class="last">我的电话是138****8000，想退货</span>' in first
    assert re.search(r'data-wait-seconds="[\d.]+">已等 \d+ 秒</span>', first)
    # A request without a message since shows what asked for a person.
    assert '<span class="last">我要找客服</span>' in queue_item(html, bob.id)
    assert '<span class="place">第 2 位</span>' in queue_item(html, bob.id)
    assert '<span class="owner">由 staff2 接待</span>' in queue_item(html, carol.id)
    assert '<span class="last">耳机坏了，请回电139****5678</span>' in queue_item(html, dave.id)
    assert "13800138000" not in html and "13912345678" not in html

    # Its owner sees it as their own.
    mine = signed_in(app, "staff2").get("/console/handoffs").text
    assert '<span class="owner mine">我在接待</span>' in queue_item(mine, carol.id)


def test_the_navigation_badge_counts_waiting_requests_on_every_staff_page(app, queue):
    staff = signed_in(app, "staff1")
    dashboard = staff.get("/console/dashboard").text
    assert '<a href="/console/handoffs">人工接待' in dashboard
    assert badge(dashboard) == ("0", False)
    assert '<script src="/static/console/handoffs.js" defer></script>' in dashboard

    first, second = queue.request("shopper-a"), queue.request("shopper-b")
    queue.request("shopper-c")
    queue.take(first.id, "staff1")  # taken: no longer waiting
    assert queue.expire(second.id, "timeout")  # expired: no longer waiting either
    for path in ("/console/conversations", "/console/annotations", "/console/dashboard"):
        assert badge(staff.get(path).text) == ("1", True), path
    desk = staff.get("/console/handoffs").text
    assert re.search(
        r'<a href="/console/handoffs" class="active" aria-current="page">人工接待', desk
    )
    assert badge(desk) == ("1", True)

    # Merchants neither see the entry nor load the script.
    products = signed_in(app, "m1").get("/console/products").text
    assert "/console/handoffs" not in products and "handoffs.js" not in products
    assert "data-handoff-badge" not in products


def test_the_conversation_as_lines_for_the_desk(app, queue, tracker_engine):
    record = queue.request("shopper-alice", "转人工")
    t, history = time.time() + 1, History()
    history.session("shopper-alice", t)
    history.user("shopper-alice", t + 1, "有没有华为手机", "search_product", 0.95)
    history.bot("shopper-alice", t + 1.1, "为您找到这些：", skill="search", custom=PHONES,
                buttons=["便宜点的"])  # fmt: skip
    history.user("shopper-alice", t + 2, "转人工", "request_human", 0.97)
    history.bot("shopper-alice", t + 2.1, "好的，已为您转接人工客服。")
    history.bot("shopper-alice", t + 2.5, "已收到，您已排在第一位。", skill="handoff")
    started = {"type": "handoff", "state": "started", "agent": "staff1"}
    history.add("shopper-alice", t + 3, {"event": "bot", "text": None, "data": {"custom": started},
                                         "metadata": {"staff": "staff1"}})  # fmt: skip
    history.add("shopper-alice", t + 4, {"event": "bot", "text": "您好，我是客服小王",
                                         "data": {}, "metadata": {"staff": "staff1"}})  # fmt: skip
    history.user("shopper-alice", t + 5, "电话13800138000，想退货", "inform", 0.6)
    append_events(tracker_engine, history.saved())

    staff = bearer(app, "staff1")
    answer = staff.get(f"/api/handoffs/{record.id}/transcript")
    assert answer.status_code == 200, answer.text
    lines = answer.json()["items"]
    assert answer.json()["total"] == 8
    assert [(line["speaker"], line["staff"], line["text"], line["note"]) for line in lines] == [
        ("shopper", None, "有没有华为手机", None),
        ("bot", None, "为您找到这些：", None),
        ("shopper", None, "转人工", None),
        ("bot", None, "好的，已为您转接人工客服。", None),
        ("holding", None, "已收到，您已排在第一位。", None),
        ("staff", "staff1", None, "staff1 已接入"),
        ("staff", "staff1", "您好，我是客服小王", None),
        ("shopper", None, "电话138****8000，想退货", None),
    ]
    cards = lines[1]["products"]
    assert cards == [
        {"sku": "HW-M60P", "title": "华为 Mate60 Pro", "price": 6999.0, "stock": 12},
        {"sku": "HW-P70", "title": "华为 Pura 70", "price": 5499.0, "stock": 0},
    ]
    assert lines[1]["buttons"] == ["便宜点的"]

    # Only what came after the last line the page shows.
    after = staff.get(
        f"/api/handoffs/{record.id}/transcript", params={"after": lines[-2]["event_id"]}
    ).json()
    assert [line["text"] for line in after["items"]] == [lines[-1]["text"]]
    last_two = staff.get(f"/api/handoffs/{record.id}/transcript", params={"limit": 2}).json()
    assert last_two["total"] == answer.json()["total"]
    assert [line["event_id"] for line in last_two["items"]] == [
        line["event_id"] for line in lines[-2:]
    ]

    assert staff.get("/api/handoffs/9999/transcript").status_code == 404
    assert bearer(app, "m1").get(f"/api/handoffs/{record.id}/transcript").status_code == 403
    nothing_yet = queue.request("shopper-silent")
    assert staff.get(f"/api/handoffs/{nothing_yet.id}/transcript").json() == {
        "items": [],
        "total": 0,
    }


def test_staff_close_a_left_message(app, queue):
    record = left_message(queue, "shopper-dave", "耳机坏了，想换货")
    waiting = queue.request("shopper-erin")
    desk = desk_of(app)
    published: list[tuple[str, dict]] = []
    desk.feed.publish = lambda event, data: published.append((event, data))
    staff = bearer(app, "staff1")

    closed = staff.post(f"/api/handoffs/{record.id}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["left_message"] == "耳机坏了，想换货"  # still readable afterwards
    assert queue.get(record.id).closed_by == "staff1"
    assert published == [("closed", published[0][1])] and published[0][1]["id"] == record.id

    again = staff.post(f"/api/handoffs/{record.id}/close")
    assert again.status_code == 409 and again.json()["error"]["message"] == "这条留言已经处理过了"
    not_left = staff.post(f"/api/handoffs/{waiting.id}/close")
    assert not_left.status_code == 409 and queue.get(waiting.id).status == h.WAITING
    assert staff.post("/api/handoffs/9999/close").status_code == 404
    assert bearer(app, "m1").post(f"/api/handoffs/{waiting.id}/close").status_code == 403
    html = signed_in(app, "staff1").get("/console/handoffs").text
    assert queue_ids(html, "left") == [] and "没有未处理的留言" in html

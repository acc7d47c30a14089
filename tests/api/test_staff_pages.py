"""The staff console's pages (web/routes/staff_pages.py) over a small tracker database, without a
browser: each page renders for staff with the conversations' data, escaped and masked; merchants
get the 403 page, anonymous users the login page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api import test_conversations_api as base
from tests.api.test_conversations_api import PASSWORD, T0, history
from web.review.fake_history import append_events

# The tracker database, accounts and app of the API tests, reused as they are.
services = base.services
app = base.app

PAGES = (
    "/console/conversations",
    "/console/conversations/alice",
    "/console/annotations",
    "/console/dashboard",
)


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return client


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-sender="([^"]+)"', html)


def test_the_list_shows_conversations_newest_first_with_badges(app):
    staff = signed_in(app, "staff1")
    page = staff.get("/console/conversations")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert rows(page.text) == ["bob", "alice"]
    assert "我的手机号是138****8000，到了打给我" in page.text  # the last message, masked
    assert "13800138000" not in page.text
    bob = page.text.split('data-sender="bob"')[1].split("</tr>")[0]
    assert "未识别" in bob and "转人工" in bob
    assert 'href="/console/conversations/bob"' in bob
    assert 'hx-get="/console/conversations"' in page.text and 'hx-push-url="true"' in page.text
    assert '<option value="faq/shipping"' in page.text  # retrieval intents in the filter


def test_filters_answer_the_results_part_to_htmx(app):
    staff = signed_in(app, "staff1")
    partial = staff.get(
        "/console/conversations", params={"fallback": "1"}, headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200
    assert "<html" not in partial.text and rows(partial.text) == ["bob"]
    restore = staff.get(
        "/console/conversations",
        params={"fallback": "1"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text and rows(restore.text) == ["bob"]
    assert rows(staff.get("/console/conversations", params={"q": "华为"}).text) == ["alice"]
    assert rows(staff.get("/console/conversations", params={"q": "找到这些"}).text) == ["alice"]
    shopper_only = {"q": "找到这些", "search_in": "shopper"}
    assert rows(staff.get("/console/conversations", params=shopper_only).text) == []
    assert rows(staff.get("/console/conversations", params={"handoff": "0"}).text) == ["alice"]
    assert rows(staff.get("/console/conversations", params={"intent": "search_product"}).text) == [
        "alice"
    ]
    assert rows(staff.get("/console/conversations", params={"confidence_below": "0.5"}).text) == [
        "bob"
    ]
    staff.patch(
        "/api/conversations/bob",
        json={"tags": ["需跟进"], "reviewed": True},
        headers={"X-CSRF-Token": staff.cookies["csrf_token"]},
    )
    tagged = staff.get("/console/conversations", params={"tag": "需跟进"}).text
    assert rows(tagged) == ["bob"] and "#需跟进" in tagged and "已审阅" in tagged
    assert rows(staff.get("/console/conversations", params={"reviewed": "0"}).text) == ["alice"]
    # Dates are the shop's days; a range without conversations says so.
    empty = staff.get(
        "/console/conversations", params={"since": "2001-01-01", "until": "2001-01-02"}
    )
    assert rows(empty.text) == [] and "没有符合条件的对话" in empty.text
    # Garbage in the query is ignored, never an error page.
    odd = staff.get("/console/conversations", params={"since": "x", "confidence_below": "7"})
    assert odd.status_code == 200 and rows(odd.text) == ["bob", "alice"]


def test_paging(app, services):
    h = history()
    h.events.clear()
    for n in range(23):
        h.session(f"extra{n:02d}", T0 + 10 * 86_400 + n)
        h.user(f"extra{n:02d}", T0 + 10 * 86_400 + n + 0.5, f"第{n}个问题", "greet", 0.9)
    from sqlalchemy import create_engine

    append_events(create_engine(services.settings.tracker_db_url), h.saved())
    staff = signed_in(app, "staff1")
    first = staff.get("/console/conversations").text
    assert len(rows(first)) == 20 and "第 1 / 2 页" in first and "page=2" in first
    second = staff.get("/console/conversations", params={"page": "2"}).text
    assert rows(second) == ["extra02", "extra01", "extra00", "bob", "alice"]


def test_the_transcript_shows_messages_nlu_cards_and_slots(app):
    staff = signed_in(app, "staff1")
    page = staff.get("/console/conversations/alice")
    assert page.status_code == 200
    html = page.text
    assert "有没有三千以内的华为手机" in html and "138****8000" in html
    assert "13800138000" not in html
    assert "search_product · 0.93" in html and "inform · 0.61" in html
    assert 'class="badge intent warn"' in html  # 0.61: doubtful
    assert "action_search_products" in html  # the action run and the answering skill
    assert "华为 Mate60 Pro" in html and "¥6,999" in html and "暂时缺货" in html
    assert "<summary>本轮结束时的槽位" in html and "shown_products" in html
    assert 'href="/api/conversations/alice/test-conversation"' in html and "保存为测试对话" in html
    assert html.count("data-annotate=") == 2
    bob = staff.get("/console/conversations/bob").text
    assert 'class="badge intent bad"' in bob  # the fallback
    missing = staff.get("/console/conversations/nobody")
    assert missing.status_code == 404 and "没有找到这段对话" in missing.text


def test_staff_messages_are_marked(app, services):
    from sqlalchemy import create_engine

    h = history()
    h.events.clear()
    t = T0 + 30 * 86_400
    h.session("carol", t)
    h.user("carol", t + 1, "转人工", "request_human", 0.98)
    h.add("carol", t + 2, {"event": "bot", "text": "您好，我是客服小王", "data": {},
                           "metadata": {"staff": "wang"}})  # fmt: skip
    append_events(create_engine(services.settings.tracker_db_url), h.saved())
    html = signed_in(app, "staff1").get("/console/conversations/carol").text
    staff = html.split('<div class="msg bot staff">')[1].split("</div>")[0]
    assert "人工客服 wang" in staff
    assert html.count('<div class="msg bot staff">') == 1


def test_texts_are_escaped(app, services):
    from sqlalchemy import create_engine

    h = history()
    h.events.clear()
    h.session("mallory", T0 + 20 * 86_400)
    h.user("mallory", T0 + 20 * 86_400 + 1, "<script>alert(1)</script>", "greet", 0.9)
    h.bot("mallory", T0 + 20 * 86_400 + 2, "<img src=x onerror=alert(2)>")
    append_events(create_engine(services.settings.tracker_db_url), h.saved())
    staff = signed_in(app, "staff1")
    for path in ("/console/conversations", "/console/conversations/mallory"):
        html = staff.get(path).text
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
        assert "<img src=x" not in html


def test_domain_names_for_corrections(app):
    staff = signed_in(app, "staff1")
    names = staff.get("/api/domain/names").json()
    assert "search_product" in names["intents"] and "faq/shipping" in names["retrieval_intents"]
    assert "brand" in names["entities"] and names["roles"]["price"] == ["around", "max", "min"]
    assert signed_in(app, "m1").get("/api/domain/names").status_code == 403
    assert TestClient(app).get("/api/domain/names").status_code == 401


def test_annotation_inbox_tabs(app, tmp_path):
    app.state.web.annotations_file = tmp_path / "console_annotations.yml"
    staff = signed_in(app, "staff1")
    csrf = {"X-CSRF-Token": staff.cookies["csrf_token"]}
    detail = staff.get("/api/conversations/alice").json()
    event = detail["transcript"]["sessions"][0]["turns"][0]["shopper"]["event_id"]
    created = staff.post(
        "/api/conversations/alice/annotations",
        json={"event_id": event, "intent": "search_product",
              "entities": [{"start": 8, "end": 10, "entity": "brand"}]},
        headers=csrf,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    page = staff.get("/console/annotations")
    assert page.status_code == 200
    assert "有没有三千以内的<mark" in page.text and ">华为<small>brand</small></mark>" in page.text
    assert str(tmp_path / "console_annotations.yml") in page.text  # where the export goes
    assert "导出为训练数据" in page.text and 'data-status="discarded"' in page.text
    staff.patch(
        f"/api/annotations/{created.json()['id']}", json={"status": "discarded"}, headers=csrf
    )
    assert "收件箱是空的" in staff.get("/console/annotations").text
    discarded = staff.get("/console/annotations", params={"status": "discarded"}).text
    assert 'data-status="open"' in discarded and "恢复" in discarded


def test_dashboard_page_loads_its_charts_from_the_api(app):
    page = signed_in(app, "staff1").get("/console/dashboard")
    assert page.status_code == 200
    assert '<script src="/static/vendor/echarts.min.js"' in page.text
    assert page.text.count('data-chart="') == 5 and "data-unanswered" in page.text
    # No inline script carries data: every <script> has a src.
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page.text)


@pytest.mark.parametrize("path", PAGES)
def test_merchants_get_the_403_page_and_anonymous_users_the_login_page(app, path):
    merchant = signed_in(app, "m1").get(path)
    assert merchant.status_code == 403 and "没有权限" in merchant.text
    anonymous = TestClient(app, follow_redirects=False).get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/console/login?next={path}"


def test_navigation_marks_the_page(app):
    staff = signed_in(app, "staff1")
    for path in PAGES:
        page = staff.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        active = "/console/conversations" if path.startswith("/console/conversations") else path
        assert f'<a href="{active}" class="active" aria-current="page">' in page.text

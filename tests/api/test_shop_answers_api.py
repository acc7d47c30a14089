"""The shop's FAQ answers and policy over the API and the console page (web/routes/answers.py):
staff and admins edit answers, only admins the policy, merchants nothing; the exact text is
stored, a stale revision is a 409, every change is audited, sensitive words are refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from web.accounts import create_account
from web.app import create_app

PASSWORD = "correct-horse-9"
SHIPPING = "全场满59元包邮，不满59元收运费6元，默认发顺丰。"


@pytest.fixture()
def app(mini_services, tmp_path):
    store = mini_services.store
    create_account(store, "boss", PASSWORD, "admin")
    create_account(store, "staff1", PASSWORD, "staff")
    create_account(store, "staff2", PASSWORD, "staff")
    create_account(store, "m1", PASSWORD, "merchant", "m001")
    app = create_app(mini_services)
    words = tmp_path / "sensitive_words.txt"
    words.write_text("[fraud]\n刷单\n", encoding="utf-8")
    app.state.web.sensitive_words_file = words
    return app


def bearer(app, username: str) -> TestClient:
    login = TestClient(app).post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def shipping_of(client: TestClient) -> dict:
    return client.get("/api/shop-answers/faq/shipping").json()


def test_roles(app, mini_services):
    merchant, anonymous = bearer(app, "m1"), TestClient(app)
    calls = [
        ("get", "/api/shop-answers", None),
        ("get", "/api/shop-answers/faq/shipping", None),
        ("put", "/api/shop-answers/faq/shipping", {"variants": ["包邮"], "revision": 0}),
        ("get", "/api/shop-policy", None),
        ("put", "/api/shop-policy", {"return_days": 15, "revision": 0}),
    ]
    for method, path, body in calls:
        kwargs = {"json": body} if body else {}
        assert getattr(merchant, method)(path, **kwargs).status_code == 403, path
        assert getattr(anonymous, method)(path, **kwargs).status_code == 401, path
    staff = bearer(app, "staff1")
    assert staff.get("/api/shop-answers").status_code == 200
    assert staff.get("/api/shop-policy").status_code == 200
    refused = staff.put("/api/shop-policy", json={"return_days": 15, "revision": 0})
    assert refused.status_code == 403  # the policy is the management's: admins only
    assert mini_services.answers.policy().revision == 0
    assert mini_services.answers.version() == 0

    page = bearer(app, "m1").get("/console/answers", follow_redirects=False)
    assert page.status_code == 403


def test_list_names_every_topic_with_what_the_bot_says(app):
    body = bearer(app, "staff1").get("/api/shop-answers").json()
    assert body["total"] == len(body["items"]) == 18
    shipping = next(i for i in body["items"] if i["topic"] == "faq/shipping")
    assert shipping["name"] == "配送与运费"
    assert shipping["edited"] is False and shipping["revision"] == 0
    assert shipping["variants"] == shipping["defaults"]
    assert shipping["variants"][1] == (
        "满99元就包邮哦（偏远地区满199元），不满收8元运费。我们默认用顺丰或京东快递发货，"
        "目前不能指定快递公司，港澳台和海外暂时寄不了。"
    )
    assert bearer(app, "staff1").get("/api/shop-answers/faq/nothing").status_code == 404


def test_update_stores_the_exact_text_and_audits_it(app, mini_services):
    staff = bearer(app, "staff1")
    saved = staff.put(
        "/api/shop-answers/faq/shipping", json={"variants": [SHIPPING], "revision": 0}
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["variants"], body["revision"], body["edited"], body["updated_by"]) == (
        [SHIPPING], 1, True, "staff1"
    )  # fmt: skip
    assert shipping_of(staff)["variants"] == [SHIPPING]
    # the bot's copy in this process has it at once
    assert mini_services.answers.current().answer("faq/shipping") == SHIPPING

    records, total = mini_services.store.audit_log(target="faq/shipping")
    assert total == 1
    entry = records[0]
    assert (entry.actor, entry.action, entry.merchant_id) == ("staff1", "answer_update", None)
    assert entry.before["variants"][0].startswith("全场实付满99元包邮")
    assert entry.after == {"title": "配送与运费", "variants": [SHIPPING]}
    admin_log = bearer(app, "boss").get("/api/audit", params={"sku": "faq/shipping"}).json()
    assert [i["action"] for i in admin_log["items"]] == ["answer_update"]
    assert "配送与运费" in bearer(app, "boss").get("/console/audit").text  # the admin's log page


def test_reset_to_the_trained_text(app, mini_services):
    staff = bearer(app, "staff1")
    staff.put("/api/shop-answers/faq/shipping", json={"variants": [SHIPPING], "revision": 0})
    assert staff.delete("/api/shop-answers/faq/shipping", params={"revision": 0}).status_code == 409
    reset = staff.delete("/api/shop-answers/faq/shipping", params={"revision": 1})
    assert reset.status_code == 200, reset.text
    body = reset.json()
    assert (body["edited"], body["revision"], body["variants"]) == (False, 2, body["defaults"])
    assert mini_services.answers.current().answer("faq/shipping") is None
    assert bearer(app, "m1").delete(
        "/api/shop-answers/faq/shipping", params={"revision": 2}
    ).status_code == 403  # fmt: skip


def test_a_stale_revision_is_409(app):
    first, second = bearer(app, "staff1"), bearer(app, "staff2")
    assert first.put(
        "/api/shop-answers/faq/shipping", json={"variants": [SHIPPING], "revision": 0}
    ).status_code == 200  # fmt: skip
    late = second.put(
        "/api/shop-answers/faq/shipping", json={"variants": ["满9元包邮"], "revision": 0}
    )
    assert late.status_code == 409
    assert late.json()["error"] == {
        "code": "edit_conflict",
        "message": "这条回答刚被别人修改过，请刷新后在最新版本上修改",
    }
    assert shipping_of(first)["variants"] == [SHIPPING]


def test_sensitive_words_and_bad_texts_are_refused(app, mini_services):
    staff = bearer(app, "staff1")
    refused = staff.put(
        "/api/shop-answers/faq/coupon",
        json={"variants": ["好评返现，刷 单也可以"], "revision": 0},
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "sensitive_words",
        "message": "包含不允许的词：「刷 单」",
    }
    placeholder = staff.put(
        "/api/shop-answers/faq/coupon", json={"variants": ["送{赠品}"], "revision": 0}
    )
    assert placeholder.status_code == 422
    assert placeholder.json()["error"]["code"] == "invalid_answer"
    assert "没有这个占位符：{赠品}" in placeholder.json()["error"]["message"]
    for body in ({"variants": [], "revision": 0}, {"variants": ["x" * 1001], "revision": 0},
                 {"variants": ["好"], "revision": -1}, {"variants": ["  "], "revision": 0}):  # fmt: skip
        assert staff.put("/api/shop-answers/faq/coupon", json=body).status_code == 422, body
    assert mini_services.answers.version() == 0 and mini_services.answers.history() == []


def test_policy_by_admins_with_revision_and_audit(app, mini_services):
    boss = bearer(app, "boss")
    policy = boss.get("/api/shop-policy").json()
    assert (policy["return_days"], policy["exchange_days"], policy["revision"]) == (7, 15, 0)
    assert {f["field"]: f["placeholder"] for f in policy["fields"]}["free_shipping_threshold"] == (
        "{包邮门槛}"
    )
    saved = boss.put("/api/shop-policy", json={"return_days": 15, "revision": 0})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["return_days"], saved.json()["exchange_days"]) == (15, 15)
    assert (saved.json()["revision"], saved.json()["updated_by"]) == (1, "boss")
    assert boss.put("/api/shop-policy", json={"return_days": 30, "revision": 0}).status_code == 409
    too_short = boss.put("/api/shop-policy", json={"return_days": 3, "revision": 1})
    assert too_short.status_code == 422
    assert too_short.json()["error"]["message"] == "无理由退货天数应在 7 到 90 天之间"
    assert (
        boss.put("/api/shop-policy", json={"shipping_fee": "8", "revision": 1}).status_code == 422
    )
    assert mini_services.answers.current().policy.return_days == 15
    records, _ = mini_services.store.audit_log(target="shop_policy")
    assert [(r.action, r.before["terms"]["return_days"], r.after["terms"]["return_days"])
            for r in records] == [("policy_update", 7, 15)]  # fmt: skip


def test_console_page(app):
    staff = bearer(app, "staff1")
    staff.put("/api/shop-answers/faq/shipping", json={"variants": [SHIPPING], "revision": 0})
    page = staff.get("/console/answers")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/console/answers" class="active" aria-current="page">店铺问答</a>' in html
    assert "配送与运费" in html and SHIPPING in html and "staff1" in html
    read_only = 'name="return_days" value="7" min="7" max="90" step="1" required data-placeholder="{无理由退货天数}" disabled>'
    assert read_only in html and "保存店铺政策" not in html  # staff read the policy
    admin_page = bearer(app, "boss").get("/console/answers").text
    assert read_only.replace(" disabled>", ">") in admin_page and "保存店铺政策" in admin_page
    assert '<script src="/static/console/answers.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html)  # no inline script
    nav = bearer(app, "boss").get("/console/dashboard").text
    assert 'href="/console/answers"' in nav

"""Console accounts over the API: login sessions, CSRF, throttling, roles, the merchant's own
products, the audit log, and account administration."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from web import auth
from web.accounts import create_account
from web.app import create_app

PASSWORD = "correct-horse-9"
PHONE = "PH-XM-14-256"  # merchant m001
SHOE = "SH-NK-PEG40-42"  # merchant m002
ORIGIN = "http://testserver"


@pytest.fixture()
def app(mini_services):
    store = mini_services.store
    create_account(store, "admin", PASSWORD, "admin")
    create_account(store, "staff1", PASSWORD, "staff")
    create_account(store, "m1", PASSWORD, "merchant", "m001")
    create_account(store, "m2", PASSWORD, "merchant", "m002")
    return create_app(mini_services)


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app)
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = client.cookies["csrf_token"]
    client.headers["Origin"] = ORIGIN
    return client


def bearer(app, username: str) -> TestClient:
    token = (
        TestClient(app)
        .post("/api/auth/login", json={"username": username, "password": PASSWORD})
        .json()["token"]
    )
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_login_sets_an_httponly_session_and_a_csrf_cookie(app):
    client = TestClient(app)
    response = client.post("/api/auth/login", json={"username": "m1", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "merchant" and body["merchant_id"] == "m001" and body["token"]
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("daogou_session="))
    csrf = next(c for c in cookies if c.startswith("csrf_token="))
    assert "httponly" in session.lower() and "samesite=lax" in session.lower()
    assert "httponly" not in csrf.lower()
    assert client.get("/api/auth/me").json() == {
        "username": "m1",
        "role": "merchant",
        "merchant_id": "m001",
    }


def test_wrong_password_and_unknown_user_get_the_same_answer(app):
    client = TestClient(app)
    wrong = client.post("/api/auth/login", json={"username": "m1", "password": "nope-nope"})
    unknown = client.post("/api/auth/login", json={"username": "ghost", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert client.get("/api/auth/me").status_code == 401


def test_repeated_failures_are_throttled_even_with_the_right_password(app):
    client = TestClient(app)
    for _ in range(auth.MAX_FAILURES_PER_USER):
        client.post("/api/auth/login", json={"username": "m1", "password": "wrong-pass"})
    response = client.post("/api/auth/login", json={"username": "m1", "password": PASSWORD})
    assert response.status_code == 429 and response.json()["error"]["code"] == "too_many_attempts"
    # another user from the same client is not locked out by m1's failures
    assert (
        client.post("/api/auth/login", json={"username": "m2", "password": PASSWORD}).status_code
        == 200
    )


def test_login_rotates_the_session_and_logout_revokes_it(app):
    client = signed_in(app, "m1")
    first = client.cookies["daogou_session"]
    client.post("/api/auth/login", json={"username": "m1", "password": PASSWORD})
    second = client.cookies["daogou_session"]
    assert first != second
    stale = TestClient(app, headers={"Authorization": f"Bearer {first}"})
    assert stale.get("/api/auth/me").status_code == 401  # the old token was revoked
    client.headers["X-CSRF-Token"] = client.cookies["csrf_token"]
    assert client.post("/api/auth/logout").status_code == 200
    again = TestClient(app, headers={"Authorization": f"Bearer {second}"})
    assert again.get("/api/auth/me").status_code == 401


def test_cookie_writes_need_the_csrf_token_and_our_origin(app):
    client = signed_in(app, "m1")
    change = {"stock": 7}
    no_token = client.patch(f"/api/products/{PHONE}", json=change, headers={"X-CSRF-Token": ""})
    assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrf_failed"
    wrong = client.patch(f"/api/products/{PHONE}", json=change, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    foreign = client.patch(
        f"/api/products/{PHONE}", json=change, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "bad_origin"
    assert client.patch(f"/api/products/{PHONE}", json=change).status_code == 200


def test_bearer_scripts_need_no_csrf(app):
    script = bearer(app, "m1")
    response = script.patch(f"/api/products/{PHONE}", json={"price": 3799})
    assert response.status_code == 200 and response.json()["price"] == 3799.0


def test_merchant_edits_only_their_own_products_and_the_chat_sees_it(app, mini_services):
    m1 = signed_in(app, "m1")
    before = m1.get(f"/api/products/{PHONE}").json()
    edited = m1.patch(
        f"/api/products/{PHONE}", json={"price": 3699, "revision": before["revision"]}
    )
    assert edited.status_code == 200
    assert edited.json()["price"] == 3699.0 and edited.json()["revision"] == before["revision"] + 1
    assert mini_services.catalog.current().graph.products[PHONE].price == 3699.0
    other = m1.patch(f"/api/products/{SHOE}", json={"price": 1})
    assert other.status_code == 403
    assert m1.delete(f"/api/products/{SHOE}").status_code == 403
    assert mini_services.catalog.current().graph.products[SHOE].price != 1


def test_a_stale_edit_is_refused_and_loses_nothing(app):
    m1 = signed_in(app, "m1")
    revision = m1.get(f"/api/products/{PHONE}").json()["revision"]
    assert m1.patch(f"/api/products/{PHONE}", json={"stock": 5, "revision": revision}).is_success
    stale = m1.patch(f"/api/products/{PHONE}", json={"stock": 6, "revision": revision})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    assert m1.get(f"/api/products/{PHONE}").json()["stock"] == 5


def test_create_and_delete_with_the_merchants_own_id(app, mini_services):
    m2 = signed_in(app, "m2")
    new = {
        "sku": "SH-TEST-NEW-41",
        "title": "测试 跑鞋 41码",
        "brand": "新锐运动",  # a brand the catalog does not know yet is added
        "category": "跑步鞋",
        "price": 499,
        "stock": 12,
        "merchant_id": "m001",  # ignored: a merchant always writes as themselves
        "attributes": {"尺码": [41]},
    }
    created = m2.post("/api/products", json=new)
    assert created.status_code == 201, created.text
    assert created.json()["merchant_id"] == "m002" and created.json()["price"] == 499.0
    view = mini_services.catalog.current()
    assert view.graph.products["SH-TEST-NEW-41"].brand == "新锐运动"
    assert m2.post("/api/products", json=new).status_code == 409
    assert (
        m2.post("/api/products", json={**new, "sku": "X-1", "category": "飞机"}).status_code == 422
    )
    assert m2.delete("/api/products/SH-TEST-NEW-41").status_code == 204
    assert m2.get("/api/products/SH-TEST-NEW-41").status_code == 404
    assert "SH-TEST-NEW-41" not in mini_services.catalog.current().graph.products


def test_bad_edits_are_clear_client_errors(app):
    m1 = signed_in(app, "m1")
    assert m1.patch(f"/api/products/{PHONE}", json={"price": -5}).status_code == 422
    assert m1.patch(f"/api/products/{PHONE}", json={}).status_code == 422
    assert m1.patch("/api/products/NOPE-404", json={"stock": 1}).status_code == 404
    malformed = m1.patch(
        f"/api/products/{PHONE}", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422


def test_roles(app):
    anonymous = TestClient(app)
    assert anonymous.patch(f"/api/products/{PHONE}", json={"stock": 1}).status_code == 401
    assert anonymous.get("/api/audit").status_code == 401
    staff = signed_in(app, "staff1")
    assert staff.patch(f"/api/products/{PHONE}", json={"stock": 1}).status_code == 403
    assert staff.get("/api/accounts").status_code == 403
    assert signed_in(app, "m1").get("/api/accounts").status_code == 403
    admin = signed_in(app, "admin")
    assert admin.patch(f"/api/products/{SHOE}", json={"stock": 3}).status_code == 200


def test_audit_log_is_scoped_to_the_merchant(app):
    m1, m2, admin = signed_in(app, "m1"), signed_in(app, "m2"), signed_in(app, "admin")
    m1.patch(f"/api/products/{PHONE}", json={"price": 3599})
    m2.patch(f"/api/products/{SHOE}", json={"stock": 2})
    own = m1.get("/api/audit").json()
    assert [(e["target"], e["actor"], e["action"]) for e in own["items"]] == [
        (PHONE, "m1", "update")
    ]
    entry = own["items"][0]
    assert entry["before"]["price"] == 3999.0 and entry["after"]["price"] == 3599.0
    assert {e["target"] for e in admin.get("/api/audit").json()["items"]} == {PHONE, SHOE}


def test_admin_disables_an_account_and_its_sessions_end(app):
    admin, m1 = signed_in(app, "admin"), signed_in(app, "m1")
    accounts = admin.get("/api/accounts").json()["items"]
    m1_id = next(a["id"] for a in accounts if a["username"] == "m1")
    assert admin.patch(f"/api/accounts/{m1_id}", json={"disabled": True}).json()["disabled"]
    assert m1.get("/api/auth/me").status_code == 401
    login = TestClient(app).post("/api/auth/login", json={"username": "m1", "password": PASSWORD})
    assert login.status_code == 401


def test_password_change_and_admin_reset_code(app):
    m1 = signed_in(app, "m1")
    other_device = bearer(app, "m1")
    changed = m1.post(
        "/api/auth/password", json={"old_password": PASSWORD, "new_password": "new-secret-12"}
    )
    assert changed.status_code == 200
    assert m1.get("/api/auth/me").status_code == 200  # this session stays
    assert other_device.get("/api/auth/me").status_code == 401  # the others end
    admin = signed_in(app, "admin")
    m1_id = next(
        a["id"] for a in admin.get("/api/accounts").json()["items"] if a["username"] == "m1"
    )
    code = admin.post(f"/api/accounts/{m1_id}/reset-code").json()["code"]
    anonymous = TestClient(app)
    reset = {"username": "m1", "code": code, "new_password": "after-reset-34"}
    assert anonymous.post("/api/auth/reset", json=reset).status_code == 200
    assert anonymous.post("/api/auth/reset", json=reset).status_code == 400  # one time only
    login = anonymous.post("/api/auth/login", json={"username": "m1", "password": "after-reset-34"})
    assert login.status_code == 200

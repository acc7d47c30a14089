"""The consoles' shared pages: login, landing by role, the page form of the role check."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from web.accounts import create_account
from web.app import create_app

PASSWORD = "correct-horse-9"


@pytest.fixture()
def app(mini_services):
    create_account(mini_services.store, "staff1", PASSWORD, "staff")
    create_account(mini_services.store, "m1", PASSWORD, "merchant", "m001")
    return create_app(mini_services)


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    return client


def test_pages_without_a_session_go_to_the_login_page_and_back(app):
    client = TestClient(app, follow_redirects=False)
    response = client.get("/console/password")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/password"
    page = client.get("/console/login", params={"next": "/console/password"})
    assert page.status_code == 200 and 'data-next="/console/password"' in page.text
    assert "导购控制台" in page.text and page.headers["cache-control"] == "no-store"


def test_login_never_redirects_to_another_site(app):
    page = TestClient(app).get("/console/login", params={"next": "https://evil.example/x"})
    assert 'data-next=""' in page.text
    page = TestClient(app).get("/console/login", params={"next": "//evil.example"})
    assert 'data-next=""' in page.text


def test_landing_page_by_role(app):
    assert signed_in(app, "staff1").get("/console").headers["location"] == "/console/conversations"
    assert signed_in(app, "m1").get("/console").headers["location"] == "/console/products"
    assert TestClient(app, follow_redirects=False).get("/console").headers["location"] == (
        "/console/login"
    )


def test_a_signed_in_page_shows_the_navigation_of_the_role(app):
    staff = signed_in(app, "staff1").get("/console/password")
    assert staff.status_code == 200
    assert "对话记录" in staff.text and "商品" not in staff.text.split("console-nav")[1][:600]
    merchant = signed_in(app, "m1").get("/console/password")
    assert "批量导入" in merchant.text and "对话记录" not in merchant.text

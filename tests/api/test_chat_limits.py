"""/api/chat and Rasa's rate limits (web/routes/chat.py, bot/channels/guard.py): every message
reaches Rasa from the web app's own address, so the caller's address goes along with the proxy
token, and the channel's polite 429 comes back to the storefront as it is."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.channels.guard import PROXY_HEADER, THROTTLED_TEXT
from tests.api.test_widget_api import client, key, settings  # noqa: F401 (fixtures)


class ThrottlingRasa:
    """Stands in for httpx.AsyncClient: Rasa's REST channel answering with `answer`."""

    sent: list[dict[str, Any]] = []
    answer: httpx.Response

    def __init__(self, **_: Any) -> None:
        pass

    async def __aenter__(self) -> ThrottlingRasa:
        return self

    async def __aexit__(self, *_: Any) -> None:
        return None

    async def post(self, url: str, json: dict, headers: dict) -> httpx.Response:
        ThrottlingRasa.sent.append({"url": url, "json": json, "headers": headers})
        return ThrottlingRasa.answer


@pytest.fixture()
def rasa(monkeypatch) -> type[ThrottlingRasa]:
    import web.routes.chat

    ThrottlingRasa.sent = []
    ThrottlingRasa.answer = httpx.Response(200, json=[{"recipient_id": "?", "text": "您好"}])
    monkeypatch.setattr(web.routes.chat.httpx, "AsyncClient", ThrottlingRasa)
    return ThrottlingRasa


def test_the_callers_address_goes_to_rasa_with_the_proxy_token(client, settings, rasa):  # noqa: F811
    assert client.post("/api/chat", json={"message": "你好"}).status_code == 200
    (request,) = rasa.sent
    assert request["headers"]["X-Forwarded-For"] == "testclient"  # TestClient's address
    assert request["headers"][PROXY_HEADER] == settings.rasa_token


def test_a_forged_forwarded_for_is_not_passed_on(client, rasa):  # noqa: F811
    client.post("/api/chat", json={"message": "你好"}, headers={"X-Forwarded-For": "1.2.3.4"})
    assert rasa.sent[0]["headers"]["X-Forwarded-For"] == "testclient"


def test_the_channels_429_comes_back_as_it_is(client, rasa):  # noqa: F811
    polite = [{"recipient_id": "s-1", "text": THROTTLED_TEXT}]
    rasa.answer = httpx.Response(429, json=polite, headers={"Retry-After": "3"})
    response = client.post("/api/chat", json={"message": "在吗"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json() == polite
    # A first message that is throttled still issues the shopper's identity.
    assert "daogou_shopper" in response.cookies


def test_the_product_page_goes_along_as_metadata(client, rasa):  # noqa: F811
    page = {"product_sku": "PH-HW-MATE60PRO-256"}
    assert client.post("/api/chat", json={"message": "这款多少钱", "metadata": page}).is_success
    assert client.post("/api/chat", json={"message": "你好"}).is_success
    assert [r["json"] for r in rasa.sent] == [
        {"message": "这款多少钱", "metadata": page},
        {"message": "你好"},
    ]
    too_long = {"product_sku": "x" * 65}
    refused = client.post("/api/chat", json={"message": "这款", "metadata": too_long})
    assert refused.status_code == 422 and len(rasa.sent) == 2

"""A shop edits its shipping answer through the web app's API, and the running bot (real Rasa
model, real action server) says the new text to the next shopper who asks: no training, no
restart. The web app is built in-process over the bot's database; the answer is reset to the
trained text afterwards, so the other conversations hear what they always heard."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from daogou.container import build_services
from daogou.db import migrate
from web.accounts import create_account
from web.app import create_app

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-9"
QUESTION = "多少钱包邮"


@pytest.fixture(scope="module")
def staff(bot, settings) -> Iterator[TestClient]:
    migrate(settings.database_url)  # the shop_answers tables, should this var/ predate them
    services = build_services(settings, "web")
    app = create_app(services)
    username = f"answers-{uuid.uuid4().hex[:6]}"
    create_account(services.store, username, PASSWORD, "staff")
    login = TestClient(app).post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    yield TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def said(bot, text: str) -> list[str | None]:
    return [reply.get("text") for reply in bot.say(f"e2e-answers-{uuid.uuid4().hex[:8]}", text)]


def test_the_bot_says_the_edited_shipping_answer_at_once(bot, staff):
    parsed = bot.parse(QUESTION)
    assert parsed["response_selector"]["default"]["response"]["intent_response_key"] == (
        "faq/shipping"
    )
    current = staff.get("/api/shop-answers/faq/shipping").json()
    assert said(bot, QUESTION)[0] in current["variants"]

    new_text = f"本店全场满39元包邮，不满39元收运费5元（{uuid.uuid4().hex[:4]}号规则）。"
    saved = staff.put(
        "/api/shop-answers/faq/shipping",
        json={"variants": [new_text], "revision": current["revision"]},
    )
    assert saved.status_code == 200, saved.text
    try:
        # the action server checks the answers' version at most once a second
        deadline, answer = time.monotonic() + 10, None
        while time.monotonic() < deadline:
            answer = said(bot, QUESTION)
            if answer == [new_text]:
                break
            time.sleep(0.5)
        assert answer == [new_text]
    finally:
        reset = staff.delete(
            "/api/shop-answers/faq/shipping", params={"revision": saved.json()["revision"]}
        )
        assert reset.status_code == 200, reset.text

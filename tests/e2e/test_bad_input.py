"""Hostile and odd input through the REST webhook: a sensible reply, never an error."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conversations import reply_products, reply_texts

pytestmark = pytest.mark.e2e

ODD_MESSAGES = [
    "",
    "   ",
    "很" * 10_000,
    "😀😀😀🙏",
    "<script>alert('x')</script><b>手机</b>",
    "'; DROP TABLE products; -- 手机",
    "手机\x00\x07\x1b[31m多少钱",
    "/restart",
    '/search_product{"brand": "华为"}',
    "ｍａｔｅ６０ ＰＲＯ 多少钱",
]


@pytest.mark.parametrize("message", ODD_MESSAGES, ids=range(len(ODD_MESSAGES)))
def test_odd_message_gets_a_reply_and_the_next_turn_works(bot, message):
    sender = f"odd-{abs(hash(message)) % 10**8}"
    replies = bot.say(sender, message)
    assert isinstance(replies, list)
    follow_up = bot.say(sender, "华为Mate60 Pro多少钱")
    assert "元" in reply_texts(follow_up)
    assert reply_products(follow_up)


def test_malformed_json_is_a_client_error(bot):
    response = httpx.post(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        content=b'{"sender": "x", "message": ',
        headers={"Content-Type": "application/json", **bot.auth("x")},
        timeout=30,
    )
    assert 400 <= response.status_code < 500


def test_non_string_message_does_not_crash(bot):
    response = httpx.post(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        json={"sender": "num", "message": 12345},
        headers=bot.auth("num"),
        timeout=30,
    )
    assert response.status_code == 200

"""The chat guard (bot/channels/guard.py) in front of the real bot, with the launcher's default
limits (10 at once per shopper, then one a second): one shopper's flood is slowed with the
polite 429 while a shopper on another loopback address gets a real answer meanwhile, and a
message with a sensitive word is refused politely and never reaches the tracker. Bounded: one
flood of 14 messages. Exact limits, per-address limits and forged headers: tests/rasa/test_chat_guard.py.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from bot.channels.guard import BLOCKED_TEXT, THROTTLED_TEXT
from cn_text.ratelimit import loopback_address
from tests.e2e.test_socketio_channel import tracker, user_turns

pytestmark = pytest.mark.e2e


async def _post(bot, sender: str, address: str, text: str) -> httpx.Response:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(transport=transport, timeout=60) as http:
        return await http.post(
            f"{bot.rasa_url}/webhooks/rest/webhook",
            json={"message": text},
            headers=bot.auth(sender),
        )


def test_a_flood_is_slowed_while_another_shopper_is_answered(bot):
    flooder, other = f"flood-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    flooder_address = loopback_address(flooder)
    other_address = next(f"127.0.0.{x}" for x in range(2, 255) if f"127.0.0.{x}" != flooder_address)

    bot.agree(flooder)
    bot.agree(other)  # as every test shopper (tests/e2e/conftest.py)

    async def scenario() -> tuple[list[httpx.Response], httpx.Response]:
        # All at once, so that the refill (one a second) cannot blur the count.
        flood = [_post(bot, flooder, flooder_address, "你好") for _ in range(14)]
        calm = _post(bot, other, other_address, "华为Mate60 Pro多少钱")
        *answers, answer = await asyncio.gather(*flood, calm)
        return answers, answer

    answers, answer = asyncio.run(scenario())
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 10 + [429] * 4
    throttled = [a for a in answers if a.status_code == 429]
    assert all(a.json() == [{"recipient_id": flooder, "text": THROTTLED_TEXT}] for a in throttled)
    assert all(1 <= int(a.headers["Retry-After"]) <= 2 for a in throttled)
    assert user_turns(tracker(bot, flooder)) == 10  # only what was let through reached the bot
    # The other shopper got the bot's real answer during the flood.
    assert answer.status_code == 200
    assert any("元" in (m.get("text") or "") for m in answer.json()), answer.json()


def test_sensitive_input_is_refused_and_never_reaches_the_tracker(bot):
    sender = f"words-{uuid.uuid4().hex[:8]}"
    assert bot.say(sender, "你好")
    assert bot.say(sender, "可以帮忙刷 单吗，有佣金") == [
        {"recipient_id": sender, "text": BLOCKED_TEXT}
    ]
    typed = [e["text"] for e in tracker(bot, sender)["events"] if e["event"] == "user"]
    assert typed == ["你好"]

"""Handoff: the bot pauses, keeps what the shopper writes for staff, puts the request in the
staff queue, and cannot be un-paused by typing commands. (Staff taking it, the holding messages
and the way back to the bot: tests/e2e/test_handoff_live.py.)"""

from __future__ import annotations

import uuid

import httpx
import pytest

from daogou.db import migrate
from knowledge_graph.conversations import flags_of
from knowledge_graph.handoff import WAITING, HandoffQueue
from knowledge_graph.store import CatalogStore

pytestmark = pytest.mark.e2e


def tracker(bot, sender: str) -> dict:
    response = httpx.get(
        f"{bot.rasa_url}/conversations/{sender}/tracker", params={"token": bot.token}, timeout=30
    )
    assert response.status_code == 200
    return response.json()


def test_handoff_pauses_and_keeps_messages(bot, settings):
    migrate(settings.database_url)  # the handoffs table, should this var/ predate it
    sender = f"handoff-{uuid.uuid4().hex[:8]}"
    first = bot.say(sender, "我要转人工客服")
    assert "人工" in " ".join(r.get("text", "") for r in first)
    for text in ("手机屏幕碎了能修吗", "/restart", '/greet{"brand": "x"}', "你好"):
        assert bot.say(sender, text) == []
    state = tracker(bot, sender)
    assert state["paused"] is True
    typed = [e["text"] for e in state["events"] if e["event"] == "user"]
    assert "手机屏幕碎了能修吗" in typed and "你好" in typed
    flags = flags_of(CatalogStore.from_url(settings.database_url), sender)
    assert [f["kind"] for f in flags] == ["handoff"]
    # One request in the queue, however often the shopper wrote (REST replies nothing more:
    # holding messages come from the web app over the Socket.IO channel).
    request = HandoffQueue(CatalogStore.from_url(settings.database_url)).open_for(sender)
    assert request is not None and request.status == WAITING
    assert request.request_text == "我要转人工客服"


def test_rasa_api_needs_the_token(bot):
    response = httpx.get(f"{bot.rasa_url}/conversations/anyone/tracker", timeout=30)
    assert response.status_code in (401, 403)

"""bot/patches/action_timeout.py against real HTTP: an action server that sleeps 5 s, one that
refuses the connection and one that answers 500 each get the shopper the polite reply for the
action within 3 s, with the bot listening after it; a rejection (400) is Rasa's as before; the
timeout comes from endpoints.yml; after three failures in a row the bot answers at once without
calling, and once the server answers again, so does the bot, with nothing restarted."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    FollowupAction,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.patches import action_timeout

REPO_ROOT = Path(__file__).resolve().parents[2]
QUESTION = "有没有三千以内的华为手机"
PRODUCTS_REPLY = "抱歉，商品查询暂时有点忙，请稍后再试一次～ 您也可以输入“转人工”联系客服。"
ORDERS_REPLY = "抱歉，订单查询暂时不可用，请稍后再试一次～ 您也可以输入“转人工”联系客服。"
ANSWER = {
    "events": [{"event": "slot", "name": "shown_products", "value": ["PH-HW-NOVA12"]}],
    "responses": [{"text": "为您找到这些3000元以内的华为手机", "custom": {"type": "products"}}],
}


@dataclass
class FakeActionServer:
    """One port; `mode` decides the next answer: slow (5 s), error (500), reject (400), ok."""

    mode: str = "ok"
    calls: list[str] = field(default_factory=list)
    url: str = ""

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(body["next_action"])
        if self.mode == "slow":
            await asyncio.sleep(5)
        if self.mode == "error":
            return web.Response(status=500, text="Internal Server Error")
        if self.mode == "reject":
            rejection = {"action_name": body["next_action"], "error": "not now"}
            return web.json_response(rejection, status=400)
        return web.json_response(ANSWER)


@asynccontextmanager
async def fake_action_server(mode: str) -> AsyncIterator[FakeActionServer]:
    server = FakeActionServer(mode)
    app = web.Application()
    app.router.add_post("/webhook", server.webhook)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=0.1)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}/webhook"
    try:
        yield server
    finally:
        await runner.cleanup()


def refused_url() -> str:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhook"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "bot" / "domain"))


@pytest.fixture(autouse=True)
def patched() -> Iterator[None]:
    action_timeout.check()
    action_timeout.apply()
    action_timeout.reset_breakers()
    yield
    action_timeout.reset_breakers()


def tracker_after_question(domain: Domain) -> DialogueStateTracker:
    events = [
        ActionExecuted("action_listen"),
        UserUttered(QUESTION, intent={"name": "search_product", "confidence": 0.99}),
    ]
    return DialogueStateTracker.from_events("shopper-1", events, slots=domain.slots)


async def timed_run(
    domain: Domain, url: str, action: str = "action_search_products", **endpoint: Any
) -> tuple[list[Any], float]:
    remote = RemoteAction(action, EndpointConfig.from_dict({"url": url, **endpoint}))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    started = time.monotonic()
    events = await remote.run(
        CollectingOutputChannel(), nlg, tracker_after_question(domain), domain
    )
    return events, time.monotonic() - started


def assert_polite_reply(events: list[Any], text: str) -> None:
    assert [type(e) for e in events] == [BotUttered, FollowupAction]
    assert events[0].text == text
    assert events[1].action_name == "action_listen"


def test_a_slow_server_gets_the_polite_reply_within_three_seconds(domain):
    async def scenario() -> tuple[list[Any], float, list[str]]:
        async with fake_action_server("slow") as server:
            events, elapsed = await timed_run(domain, server.url)
            return events, elapsed, server.calls

    events, elapsed, calls = asyncio.run(scenario())
    assert calls == ["action_search_products"]  # it was asked, and not waited for
    assert 2.4 <= elapsed < 3.0
    assert_polite_reply(events, PRODUCTS_REPLY)


def test_a_refused_connection_gets_the_polite_reply_at_once(domain):
    events, elapsed = asyncio.run(timed_run(domain, refused_url()))
    assert elapsed < 1.0
    assert_polite_reply(events, PRODUCTS_REPLY)


def test_a_server_error_gets_the_reply_for_that_action(domain):
    async def scenario() -> tuple[list[Any], float]:
        async with fake_action_server("error") as server:
            return await timed_run(domain, server.url, "action_order_status")

    events, elapsed = asyncio.run(scenario())
    assert elapsed < 1.0
    assert_polite_reply(events, ORDERS_REPLY)


def test_an_answering_server_is_answered_as_rasa_does(domain):
    async def scenario() -> list[Any]:
        async with fake_action_server("ok") as server:
            events, _ = await timed_run(domain, server.url)
            return events

    events = asyncio.run(scenario())
    assert [type(e) for e in events] == [BotUttered, SlotSet]
    assert events[0].text == "为您找到这些3000元以内的华为手机"
    assert events[1].key == "shown_products" and events[1].value == ["PH-HW-NOVA12"]


def test_a_rejection_is_still_rasas_and_not_counted_as_an_outage(domain):
    async def scenario() -> None:
        async with fake_action_server("reject") as server:
            for _ in range(action_timeout.FAILURES_TO_OPEN + 1):
                with pytest.raises(ActionExecutionRejection):
                    await timed_run(domain, server.url)
            assert len(server.calls) == action_timeout.FAILURES_TO_OPEN + 1

    asyncio.run(scenario())


def test_the_timeout_comes_from_the_endpoint_configuration(domain):
    async def scenario() -> tuple[list[Any], float]:
        async with fake_action_server("slow") as server:
            return await timed_run(domain, server.url, timeout=0.5)

    events, elapsed = asyncio.run(scenario())
    assert 0.45 <= elapsed < 1.0
    assert_polite_reply(events, PRODUCTS_REPLY)
    for written, seconds in ((2.5, 2.5), ("1.5", 1.5), (None, 2.5), ("abc", 2.5), (0, 2.5)):
        endpoint = EndpointConfig.from_dict({"url": "http://x/webhook", "timeout": written})
        assert action_timeout.timeout_of(endpoint) == seconds


def test_the_breaker_fails_fast_then_lets_the_recovered_server_answer(domain, monkeypatch):
    monkeypatch.setattr(action_timeout, "OPEN_SECONDS", 1.0)

    async def scenario() -> None:
        async with fake_action_server("slow") as server:
            for _ in range(action_timeout.FAILURES_TO_OPEN):
                events, elapsed = await timed_run(domain, server.url, timeout=0.3)
                assert_polite_reply(events, PRODUCTS_REPLY)
            assert len(server.calls) == 3
            # open: answered at once, the server is not called
            events, elapsed = await timed_run(domain, server.url, timeout=0.3)
            assert_polite_reply(events, PRODUCTS_REPLY)
            assert elapsed < 0.1 and len(server.calls) == 3
            # the server recovers; after the open period the next message is answered normally
            server.mode = "ok"
            await asyncio.sleep(1.05)
            events, _ = await timed_run(domain, server.url, timeout=0.3)
            assert events[0].text == "为您找到这些3000元以内的华为手机"
            assert len(server.calls) == 4
            # one success closed it: the next failure alone does not fail fast
            server.mode = "error"
            await timed_run(domain, server.url, timeout=0.3)
            await timed_run(domain, server.url, timeout=0.3)
            assert len(server.calls) == 6

    asyncio.run(scenario())


def test_the_failed_turn_leaves_no_slot_and_listens_next(domain):
    """As the processor logs an action: its ActionExecuted, then its events; the next action is
    forced to be action_listen, and no slot was touched."""
    events, _ = asyncio.run(timed_run(domain, refused_url()))
    tracker = tracker_after_question(domain)
    slots_before = tracker.current_slot_values()
    tracker.update(ActionExecuted("action_search_products"))
    tracker.update_with_events(events, domain)
    assert tracker.followup_action == "action_listen"
    assert tracker.current_slot_values() == slots_before
    assert tracker.latest_bot_utterance.text == PRODUCTS_REPLY


def test_every_action_of_the_domain_has_chinese_wording(domain):
    for action in domain.user_actions:
        text = action_timeout.wording(action)
        assert text.startswith(("抱歉", "谢谢")) and "暂时" in text, action
    assert action_timeout.wording("action_order_status") == ORDERS_REPLY
    assert action_timeout.wording("action_greet") == action_timeout.DEFAULT_WORDING
    assert set(action_timeout.WORDING) <= set(domain.user_actions)


def test_breaker_counts_consecutive_failures_only():
    now = [100.0]
    breaker = action_timeout.Breaker(failures_to_open=2, open_seconds=5.0, clock=lambda: now[0])
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert not breaker.is_open()
    breaker.failed()
    assert breaker.is_open()
    now[0] += 5.0
    assert not breaker.is_open()  # half open: the next call goes through
    breaker.failed()
    assert breaker.is_open()  # and one more failure opens it again at once
    breaker.succeeded()
    assert not breaker.is_open() and breaker.failures == 0

"""The chat channels' guard (bot/channels/guard.py) in Rasa's REST and Socket.IO channels, run
by the Rasa Python: a real Sanic server on loopback with a stand-in agent (no model), shoppers
on their own loopback addresses (127.0.0.x), and the guard on a fake clock so that nothing
depends on how fast this machine is. Bounded: every test sends a few dozen messages at most.

Run: .venv-rasa/bin/python -m pytest -q -p no:cacheprovider --confcutdir=tests/rasa \
     tests/rasa/test_chat_guard.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
import socketio
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.guard import (
    ABUSE_TEXT,
    BLOCKED_TEXT,
    PROXY_HEADER,
    THROTTLED_TEXT,
    ChatGuard,
)
from bot.channels.rest import ShopperRestInput
from bot.channels.socketio import ProductSocketIOInput
from cn_text.ratelimit import Rate, TrustedProxies

KEY = "the-shops-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PROXY_TOKEN = "the-rasa-token-0123456789"
REPLY = "好的，马上为您查询"
WORDS = Path(__file__).resolve().parents[2] / "data" / "moderation" / "sensitive_words.txt"


def token(sender: str) -> str:
    now = int(time.time())
    claims = {"sub": sender, "iat": now, "exp": now + 600, "typ": "shopper"}
    return jwt.encode(claims, KEY, algorithm="HS256")


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(per_shopper: str = "10/10", per_ip: str = "60/10", **options: Any) -> ChatGuard:
    """A guard on a fake clock: tokens come back only when a test moves `guard.clock.now`."""
    clock = Clock()
    built = ChatGuard(Rate.parse(per_shopper), Rate.parse(per_ip), clock=clock, **options)
    built.clock = clock  # type: ignore[attr-defined]
    return built


class Agent:
    """Stands in for Rasa's agent: records what reached the bot and answers every message."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.metadata: list[dict[str, Any]] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append((message.sender_id, message.text))
        self.metadata.append(message.metadata)
        await message.output_channel.send_text_message(message.sender_id, REPLY)

    def texts_of(self, sender: str) -> list[str]:
        return [text for who, text in self.received if who == sender]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(channel: Any) -> AsyncIterator[tuple[str, Agent]]:
    """The channel in a Sanic app on 127.0.0.1, wired as Rasa wires it (`register`)."""
    Sanic.test_mode = True  # one app per test in this process
    app = Sanic(f"guard_{uuid.uuid4().hex[:8]}")
    app.config.ACCESS_LOG = False
    app.ctx.agent = Agent()
    register([channel], app, "/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}", app.ctx.agent
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


# -- REST ------------------------------------------------------------------------------------


class RestShopper:
    """A shopper posting to the REST channel from its own loopback address."""

    def __init__(self, url: str, sender: str, address: str) -> None:
        self.url, self.sender = f"{url}/webhooks/rest/webhook", sender
        connector = aiohttp.TCPConnector(local_addr=(address, 0))
        self.http = aiohttp.ClientSession(connector=connector)

    async def say(self, text: str, **headers: str) -> tuple[int, str | None, Any]:
        headers = {"Authorization": f"Bearer {token(self.sender)}", **headers}
        async with self.http.post(self.url, json={"message": text}, headers=headers) as answer:
            return answer.status, answer.headers.get("Retry-After"), await answer.json()

    async def close(self) -> None:
        await self.http.close()


def rest(per_shopper: str = "10/10", per_ip: str = "60/10", **options: Any) -> ShopperRestInput:
    return ShopperRestInput(KEY, "HS256", guard(per_shopper, per_ip, **options))


def test_rest_a_flood_is_slowed_while_another_shopper_is_answered():
    channel = rest(per_shopper="5/10")  # 5 at once, then one every 2 s

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            flooder = RestShopper(url, "flooder", "127.0.0.2")
            other = RestShopper(url, "other", "127.0.0.3")
            answers, others = [], []
            for i in range(20):
                answers.append(await flooder.say(f"第{i}条"))
                if i % 5 == 4:  # the other shopper talks during the flood
                    others.append(await other.say("有没有三千以内的华为手机"))
            await asyncio.gather(flooder.close(), other.close())

            statuses = [status for status, _, _ in answers]
            assert statuses == [200] * 5 + [429] * 15
            assert answers[0][2] == [{"recipient_id": "flooder", "text": REPLY}]
            assert answers[5][1:] == ("2", [{"recipient_id": "flooder", "text": THROTTLED_TEXT}])
            assert others == [(200, None, [{"recipient_id": "other", "text": REPLY}])] * 4
            # Only the allowed messages reached the bot.
            assert agent.texts_of("flooder") == [f"第{i}条" for i in range(5)]
            assert len(agent.texts_of("other")) == 4

            channel.guard.clock.now += 2.0  # one message's worth of time
            again = RestShopper(url, "flooder", "127.0.0.2")
            assert [(await again.say("还在吗"))[0] for _ in range(2)] == [200, 429]
            await again.close()

    run(scenario)


def test_rest_two_shoppers_behind_one_address_share_its_limit():
    channel = rest(per_shopper="10/10", per_ip="4/60")

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            a = RestShopper(url, "office-a", "127.0.0.4")
            b = RestShopper(url, "office-b", "127.0.0.4")
            elsewhere = RestShopper(url, "home", "127.0.0.5")
            statuses = []
            for _ in range(3):
                statuses.append((await a.say("你好"))[0])
                statuses.append((await b.say("你好"))[0])
            assert statuses == [200, 200, 200, 200, 429, 429]
            assert (await elsewhere.say("你好"))[0] == 200
            assert len(agent.received) == 5
            await asyncio.gather(a.close(), b.close(), elsewhere.close())

    run(scenario)


def test_rest_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored():
    channel = rest(per_ip="3/60", trusted_proxies=TrustedProxies.parse("127.0.0.9"))

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            statuses = []
            for i in range(6):  # a new identity and a new forged address every time
                shopper = RestShopper(url, f"bot-{i}", "127.0.0.6")
                status, _, _ = await shopper.say("你好", **{"X-Forwarded-For": f"198.51.100.{i}"})
                statuses.append(status)
                await shopper.close()
            assert statuses == [200, 200, 200, 429, 429, 429]
            assert len(agent.received) == 3

    run(scenario)


def test_rest_behind_a_trusted_proxy_each_client_has_its_own_limit():
    channel = rest(per_ip="2/60", trusted_proxies=TrustedProxies.parse("127.0.0.7"))

    async def scenario() -> None:
        async with serving(channel) as (url, _):
            proxy = RestShopper(url, "via-proxy", "127.0.0.7")
            first = {"X-Forwarded-For": "6.6.6.6, 203.0.113.1"}  # left part: the client's own
            second = {"X-Forwarded-For": "203.0.113.2"}
            statuses = [(await proxy.say("你好", **first))[0] for _ in range(3)]
            proxy.sender = "another"
            statuses.append((await proxy.say("你好", **second))[0])
            assert statuses == [200, 200, 429, 200]
            await proxy.close()

    run(scenario)


def test_rest_the_web_apps_proxy_token_passes_its_callers_address():
    channel = rest(per_ip="1/60", proxy_token=PROXY_TOKEN)

    async def scenario() -> None:
        async with serving(channel) as (url, _):
            web_app = RestShopper(url, "s-1", "127.0.0.8")
            shown = {PROXY_HEADER: PROXY_TOKEN}
            assert (await web_app.say("你好", **shown, **{"X-Forwarded-For": "203.0.113.1"}))[
                0
            ] == 200
            web_app.sender = "s-2"
            assert (await web_app.say("你好", **shown, **{"X-Forwarded-For": "203.0.113.2"}))[
                0
            ] == 200
            # Without the token (or with a wrong one) the header is a claim: the peer counts.
            wrong = {PROXY_HEADER: "guessed", "X-Forwarded-For": "203.0.113.3"}
            assert [(await web_app.say("你好", **wrong))[0] for _ in range(2)] == [200, 429]
            await web_app.close()

    run(scenario)


def test_rest_sensitive_input_is_refused_politely_and_never_reaches_the_bot(caplog):
    channel = rest(words_file=WORDS)

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            shopper = RestShopper(url, "u0058", "127.0.0.10")
            assert await shopper.say("可以帮忙刷 单吗") == (
                200,
                None,
                [{"recipient_id": "u0058", "text": BLOCKED_TEXT}],
            )
            assert (await shopper.say("你们客服是ＳＢ客服"))[2][0]["text"] == ABUSE_TEXT
            assert (await shopper.say("能找朋友代付吗"))[2][0]["text"] == REPLY
            assert agent.received == [("u0058", "能找朋友代付吗")]
            await shopper.close()

    with caplog.at_level(logging.WARNING, logger="bot.channels.guard"):
        run(scenario)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.channels.guard"]
    assert lines == [
        "moderation: a message from u0058 was refused (fraud)",
        "moderation: a message from u0058 was refused (abuse)",
    ]


# -- Socket.IO -------------------------------------------------------------------------------


class SocketShopper:
    """A shopper's widget on the Socket.IO channel, connected from its own loopback address."""

    def __init__(self, sender: str, address: str, headers: dict[str, str] | None = None) -> None:
        self.sender, self.address, self.headers = sender, address, headers or {}
        self.replies: list[str] = []
        self.http: aiohttp.ClientSession | None = None
        self.client: socketio.AsyncClient | None = None

    async def connect(self, url: str) -> SocketShopper:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(self.address, 0))
        )
        self.client = socketio.AsyncClient(http_session=self.http, reconnection=False)
        self.client.on("bot_uttered", lambda data: self.replies.append(data.get("text")))
        await self.client.connect(
            url,
            auth={"token": token(self.sender)},
            headers=self.headers,
            transports=["polling"],  # this aiohttp is too old for engineio's websocket client
            socketio_path="/socket.io",
        )
        return self

    async def say(self, text: str) -> None:
        assert self.client is not None
        await self.client.emit("user_uttered", {"message": text})

    async def close(self) -> None:
        if self.client is not None:
            await self.client.disconnect()
        if self.http is not None:
            await self.http.close()


async def settle(agent: Agent, shoppers: list[SocketShopper], replies: int, received: int) -> None:
    """Waits until the shoppers have `replies` answers in all and the bot `received` messages,
    then a little longer, so that anything extra would show."""
    for _ in range(200):
        if sum(len(s.replies) for s in shoppers) >= replies and len(agent.received) >= received:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)


def socket_channel(**guard_options: Any) -> ProductSocketIOInput:
    return ProductSocketIOInput(jwt_key=KEY, guard=guard(**guard_options))


def test_socketio_a_flood_is_told_once_while_another_shopper_is_answered():
    channel = socket_channel(per_shopper="5/10")

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            flooder = await SocketShopper("flooder", "127.0.0.2").connect(url)
            other = await SocketShopper("other", "127.0.0.3").connect(url)
            for i in range(15):
                await flooder.say(f"第{i}条")
                if i in (5, 10):
                    await other.say("有没有三千以内的华为手机")
            await settle(agent, [flooder, other], replies=5 + 1 + 2, received=7)
            # Five answers and one polite notice for the whole run; the bot saw five messages.
            assert sorted(flooder.replies) == sorted([REPLY] * 5 + [THROTTLED_TEXT])
            assert len(agent.texts_of("flooder")) == 5
            assert other.replies == [REPLY, REPLY]
            assert agent.texts_of("other") == ["有没有三千以内的华为手机"] * 2

            # Time passes: the next message is answered and ends the run; a new flood is told
            # once again.
            channel.guard.clock.now += 2.0
            flooder.replies.clear()
            await flooder.say("还在吗")
            await settle(agent, [flooder], replies=1, received=8)
            assert flooder.replies == [REPLY]
            for _ in range(5):
                await flooder.say("在吗在吗")
            await settle(agent, [flooder], replies=2, received=8)
            assert flooder.replies == [REPLY, THROTTLED_TEXT]
            assert len(agent.texts_of("flooder")) == 6
            await asyncio.gather(flooder.close(), other.close())

    run(scenario)


def test_socketio_two_shoppers_behind_one_address_share_its_limit():
    channel = socket_channel(per_ip="4/60")

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            a = await SocketShopper("office-a", "127.0.0.4").connect(url)
            b = await SocketShopper("office-b", "127.0.0.4").connect(url)
            elsewhere = await SocketShopper("home", "127.0.0.5").connect(url)
            for turn in range(1, 4):  # in turns, so that the order is known
                await a.say("你好")
                await settle(agent, [a], replies=turn, received=0)
                await b.say("你好")
                await settle(agent, [b], replies=turn, received=0)
            await elsewhere.say("你好")
            await settle(agent, [a, b, elsewhere], replies=7, received=5)
            assert a.replies == [REPLY, REPLY, THROTTLED_TEXT]
            assert b.replies == [REPLY, REPLY, THROTTLED_TEXT]
            assert elsewhere.replies == [REPLY]
            assert len(agent.received) == 5
            await asyncio.gather(a.close(), b.close(), elsewhere.close())

    run(scenario)


def test_socketio_the_address_is_taken_at_connect_and_forgeries_are_ignored():
    channel = socket_channel(per_ip="1/60", trusted_proxies=TrustedProxies.parse("127.0.0.11"))

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            behind_proxy = [
                await SocketShopper(
                    f"p{i}", "127.0.0.11", {"X-Forwarded-For": f"203.0.113.{i}"}
                ).connect(url)
                for i in range(2)
            ]
            forged = [
                await SocketShopper(
                    f"f{i}", "127.0.0.12", {"X-Forwarded-For": f"198.51.100.{i}"}
                ).connect(url)
                for i in range(2)
            ]
            for shopper in behind_proxy + forged:
                await shopper.say("你好")
                await settle(agent, [shopper], replies=1, received=0)
            assert [s.replies for s in behind_proxy] == [[REPLY], [REPLY]]  # two clients
            assert [s.replies for s in forged] == [[REPLY], [THROTTLED_TEXT]]  # one peer
            sio = channel.sio
            assert sio is not None
            addresses = [
                (await sio.get_session(s.client.get_sid()))["address"]  # type: ignore[union-attr]
                for s in behind_proxy + forged
            ]
            assert addresses == ["203.0.113.0", "203.0.113.1", "127.0.0.12", "127.0.0.12"]
            await asyncio.gather(*(s.close() for s in behind_proxy + forged))

    run(scenario)


def test_socketio_sensitive_input_is_refused_politely_and_never_reaches_the_bot():
    channel = socket_channel(words_file=WORDS)

    async def scenario() -> None:
        async with serving(channel) as (url, agent):
            shopper = await SocketShopper("u0058", "127.0.0.13").connect(url)
            await shopper.say("加 微 信 转 账更便宜")
            await settle(agent, [shopper], replies=1, received=0)
            await shopper.say("华为Mate60多少钱")
            await settle(agent, [shopper], replies=2, received=1)
            assert shopper.replies == [BLOCKED_TEXT, REPLY]
            assert agent.received == [("u0058", "华为Mate60多少钱")]
            await shopper.close()

    run(scenario)


# -- the guard itself ----------------------------------------------------------------------------


def test_the_guard_from_credentials():
    built = ChatGuard.from_credentials(
        {
            "rate_per_shopper": "2/4",
            "rate_per_ip": False,  # YAML's reading of a bare `off`
            "trusted_proxies": ["127.0.0.1"],
            "proxy_token": PROXY_TOKEN,
            "sensitive_words": str(WORDS),
        }
    )
    assert (built.shoppers.burst, built.shoppers.rate) == (2, 0.5)
    assert built.addresses is None
    assert built.client_address("127.0.0.1", "203.0.113.9") == "203.0.113.9"
    assert built.client_address("10.0.0.2", "203.0.113.9", PROXY_TOKEN) == "203.0.113.9"
    assert built.client_address("10.0.0.2", "203.0.113.9", "wrong") == "10.0.0.2"
    assert built.client_address("10.0.0.2", "203.0.113.9", "密") == "10.0.0.2"  # not ASCII
    defaults = ChatGuard.from_credentials({})
    assert (defaults.shoppers.burst, defaults.addresses.burst) == (10, 60)
    with pytest.raises(ValueError, match="messages/seconds"):
        ChatGuard.from_credentials({"rate_per_ip": "lots"})


def test_channels_build_their_guard_from_their_credentials():
    credentials = {"jwt_key": KEY, "rate_per_shopper": "3/3", "proxy_token": PROXY_TOKEN}
    for channel in (ShopperRestInput, ProductSocketIOInput):
        built = channel.from_credentials(credentials).guard
        assert built.shoppers.burst == 3 and built.proxy_token == PROXY_TOKEN


# -- the page's metadata -----------------------------------------------------------------------

PAGE = {"product_sku": "PH-HW-MATE60PRO-256", "user_id": "someone-else", "html": "<b>" * 10}
LONG = {"product_sku": "x" * 65}


def test_rest_passes_only_the_pages_product_as_metadata():
    async def scenario() -> None:
        async with serving(rest()) as (url, agent):
            http = aiohttp.ClientSession()
            hook, auth = f"{url}/webhooks/rest/webhook", {"Authorization": f"Bearer {token('s')}"}
            for metadata in (PAGE, LONG, "not json", None):
                body = {"message": "这款有白色吗", "metadata": metadata}
                async with http.post(hook, json=body, headers=auth) as answer:
                    assert answer.status == 200
            await http.close()
            expected = [{"product_sku": "PH-HW-MATE60PRO-256"}, None, None, None]
            assert [m or None for m in agent.metadata] == expected

    run(scenario)


def test_socketio_passes_only_the_pages_product_as_metadata():
    async def scenario() -> None:
        async with serving(socket_channel()) as (url, agent):
            shopper = await SocketShopper("s", "127.0.0.2").connect(url)
            assert shopper.client is not None
            for metadata in (PAGE, json.dumps(PAGE), LONG):
                await shopper.client.emit(
                    "user_uttered", {"message": "这款有白色吗", "metadata": metadata}
                )
            await settle(agent, [shopper], replies=3, received=3)
            await shopper.close()
            page = {"product_sku": "PH-HW-MATE60PRO-256"}
            assert agent.metadata == [page, page, {}]

    run(scenario)

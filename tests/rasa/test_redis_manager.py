"""bot/channels/redis_manager.py: Socket.IO servers sharing rooms through Redis, a real client
connected over a real socket. With Redis, a message emitted by one server reaches a socket held by
the other; without it, a server still reaches its own sockets and does not spin."""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from collections.abc import AsyncIterator

import pytest
import socketio
from aiohttp import web

from bot.channels.redis_manager import ResilientRedisManager
from tests.rasa.redis_server import dead_port, free_port, redis_answers

ROOM = "shopper-1"
MACHINE_REDIS = "redis://127.0.0.1:6379/0"


@contextlib.asynccontextmanager
async def server(manager: socketio.AsyncManager) -> AsyncIterator[tuple[socketio.AsyncServer, str]]:
    """A Socket.IO server whose sockets join ROOM when they connect (as the channel does)."""
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)

    @sio.event
    async def connect(sid: str, environ: dict, auth: object = None) -> None:
        joined = sio.enter_room(sid, ROOM)
        if asyncio.iscoroutine(joined):
            await joined

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, shutdown_timeout=0.2)  # a client's open long-poll ends at once
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield sio, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def connected_client(url: str) -> tuple[socketio.AsyncClient, asyncio.Queue]:
    received: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", received.put)
    await client.connect(url, transports=["polling"], wait_timeout=10)
    return client, received


async def next_message(received: asyncio.Queue, timeout: float = 3.0) -> dict | None:
    try:
        return await asyncio.wait_for(received.get(), timeout)
    except asyncio.TimeoutError:
        return None


async def subscribed(manager: ResilientRedisManager, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not manager.pubsub.subscribed:
        assert asyncio.get_running_loop().time() < deadline, "never subscribed to Redis"
        await asyncio.sleep(0.02)


def test_without_redis_the_replica_still_reaches_its_own_sockets():
    async def scenario() -> tuple[dict | None, int]:
        manager = ResilientRedisManager(f"redis://127.0.0.1:{dead_port()}/0")
        attempts = 0
        subscribe = manager.pubsub.subscribe

        async def counted(*channels: str) -> None:
            nonlocal attempts
            attempts += 1
            await subscribe(*channels)

        manager.pubsub.subscribe = counted
        async with server(manager) as (sio, url):
            client, received = await connected_client(url)
            await sio.emit("bot_uttered", {"text": "您好"}, room=ROOM)
            message = await next_message(received)
            await asyncio.sleep(1.0)  # the listener waits between attempts, never spins
            await client.disconnect()
        return message, attempts

    message, attempts = asyncio.run(scenario())
    assert message == {"text": "您好"}
    assert attempts == 1  # the next one is due after 1 s, then 2, 4 ... 60


def test_stock_manager_drops_the_reply_without_redis():
    """What the subclass fixes: python-socketio's own manager loses the emit."""

    async def scenario() -> dict | None:
        manager = socketio.AsyncRedisManager(f"redis://127.0.0.1:{dead_port()}/0")
        async with server(manager) as (sio, url):
            client, received = await connected_client(url)
            await sio.emit("bot_uttered", {"text": "您好"}, room=ROOM)
            message = await next_message(received, timeout=0.5)
            await client.disconnect()
        return message

    with contextlib.redirect_stderr(io.StringIO()):  # its listener's traceback flood
        assert asyncio.run(scenario()) is None


def test_with_redis_a_message_from_one_replica_reaches_a_socket_on_the_other():
    if not redis_answers(6379):
        pytest.fail("the machine's Redis does not answer on 127.0.0.1:6379 (ENVIRONMENT.md)")
    channel = f"daogou-test-{uuid.uuid4().hex}"

    async def scenario() -> list[dict | None]:
        holder = ResilientRedisManager(MACHINE_REDIS, channel=channel)
        other = ResilientRedisManager(MACHINE_REDIS, channel=channel)
        async with server(holder) as (_, holder_url), server(other) as (other_sio, _):
            client, received = await connected_client(holder_url)
            await subscribed(holder)
            await other_sio.emit("bot_uttered", {"text": "客服小王：您好"}, room=ROOM)
            messages = [await next_message(received), await next_message(received, 0.5)]
            await client.disconnect()
        return messages

    assert asyncio.run(scenario()) == [{"text": "客服小王：您好"}, None]  # once, not twice

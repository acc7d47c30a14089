"""bot/lock_store.py: conversation locks in Redis, this process's own lock while Redis is
unreachable (one warning per outage), and Redis again once it answers."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import (
    OUTAGE_WARNING,
    RECOVERY_MESSAGE,
    FallbackLockStore,
    redis_unreachable,
)
from tests.rasa.redis_server import RedisServer, dead_port, redis_answers

MACHINE_REDIS_PORT = 6379


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store_on(port: int, clock: FakeClock | None = None, **options) -> FallbackLockStore:
    """Built as Rasa builds a `type: module.Class` lock store from endpoints.yml."""
    config = EndpointConfig.from_dict(
        {"type": "bot.lock_store.FallbackLockStore", "url": "127.0.0.1", "port": port,
         "db": 0, "password": None, **options}
    )  # fmt: skip
    store = LockStore.create(config)
    assert isinstance(store, FallbackLockStore)
    if clock is not None:
        store._clock = clock
    return store


async def one_turn(store: FallbackLockStore, conversation: str) -> str:
    """Takes the conversation's lock as Rasa does for a message; answers which store held it."""
    async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01) as lock:
        assert lock.conversation_id == conversation
        in_memory = store.memory.get_lock(conversation) is not None
        return "memory" if in_memory else "redis"


def warnings_of(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.lock_store" and r.levelno == logging.WARNING
    ]


@pytest.fixture()
def private_redis():
    with RedisServer() as server:
        yield server


def test_rasa_builds_it_from_the_endpoint_config():
    store = store_on(6390, socket_timeout=0.3, retry_seconds=2, key_prefix="daogou")
    connection = store.redis.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("127.0.0.1", 6390, 0)
    assert connection["socket_timeout"] == 0.3
    assert store.retry_seconds == 2.0
    assert store.redis.key_prefix == "daogou:lock:"
    assert store_on(6390).redis.red.connection_pool.connection_kwargs["socket_timeout"] == 1.0


def test_nothing_listening_every_turn_is_served_with_one_warning(caplog):
    caplog.set_level(logging.INFO, logger="bot.lock_store")
    clock = FakeClock()
    store = store_on(dead_port(), clock)
    conversation = f"c-{uuid.uuid4().hex}"

    served = [asyncio.run(one_turn(store, conversation)) for _ in range(3)]
    clock.now += 60  # due for a retry: tried, still down, no second warning
    served.append(asyncio.run(one_turn(store, conversation)))

    assert served == ["memory"] * 4
    assert not store.redis_in_use
    assert len(warnings_of(caplog)) == 1
    assert warnings_of(caplog)[0].startswith(OUTAGE_WARNING)
    assert store.memory.get_lock(conversation) is None  # released after each turn


def test_turns_of_one_conversation_still_wait_for_each_other_without_redis():
    store = store_on(dead_port())
    order: list[str] = []

    async def turn(name: str, hold: float) -> None:
        async with store.lock("c-same", lock_lifetime=30, wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def both() -> None:
        first = asyncio.create_task(turn("first", 0.2))
        await asyncio.sleep(0.02)
        await turn("second", 0.0)
        await first

    asyncio.run(both())
    assert order == ["first in", "first out", "second in", "second out"]


def test_a_redis_that_hangs_times_out_quickly():
    """A listener that accepts and never answers: each call waits socket_timeout at most."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        store = store_on(port, socket_timeout=0.2)
        started = time.monotonic()
        assert asyncio.run(one_turn(store, "c-hang")) == "memory"
        assert time.monotonic() - started < 1.5
        assert not store.redis_in_use


def test_outage_and_recovery_on_a_redis_of_its_own(private_redis, caplog):
    caplog.set_level(logging.INFO, logger="bot.lock_store")
    clock = FakeClock()
    store = store_on(private_redis.port, clock, retry_seconds=5)
    conversation = f"c-{uuid.uuid4().hex}"
    client = redis.Redis(port=private_redis.port)
    seen_in_redis: list[bytes | None] = []

    async def turn_seen_by_redis() -> None:
        async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
            seen_in_redis.append(client.get(f"lock:{conversation}"))

    asyncio.run(turn_seen_by_redis())
    assert seen_in_redis[0] is not None  # the ticket lives in Redis while the turn runs
    assert client.get(f"lock:{conversation}") is None  # and is released after it

    private_redis.stop()
    assert asyncio.run(one_turn(store, conversation)) == "memory"
    assert len(warnings_of(caplog)) == 1

    private_redis.start()
    clock.now += 1  # not yet due: Redis is not tried on every turn
    assert asyncio.run(one_turn(store, conversation)) == "memory"
    clock.now += 5
    assert asyncio.run(one_turn(store, conversation)) == "redis"
    assert store.redis_in_use
    messages = warnings_of(caplog)
    assert len(messages) == 2
    assert messages[0].startswith(OUTAGE_WARNING)
    assert messages[1].startswith(RECOVERY_MESSAGE)


def test_redis_lost_while_a_turn_runs_the_answer_still_goes_out(private_redis, caplog):
    caplog.set_level(logging.INFO, logger="bot.lock_store")
    store = store_on(private_redis.port)

    async def turn() -> str:
        async with store.lock("c-lost", lock_lifetime=30, wait_time_in_seconds=0.01):
            private_redis.stop()  # the release at the end cannot reach Redis
            return "answered"

    assert asyncio.run(turn()) == "answered"
    assert not store.redis_in_use
    assert len(warnings_of(caplog)) == 1


def test_two_replicas_share_the_lock_through_the_machines_redis():
    if not redis_answers(MACHINE_REDIS_PORT):
        pytest.fail("the machine's Redis does not answer on 127.0.0.1:6379 (ENVIRONMENT.md)")
    first, second = store_on(MACHINE_REDIS_PORT), store_on(MACHINE_REDIS_PORT)
    conversation = f"c-{uuid.uuid4().hex}"
    order: list[str] = []
    held = threading.Event()

    async def hold_on_first() -> None:
        async with first.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
            order.append("first in")
            held.set()
            await asyncio.sleep(0.3)
            order.append("first out")

    async def then_second() -> None:
        while not held.is_set():
            await asyncio.sleep(0.01)
        async with second.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.02):
            order.append("second in")

    async def both() -> None:
        await asyncio.gather(hold_on_first(), then_second())

    asyncio.run(both())
    assert order == ["first in", "first out", "second in"]
    assert first.redis_in_use and second.redis_in_use
    assert first.memory.get_lock(conversation) is None


def test_only_unreachable_redis_counts_as_an_outage():
    refused = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6390.")
    try:
        try:
            raise refused
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}")  # noqa: B904 (as Rasa does)
    except LockError as wrapped:
        assert redis_unreachable(wrapped)
    assert redis_unreachable(redis.exceptions.TimeoutError("Timeout reading from socket"))
    assert not redis_unreachable(LockError("Could not acquire lock for conversation_id 'c'."))
    assert not redis_unreachable(redis.exceptions.ResponseError("WRONGTYPE"))
    assert not redis_unreachable(None)

"""Rasa's Redis lock store, falling back to an in-process lock while Redis is unreachable.

Several Rasa replicas serve one conversation only one turn at a time through a lock shared in
Redis (Rasa's `RedisLockStore`). Rasa's store raises when Redis is down: issuing a ticket is
wrapped in a `LockError`, the turn fails and the shopper gets no answer, from every replica at
once. A replica cut off from Redis answers better with a lock of its own: two replicas could then
run turns of one conversation side by side (a shopper typing two messages within a second
through two replicas), which is rare because the load balancer keeps a shopper on one replica,
while silence would hit every shopper.

So this store tries Redis first. When a call fails for want of Redis (refused, reset, timed out:
the socket timeout is short, 1 s by default, because Rasa's store is synchronous and blocks the
event loop while it waits), it logs one WARNING for the outage ("Redis unreachable: using this
replica's in-process lock"), serves the turn from Rasa's `InMemoryLockStore` and pings Redis
again every `retry_seconds` (5 s) before a new turn; once Redis answers it logs that, and new
turns take the shared lock again. A turn keeps the store it started with until it ends, so a
lock is never issued in one store and released in the other.

endpoints.yml (daogou/nlu/botprep.py writes it when `REDIS_URL` is set; Rasa 3.6 builds a lock
store of `type: module.Class` with `Class(endpoint_config=...)`):

    lock_store:
      type: bot.lock_store.FallbackLockStore
      url: 127.0.0.1        # the Redis host
      port: 6379
      db: 0
      password: null
      socket_timeout: 1     # seconds, connecting and answering
      retry_seconds: 5      # how often Redis is tried again during an outage
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockStore,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_WARNING = "Redis unreachable: using this replica's in-process lock"
RECOVERY_MESSAGE = "Redis reachable again: conversation locks are shared between replicas again"
DEFAULT_SOCKET_TIMEOUT = 1.0
DEFAULT_RETRY_SECONDS = 5.0
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def redis_unreachable(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from or during, says Redis could not be
    reached (Rasa wraps a failed ticket in a `LockError` raised while handling it)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, _UNREACHABLE):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


class _RedisStore(RedisLockStore):
    """Rasa's Redis store whose release at the end of a turn tolerates a lost Redis: the
    answer is already made, and the ticket expires in Redis by itself."""

    def __init__(self, on_unreachable: Callable[[BaseException], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_unreachable = on_unreachable

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        try:
            super().cleanup(conversation_id, ticket_number)
        except Exception as error:
            if not redis_unreachable(error):
                raise
            self._on_unreachable(error)


class FallbackLockStore(LockStore):
    """Redis lock store with an in-process fallback during Redis outages (module docstring)."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        retry_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        options = dict(endpoint_config.kwargs) if endpoint_config else {}
        configured_retry = options.pop("retry_seconds", None)
        self.retry_seconds = float(
            retry_seconds
            if retry_seconds is not None
            else configured_retry or DEFAULT_RETRY_SECONDS
        )
        options["socket_timeout"] = float(options.get("socket_timeout") or DEFAULT_SOCKET_TIMEOUT)
        host = (endpoint_config.url if endpoint_config else None) or "localhost"
        self.redis = _RedisStore(self._lost, host=host, **options)
        self.memory = InMemoryLockStore()
        self._clock = clock
        self._down_since: float | None = None  # None: Redis is in use
        self._next_try = 0.0
        super().__init__()

    @property
    def redis_in_use(self) -> bool:
        return self._down_since is None

    def _lost(self, error: BaseException) -> None:
        """Redis failed a call: switch to the in-process lock (one warning per outage)."""
        now = self._clock()
        if self._down_since is None:
            self._down_since = now
            logger.warning("%s (%s)", OUTAGE_WARNING, error)
        self._next_try = now + self.retry_seconds

    def _current(self) -> LockStore:
        """The store for a new turn: Redis, unless it is down and not yet due to be retried."""
        if self._down_since is None:
            return self.redis
        if self._clock() < self._next_try:
            return self.memory
        try:
            self.redis.red.ping()
        except Exception as error:
            if not redis_unreachable(error):
                raise
            self._lost(error)
            return self.memory
        outage = self._clock() - self._down_since
        self._down_since = None
        logger.warning("%s (after %.0f s)", RECOVERY_MESSAGE, outage)
        return self.redis

    def _call(self, operation: Callable[[LockStore], Any]) -> Any:
        """`operation` on the current store, on the in-process one if Redis fails it."""
        store = self._current()
        try:
            return operation(store)
        except Exception as error:
            if store is self.memory or not redis_unreachable(error):
                raise
            self._lost(error)
            return operation(self.memory)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock, taken whole in Redis or whole in this process."""
        async with AsyncExitStack() as stack:
            store = self._current()
            try:
                lock = await stack.enter_async_context(
                    store.lock(conversation_id, lock_lifetime, wait_time_in_seconds)
                )
            except Exception as error:
                if store is self.memory or not redis_unreachable(error):
                    raise
                self._lost(error)
                lock = await stack.enter_async_context(
                    self.memory.lock(conversation_id, lock_lifetime, wait_time_in_seconds)
                )
            yield lock

    # The storage primitives, for callers that use them directly (Rasa's own `lock` does not
    # reach them here: it runs on the chosen store).
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self._call(lambda store: store.get_lock(conversation_id))

    def delete_lock(self, conversation_id: str) -> None:
        self._call(lambda store: store.delete_lock(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        self._call(lambda store: store.save_lock(lock))

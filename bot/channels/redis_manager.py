"""python-socketio's Redis manager, made to keep a Rasa replica serving while Redis is down.

Several Rasa replicas share Socket.IO rooms through Redis (`socketio.AsyncRedisManager`): every
emit, a reply to a socket of this very replica included, is published to Redis and delivered by
the replica that holds the socket. What python-socketio 5.9 (the Rasa environment's, pinned
below 5.10: rasa#13027) does when Redis is unreachable, seen here with a Redis port where nothing
listens:
- an emit is published, retried once, logged ("Cannot publish to redis... giving up") and
  dropped: the shopper on this very replica never gets the bot's reply;
- the listening task subscribes outside its retry loop; when the first Socket.IO connection
  starts it while Redis is down, the failure escapes to a loop that retries at once, forever:
  649 attempts and 26,568 lines of traceback in one second, one core busy, until Redis returns.
The process does not die, but it serves badly and fills its log.

This manager changes the two:
- an emit that Redis cannot take is delivered to the sockets of this replica
  (`ignore_queue`): the shopper talking to this replica still gets every reply; a socket held by
  another replica misses it until Redis is back, as there is no other way to reach it;
- subscribing waits and retries with the library's own back-off (1 s doubling to 60 s), logging
  one line per attempt instead of a traceback per millisecond.
Redis calls time out after `socket_timeout` seconds (1 s), so a Redis that hangs does not stall
the event loop for long. With Redis up it behaves exactly as `AsyncRedisManager`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError
from socketio import AsyncRedisManager

SOCKET_TIMEOUT = 1.0
MAX_RETRY_SECONDS = 60.0


class ResilientRedisManager(AsyncRedisManager):
    """`AsyncRedisManager` that degrades to this replica's own sockets without Redis."""

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        channel: str = "socketio",
        write_only: bool = False,
        logger: Any = None,
        redis_options: dict[str, Any] | None = None,
    ) -> None:
        options = {"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT}
        options.update(redis_options or {})
        super().__init__(url, channel, write_only, logger, options)

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("ignore_queue") or callback is not None:
            return await super().emit(event, data, namespace, room, skip_sid, callback, **kwargs)
        message = {  # as AsyncPubSubManager.emit publishes it (python-socketio 5.9)
            "method": "emit",
            "event": event,
            "data": data,
            "namespace": namespace or "/",
            "room": room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": self.host_id,
        }
        if await self._publish(message) is None:  # the library gave up: Redis is unreachable
            self._get_logger().warning(
                "Redis unreachable: %s delivered to this replica's own sockets only", event
            )
            await super().emit(
                event, data, namespace=namespace, room=room, skip_sid=skip_sid, ignore_queue=True
            )

    async def _listen(self) -> AsyncIterator[Any]:
        await self._subscribe_when_reachable()
        channel = self.channel.encode("utf-8")
        async for message in self._redis_listen_with_retries():
            if message["channel"] == channel and message["type"] == "message" and "data" in message:
                yield message["data"]

    async def _subscribe_when_reachable(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.pubsub.subscribe(self.channel)
                return
            except RedisError as error:
                self._get_logger().error(
                    "Cannot subscribe to redis (%s)... retrying in %.0f secs", error, delay
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)
            self._redis_connect()

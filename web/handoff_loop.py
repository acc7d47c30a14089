"""The web app's side of the handoff to a person (knowledge_graph/handoff.py has the states).

- :class:`RasaPush` speaks to the shopper: a message is appended to the conversation as a
  ``bot`` event through Rasa's HTTP API (``POST /conversations/{id}/tracker/events``, so the
  transcript and the widget's history show it) and emitted to the shopper's sockets through the
  Socket.IO channel's push route (bot/channels/socketio.py, ``POST /webhooks/socketio/push``,
  the Rasa token as Bearer). Rasa's own ``output_channel=latest`` push was not used: it reaches
  only the channel the shopper last wrote on, and Rasa warns it works with one Sanic worker
  only. ``resume`` is the ``resume`` event, after which Rasa answers again.
- :class:`HandoffLoop` runs in a thread started by the app's lifespan: about once a second it
  reads the new shopper messages of every open request from Rasa's tracker table (read-only)
  and steps :class:`knowledge_graph.handoff.Holding` with them (acknowledgement, expiry,
  service hours, left messages). Several replicas may run it: each change is a conditional
  UPDATE, and only the replica that made it speaks.
- :class:`HandoffFeed` carries the queue's changes to the console's Server-Sent Events stream
  (web/routes/handoff.py). Each replica's loop compares the open requests with what it saw a
  second before, so a change made through any replica (or by the action server) reaches the
  streams of all of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cn_text.pii import mask_pii
from knowledge_graph.handoff import (
    ACTIVE,
    CLOSED,
    EXPIRED,
    LEFT_MESSAGE,
    HandoffQueue,
    HandoffRecord,
    Holding,
    ServiceHours,
    ShopperMessage,
)
from web.background import BackgroundThread
from web.review.events import EVENTS, USER, readonly_engine

log = logging.getLogger(__name__)

HOLDING_METADATA = {"skill": "handoff"}  # the bot's messages while a person is awaited
# Rasa answers again, and its next turn starts as every turn does, after `action_listen`: the
# paused turn ended without one (the last action was action_request_human), and the rules'
# states of the next message would otherwise follow that action, so the bot did not answer it.
RESUME = ({"event": "resume"}, {"event": "action", "name": "action_listen"})


class PushFailed(Exception):
    """Rasa could not be reached or refused the call."""


class RasaPush:
    """Messages to a shopper through Rasa (module docstring); implements ``Channel``."""

    def __init__(
        self, rasa_url: str, token: str, webhook_url: str | None = None, timeout: float = 10.0
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.webhook_url = webhook_url
        self.timeout = timeout

    def _post(
        self, path: str, payload: Any, *, params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:  # fmt: skip
        return httpx.post(
            self.rasa_url + path, json=payload, params=params, headers=headers,
            timeout=self.timeout,
        )  # fmt: skip

    def _call(self, path: str, payload: Any, **kwargs: Any) -> None:
        try:
            response = self._post(path, payload, **kwargs)
        except httpx.HTTPError as exc:
            raise PushFailed(f"{path}: {exc}") from exc
        if response.status_code >= 400:
            raise PushFailed(f"{path}: {response.status_code} {response.text[:200]}")

    def append(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        self._call(
            f"/conversations/{quote(sender_id, safe='')}/tracker/events",
            events,
            params={"token": self.token},
        )

    def emit(self, sender_id: str, message: dict[str, Any]) -> None:
        self._call(
            "/webhooks/socketio/push",
            {"sender_id": sender_id, "message": message},
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def deliver(
        self, sender_id: str, message: dict[str, Any], metadata: dict[str, Any],
        *, before: Sequence[dict[str, Any]] = (), after: Sequence[dict[str, Any]] = (),
    ) -> None:  # fmt: skip
        """`message` ({"text", "buttons", "custom"}) into the transcript (between the events
        `before` and `after`), then to the shopper's sockets."""
        data = {k: message[k] for k in ("buttons", "custom") if message.get(k)}
        event = {"event": "bot", "text": message.get("text"), "data": data, "metadata": metadata}
        self.append(sender_id, [*before, event, *after])
        self.emit(sender_id, {**message, "metadata": metadata})

    # -- Channel (knowledge_graph.handoff.Holding) ------------------------------------------

    def say(self, sender_id: str, text: str, buttons: Sequence[dict[str, str]] = ()) -> None:
        message: dict[str, Any] = {"text": text}
        if buttons:
            message["buttons"] = list(buttons)
        self.deliver(sender_id, message, HOLDING_METADATA)

    def resume(self, sender_id: str) -> None:
        self.append(sender_id, RESUME)

    def notify(self, payload: dict[str, Any]) -> None:
        if not self.webhook_url:
            return
        url = self.webhook_url

        def post() -> None:
            try:
                httpx.post(url, json=payload, timeout=self.timeout).raise_for_status()
            except Exception:  # the shop's endpoint: logged, never raised
                log.warning("handoff webhook %s failed for %s", url, payload, exc_info=True)

        threading.Thread(target=post, name="handoff-webhook", daemon=True).start()


# -- the console's live feed --------------------------------------------------------------------


class HandoffFeed:
    """Fan-out of queue changes to the SSE streams of this process (thread-safe publish)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = []

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not queue]

    def publish(self, event: str, data: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_put, queue, (event, data))
            except RuntimeError:  # that stream's loop has closed
                self.unsubscribe(queue)


def _put(queue: asyncio.Queue, item: tuple[str, dict[str, Any]]) -> None:
    if not queue.full():  # a stream that stopped reading loses events, not the process
        queue.put_nowait(item)


def feed_item(record: HandoffRecord) -> dict[str, Any]:
    """What an SSE event says about a request (the shopper's text masked)."""
    return {
        "id": record.id,
        "sender_id": record.sender_id,
        "status": record.status,
        "taken_by": record.taken_by,
        "requested_at": record.requested_at.isoformat(),
        "last_shopper_message": mask_pii(record.last_shopper_text or "") or None,
        "last_shopper_at": record.last_shopper_at.isoformat() if record.last_shopper_at else None,
    }


# -- the loop -----------------------------------------------------------------------------------


@dataclass
class HandoffLoop(BackgroundThread):
    """Steps every open request about once a second (module docstring)."""

    thread_name = "handoff-loop"

    queue: HandoffQueue
    holding: Holding
    tracker: Engine
    feed: HandoffFeed = field(default_factory=HandoffFeed)
    interval: float = 1.0
    _seen: dict[int, tuple[str, str | None, int]] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _warned_at: float = -1e9

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a database or Rasa hiccup: try again at the next tick
                log.exception("handoff loop tick failed")
            self._stop.wait(self.interval)

    def tick(self) -> None:
        for record in self.queue.open_requests():
            try:
                self.holding.step(record, self.new_messages(record))
            except Exception:
                log.exception("handoff %s: step failed", record.id)
        self._publish_changes()

    def new_messages(self, record: HandoffRecord) -> list[ShopperMessage]:
        """The shopper's messages after the request's cursor (and after the request itself:
        the message that asked for a person is saved with the turn, after the action ran).
        Empty while the tracker store cannot be read (expiry still runs; warned once a minute)."""
        try:
            rows = self._read_messages(record)
        except sa.exc.DBAPIError as exc:
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("handoff loop: cannot read Rasa's tracker store: %s", exc)
            return []
        messages = []
        for row in rows:
            data = json.loads(row.data) if row.data else {}
            at = datetime.fromtimestamp(row.timestamp or 0, tz=UTC)
            messages.append(ShopperMessage(row.id, str(data.get("text") or ""), at))
        return messages

    def _read_messages(self, record: HandoffRecord) -> Sequence[sa.Row[Any]]:
        with self.tracker.connect() as conn:
            return conn.execute(
                sa.select(EVENTS.c.id, EVENTS.c.timestamp, EVENTS.c.data)
                .where(
                    EVENTS.c.sender_id == record.sender_id,
                    EVENTS.c.type_name == USER,
                    EVENTS.c.id > record.last_event_id,
                    EVENTS.c.timestamp > record.requested_at.timestamp(),
                )
                .order_by(EVENTS.c.id)
            ).all()

    def _publish_changes(self) -> None:
        """SSE events for what changed since the last tick: request, message, taken, expired,
        closed (closed also for a left message, with its status)."""
        current = {r.id: r for r in self.queue.open_requests()}
        seen, self._seen = (
            self._seen,
            {r.id: (r.status, r.taken_by, r.last_event_id) for r in current.values()},
        )
        if seen is None:
            return  # first tick: nobody has been told anything yet
        for handoff_id, record in current.items():
            before = seen.get(handoff_id)
            if before is None:
                self.feed.publish("request", feed_item(record))
                continue
            status, _, cursor = before
            if record.status != status:
                kind = {ACTIVE: "taken", EXPIRED: "expired"}.get(record.status, "request")
                self.feed.publish(kind, feed_item(record))
            if record.last_event_id != cursor:
                self.feed.publish("message", feed_item(record))
        for handoff_id in seen.keys() - current.keys():
            record = self.queue.get(handoff_id)
            if record.status in (CLOSED, LEFT_MESSAGE):
                self.feed.publish("closed", feed_item(record))


@dataclass
class HandoffDesk:
    """Everything the handoff routes need in one process: queue, push, feed and loop."""

    queue: HandoffQueue
    push: RasaPush
    loop: HandoffLoop
    hours: ServiceHours | None

    @property
    def feed(self) -> HandoffFeed:
        return self.loop.feed

    @classmethod
    def build(
        cls,
        store: Any,
        *,
        rasa_url: str,
        rasa_token: str,
        tracker_db_url: str,
        wait_seconds: float,
        service_hours: str,
        webhook_url: str | None,
    ) -> HandoffDesk:
        queue = HandoffQueue(store)
        push = RasaPush(rasa_url, rasa_token, webhook_url)
        hours = ServiceHours.parse(service_hours)
        holding = Holding(queue, push, wait_seconds=wait_seconds, hours=hours)
        loop = HandoffLoop(queue, holding, readonly_engine(tracker_db_url))
        return cls(queue, push, loop, hours)

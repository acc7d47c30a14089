"""Rasa's SQL tracker store with the live conversations kept in memory.

Rasa's SQLTrackerStore rebuilds the tracker from the database on every message: it reads every
event of the conversation, decodes it and replays it. That cost grows with the conversation:
measured here, a turn took 39 ms in its first 14 turns and 77 ms after 56. This store keeps the
trackers it has loaded or saved and checks one number before trusting its copy: the id of the
conversation's latest event in the database. Anything written by someone else (another Rasa
replica, a tool, the console through another process) changes that id, and the tracker is then
read from the database as before. Every event is still written to the database in the same turn.

A cached tracker is always exactly what Rasa's own `retrieve` would return:
- a tracker changed but not saved (a turn that failed half-way) has more events than were
  stored, and is dropped;
- a save that starts a new session (`session_started`) drops the copy, because the database
  answers with the latest session's events only.

It also stores messages without the per-turn E5 vector (`text_embedding`) the NLU adds for the
action server: it is needed only during its own turn, and it made every stored message, and every
later action call that sends the whole tracker, about 1.4 KB larger.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.components.e5_encoder import TEXT_EMBEDDING

# Parse data needed only during its own turn: the E5 vector the NLU hands the action server.
TRANSIENT_PARSE_KEYS = (TEXT_EMBEDDING,)


def sqlite_engine(url: Any) -> Any:
    """The embedded default's engine: one kept connection, WAL mode, synced at checkpoints.

    SQLAlchemy 1.4 opens a new SQLite connection for every session (NullPool), and every commit
    waited for an fsync: together a quarter of Rasa's event-loop time under 10 shoppers. WAL
    also lets the staff console read while a turn is saved. With WAL, synchronous=NORMAL cannot
    corrupt the file; an operating system crash or power cut may lose the last turns, a crash of
    Rasa itself loses nothing.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.SingletonThreadPool)

    @sa.event.listens_for(engine, "connect")
    def _wal_synced_at_checkpoints(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


@dataclass
class _Cached:
    tracker: DialogueStateTracker
    stored_events: int  # how many of tracker.events are in the database
    last_event_id: int | None  # the database id of the latest of them


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that answers `retrieve` from memory while the database agrees."""

    def __init__(self, *args: Any, cache_size: int = 5000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, ""):
            self.engine = sqlite_engine(self.engine.url)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self.cache_size = max(0, int(cache_size))
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        event = self.SQLEvent
        self._last_id_query = sa.select(sa.func.max(event.id)).where(
            event.sender_id == sa.bindparam("sender_id")
        )

    def _last_event_id(self, session: Any, sender_id: str) -> int | None:
        return session.execute(self._last_id_query, {"sender_id": sender_id}).scalar()

    def _remember(self, tracker: DialogueStateTracker, last_event_id: int | None) -> None:
        if self.cache_size == 0:
            return
        self._cache[tracker.sender_id] = _Cached(tracker, len(tracker.events), last_event_id)
        self._cache.move_to_end(tracker.sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        self._cache.pop(sender_id, None)

    def _in_step_with_database(self, sender_id: str, session: Any) -> _Cached | None:
        cached = self._cache.get(sender_id)
        if cached is None:
            return None
        if self._last_event_id(session, sender_id) != cached.last_event_id:
            self.forget(sender_id)
            return None
        self._cache.move_to_end(sender_id)
        return cached

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker: from memory if the database has nothing newer."""
        with self.session_scope() as session:
            cached = self._in_step_with_database(sender_id, session)
            if cached is not None:
                if len(cached.tracker.events) == cached.stored_events:
                    return cached.tracker
                self.forget(sender_id)  # changed but never saved: a turn that failed half-way
            rows = self._event_query(session, sender_id, False).all()
            if not rows or not self.domain:
                return None
            events = [json.loads(row.data) for row in rows]
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            self._remember(tracker, rows[-1].id)
            return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Writes the events the database does not have yet, in one transaction."""
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            cached = self._in_step_with_database(sender_id, session)
            if cached is not None and cached.tracker is tracker:
                first_new = cached.stored_events
            else:  # not ours, or changed in the database meanwhile: Rasa's own count
                first_new = self._event_query(session, sender_id, False).count()
            new_events = list(itertools.islice(tracker.events, first_new, None))
            rows = [self._row(sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()
            last_event_id = rows[-1].id if rows else self._last_event_id(session, sender_id)
            session.commit()
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, sender_id)
        stale = first_new > len(tracker.events)  # the database has more than this copy
        if stale or any(isinstance(event, SessionStarted) for event in new_events):
            self.forget(sender_id)  # the database's answer differs from this tracker
        else:
            self._remember(tracker, last_event_id)

    def _row(self, sender_id: str, event: Any) -> Any:
        if isinstance(event, UserUttered):
            for key in TRANSIENT_PARSE_KEYS:
                event.parse_data.pop(key, None)  # type: ignore[misc]
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

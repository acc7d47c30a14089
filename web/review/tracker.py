"""The staff console's conversation list, over Rasa's own tracker store, read-only.

Rasa 3.6's HTTP API cannot list conversations, so this module reads the tracker store's
``events`` table (web/review/events.py) directly and keeps a small **side index** of it in a
database the web app owns (``index_url``; a disposable file such as ``var/review_index.db``, or
PostgreSQL). The index is derived, never edited: it is kept in step with the events table by
its increasing ``id`` (each :meth:`ConversationIndex.catch_up` folds only the events with an id
above the last one folded), and rebuilt from scratch when the event folded last is no longer
there as it was (a new tracker database), when the table lost its oldest events (its lowest id
rose: a retention job), or when ``tracker_url`` names another database. Rasa's table gets no writes, no extra
index and no trigger; a transcript (web/review/transcript.py) is always read from it.

Index tables (prefix ``review_``):
- ``review_sessions``: one row per Rasa session (``session_started`` starts one; the key is the
  id of the event that started it), the summary columns below, ``number`` = 1, 2, ... over the
  sender's sessions that have a message.
- ``review_senders``: the same summary columns over all of a sender's sessions.
- ``review_intents``: (session, intent, its family: ``faq`` for ``faq/shipping``) rows, for the
  intent filter and the page's intent lists.
- ``review_messages``: one row per shopper or bot message with text: the text and its folded
  form (``events.fold``), for search and for the matching messages shown under a hit, and a
  shopper message's intent as Rasa stored it, for the dashboard (web/review/analytics.py).
- ``review_state``, ``review_gaps``: the last event id folded and the ids skipped below it.

Summary columns: first and last message time, shopper and bot message counts, the lowest
classifier confidence of a shopper message (``events.classifier_confidence``), fallback (an
``nlu_fallback`` message or a fallback action ran), handoff (``request_human`` or
``action_request_human``), the last shopper message. A session without any message (a widget
opened, Rasa started a session, nobody typed) is never listed.

Full-text search: exact substring search of the folded texts, every whitespace-separated term
of the query in some message of the conversation (terms may be in different messages), in the
shopper's messages, the bot's, or both (``search_in``). Chinese needs no tokenizer for it, and
it finds what staff type, also 1- and 2-character words:
- FTS5's default tokenizer does not segment Chinese at all. Its ``trigram`` tokenizer (SQLite
  only) and PostgreSQL's ``pg_trgm`` (which does index Chinese trigrams, checked with
  ``show_trgm('蓝牙耳机')`` on our PostgreSQL 15) cannot use their index for terms under 3
  characters (「耳机」, 「退货」: the commonest staff queries) and scan anyway; two engines'
  index types would be two code paths for a gain not needed at this size.
- a jieba token index misses substrings jieba kept inside a longer word (「耳机」 in
  「蓝牙耳机」 unless segmented for search) and phrases it splits differently in the query than in
  the message, so a hit list would silently differ from what staff see in the transcript.
- a scan of the folded texts costs milliseconds per 10k conversations (measured below):
  shopper and bot messages are short, the fake shop's 60k messages are 1 MB of folded text,
  scanned by SQLite's ``instr`` or PostgreSQL's ``strpos``. The scan reads each conversation's
  texts joined into one value per role (the ``shopper_folded`` and ``bot_folded`` columns of
  ``review_senders`` and ``review_sessions``), all terms on one row: 10k rows instead of 60k,
  one pass instead of one per term (「华为 耳机」: 24 ms of SQL over the message rows, 8 ms
  now); ``review_messages`` gives only the matching messages shown under a page's hits. Its
  cost is linear in the history; past some 50k conversations add a trigram prefilter (FTS5
  ``trigram``, or ``pg_trgm`` under a UTF-8 locale) for terms of 3 and more characters,
  keeping this scan for shorter ones.

Incremental and exact on PostgreSQL too: ids come from a sequence and several Rasa replicas may
commit out of id order, so an id skipped below the highest one folded (among the newest
``RECENT_IDS``) is remembered in ``review_gaps`` and looked for again at every catch-up for
``GAP_TTL`` seconds (a turn's save is one short transaction; a sequence value given up by a
rolled-back save never appears). One
sender's events are never out of order among themselves: Rasa's lock store serialises a
conversation's turns, so an event that arrives late still belongs at the end of its sender's
latest session.

Measured with ``python -m web.review.fake_history --measure`` (the fake shop of that module:
10,000 conversations, 11,765 sessions, 179,110 events, more than the ~100k of the target; 2
vCPU shared with other work, load average 2-5; both databases files on local disk; warm: the
index built and 2 requests run before 40 timed ones; every request includes its catch-up).
p95 in ms, SQLite tracker + SQLite index / PostgreSQL 15 for both (schema 4; the message-row
scan of schema 2 took 29-61 / 61-91 ms for the searches):

    list, newest first; page 50; per session          3 / 11
    date range (7 days); fallback; confidence < 0.3    7 / 13
    intent request_human; intent faq (+ faq/...)       11 / 13
    search 「耳机」 (2 characters), 「退」 (1)            10 / 18
    search 「七天无理由退换」, 「送女朋友买什么手机好」       9 / 14
    search 「华为 耳机」 (two terms)                    10 / 17
    search 「mate60」 in shopper messages only          6 / 13
    list after 20 new events were saved                5 / 14
    transcript of one sender                          1 / 2

Building the index from scratch: 4-9 s (SQLite), 6-9 s (PostgreSQL) for the 179k events.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from web.review import transcript as transcripts
from web.review.events import (
    ACTION,
    ACTION_SESSION_START,
    BOT,
    EVENTS,
    FALLBACK_ACTIONS,
    FALLBACK_INTENTS,
    HANDOFF_ACTIONS,
    HANDOFF_INTENTS,
    SESSION_STARTED,
    USER,
    classifier_confidence,
    fold,
    intent_of,
    readonly_engine,
)

# 2: the dashboard's indexes on first_ts and timestamp; 3: messages' intent; 4: searched texts,
# the list's order in its indexes
SCHEMA_VERSION = 4
MAX_LIMIT = 100  # CONTRACT: list limits are capped at 100
MAX_MATCHES = 3  # matching messages returned per conversation of a search
GAP_TTL = 600.0  # seconds an id skipped below the last folded one is looked for again
# Saves still in flight hold ids among the last ones handed out (a few concurrent turns of ~10
# events each); a missing id further down is a deleted event, not worth looking for.
RECENT_IDS = 1000
MAX_GAPS = 2000

Per = Literal["sender", "session"]
SearchIn = Literal["all", "shopper", "bot"]
Role = Literal["shopper", "bot"]

log = logging.getLogger(__name__)
index_metadata = sa.MetaData()


def _summary_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("first_ts", sa.Float),  # first and last message; NULL: no message yet
        sa.Column("last_ts", sa.Float),
        sa.Column("shopper_messages", sa.Integer, nullable=False),
        sa.Column("bot_messages", sa.Integer, nullable=False),
        sa.Column("min_confidence", sa.Float),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("handoff", sa.Boolean, nullable=False),
        sa.Column("last_shopper_text", sa.Text),
        # What search scans: the folded texts of the shopper's and of the bot's messages, each
        # after a "\n" (which neither a folded text nor a search term can contain, so a term
        # is found here exactly when some message contains it). Last, so that reading the
        # columns above never reads these.
        sa.Column("shopper_folded", sa.Text, nullable=False),
        sa.Column("bot_folded", sa.Text, nullable=False),
    ]


SESSIONS = sa.Table(
    "review_sessions",
    index_metadata,
    sa.Column("session_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("number", sa.Integer),
    *_summary_columns(),
    # The list's order (newest first, then the key) read off the index: a deep page (offset
    # 7,000 of 10,000) skips index entries instead of sorting ties (5 ms -> 0.3 ms).
    sa.Index("ix_review_sessions_last_ts", "last_ts", "session_id"),
    # The dashboard's range of sessions (web/review/analytics.py), read from the index alone.
    sa.Index("ix_review_sessions_first_ts", "first_ts", "fallback", "handoff"),
)
SENDERS = sa.Table(
    "review_senders",
    index_metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("sessions", sa.Integer, nullable=False),  # sessions with a message
    sa.Column("current_session", sa.Integer, nullable=False),
    *_summary_columns(),
    sa.Index("ix_review_senders_last_ts", "last_ts", "sender_id"),
)
INTENTS = sa.Table(
    "review_intents",
    index_metadata,
    sa.Column("session_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("intent", sa.String(255), primary_key=True),  # faq/shipping
    sa.Column("family", sa.String(255), nullable=False),  # faq
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Index("ix_review_intents_intent", "intent", "sender_id"),
    sa.Index("ix_review_intents_family", "family", "sender_id"),
)
MESSAGES = sa.Table(
    "review_messages",
    index_metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("session_id", sa.Integer, nullable=False, index=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("folded", sa.Text, nullable=False),
    # A shopper message's intent as Rasa stored it (``events.intent_name``; NULL for the bot's):
    # the dashboard's unplaced messages (``nlu_fallback``) are read from here, not by a scan of
    # Rasa's table, which grew with the whole history (156 ms at 179k events).
    sa.Column("intent", sa.String(255)),
    sa.Index("ix_review_messages_intent", "intent", "timestamp"),
    # The dashboard's messages per day: without it a 14-day range read every message's text
    # (benchmarks/console_latency.py: 320 -> 200 ms for the dashboard at 10k conversations).
    sa.Index("ix_review_messages_timestamp", "timestamp", "role"),
)
STATE = sa.Table(
    "review_state",
    index_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("tracker", sa.Text),  # the tracker database indexed (URL without password)
    sa.Column("last_event_id", sa.Integer, nullable=False),  # every id up to it was read
    sa.Column("first_event_id", sa.Integer),  # the tracker's lowest id when first read
    sa.Column("last_event_key", sa.Text),  # sender and time of the event last_event_id
)
GAPS = sa.Table(
    "review_gaps",
    index_metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seen_at", sa.Float, nullable=False),
)
_SUMMARY_FIELDS = (
    "first_ts",
    "last_ts",
    "shopper_messages",
    "bot_messages",
    "min_confidence",
    "fallback",
    "handoff",
    "last_shopper_text",
    "shopper_folded",
    "bot_folded",
)
SEARCHED = {"shopper": "shopper_folded", "bot": "bot_folded"}  # search_in -> column


# -- what callers pass and get ------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationQuery:
    """One console list request. Filters combine with AND; ``None`` means "any".

    ``per="sender"`` lists a shopper's whole history as one conversation and tests the filters
    on its summary over all sessions (a sender with a fallback in one session and intent X in
    another matches both filters); ``per="session"`` lists each session on its own.
    ``since``/``until``: conversations with a message in [since, until) (datetimes, naive ones
    read as UTC, or epoch seconds). ``intent``: seen in some shopper message; ``faq`` also matches
    its retrieval intents (``faq/shipping``). ``confidence_below``: the lowest classifier
    confidence of a shopper message is below it. ``text``: see the module docstring.
    ``sender_ids``: only these senders (for filters the route layer reads from the catalog
    database, e.g. the senders with negative feedback). Newest last message first.
    """

    per: Per = "sender"
    since: datetime | float | None = None
    until: datetime | float | None = None
    intent: str | None = None
    fallback: bool | None = None
    handoff: bool | None = None
    confidence_below: float | None = None
    text: str | None = None
    search_in: SearchIn = "all"
    sender_ids: Collection[str] | None = None
    exclude_sender_ids: Collection[str] = ()  # e.g. the reviewed ones, to list the others
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if self.per not in ("sender", "session"):
            raise ValueError(f"per must be 'sender' or 'session', not {self.per!r}")
        if self.search_in not in ("all", "shopper", "bot"):
            raise ValueError(f"search_in must be 'all', 'shopper' or 'bot', not {self.search_in!r}")
        if self.limit < 0 or self.offset < 0:
            raise ValueError("limit and offset must not be negative")

    @property
    def terms(self) -> tuple[str, ...]:
        """The search terms as matched: folded, split at whitespace, each once."""
        if not self.text:
            return ()
        words = self.text.split()  # any whitespace, 「　」 included
        return tuple(dict.fromkeys(term for term in (fold(w) for w in words) if term))


@dataclass(frozen=True)
class Match:
    """A message of a search hit that contains a search term."""

    event_id: int
    session_id: int
    role: Role
    at: datetime | None
    text: str


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the console list: a sender's whole history (``session_id`` None) or one of
    its sessions."""

    sender_id: str
    session_id: int | None  # the id of the event that started the session
    session_number: int | None  # 1, 2, ... over the sender's sessions with a message
    sessions: int
    first_at: datetime
    last_at: datetime
    shopper_messages: int
    bot_messages: int
    intents: tuple[str, ...]
    min_confidence: float | None
    fallback: bool
    handoff: bool
    last_shopper_message: str | None
    matches: tuple[Match, ...] = ()
    flags: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ConversationPage:
    items: tuple[ConversationSummary, ...]
    total: int  # every conversation that matches, not only this page
    limit: int
    offset: int


@dataclass(frozen=True)
class CatchUp:
    events: int  # events read from the tracker store in this catch-up
    last_event_id: int
    rebuilt: bool


# -- the index ----------------------------------------------------------------------------------


class ConversationIndex:
    """Conversation summaries, filters and search over Rasa's tracker store.

    ``tracker_url`` is ``Settings.tracker_db_url`` (opened read-only), or an Engine;
    ``index_url`` a database this process may write (SQLite file or PostgreSQL), created on first
    use. Thread-safe; several processes may share one index database.
    """

    def __init__(
        self,
        tracker_url: str | URL | Engine,
        index_url: str | URL,
        *,
        batch_size: int = 5000,
        clock: Any = time.time,
    ) -> None:
        self.tracker = (
            tracker_url if isinstance(tracker_url, Engine) else readonly_engine(tracker_url)
        )
        self._tracker_name = self.tracker.url.render_as_string(hide_password=True)
        self._writer, self._reader = _index_engines(make_url(index_url))
        self._batch_size = batch_size
        self._clock = clock
        self._lock = threading.Lock()
        self._has_events_table = False
        self._create_schema()

    @property
    def reader(self) -> Engine:
        """The index database, for read-only reports (``analytics.py``)."""
        return self._reader

    def dispose(self) -> None:
        self._writer.dispose()
        self._reader.dispose()

    # -- reading ------------------------------------------------------------------------------

    def conversations(
        self,
        query: ConversationQuery = ConversationQuery(),
        flags: Mapping[str, Sequence[Any]] | None = None,
        *,
        catch_up: bool = True,
    ) -> ConversationPage:
        """One page of the list and the total. ``flags`` (sender_id -> that sender's flags from
        the catalog database's conversation_flags) are attached to the page's items as given.
        ``catch_up=False`` answers from the index as it is (a warm-up thread keeps it current)."""
        if catch_up:
            self._catch_up_quietly()
        limit = min(query.limit, MAX_LIMIT)
        table = SENDERS if query.per == "sender" else SESSIONS
        key = table.c.sender_id if query.per == "sender" else table.c.session_id
        conditions = self._conditions(query, table, key)
        # A search's total rides on the page's rows: one scan of the texts, not two. Without
        # a search, a separate count is cheaper (the page alone stops early on the last_ts
        # index; a window total makes it visit every match: 15 ms instead of 5 at 10k).
        searching = bool(query.terms)
        columns = _listed(table)
        if searching:
            columns.append(sa.func.count().over().label("_total"))
        with self._reader.begin() as conn:
            rows = (
                conn.execute(
                    sa.select(*columns)
                    .where(*conditions)
                    .order_by(table.c.last_ts.desc(), key.desc())
                    .limit(limit)
                    .offset(query.offset)
                ).all()
                if limit
                else []
            )
            if searching and rows:
                total = rows[0]._total
            else:
                total = conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(*conditions)
                ).scalar_one()
            items = self._summaries(conn, query, rows, flags or {})
        return ConversationPage(items=items, total=total, limit=limit, offset=query.offset)

    def summary(self, sender_id: str, session_id: int | None = None) -> ConversationSummary | None:
        """One sender's summary over all sessions, or one session's (None: nothing with a
        message)."""
        self._catch_up_quietly()
        query = ConversationQuery(per="sender" if session_id is None else "session")
        table = SENDERS if session_id is None else SESSIONS
        condition = (
            table.c.sender_id == sender_id
            if session_id is None
            else sa.and_(table.c.session_id == session_id, table.c.sender_id == sender_id)
        )
        with self._reader.begin() as conn:
            rows = conn.execute(
                sa.select(*_listed(table)).where(condition, table.c.last_ts.is_not(None))
            ).all()
            items = self._summaries(conn, query, rows, {})
        return items[0] if items else None

    def transcript(
        self, sender_id: str, session_id: int | None = None
    ) -> transcripts.Transcript | None:
        """The conversation as the console shows it, read from the tracker store itself."""
        return transcripts.read_transcript(self.tracker, sender_id, session_id)

    def _conditions(
        self, query: ConversationQuery, table: sa.Table, key: sa.ColumnElement[Any]
    ) -> list[sa.ColumnElement[bool]]:
        c = table.c
        conditions: list[sa.ColumnElement[bool]] = [c.last_ts.is_not(None)]
        if query.since is not None:
            conditions.append(c.last_ts >= _epoch(query.since))
        if query.until is not None:
            conditions.append(c.first_ts < _epoch(query.until))
        if query.fallback is not None:
            conditions.append(c.fallback.is_(query.fallback))
        if query.handoff is not None:
            conditions.append(c.handoff.is_(query.handoff))
        if query.confidence_below is not None:
            conditions.append(c.min_confidence < query.confidence_below)
        if query.sender_ids is not None:
            conditions.append(c.sender_id.in_(sorted(set(query.sender_ids))))
        if query.exclude_sender_ids:
            conditions.append(c.sender_id.not_in(sorted(set(query.exclude_sender_ids))))
        by = "sender_id" if query.per == "sender" else "session_id"
        if query.intent:
            conditions.append(
                key.in_(
                    sa.select(INTENTS.c[by]).where(
                        INTENTS.c.intent == query.intent
                        if "/" in query.intent
                        else INTENTS.c.family == query.intent  # faq: faq and faq/...
                    )
                )
            )
        searched = [
            c[column] for role, column in SEARCHED.items() if query.search_in in ("all", role)
        ]
        for term in query.terms:
            conditions.append(sa.or_(*(self._contains(column, term) for column in searched)))
        return conditions

    def _contains(self, column: sa.ColumnElement[str], term: str) -> sa.ColumnElement[bool]:
        dialect = self._reader.dialect.name
        if dialect == "sqlite":
            return sa.func.instr(column, term) > 0
        if dialect == "postgresql":
            return sa.func.strpos(column, term) > 0
        return column.contains(term, autoescape=True)

    def _summaries(
        self,
        conn: Connection,
        query: ConversationQuery,
        rows: Sequence[sa.Row[Any]],
        flags: Mapping[str, Sequence[Any]],
    ) -> tuple[ConversationSummary, ...]:
        if not rows:
            return ()
        per_sender = query.per == "sender"
        by = "sender_id" if per_sender else "session_id"
        keys = [getattr(row, by) for row in rows]
        intents: dict[Any, set[str]] = {k: set() for k in keys}
        for k, intent in conn.execute(
            sa.select(INTENTS.c[by], INTENTS.c.intent).where(INTENTS.c[by].in_(keys))
        ):
            intents[k].add(intent)
        matches: dict[Any, list[Match]] = {k: [] for k in keys}
        terms = query.terms
        if terms:
            found = conn.execute(
                sa.select(MESSAGES)
                .where(
                    MESSAGES.c[by].in_(keys),
                    sa.or_(*(self._contains(MESSAGES.c.folded, t) for t in terms)),
                    *_roles(query.search_in),
                )
                .order_by(MESSAGES.c.event_id)
            )
            for m in found:
                hits = matches[getattr(m, by)]
                if len(hits) < MAX_MATCHES:
                    hits.append(
                        Match(m.event_id, m.session_id, m.role, _datetime(m.timestamp), m.text)
                    )
        return tuple(
            ConversationSummary(
                sender_id=row.sender_id,
                session_id=None if per_sender else row.session_id,
                session_number=None if per_sender else row.number,
                sessions=row.sessions if per_sender else 1,
                first_at=_datetime(row.first_ts),  # type: ignore[arg-type]
                last_at=_datetime(row.last_ts),  # type: ignore[arg-type]
                shopper_messages=row.shopper_messages,
                bot_messages=row.bot_messages,
                intents=tuple(sorted(intents[k])),
                min_confidence=row.min_confidence,
                fallback=bool(row.fallback),
                handoff=bool(row.handoff),
                last_shopper_message=row.last_shopper_text,
                matches=tuple(matches[k]),
                flags=tuple(flags.get(row.sender_id, ())),
            )
            for k, row in zip(keys, rows, strict=True)
        )

    # -- keeping in step ------------------------------------------------------------------------

    def catch_up(self, *, wait: bool = True) -> CatchUp:
        """Folds the events saved since the last catch-up into the index. With ``wait=False``
        a catch-up already running in this process is not waited for (its result will be there
        for the next request)."""
        if not self._lock.acquire(blocking=wait):
            return CatchUp(0, -1, False)
        try:
            read, rebuilt, last = 0, False, 0
            while True:
                batch = self._catch_up_batch()
                read += batch.events
                rebuilt = rebuilt or batch.rebuilt
                last = batch.last_event_id
                if batch.events < self._batch_size:
                    if read >= self._batch_size:
                        self._analyze()
                    return CatchUp(read, last, rebuilt)
        finally:
            self._lock.release()

    def _catch_up_quietly(self) -> None:
        """A request's catch-up: when the tracker database cannot be read (Rasa's SQLite file
        not created yet, PostgreSQL restarting), the list is answered from the index as it is."""
        try:
            self.catch_up(wait=False)
        except sa.exc.OperationalError as error:
            log.warning("review index not caught up with the tracker store: %s", error)

    def _catch_up_batch(self) -> CatchUp:
        now = self._clock()
        with self._writer.begin() as ix:
            state = ix.execute(sa.select(STATE).where(STATE.c.id == 1).with_for_update()).one()
            last_id, first_id = state.last_event_id, state.first_event_id
            last_key = state.last_event_key
            with self.tracker.connect() as tc:
                bounds = self._tracker_bounds(tc)
                if bounds is None:  # Rasa has not created its table yet: nothing to read
                    return CatchUp(0, last_id, False)
                low, high = bounds
                rebuilt = (
                    state.tracker != self._tracker_name
                    # the event folded last is gone or another: a new tracker database
                    or (last_id > 0 and _event_key(tc, last_id) != last_key)
                    # its oldest events were deleted
                    or (first_id is not None and (low is None or low > first_id))
                )
                if rebuilt:
                    self._clear(ix)
                    last_id, first_id, last_key = 0, None, None
                if first_id is None:
                    first_id = low
                if high is None:
                    self._save_state(ix, last_id, first_id, last_key)
                    return CatchUp(0, last_id, rebuilt)
                ix.execute(GAPS.delete().where(GAPS.c.seen_at < now - GAP_TTL))
                gaps = set(ix.execute(sa.select(GAPS.c.event_id)).scalars())
                newer = EVENTS.c.id > last_id
                rows = tc.execute(
                    sa.select(
                        EVENTS.c.id,
                        EVENTS.c.sender_id,
                        EVENTS.c.type_name,
                        EVENTS.c.timestamp,
                        EVENTS.c.action_name,
                        EVENTS.c.intent_name,
                        sa.case(
                            (EVENTS.c.type_name.in_((USER, BOT)), EVENTS.c.data), else_=None
                        ).label("data"),
                    )
                    .where(sa.or_(newer, EVENTS.c.id.in_(sorted(gaps))) if gaps else newer)
                    .order_by(EVENTS.c.id)
                    .limit(self._batch_size)
                ).all()
            if rows:
                self._fold(ix, rows)
                found_gaps = [row.id for row in rows if row.id in gaps]
                if found_gaps:
                    ix.execute(GAPS.delete().where(GAPS.c.event_id.in_(found_gaps)))
                new_ids = [row.id for row in rows if row.id > last_id]
                missing = [i for i in _missing(last_id, new_ids) if i > high - RECENT_IDS]
                room = MAX_GAPS - len(gaps) + len(found_gaps)
                if missing and room > 0:
                    ix.execute(
                        GAPS.insert(),
                        [{"event_id": i, "seen_at": now} for i in missing[:room]],
                    )
                newest = max(rows, key=lambda row: row.id)
                if newest.id > last_id:
                    last_id, last_key = newest.id, _key_of(newest.sender_id, newest.timestamp)
            self._save_state(ix, last_id, first_id, last_key)
            return CatchUp(len(rows), last_id, rebuilt)

    def _analyze(self) -> None:
        """Fresh planner statistics after a build or a large catch-up: without them PostgreSQL
        chose a slow plan for a search of shopper messages (174 ms p50 at 10k instead of 52)."""
        with self._writer.begin() as ix:
            if ix.dialect.name == "postgresql":
                for table in index_metadata.sorted_tables:
                    ix.exec_driver_sql(f"ANALYZE {table.name}")
            elif ix.dialect.name == "sqlite":
                ix.exec_driver_sql("ANALYZE")

    def _tracker_bounds(self, tc: Connection) -> tuple[int | None, int | None] | None:
        """The tracker's lowest and highest event id, None without an events table (two
        queries: SQLite answers min() and max() from the primary key only when each is alone).
        """
        if not self._has_events_table:
            if not sa.inspect(tc).has_table(EVENTS.name):
                return None
            self._has_events_table = True
        low = tc.execute(sa.select(sa.func.min(EVENTS.c.id))).scalar()
        high = tc.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar()
        return low, high

    def _save_state(
        self, ix: Connection, last_id: int, first_id: int | None, last_key: str | None
    ) -> None:
        ix.execute(
            STATE.update()
            .where(STATE.c.id == 1)
            .values(
                tracker=self._tracker_name,
                last_event_id=last_id,
                first_event_id=first_id,
                last_event_key=last_key,
            )
        )

    def _clear(self, ix: Connection) -> None:
        for table in (MESSAGES, INTENTS, SESSIONS, SENDERS, GAPS):
            ix.execute(table.delete())

    def _fold(self, ix: Connection, rows: Sequence[sa.Row[Any]]) -> None:
        """Adds the events (in id order) to their senders' latest sessions, then writes the
        changed rows."""
        sender_ids = sorted({row.sender_id for row in rows})
        senders: dict[str, _Sender] = {}
        for chunk in _chunks(sender_ids, 900):
            for r in ix.execute(sa.select(SENDERS).where(SENDERS.c.sender_id.in_(chunk))):
                senders[r.sender_id] = _Sender.load(r)
        sessions: dict[int, _Session] = {}
        current = [s.current_session for s in senders.values()]
        for chunk in _chunks(current, 900):
            for r in ix.execute(sa.select(SESSIONS).where(SESSIONS.c.session_id.in_(chunk))):
                sessions[r.session_id] = _Session.load(r)
            for session_id, intent in ix.execute(
                sa.select(INTENTS.c.session_id, INTENTS.c.intent).where(
                    INTENTS.c.session_id.in_(chunk)
                )
            ):
                sessions[session_id].intents.add(intent)
        messages: list[dict[str, Any]] = []
        intents: list[dict[str, Any]] = []
        for row in rows:
            _fold_event(row, senders, sessions, messages, intents)
        _write(ix, SENDERS, "sender_id", [s for s in senders.values() if s.dirty])
        _write(ix, SESSIONS, "session_id", [s for s in sessions.values() if s.dirty])
        if messages:
            ix.execute(MESSAGES.insert(), messages)
        if intents:
            ix.execute(INTENTS.insert(), intents)

    def _create_schema(self) -> None:
        """Creates the index tables; drops and recreates them when they are of another
        version of this module (the index is derived: it is rebuilt from the tracker store)."""
        for attempt in (1, 2):
            try:
                with self._writer.begin() as ix:
                    inspector = sa.inspect(ix)
                    if inspector.has_table(STATE.name):
                        version = ix.execute(
                            sa.select(STATE.c.schema_version).where(STATE.c.id == 1)
                        ).scalar()
                        if version != SCHEMA_VERSION:
                            index_metadata.drop_all(ix)
                    index_metadata.create_all(ix)
                    if ix.execute(sa.select(STATE.c.id).where(STATE.c.id == 1)).first() is None:
                        ix.execute(
                            STATE.insert().values(
                                id=1, schema_version=SCHEMA_VERSION, tracker=None, last_event_id=0
                            )
                        )
                return
            except sa.exc.DBAPIError:  # another process created them at the same moment
                if attempt == 2:
                    raise


# -- folding events -----------------------------------------------------------------------------


@dataclass
class _Summary:
    first_ts: float | None = None
    last_ts: float | None = None
    shopper_messages: int = 0
    bot_messages: int = 0
    min_confidence: float | None = None
    fallback: bool = False
    handoff: bool = False
    last_shopper_text: str | None = None
    shopper_folded: str = ""
    bot_folded: str = ""
    is_new: bool = True
    dirty: bool = True

    def message_at(self, ts: float | None) -> None:
        if ts is not None:
            self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
            self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        self.dirty = True

    def shopper(self, ts: float | None, text: str, confidence: float | None, intent: str) -> None:
        self.message_at(ts)
        self.shopper_messages += 1
        self.last_shopper_text = text
        if confidence is not None and (
            self.min_confidence is None or confidence < self.min_confidence
        ):
            self.min_confidence = confidence
        self.fallback = self.fallback or intent in FALLBACK_INTENTS
        self.handoff = self.handoff or intent in HANDOFF_INTENTS

    def searched(self, role: Role, folded: str) -> None:
        if role == "shopper":
            self.shopper_folded += "\n" + folded
        else:
            self.bot_folded += "\n" + folded

    def summary_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SUMMARY_FIELDS}

    @staticmethod
    def loaded(row: sa.Row[Any]) -> dict[str, Any]:
        values = {name: getattr(row, name) for name in _SUMMARY_FIELDS}
        values["fallback"], values["handoff"] = bool(row.fallback), bool(row.handoff)
        return values | {"is_new": False, "dirty": False}


@dataclass
class _Session(_Summary):
    session_id: int = 0
    sender_id: str = ""
    number: int | None = None
    intents: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, row: sa.Row[Any]) -> _Session:
        return cls(
            session_id=row.session_id,
            sender_id=row.sender_id,
            number=row.number,
            **_Summary.loaded(row),
        )

    def values(self) -> dict[str, Any]:
        return self.summary_values() | {
            "session_id": self.session_id,
            "sender_id": self.sender_id,
            "number": self.number,
        }


@dataclass
class _Sender(_Summary):
    sender_id: str = ""
    sessions: int = 0
    current_session: int = 0

    @classmethod
    def load(cls, row: sa.Row[Any]) -> _Sender:
        return cls(
            sender_id=row.sender_id,
            sessions=row.sessions,
            current_session=row.current_session,
            **_Summary.loaded(row),
        )

    def values(self) -> dict[str, Any]:
        return self.summary_values() | {
            "sender_id": self.sender_id,
            "sessions": self.sessions,
            "current_session": self.current_session,
        }


def _fold_event(
    row: sa.Row[Any],
    senders: dict[str, _Sender],
    sessions: dict[int, _Session],
    messages: list[dict[str, Any]],
    intents: list[dict[str, Any]],
) -> None:
    kind = row.type_name
    if kind == ACTION and row.action_name == ACTION_SESSION_START:
        return
    sender = senders.get(row.sender_id)
    if sender is None or kind == SESSION_STARTED:
        # A session starts at `session_started`, or at a sender's first event if sessions
        # are off (transcript.py splits the same way).
        if sender is None:
            sender = senders[row.sender_id] = _Sender(sender_id=row.sender_id)
        sender.current_session = row.id
        sender.dirty = True
        sessions[row.id] = _Session(session_id=row.id, sender_id=row.sender_id)
    session = sessions[sender.current_session]
    if kind in (USER, BOT):
        if session.shopper_messages + session.bot_messages == 0:
            sender.sessions += 1
            session.number = sender.sessions
        data = json.loads(row.data) if row.data else {}
        text = data.get("text") or ""
        if kind == USER:
            parse = data.get("parse_data") or {}
            intent = intent_of(parse)
            confidence = classifier_confidence(parse)
            for summary in (session, sender):
                summary.shopper(row.timestamp, text, confidence, intent or "")
            if intent and intent not in session.intents:
                session.intents.add(intent)
                intents.append(
                    {
                        "session_id": session.session_id,
                        "intent": intent,
                        "family": intent.split("/", 1)[0],
                        "sender_id": row.sender_id,
                    }
                )
        else:
            for summary in (session, sender):
                summary.message_at(row.timestamp)
                summary.bot_messages += 1
        if text.strip():
            role: Role = "shopper" if kind == USER else "bot"
            folded = fold(text)
            for summary in (session, sender):
                summary.searched(role, folded)
            messages.append(
                {
                    "event_id": row.id,
                    "session_id": session.session_id,
                    "sender_id": row.sender_id,
                    "role": role,
                    "timestamp": row.timestamp,
                    "text": text,
                    "folded": folded,
                    "intent": row.intent_name if kind == USER else None,
                }
            )
    elif kind == ACTION:
        for summary in (session, sender):
            if row.action_name in FALLBACK_ACTIONS:
                summary.fallback = summary.dirty = True
            if row.action_name in HANDOFF_ACTIONS:
                summary.handoff = summary.dirty = True


def _write(ix: Connection, table: sa.Table, key: str, rows: list[_Session] | list[_Sender]) -> None:
    new = [r.values() for r in rows if r.is_new]
    old = [r.values() for r in rows if not r.is_new]
    if new:
        ix.execute(table.insert(), new)
    if old:
        columns = [c for c in old[0] if c != key]
        ix.execute(
            table.update()
            .where(table.c[key] == sa.bindparam("_key"))
            .values({c: sa.bindparam("_" + c) for c in columns}),
            [{"_key": r[key]} | {"_" + c: r[c] for c in columns} for r in old],
        )


# -- helpers ------------------------------------------------------------------------------------


def _key_of(sender_id: str, timestamp: float | None) -> str:
    return f"{timestamp!r} {sender_id}"


def _event_key(tc: Connection, event_id: int) -> str | None:
    row = tc.execute(
        sa.select(EVENTS.c.sender_id, EVENTS.c.timestamp).where(EVENTS.c.id == event_id)
    ).first()
    return None if row is None else _key_of(row.sender_id, row.timestamp)


def _listed(table: sa.Table) -> list[sa.ColumnElement[Any]]:
    """A list's columns: all but the searched texts."""
    return [c for c in table.c if c.name not in SEARCHED.values()]


def _roles(search_in: SearchIn) -> list[sa.ColumnElement[bool]]:
    return [] if search_in == "all" else [MESSAGES.c.role == search_in]


def _missing(after: int, ids: list[int]) -> list[int]:
    """The ids absent between ``after`` and the last of ``ids`` (ascending); from 0 on a first
    build, when ids 1 and 2 of a fresh PostgreSQL table may still be saving."""
    missing: list[int] = []
    previous = after
    for i in ids:
        missing.extend(range(max(previous + 1, i - RECENT_IDS), i))
        previous = i
    return missing


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _epoch(value: datetime | float) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def _datetime(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def _index_engines(url: URL) -> tuple[Engine, Engine]:
    """(writer, reader) engines of the index database.

    SQLite: WAL, so lists are read while a catch-up writes; the writer's transactions begin
    IMMEDIATE, which makes catch-ups of several processes take turns (each re-reads the last
    folded id under the lock), the reader's a plain BEGIN, so a page and its total come from one
    snapshot. PostgreSQL: one pool; the state row is locked FOR UPDATE by a catch-up, and reads
    are REPEATABLE READ for the same one snapshot.
    """
    if url.get_backend_name() != "sqlite":
        engine = sa.create_engine(url, pool_pre_ping=True)
        return engine, engine.execution_options(isolation_level="REPEATABLE READ")
    if url.database in (None, "", ":memory:"):
        raise ValueError("the review index needs a database file (or PostgreSQL), not :memory:")

    def sqlite(begin: str) -> Engine:
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions begun below, not by pysqlite
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql(begin)

        return engine

    return sqlite("BEGIN IMMEDIATE"), sqlite("BEGIN")

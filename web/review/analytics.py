"""The staff dashboard's figures: conversations and messages per day, fallback and handoff
rates, top intents, the questions the assistant could not place (grouped), the
recommendation funnel from shopper events, and the shoppers' ratings of the handoffs to a person.

Read from the conversation index (``tracker.py``: one row per session, one per message with
its text and Rasa's intent, the intents per session), never from Rasa's own table, and from the
catalog database's shopper events and handoffs. The database counts (GROUP BY on the index's
range indexes); Python only lays the counts out. Days are the shop's days (China Standard Time).

Measured on the console benchmark's data (10,000 conversations, 179k events; a 14-day range,
single request, warm): 75-155 ms when the sessions and messages were counted into days in
Python and the unplaced messages were found by a scan of Rasa's table, 11-24 ms now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, func, select

from cn_text.pii import mask_pii
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Event, Handoff
from web.review.tracker import INTENTS, MESSAGES, SESSIONS

SHOP_TZ = timezone(timedelta(hours=8))
TOP = 10
FALLBACK_INTENT = "nlu_fallback"
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Day:
    day: date
    conversations: int
    shopper_messages: int
    bot_messages: int


@dataclass(frozen=True)
class Count:
    name: str
    count: int


@dataclass(frozen=True)
class FunnelStep:
    source: str
    impressions: int
    clicks: int
    add_to_cart: int

    @property
    def click_rate(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def cart_rate(self) -> float | None:
        return self.add_to_cart / self.clicks if self.clicks else None


@dataclass(frozen=True)
class HandoffRatings:
    """The shoppers' ratings (1-5) of the handoffs that ended in the period (by ``closed_at``:
    the service given then, whenever the shopper rated it)."""

    count: int
    average: float | None  # None when nobody rated (the page shows 「暂无评分」)
    distribution: tuple[int, int, int, int, int]  # how many 1, 2, 3, 4 and 5 star ratings


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    until: datetime
    days: tuple[Day, ...]
    conversations: int
    fallback_rate: float | None  # share of conversations with at least one unplaced message
    handoff_rate: float | None  # share of conversations where the shopper asked for a person
    answered_without_person: float | None
    top_intents: tuple[Count, ...]
    unanswered: tuple[Count, ...]  # unplaced shopper messages, grouped by their folded text
    funnel: tuple[FunnelStep, ...]
    handoff_ratings: HandoffRatings


def dashboard(
    index_reader: Engine, store: CatalogStore, since: datetime, until: datetime
) -> Dashboard:
    """Every figure is counted by the database (GROUP BY over the index's range indexes): the
    request reads a few dozen rows, not every message of the period."""
    start, end = since.timestamp(), until.timestamp()
    first, last = (
        since.astimezone(SHOP_TZ).date(),
        (until - timedelta(seconds=1)).astimezone(SHOP_TZ).date(),
    )
    origin = datetime.combine(first, time(), SHOP_TZ).timestamp()
    in_range = (SESSIONS.c.first_ts >= start, SESSIONS.c.first_ts < end)
    with index_reader.connect() as conn:
        total, fallback, handoff = conn.execute(
            select(
                func.count(), _how_many(SESSIONS.c.fallback), _how_many(SESSIONS.c.handoff)
            ).where(*in_range)
        ).one()
        session_day = _day_number(conn, SESSIONS.c.first_ts, origin)
        conversations = conn.execute(
            select(session_day, func.count()).where(*in_range).group_by(session_day)
        ).all()
        message_day = _day_number(conn, MESSAGES.c.timestamp, origin)
        messages = conn.execute(
            select(message_day, MESSAGES.c.role, func.count())
            .where(MESSAGES.c.timestamp >= start, MESSAGES.c.timestamp < end)
            .group_by(message_day, MESSAGES.c.role)
        ).all()
        intents = conn.execute(
            select(INTENTS.c.intent, func.count())
            .join(SESSIONS, SESSIONS.c.session_id == INTENTS.c.session_id)
            .where(*in_range)
            .group_by(INTENTS.c.intent)
            .order_by(func.count().desc(), INTENTS.c.intent)
            .limit(TOP)
        ).all()
        unanswered = _unanswered(conn, start, end)
    total, fallback, handoff = int(total), int(fallback or 0), int(handoff or 0)
    return Dashboard(
        since=since,
        until=until,
        days=_days(first, last, conversations, messages),
        conversations=total,
        fallback_rate=fallback / total if total else None,
        handoff_rate=handoff / total if total else None,
        answered_without_person=(total - handoff) / total if total else None,
        top_intents=tuple(Count(name, count) for name, count in intents),
        unanswered=unanswered,
        funnel=_funnel(store, since, until),
        handoff_ratings=handoff_ratings(store, since, until),
    )


def _how_many(flag: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return func.sum(sa.case((flag.is_(True), 1), else_=0))


def _day_number(conn: Connection, ts: sa.ColumnElement[Any], origin: float) -> sa.Label[Any]:
    """The shop day of `ts` as days after the one starting at `origin` (the period's first
    shop day; China Standard Time has no DST, so a day is 86,400 s). Only times at or after
    `origin` are counted, so SQLite's truncating cast is the floor."""
    # Inline numbers, not parameters: PostgreSQL must see the GROUP BY expression as the same
    # as the selected one.
    days = (ts - sa.literal(origin, literal_execute=True)) / sa.literal(
        DAY_SECONDS, literal_execute=True
    )
    if conn.dialect.name == "sqlite":
        return sa.cast(days, sa.Integer).label("day")
    return sa.cast(func.floor(days), sa.Integer).label("day")


def _days(
    first: date,
    last: date,
    conversations: Sequence[sa.Row[Any]],
    messages: Sequence[sa.Row[Any]],
) -> tuple[Day, ...]:
    started = {first + timedelta(days=n): count for n, count in conversations}
    sent: Counter[tuple[date, str]] = Counter()
    for n, role, count in messages:
        sent[first + timedelta(days=n), role] += count
    days = []
    day = first
    while day <= last:
        days.append(Day(day, started.get(day, 0), sent[day, "shopper"], sent[day, "bot"]))
        day += timedelta(days=1)
    return tuple(days)


def _unanswered(conn: Connection, start: float, end: float) -> tuple[Count, ...]:
    """What shoppers wrote that the NLU could not place, most frequent first (ties: the one
    asked first); the same words with other spacing or width are one question (the index's
    folded text), shown as first written. Personal data masked."""
    first_id = func.min(MESSAGES.c.event_id)
    groups = conn.execute(
        select(func.count(), first_id)
        .where(
            MESSAGES.c.intent == FALLBACK_INTENT,
            MESSAGES.c.timestamp >= start,
            MESSAGES.c.timestamp < end,
        )
        .group_by(MESSAGES.c.folded)
        .order_by(func.count().desc(), first_id)
        .limit(TOP)
    ).all()
    texts = dict(
        conn.execute(
            select(MESSAGES.c.event_id, MESSAGES.c.text).where(
                MESSAGES.c.event_id.in_([event_id for _, event_id in groups])
            )
        ).all()
    )
    return tuple(Count(mask_pii(texts[event_id].strip()), count) for count, event_id in groups)


def _funnel(store: CatalogStore, since: datetime, until: datetime) -> tuple[FunnelStep, ...]:
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    with store.session() as session:
        rows = session.execute(
            select(Event.source, Event.type, func.count())
            .where(Event.ts >= since, Event.ts < until)
            .group_by(Event.source, Event.type)
        ).all()
    by_source: dict[str, Counter[str]] = {}
    for source, kind, count in rows:
        by_source.setdefault(source, Counter())[kind] += count
    return tuple(
        FunnelStep(source, c["impression"], c["click"], c["add_to_cart"])
        for source, c in sorted(by_source.items())
    )


def handoff_ratings(store: CatalogStore, since: datetime, until: datetime) -> HandoffRatings:
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    with store.session() as session:
        rows = session.execute(
            select(Handoff.rating, func.count())
            .where(
                Handoff.rating.is_not(None),
                Handoff.closed_at >= since,
                Handoff.closed_at < until,
            )
            .group_by(Handoff.rating)
        ).all()
    counts = Counter({int(rating): int(n) for rating, n in rows})
    total = sum(counts.values())
    average = sum(r * n for r, n in counts.items()) / total if total else None
    distribution = (counts[1], counts[2], counts[3], counts[4], counts[5])
    return HandoffRatings(total, average, distribution)

"""The staff dashboard's figures: conversations and messages per day, fallback and handoff
rates, top intents, the questions the assistant could not place (grouped), and the
recommendation funnel from shopper events.

Read from the conversation index (``tracker.py``: one row per session, one per message, the
intents), from Rasa's own table for the unplaced messages' texts (its ``intent_name`` column),
and from the catalog database's shopper events. Days are the shop's days (China Standard Time).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy import Engine, func, select

from cn_text.pii import mask_pii
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Event
from web.review.events import EVENTS, USER, fold
from web.review.tracker import INTENTS, MESSAGES, SESSIONS

SHOP_TZ = timezone(timedelta(hours=8))
TOP = 10
FALLBACK_INTENT = "nlu_fallback"


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


def dashboard(
    index_reader: Engine,
    tracker: Engine,
    store: CatalogStore,
    since: datetime,
    until: datetime,
) -> Dashboard:
    start, end = since.timestamp(), until.timestamp()
    with index_reader.connect() as conn:
        sessions = conn.execute(
            select(SESSIONS.c.first_ts, SESSIONS.c.fallback, SESSIONS.c.handoff).where(
                SESSIONS.c.first_ts >= start, SESSIONS.c.first_ts < end
            )
        ).all()
        messages = conn.execute(
            select(MESSAGES.c.timestamp, MESSAGES.c.role).where(
                MESSAGES.c.timestamp >= start, MESSAGES.c.timestamp < end
            )
        ).all()
        intents = conn.execute(
            select(INTENTS.c.intent, func.count())
            .join(SESSIONS, SESSIONS.c.session_id == INTENTS.c.session_id)
            .where(SESSIONS.c.first_ts >= start, SESSIONS.c.first_ts < end)
            .group_by(INTENTS.c.intent)
            .order_by(func.count().desc(), INTENTS.c.intent)
            .limit(TOP)
        ).all()
    total = len(sessions)
    fallback = sum(bool(s.fallback) for s in sessions)
    handoff = sum(bool(s.handoff) for s in sessions)
    return Dashboard(
        since=since,
        until=until,
        days=_days(since, until, sessions, messages),
        conversations=total,
        fallback_rate=fallback / total if total else None,
        handoff_rate=handoff / total if total else None,
        answered_without_person=(total - handoff) / total if total else None,
        top_intents=tuple(Count(name, count) for name, count in intents),
        unanswered=_unanswered(tracker, start, end),
        funnel=_funnel(store, since, until),
    )


def _shop_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, SHOP_TZ).date()


def _days(since: datetime, until: datetime, sessions, messages) -> tuple[Day, ...]:  # type: ignore[no-untyped-def]
    conversations = Counter(_shop_day(s.first_ts) for s in sessions)
    shopper = Counter(_shop_day(m.timestamp) for m in messages if m.role == "shopper")
    bot = Counter(_shop_day(m.timestamp) for m in messages if m.role == "bot")
    first, last = (
        since.astimezone(SHOP_TZ).date(),
        (until - timedelta(seconds=1)).astimezone(SHOP_TZ).date(),
    )
    days = []
    day = first
    while day <= last:
        days.append(Day(day, conversations[day], shopper[day], bot[day]))
        day += timedelta(days=1)
    return tuple(days)


def _unanswered(tracker: Engine, start: float, end: float) -> tuple[Count, ...]:
    """What shoppers wrote that the NLU could not place, most frequent first; the same words
    with other spacing or width are one question. Personal data masked."""
    if not sa.inspect(tracker).has_table(EVENTS.name):
        return ()
    with tracker.connect() as conn:
        rows = conn.execute(
            select(EVENTS.c.data).where(
                EVENTS.c.type_name == USER,
                EVENTS.c.intent_name == FALLBACK_INTENT,
                EVENTS.c.timestamp >= start,
                EVENTS.c.timestamp < end,
            )
        ).all()
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for (data,) in rows:
        text = (json.loads(data or "{}").get("text") or "").strip()
        if not text:
            continue
        key = fold(text)
        counts[key] += 1
        shown.setdefault(key, mask_pii(text))
    return tuple(Count(shown[k], n) for k, n in counts.most_common(TOP))


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

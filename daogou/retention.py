"""Retention (issue #19): conversations and shopper events older than `DAOGOU_RETENTION_DAYS`
are removed by a daily job, so personal data is kept no longer than the shop needs it (PIPL
art. 19), and `daogou privacy retain` for shops that run it from cron.

What goes, for a cut-off time (the same places `daogou privacy erase` cleans, daogou/privacy.py):
- Rasa's tracker store: every conversation (a sender id's events) whose latest event is older
  than the cut-off, whole. A conversation with a message after the cut-off is kept whole, even
  its oldest sessions: events are never deleted or rewritten out of a live conversation (Rasa
  replays them to rebuild its slots), and one statement per batch deletes a conversation only
  if it still has no recent event, so a shopper who writes during the run keeps theirs. Rasa's
  in-memory copies follow by themselves (bot/tracker_store.py trusts a copy only while the
  conversation's latest event id is unchanged, and afterwards there is none).
- the console's index (web/review/tracker.py): the rows of those conversations, then a catch-up
  so its state row names no removed event.
- staff marks bound to a removed conversation: flags, the review, handoff requests (with the
  shopper's texts) are deleted; annotations keep their text, masked when staff made them, and
  lose the sender id, as at erasure.
- the catalog's shopper events older than the cut-off, row by row: the recommender weighs them
  with a 30-day half-life, so an event a year old says almost nothing any more.
- rows of other shopper tables (the consent to personal recommendations, and any table added
  later): deleted once the shopper has no conversation and no event left. Their own age is not
  the point: a consent given two years ago still holds while the shopper keeps shopping.
- orders are kept: the Electronic Commerce Law (art. 31) asks for transaction records to be kept
  at least three years after the transaction, and the accounting rules longer, so an order is
  never deleted here. After three years (or the retention period, if longer) its shopper link
  is replaced by the same one-way pseudonym erasure uses: the books keep items, amounts and
  dates, the order no longer names the person. Within the three years it answers the shopper's
  order questions as before.
Then the served recommender is refitted without the removed events (it is fitted on everyone's
events: no state of a shopper without events survives), and the databases are compacted
(SQLite vacuumed and its WAL truncated, PostgreSQL vacuumed) so no removed byte can be read back.
The log and the audit log (actor ``retention``) get counts only.

One run at a time, however many web app replicas schedule it: the run holds a lease, on
PostgreSQL a session advisory lock on the catalog database, on the SQLite default an exclusive
file lock beside the catalog's file (SQLite replicas share that file, so they share one machine).
Both end with the process that holds them, so a crashed run never blocks the next one. The daily
run is skipped when the audit log shows a run since its scheduled time (another replica did it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import zlib
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from daogou.container import Services, build_services
from daogou.locks import advisory_lock, file_lock
from daogou.privacy import (
    ID_CHUNK,
    INDEX_TABLES,
    TRACKER_TABLE,
    audit,
    delete_rows,
    refit_recommender,
    review_index_url,
)
from daogou.settings import Settings, get_settings
from knowledge_graph import privacy
from knowledge_graph.handoff import SHOP_TZ
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import AuditEntry
from web.review.tracker import ConversationIndex

log = logging.getLogger(__name__)

ACTOR = "retention"
ACTION = "retention"
# Tables whose rows belong to one conversation: they go with it (annotations are detached).
CONVERSATION_TABLES = ("conversation_flags", "conversation_reviews", "handoffs", "annotations")
EVENTS_TABLE = "events"  # the catalog's shopper events, removed by age
ORDERS_TABLE = "orders"
ORDER_KEEP = timedelta(days=3 * 365)  # Electronic Commerce Law art. 31: at least three years
PSEUDONYM_PREFIX = "erased-"  # knowledge_graph.privacy.pseudonym: an order detached before
PG_LOCK_KEY = zlib.crc32(b"daogou.retention")  # the advisory lock's number


class RetentionBusy(RuntimeError):
    """Another process holds the retention lease (a run is in progress)."""


@dataclass(frozen=True)
class Plan:
    """One run: what is older than `cutoff` goes; orders older than `orders_before` are detached."""

    cutoff: datetime
    orders_before: datetime
    dry_run: bool = False


def cutoff(days: int, now: datetime) -> datetime | None:
    """The moment before which data goes; None when retention is off (`days` 0)."""
    return now - timedelta(days=days) if days > 0 else None


def plan_for(days: int, now: datetime, *, dry_run: bool = False) -> Plan | None:
    cut = cutoff(days, now)
    if cut is None:
        return None
    return Plan(cut, min(cut, now - ORDER_KEEP), dry_run)


# -- running ------------------------------------------------------------------------------------


def retain(
    services: Services, days: int, *, now: datetime | None = None, dry_run: bool = False
) -> dict[str, int] | None:
    """Removes what is older than `days` (module docstring) and returns the counts per place
    (with `dry_run`, what would go and nothing changes; the console's index, a copy of the
    conversations, is then counted under ``tracker.*`` only). None when retention is off.
    Raises :class:`RetentionBusy` when another run holds the lease."""
    plan = plan_for(days, now or datetime.now(UTC), dry_run=dry_run)
    if plan is None:
        return None
    with lease(services.settings) as held:
        if not held:
            raise RetentionBusy("another retention run is in progress")
        return _run(services, plan, days)


def retain_scheduled(
    services: Services, days: int, scheduled: datetime, *, now: datetime | None = None
) -> dict[str, int] | None:
    """The daily run of one replica (web/retention_loop.py): None when retention is off, when
    another replica holds the lease, or when a run has been logged since `scheduled`."""
    plan = plan_for(days, now or datetime.now(UTC))
    if plan is None:
        return None
    with lease(services.settings) as held:
        if not held or ran_since(services.store, scheduled):
            return None
        return _run(services, plan, days)


def ran_since(store: CatalogStore, moment: datetime) -> bool:
    """Whether the audit log has a retention run at or after `moment`."""
    with store.session() as session:
        found = session.scalar(
            sa.select(AuditEntry.id)
            .where(AuditEntry.action == ACTION, AuditEntry.ts >= moment.astimezone(UTC))
            .limit(1)
        )
    return found is not None


def _run(services: Services, plan: Plan, days: int) -> dict[str, int]:
    settings = services.settings
    senders, removed = expire_conversations(settings.tracker_db_url, plan)
    if senders and not plan.dry_run:
        removed["review_index"] = expire_index(settings, senders)
    catalog, gone = expire_catalog(services.store, plan, senders, settings.tracker_db_url)
    removed.update(catalog)
    if not plan.dry_run:
        for shopper in gone:
            services.consent.forget(shopper)  # this process's cached answer of a removed row
        if (catalog.get("catalog.events") or gone) and refit_recommender(services):
            removed["recommender.refitted"] = 1
    removed = {k: v for k, v in removed.items() if v}
    cut = plan.cutoff.astimezone(SHOP_TZ).strftime("%Y-%m-%d %H:%M")
    log.info("retention%s before %s: %s", " (dry run)" if plan.dry_run else "", cut, removed)
    if not plan.dry_run:
        audit(services, ACTOR, ACTION, f"before {cut}", {"days": days, **removed})
    return removed


# -- the places ---------------------------------------------------------------------------------


def expire_conversations(tracker_url: str, plan: Plan) -> tuple[list[str], dict[str, int]]:
    """(senders whose whole conversation went, counts) for Rasa's tracker store."""
    engine = _engine(tracker_url)
    try:
        if not sa.inspect(engine).has_table(TRACKER_TABLE):
            return [], {}
        events = sa.Table(TRACKER_TABLE, sa.MetaData(), autoload_with=engine)
        before = plan.cutoff.timestamp()
        with engine.connect() as conn:
            stale = conn.execute(
                sa.select(events.c.sender_id)
                .group_by(events.c.sender_id)
                .having(sa.func.max(events.c.timestamp) < before)
                .order_by(events.c.sender_id)
            ).scalars()
            stale = list(stale)
        gone: list[str] = []
        count = 0
        for chunk in _chunks(stale):
            in_chunk = events.c.sender_id.in_(chunk)
            recent = sa.select(events.c.sender_id).where(in_chunk, events.c.timestamp >= before)
            with engine.begin() as conn:
                count += _apply(conn, events, in_chunk & events.c.sender_id.not_in(recent), plan)
                kept = set() if plan.dry_run else _distinct(conn, events.c.sender_id, chunk)
            gone.extend(s for s in chunk if s not in kept)
        if count and not plan.dry_run:
            privacy.reclaim(engine)
        return gone, {"tracker.conversations": len(gone), "tracker.events": count}
    finally:
        engine.dispose()


def expire_index(settings: Settings, senders: Collection[str]) -> int:
    """Drops the console index's rows of removed conversations; its rows removed."""
    url = review_index_url(settings)
    if not url:
        return 0
    removed = delete_rows(url, INDEX_TABLES, senders, compact=False)
    index = ConversationIndex(settings.tracker_db_url, url)
    try:
        index.catch_up()  # its state row may name the last event folded: a removed one
    finally:
        index.dispose()
    engine = sa.create_engine(url)
    try:
        privacy.reclaim(engine)
    finally:
        engine.dispose()
    return removed


def expire_catalog(
    store: CatalogStore, plan: Plan, senders: Sequence[str], tracker_url: str
) -> tuple[dict[str, int], set[str]]:
    """(counts, shoppers with nothing left) for the catalog database, in one transaction."""
    tables = {table.name: (table, owner) for table, owner in privacy.owned_tables()}
    events, owner = tables[EVENTS_TABLE]
    before = plan.cutoff.astimezone(UTC)
    counts: dict[str, int] = {}
    with store.engine.begin() as conn:
        old_event_users = set(
            conn.execute(sa.select(owner).where(events.c.ts < before).distinct()).scalars()
        )
        candidates = sorted((old_event_users | set(senders)) - {""})
        still_shopping = _distinct(conn, owner, candidates, events.c.ts >= before)
        still_chatting = _has_conversation(tracker_url, candidates) - set(senders)
        gone = set(candidates) - still_shopping - still_chatting
        counts["catalog.events"] = _apply(conn, events, events.c.ts < before, plan)
        counts["catalog.orders"] = _detach_orders(conn, *tables[ORDERS_TABLE], plan)
        for name, (table, column) in sorted(tables.items()):
            if name in (EVENTS_TABLE, ORDERS_TABLE):
                continue
            whose = senders if name in CONVERSATION_TABLES else sorted(gone)
            counts[f"catalog.{name}"] = _remove_owned(conn, table, column, whose, plan)
    if not plan.dry_run and any(counts.values()):
        privacy.reclaim(store.engine)
    return counts, gone


def _remove_owned(
    conn: Connection, table: sa.Table, owner: sa.Column[Any], ids: Sequence[str], plan: Plan
) -> int:
    """Deletes the rows of `ids`, or detaches them where erasure keeps the row (annotations)."""
    detach = privacy.ANONYMISED.get(table.name) == owner.name
    touched = 0
    for chunk in _chunks(ids):
        if detach:
            where = owner.in_(chunk) & (owner != "")
            touched += _apply(conn, table, where, plan, values={owner.name: ""})
        else:
            touched += _apply(conn, table, owner.in_(chunk), plan)
    return touched


def _detach_orders(conn: Connection, table: sa.Table, owner: sa.Column[Any], plan: Plan) -> int:
    """Replaces the shopper of orders older than `plan.orders_before` by their pseudonym."""
    old = (table.c.created_at < plan.orders_before.astimezone(UTC)) & ~owner.startswith(
        PSEUDONYM_PREFIX
    )
    users = list(conn.execute(sa.select(owner).where(old).distinct()).scalars())
    return sum(
        _apply(
            conn, table, old & (owner == user), plan, values={owner.name: privacy.pseudonym(user)}
        )
        for user in users
    )


def _has_conversation(tracker_url: str, ids: Sequence[str]) -> set[str]:
    engine = _engine(tracker_url)
    try:
        if not sa.inspect(engine).has_table(TRACKER_TABLE):
            return set()
        events = sa.Table(TRACKER_TABLE, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            return _distinct(conn, events.c.sender_id, ids)
    finally:
        engine.dispose()


# -- small tools --------------------------------------------------------------------------------


def _apply(
    conn: Connection,
    table: sa.Table,
    where: sa.ColumnElement[bool],
    plan: Plan,
    *,
    values: dict[str, Any] | None = None,
) -> int:
    """Deletes (or, with `values`, updates) the matching rows; in a dry run only counts them."""
    if plan.dry_run:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar()
        )
    if values is not None:
        return conn.execute(sa.update(table).where(where).values(values)).rowcount
    return conn.execute(sa.delete(table).where(where)).rowcount


def _distinct(
    conn: Connection, column: sa.Column[Any], ids: Sequence[str], *where: sa.ColumnElement[bool]
) -> set[str]:
    """The `ids` that have a row (matching `where`)."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        query = sa.select(column).where(column.in_(chunk), *where).distinct()
        found.update(conn.execute(query).scalars())
    return found


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield list(ids[start : start + ID_CHUNK])


def _engine(url: str) -> Engine:
    """A writer on another process's database: SQLite waits for a turn being saved."""
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url)


# -- the lease ----------------------------------------------------------------------------------


@contextmanager
def lease(settings: Settings) -> Iterator[bool]:
    """Whether this process may run retention now (module docstring); held for the block."""
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        with advisory_lock(settings.database_url, PG_LOCK_KEY) as held:
            yield held
    else:
        with file_lock(lock_path(settings)) as held:
            yield held


def lock_path(settings: Settings) -> Path:
    """Beside the catalog's SQLite file (var/ for an in-memory database)."""
    database = sa.make_url(settings.database_url).database
    if database in (None, "", ":memory:"):
        return settings.var_dir / "retention.lock"
    return Path(f"{database}-retention.lock")


# -- the command --------------------------------------------------------------------------------


def _retain(args: argparse.Namespace) -> int:
    services = build_services(get_settings())
    days = services.settings.retention_days if args.days is None else args.days
    try:
        removed = retain(services, days, dry_run=args.dry_run)
    except RetentionBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if removed is None:
        print("retention is off (0 days): nothing removed")
        return 0
    report = {"days": days, "dry_run": args.dry_run, "removed": removed}
    print(json.dumps(report, ensure_ascii=False))
    return 0


def add_retain_parser(privacy_commands: argparse._SubParsersAction) -> None:
    """`daogou privacy retain`, beside export and erase."""
    retain_cmd = privacy_commands.add_parser(
        "retain", help="remove conversations and events older than the retention period"
    )
    retain_cmd.add_argument(
        "--days", type=int, help="the period in days (default: DAOGOU_RETENTION_DAYS; 0 = keep)"
    )
    retain_cmd.add_argument(
        "--dry-run", action="store_true", help="print what would be removed, change nothing"
    )
    retain_cmd.set_defaults(func=_retain)

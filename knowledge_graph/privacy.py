"""What the catalog database holds about one shopper (PIPL access and erasure).

Every table of ours with a `user_id` or `sender_id` column is found from the table classes, so a
table added later is covered without a change here. Orders are kept for the shop's accounting
but no longer point at the shopper; staff corrections keep their (already masked) text without
the sender; everything else of the shopper is deleted. The bytes go too: SQLite is vacuumed
and its write-ahead log truncated, PostgreSQL vacuumed, so a deleted row cannot be read back
from free pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Base

# Kept, with the shopper's id replaced: the shop must keep its sales records.
ANONYMISED = {"orders": "user_id", "annotations": "sender_id"}
OWNER_COLUMNS = ("user_id", "sender_id")


def owned_tables() -> Iterator[tuple[sa.Table, sa.Column[Any]]]:
    """(table, owner column) for every table that names a shopper."""
    for table in Base.metadata.sorted_tables:
        for name in OWNER_COLUMNS:
            if name in table.c:
                yield table, table.c[name]


def pseudonym(user_id: str) -> str:
    """Stands in for an erased shopper where a record must stay (an order): not reversible
    without the id, and the same for one shopper, so the orders still group."""
    return "erased-" + hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:16]


def export_user(store: CatalogStore, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of ours about the shopper, by table name, as JSON-ready dicts."""
    found: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for table, owner in owned_tables():
            rows = conn.execute(sa.select(table).where(owner == user_id)).mappings().all()
            if rows:
                found[table.name] = [{k: _json(v) for k, v in row.items()} for row in rows]
    return found


def erase_user(store: CatalogStore, user_id: str) -> dict[str, int]:
    """Deletes (or, for orders and annotations, detaches) the shopper's rows in one
    transaction, then reclaims the space; returns rows touched per table."""
    touched: dict[str, int] = {}
    with store.engine.begin() as conn:
        for table, owner in owned_tables():
            if ANONYMISED.get(table.name) == owner.name:
                stand_in = pseudonym(user_id) if owner.name == "user_id" else ""
                result = conn.execute(
                    sa.update(table).where(owner == user_id).values({owner.name: stand_in})
                )
            else:
                result = conn.execute(sa.delete(table).where(owner == user_id))
            if result.rowcount:
                touched[table.name] = result.rowcount
    reclaim(store.engine)
    return touched


def reclaim(engine: Engine) -> None:
    """Removes deleted rows' bytes from the database files (free pages, the WAL)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value

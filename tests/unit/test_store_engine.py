"""knowledge_graph.store.make_engine: the pragmas every SQLite connection of the catalog gets,
on each new connection of the pool (several processes share the file)."""

from __future__ import annotations

from pathlib import Path

from knowledge_graph.store import make_engine

SYNCHRONOUS_NORMAL = 1  # SQLite's code for synchronous=NORMAL (FULL is 2, the default)


def pragmas(engine, names: tuple[str, ...]) -> dict[str, object]:
    with engine.connect() as conn:
        return {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}


def test_a_sqlite_catalog_is_wal_synced_at_checkpoints_with_keys_and_a_busy_timeout(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    expected = {"journal_mode": "wal", "synchronous": SYNCHRONOUS_NORMAL,
                "busy_timeout": 15000, "foreign_keys": 1}  # fmt: skip
    assert pragmas(engine, names) == expected
    engine.dispose()  # a new connection gets them too
    assert pragmas(engine, names) == expected

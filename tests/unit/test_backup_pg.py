"""`daogou backup` / `daogou restore` on PostgreSQL (daogou/backup.py): catalog and tracker in
two fresh databases of the local server, the same shop day as tests/unit/test_backup.py, then
changes everywhere (products deleted, the tracker's table dropped, a table added as a newer
migration would), and the restore gives back every row of every table, the sequences included.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine

from daogou.backup import MANIFEST, BackupError, backup, read_manifest, restore
from daogou.db import init_database
from daogou.settings import Settings
from tests.unit.test_backup import (
    HEAD,
    VERSION_TABLES,
    _change_shop,
    _populate,
    _settings,
)
from tests.unit.test_store_postgres import ADMIN_URL, _answers, _start_postgres
from web.review.fake_history import EVENTS

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_shop(tmp_path) -> Iterator[Settings]:
    """The seed shop with catalog and tracker each in its own new database (both have an
    `events` table), dropped afterwards."""
    if not _answers():
        _start_postgres()
    if not _answers():
        pytest.skip("no PostgreSQL server answers at " + ADMIN_URL)
    names = [f"daogou_bk_test_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    catalog_url, tracker_url = (ADMIN_URL.rsplit("/", 1)[0] + "/" + name for name in names)
    settings = dataclasses.replace(
        _settings(tmp_path / "var"), database_url=catalog_url, tracker_db_url=tracker_url
    )
    settings.var_dir.mkdir()
    try:
        init_database(settings).engine.dispose()
        _populate(settings)
        yield settings
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(map(tuple, conn.execute(sa.text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in sorted(sa.inspect(conn).get_table_names())
            }
    finally:
        engine.dispose()


def _state(settings: Settings) -> dict[str, Any]:
    catalog = _tables(settings.database_url)
    return {
        "catalog": {k: v for k, v in catalog.items() if k not in VERSION_TABLES},
        "tracker": _tables(settings.tracker_db_url),
        "media": sorted(p.name for p in (settings.var_dir / "media").rglob("*") if p.is_file()),
        "shopper_key": (settings.var_dir / "shopper_key").read_text(),
    }


def _versions(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        versions = {
            name: conn.scalar(sa.text(f"SELECT coalesce(max(version), 0) FROM {name}"))
            for name in VERSION_TABLES
        }
    engine.dispose()
    return versions


def _break(settings: Settings) -> None:
    """The tracker's table gone, a stray table in each database (as a newer migration adds)."""
    for url, statements in (
        (settings.tracker_db_url, ["DROP TABLE events", "CREATE TABLE stray (x int)"]),
        (
            settings.database_url,
            ["CREATE TABLE added_later (x int)", "INSERT INTO added_later VALUES (1)"],
        ),
    ):
        engine = create_engine(url)
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
        engine.dispose()


def _with_unreadable_dump(archive: Path, out: Path) -> Path:
    """A copy of `archive` whose catalog dump is not a dump, with a manifest that agrees."""
    garbage = b"PGDMP but not really a dump" * 40
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as copy:
        manifest = json.loads(source.extractfile(MANIFEST).read())
        manifest["members"]["databases/catalog.pgdump"]["sha256"] = hashlib.sha256(
            garbage
        ).hexdigest()
        for member in source.getmembers():
            data = source.extractfile(member).read()
            data = {
                MANIFEST: json.dumps(manifest).encode(),
                "databases/catalog.pgdump": garbage,
            }.get(member.name, data)
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return out


def test_round_trip_on_postgresql(pg_shop, tmp_path):
    settings = pg_shop
    at_backup, versions_at_backup = _state(settings), _versions(settings)
    assert at_backup["tracker"]["events"] and "review_sessions" in at_backup["catalog"]

    archive = backup(settings)

    manifest = read_manifest(archive)
    assert sorted(manifest["members"]) == [
        "databases/catalog.pgdump",
        "databases/tracker.pgdump",
        "media/products/ab12cd-800.webp",
        "secrets/rasa_token",
        "secrets/shopper_key",
    ]
    catalog = manifest["databases"]["catalog"]
    assert catalog["alembic_revision"] == HEAD
    assert catalog["rows"]["products"] == len(at_backup["catalog"]["products"])
    assert catalog["rows"]["events"] == len(at_backup["catalog"]["events"])
    assert manifest["databases"]["tracker"]["rows"] == {"events": 5}
    assert manifest["databases"]["review_index"] == {  # the review_* tables are the catalog's
        "engine": "postgresql",
        "source": settings.database_url,
        "same_as": "catalog",
    }

    _change_shop(settings)
    _break(settings)
    versions_before = _versions(settings)
    changed = _state(settings)
    assert changed["catalog"]["products"] != at_backup["catalog"]["products"]

    unreadable = _with_unreadable_dump(archive, tmp_path / "unreadable.tar.gz")
    with pytest.raises(BackupError, match="pg_restore failed: .*unsupported version"):
        restore(settings, unreadable)  # checksums fine, dump not: the schema was not dropped
    assert _state(settings) == changed

    result = restore(settings, archive)

    assert _state(settings) == at_backup
    assert "added_later" not in _tables(settings.database_url)
    assert (
        result.catalog_version
        == max(versions_at_backup["catalog_version"], versions_before["catalog_version"]) + 1
    )
    assert _versions(settings)["catalog_version"] == result.catalog_version
    tracker = create_engine(settings.tracker_db_url)
    with tracker.begin() as conn:  # the id sequence came back too: no clash with restored ids
        new_id = conn.execute(
            EVENTS.insert().returning(EVENTS.c.id),
            {"sender_id": "s-new", "type_name": "user", "timestamp": 1.0},
        ).scalar_one()
    tracker.dispose()
    assert new_id == max(row[0] for row in at_backup["tracker"]["events"]) + 1

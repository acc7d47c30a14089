"""The same store, migrations and graph on the PostgreSQL server of this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from daogou.db import migrate
from knowledge_graph.graph import ProductGraph
from knowledge_graph.store import CatalogStore, Conflict
from tests.fixtures import mini_catalog

pytestmark = pytest.mark.postgres
ADMIN_URL = os.environ.get(
    "DAOGOU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _answers() -> bool:
    try:
        with create_engine(ADMIN_URL).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


def _start_postgres() -> None:
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.exists():
        return
    for version in os.listdir(clusters):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )
    time.sleep(2)


@pytest.fixture(scope="module")
def pg_url():
    if not _answers():
        _start_postgres()
    if not _answers():
        pytest.skip("no PostgreSQL server answers at " + ADMIN_URL)
    name = f"daogou_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrate_load_query_update_on_postgres(pg_url):
    migrate(pg_url)
    store = CatalogStore.from_url(pg_url)
    assert store.is_empty()
    store.load_catalog(mini_catalog())
    graph = ProductGraph(store.snapshot())
    assert [p.sku for p in graph.filter(category="手机", brands=["华为"], max_price=6000)] == [
        "PH-HW-M60-256"
    ]
    page = store.list_products(q="mate", limit=2)
    assert page.total == 3 and len(page.items) == 2  # ilike: case-insensitive on PostgreSQL too
    version = store.version()
    revision = store.get_product("PH-XM-14-256").product.revision
    store.update_product("PH-XM-14-256", {"price": 3799}, expected_revision=revision)
    assert store.version() == version + 1
    with pytest.raises(Conflict):
        store.update_product("PH-XM-14-256", {"price": 3599}, expected_revision=revision)
    assert store.get_product("PH-XM-14-256").product.price == 3799
    store.engine.dispose()

"""The Alembic migrations build exactly the tables the code declares (a column added to a table
class without a migration fails here, not on a shop's database)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from daogou.db import migrate
from knowledge_graph.tables import Base


def test_migrations_match_the_table_classes(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrate(url)
    with create_engine(url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []

"""Database set-up: Alembic migrations and the seed catalog."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.config import Config

from daogou.container import build_services
from daogou.settings import Settings
from knowledge_graph.store import CatalogStore
from recommender.events import EventStore

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def seed_catalog_path(settings: Settings) -> Path:
    """Generates the deterministic seed catalog into var/seed/ once."""
    path = settings.var_dir / "seed" / "catalog.json"
    if not path.exists():
        from data.generate_catalog import build_catalog

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(build_catalog(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    return path


def init_database(settings: Settings) -> CatalogStore:
    """Migrates the database and loads the seed catalog if it holds no products yet."""
    if settings.database_url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database_url)
    services = build_services(settings)
    if services.store.is_empty():
        catalog = json.loads(seed_catalog_path(settings).read_text(encoding="utf-8"))
        services.store.load_catalog(catalog)
        services.orders.load(catalog.get("orders", []))
        # The seed's shoppers are simulated: their histories train the recommender as given.
        EventStore(services.store).record_many(catalog.get("interactions", []))
    return services.store

"""The action server's process-wide state: settings, store and the live catalog view."""

from __future__ import annotations

from functools import lru_cache

from daogou.settings import get_settings
from knowledge_graph.service import CatalogService, CatalogView
from knowledge_graph.store import CatalogStore


@lru_cache(maxsize=1)
def store() -> CatalogStore:
    return CatalogStore.from_url(get_settings().database_url)


@lru_cache(maxsize=1)
def catalog() -> CatalogService:
    return CatalogService(store())


def view() -> CatalogView:
    return catalog().current()

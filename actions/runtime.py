"""The action server's process-wide state: settings, store, the live catalog view and search."""

from __future__ import annotations

import logging
from functools import lru_cache

from daogou.settings import get_settings
from knowledge_graph.service import CatalogService, CatalogView
from knowledge_graph.store import CatalogStore
from recommender.search import ProductSearch

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def store() -> CatalogStore:
    return CatalogStore.from_url(get_settings().database_url)


@lru_cache(maxsize=1)
def catalog() -> CatalogService:
    return CatalogService(store())


def view() -> CatalogView:
    return catalog().current()


@lru_cache(maxsize=1)
def search() -> ProductSearch:
    """The hybrid searcher; loads the embedding model once per process."""
    from recommender.embeddings import get_embedder

    searcher = ProductSearch(get_embedder(), get_settings().var_dir / "index" / "actions")
    searcher.sync(view())
    return searcher


def warm_up() -> None:
    """Loads the graph, model and indexes before the first shopper waits for them."""
    try:
        search()
    except Exception:  # the server still answers graph questions without search
        log.exception("search warm-up failed")

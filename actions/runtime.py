"""The action server's process-wide state: settings, store, the live catalog view and search."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import lru_cache

from daogou.settings import get_settings
from knowledge_graph.service import CatalogService, CatalogView
from knowledge_graph.store import CatalogStore
from recommender.events import EventStore
from recommender.recommendations import RecommendationService, default_model_path
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
    try:
        recommendations().recommend(None, k=1)  # loads or fits the model now, not in a turn
    except Exception:
        log.exception("recommender warm-up failed")


@lru_cache(maxsize=1)
def events() -> EventStore:
    return EventStore(store())


@lru_cache(maxsize=1)
def recommendations() -> RecommendationService:
    return RecommendationService(
        catalog(), events(), model_path=default_model_path(get_settings().var_dir)
    )


def record_chat_events(user_id: str, shown: list[str], viewed: str | None) -> None:
    """Products shown in chat are impressions, the one asked about is a view: both feed the
    recommender at once. Never allowed to break a reply."""
    if not shown or not user_id:
        return
    now = datetime.now(UTC)
    rows = [
        {"user_id": user_id[:64], "sku": sku, "source": "chat", "ts": now,
         "type": "view" if sku == viewed else "impression"}
        for sku in shown
    ]  # fmt: skip
    try:
        events().record_many(rows)  # one transaction for the whole list
    except Exception:
        log.exception("could not record chat events")

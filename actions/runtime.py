"""The action server's process-wide objects, installed once by its start-up module.

``actions/server.py`` builds them with ``daogou.container.build_services`` and calls
:func:`install`; the tests install theirs the same way. The actions only call the getters
below, so they never build a store or read settings themselves.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from knowledge_graph.orders import OrderStore
from knowledge_graph.service import CatalogService, CatalogView
from knowledge_graph.shop_answers import ShopAnswers, ShopTexts
from knowledge_graph.store import CatalogStore
from recommender.events import EventStore
from recommender.recommendations import RecommendationService
from search.hybrid import ProductSearch

log = logging.getLogger(__name__)


class Services(Protocol):
    """What the actions use of ``daogou.container.Services``."""

    store: CatalogStore
    catalog: CatalogService
    orders: OrderStore
    events: EventStore
    answers: ShopAnswers

    def search(self) -> ProductSearch: ...

    def recommendations(self) -> RecommendationService: ...


_services: Services | None = None


def install(services: Services) -> None:
    global _services
    _services = services


def services() -> Services:
    if _services is None:
        raise RuntimeError("the action runtime has no services: call actions.runtime.install()")
    return _services


def store() -> CatalogStore:
    return services().store


def catalog() -> CatalogService:
    return services().catalog


def view() -> CatalogView:
    return catalog().current()


def shop_texts() -> ShopTexts:
    """The shop's FAQ texts and policy numbers as of now (a version check at most each second)."""
    return services().answers.current()


def search() -> ProductSearch:
    """The hybrid searcher; loads the embedding model once per process."""
    return services().search()


def orders() -> OrderStore:
    return services().orders


def events() -> EventStore:
    return services().events


def recommendations() -> RecommendationService:
    return services().recommendations()


def warm_up() -> None:
    """Loads the graph, model and indexes before the first shopper waits for them."""
    try:
        services().search()
    except Exception:  # the server still answers graph questions without search
        log.exception("search warm-up failed")
    try:
        services().warm_up_recommendations()  # loads or fits the model now, not in a turn
    except Exception:
        log.exception("recommender warm-up failed")


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

"""The composition root: every entry point builds the shop's objects here, from settings.

The action server's and the web app's start-up modules, the CLI, the benchmarks and the tests
call :func:`build_services`; nothing below ``daogou/`` reads the environment or builds its own
store. The searcher and the recommender load models (seconds), so they are built on first use,
once per process, and :meth:`Services.warm_up` builds them before the first shopper waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from daogou.settings import REPO_ROOT, Settings
from knowledge_graph.consent import ConsentLookup
from knowledge_graph.orders import OrderStore
from knowledge_graph.service import CatalogService, CatalogView
from knowledge_graph.shop_answers import ShopAnswers
from knowledge_graph.store import CatalogStore
from recommender.ab import ArmedRecommendations, Experiment
from recommender.events import EventStore
from recommender.recommendations import RecommendationService, default_model_path
from search.hybrid import Encoder, ProductSearch

T = TypeVar("T")
# Each process keeps its own copy of the search index on disk: two processes rebuilding the
# same files at once after a catalog change would corrupt them.
Process = Literal["actions", "web", "cli"]


def _once(build: Callable[[], T]) -> Callable[[], T]:
    """Built by whichever caller comes first (warm-up thread or a request); the others wait,
    since two builds would write the same index files at once."""
    lock = threading.Lock()
    cached = lru_cache(maxsize=1)(build)

    def get() -> T:
        with lock:
            return cached()

    return get


@dataclass
class Services:
    """The objects one process shares: store, live catalog, orders, shoppers' consent, events,
    search and recommendations."""

    settings: Settings
    store: CatalogStore
    catalog: CatalogService
    orders: OrderStore
    consent: ConsentLookup  # whether a shopper agreed to personal recommendations (cached)
    events: EventStore
    answers: ShopAnswers  # the shop's FAQ texts and policy numbers (edited in the console)
    index_dir: Path | None
    _encoder: Callable[[], Encoder]
    experiment: Experiment | None = None  # the rankers' A/B test (DAOGOU_AB_ARMS), if any
    _search: Callable[[], ProductSearch] = field(init=False)
    _recommendations: Callable[[], RecommendationService] = field(init=False)

    def __post_init__(self) -> None:
        self._encoder = _once(self._encoder)
        self._search = _once(self._build_search)
        self._recommendations = _once(self._build_recommendations)

    def view(self) -> CatalogView:
        """The catalog as of now (reloaded when a merchant's change bumps the version)."""
        return self.catalog.current()

    def encoder(self) -> Encoder:
        """The sentence encoder (E5 unless a test passed its own)."""
        return self._encoder()

    def search(self) -> ProductSearch:
        """The hybrid searcher over the current catalog."""
        return self._search()

    def recommendations(self) -> RecommendationService:
        return self._recommendations()

    def warm_up(self) -> None:
        """Loads the graph, models and indexes now, not in a shopper's turn."""
        self.search()
        self.warm_up_recommendations()

    def warm_up_recommendations(self) -> None:
        """Loads or fits the CF model (every arm's, during an A/B test) now, not in a turn."""
        recommendations = self.recommendations()
        if isinstance(recommendations, ArmedRecommendations):
            recommendations.warm_up()
        else:
            recommendations.recommend(None, k=1)

    def _build_search(self) -> ProductSearch:
        searcher = ProductSearch(self.encoder(), self.index_dir)
        searcher.sync(self.view())
        return searcher

    def _build_recommendations(self) -> RecommendationService:
        model_path = default_model_path(self.settings.var_dir)
        if self.experiment is not None:
            return ArmedRecommendations(
                self.catalog,
                self.events,
                model_path,
                consented=self.consent,
                experiment=self.experiment,
            )
        return RecommendationService(
            self.catalog, self.events, model_path=model_path, consented=self.consent
        )


def build_services(
    settings: Settings,
    process: Process = "cli",
    *,
    store: CatalogStore | None = None,
    encoder: Encoder | None = None,
    catalog_check_interval: float = 1.0,
) -> Services:
    """Everything one process needs, built from `settings`.

    `process` names the process's own index folder under ``var/index``. Tests pass a `store`
    (a small catalog) and an `encoder` (a stand-in for E5); the search index then stays in
    memory, since a stand-in's vectors must never be saved where the real ones live.
    """
    store = store or CatalogStore.from_url(settings.database_url)
    index_name = settings.index_name or process
    index_dir = settings.var_dir / "index" / index_name if encoder is None else None
    consent = ConsentLookup(store)
    experiment = Experiment(settings.ab_experiment, settings.ab_arms) if settings.ab_arms else None
    return Services(
        settings=settings,
        store=store,
        catalog=CatalogService(store, check_interval=catalog_check_interval),
        orders=OrderStore(store),
        consent=consent,
        events=EventStore(store, consented=consent, experiment=experiment),
        answers=ShopAnswers(store, REPO_ROOT / "bot/domain/faq.yml", catalog_check_interval),
        index_dir=index_dir,
        _encoder=(lambda: encoder) if encoder is not None else (lambda: _e5(settings)),
        experiment=experiment,
    )


def _e5(settings: Settings) -> Encoder:
    from search.embeddings import get_embedder, model_folder  # imports torch: only when needed

    return get_embedder(model_folder(settings.models_dir), settings.query_threads)

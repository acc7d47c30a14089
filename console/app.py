"""The web app: storefront with a chat box at /, JSON API under /api, health at /health."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Annotated, TypeVar

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from console import routes_discovery, routes_products
from console.deps import get_catalog, get_settings
from console.errors import ApiError, install_error_handlers
from console.ratelimit import RateLimiter
from console.schemas import ChatIn, Health
from daogou.settings import Settings
from daogou.settings import get_settings as load_settings
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore
from recommender.events import EventStore
from recommender.recommendations import RecommendationService, default_model_path
from recommender.search import ProductSearch

STATIC = Path(__file__).resolve().parent / "static"
T = TypeVar("T")


def create_app(settings: Settings | None = None, store: CatalogStore | None = None) -> FastAPI:
    settings = settings or load_settings()
    store = store or CatalogStore.from_url(settings.database_url)
    app = FastAPI(title="Daogou 导购", version="0.1.0", lifespan=_lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.catalog = CatalogService(store)
    app.state.events = EventStore(store)
    app.state.event_limiter = RateLimiter(rate_per_second=20, burst=60)
    # Built once, by the warm-up thread or by the first request that needs them, whichever
    # comes first; the other waits (two builds would write the same index files at once).
    app.state.search = _once(lambda: _searcher(app))
    app.state.recommendations = _once(
        lambda: RecommendationService(
            app.state.catalog, app.state.events, model_path=default_model_path(settings.var_dir)
        )
    )
    app.state.ready = threading.Event()
    app.state.warm_up_error = None
    install_error_handlers(app)

    app.include_router(routes_products.router)
    app.include_router(routes_discovery.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def storefront() -> str:
        return (STATIC / "storefront.html").read_text(encoding="utf-8")

    @app.get("/health", response_model=None)
    async def health(
        settings: Annotated[Settings, Depends(get_settings)],
        catalog: Annotated[CatalogService, Depends(get_catalog)],
    ) -> Health | JSONResponse:
        if not app.state.ready.is_set():
            starting = Health(status="starting", components={"search": "loading"})
            return JSONResponse(starting.model_dump(), status_code=503)
        components = {"database": "ok"}
        components["search"] = "ok" if app.state.warm_up_error is None else "error"
        try:
            components["catalog_version"] = str(catalog.current().version)
        except Exception as exc:  # a broken database is reported, not raised
            components["database"] = f"error: {type(exc).__name__}"
        async with httpx.AsyncClient(timeout=1.0) as client:
            for name, url in (
                ("rasa", f"{settings.rasa_url}/"),
                ("action_server", settings.action_server_url.replace("/webhook", "/health")),
            ):
                try:
                    response = await client.get(url)
                    components[name] = "ok" if response.status_code == 200 else "error"
                except httpx.HTTPError:
                    components[name] = "unreachable"
        healthy = all(v == "ok" for k, v in components.items() if k != "catalog_version")
        return Health(status="ok" if healthy else "degraded", components=components)

    @app.post("/api/chat")
    async def chat(
        body: ChatIn, settings: Annotated[Settings, Depends(get_settings)]
    ) -> list[dict]:
        """Forwards a storefront message to Rasa's REST channel (same origin for the page)."""
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                response = await client.post(
                    url, json={"sender": body.sender, "message": body.message}
                )
        except httpx.HTTPError:
            raise ApiError(
                503, "assistant_unavailable", "导购助手暂时无法连接，请稍后再试"
            ) from None
        if response.status_code != 200:
            raise ApiError(502, "assistant_error", "导购助手暂时出了点问题，请稍后再试")
        return response.json()

    return app


def _once(build: Callable[[], T]) -> Callable[[], T]:
    lock = threading.Lock()
    cached = lru_cache(maxsize=1)(build)

    def get() -> T:
        with lock:
            return cached()

    return get


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Loads the embedding model, index and recommender before the first shopper (the first
    search took over 30 s when built on first use); /health says `starting` until then."""
    threading.Thread(target=_warm_up, args=(app,), name="warm-up", daemon=True).start()
    yield


def _warm_up(app: FastAPI) -> None:
    try:
        app.state.search()
        app.state.recommendations().recommend(None, k=1)
    except Exception as exc:  # still serve the catalog; /health reports the broken part
        logging.getLogger(__name__).exception("warm-up failed")
        app.state.warm_up_error = exc
    finally:
        app.state.ready.set()


def _searcher(app: FastAPI) -> ProductSearch:
    """The hybrid searcher, built on first use (loading the embedding model takes seconds)."""
    from recommender.embeddings import get_embedder

    searcher = ProductSearch(get_embedder(), app.state.settings.var_dir / "index" / "web")
    searcher.sync(app.state.catalog.current())
    gc.freeze()  # the model and index live as long as the process: no GC pass walks them again
    return searcher


def app_factory() -> FastAPI:
    """For `uvicorn --factory console.app:app_factory`."""
    return create_app()

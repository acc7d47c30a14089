"""The web app: storefront with a chat box at /, JSON API under /api, health at /health."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from console import routes_discovery, routes_products
from console.deps import get_catalog, get_settings
from console.errors import ApiError, install_error_handlers
from console.ratelimit import RateLimiter
from console.schemas import ChatIn, Health
from daogou.container import Services, build_services
from daogou.settings import Settings, load_settings
from knowledge_graph.service import CatalogService

STATIC = Path(__file__).resolve().parent / "static"


def create_app(services: Services) -> FastAPI:
    """The web app over one process's services (``daogou.container.build_services``)."""
    app = FastAPI(title="Daogou 导购", version="0.1.0", lifespan=_lifespan)
    app.state.services = services
    app.state.settings = services.settings
    app.state.store = services.store
    app.state.catalog = services.catalog
    app.state.events = services.events
    app.state.event_limiter = RateLimiter(rate_per_second=20, burst=60)
    # Built once, by the warm-up thread or by the first request that needs them.
    app.state.search = services.search
    app.state.recommendations = services.recommendations
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
        gc.freeze()  # the model and index live as long as the process: no GC pass walks them again
    except Exception as exc:  # still serve the catalog; /health reports the broken part
        logging.getLogger(__name__).exception("warm-up failed")
        app.state.warm_up_error = exc
    finally:
        app.state.ready.set()


def app_factory() -> FastAPI:
    """For `uvicorn --factory console.app:app_factory`: the web app's start-up."""
    return create_app(build_services(load_settings(), "web"))

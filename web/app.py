"""The web app: storefront with a chat box at /, JSON API under /api, health at /health."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from daogou.container import Services, build_services
from daogou.settings import load_settings
from web.deps import WebState
from web.errors import install_error_handlers
from web.routes import auth, chat, discovery, health, products, storefront

STATIC = Path(__file__).resolve().parent / "static"


def create_app(services: Services) -> FastAPI:
    """The web app over one process's services (``daogou.container.build_services``)."""
    app = FastAPI(title="Daogou 导购", version="0.1.0", lifespan=_lifespan)
    app.state.web = WebState(services)
    install_error_handlers(app)
    app.include_router(products.files_router)  # before /api/products/{sku}
    for area in (storefront, auth, products, discovery, chat, health):
        app.include_router(area.router)
    app.include_router(products.audit_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Loads the embedding model, index and recommender before the first shopper (the first
    search took over 30 s when built on first use); /health says `starting` until then."""
    threading.Thread(target=_warm_up, args=(app.state.web,), name="warm-up", daemon=True).start()
    yield


def _warm_up(web: WebState) -> None:
    try:
        web.services.search()
        web.services.recommendations().recommend(None, k=1)
        gc.freeze()  # the model and index live as long as the process: no GC pass walks them again
    except Exception as exc:  # still serve the catalog; /health reports the broken part
        logging.getLogger(__name__).exception("warm-up failed")
        web.warm_up_error = exc
    finally:
        web.ready.set()


def app_factory() -> FastAPI:
    """For `uvicorn --factory web.app:app_factory`: the web app's start-up."""
    return create_app(build_services(load_settings(), "web"))

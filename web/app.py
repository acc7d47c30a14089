"""The web app: storefront with a chat box at /, JSON API under /api, health at /health."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from cn_text.pii import mask_log_records
from daogou.container import Services, build_services
from daogou.metrics import (
    CatalogCollector,
    HandoffCollector,
    MetricsPage,
    ModelFilesCollector,
    RasaCollector,
    RequestTimer,
    ServiceHealthCollector,
    authorized,
    count_logged_errors,
)
from daogou.nlu.botprep import model_path
from daogou.privacy import ShopperRequests
from daogou.process_health import state_files
from daogou.recs_cli import train_scheduled
from daogou.retention import retain_scheduled
from daogou.settings import load_settings
from recommender.recommendations import default_model_path
from search.hybrid import ProductSearch
from web import recs_loop, retention_loop
from web.background import DailyJob
from web.deps import WebState
from web.errors import error_body, install_error_handlers
from web.media import MediaFiles, media_root
from web.review.tracker import ConversationIndex
from web.routes import (
    analytics,
    answers,
    auth,
    chat,
    console,
    conversations,
    discovery,
    handoff,
    handoff_pages,
    health,
    merchant_pages,
    nlu_runs,
    privacy,
    products,
    staff_pages,
    storefront,
    widget,
)

STATIC = Path(__file__).resolve().parent / "static"
T = TypeVar("T")


def create_app(services: Services) -> FastAPI:
    """The web app over one process's services (``daogou.container.build_services``)."""
    app = FastAPI(title="Daogou 导购", version="0.1.0", lifespan=_lifespan)
    app.state.web = WebState(services, review_index=_once(lambda: _review_index(services)))
    app.state.web.privacy = ShopperRequests(services)
    if services.settings.annotations_file is not None:
        app.state.web.annotations_file = services.settings.annotations_file
    app.state.web.sensitive_words_file = services.settings.sensitive_words_file  # the chat's list
    install_error_handlers(app)
    console.install_page_handlers(app)
    app.include_router(console.router)
    app.include_router(staff_pages.router)
    app.include_router(handoff_pages.router)
    app.include_router(nlu_runs.router)
    app.include_router(privacy.router)
    app.include_router(products.files_router)  # before /api/products/{sku}
    for area in (
        storefront,
        auth,
        products,
        discovery,
        chat,
        conversations,
        analytics,
        answers,
        widget,
        health,
    ):
        app.include_router(area.router)
    app.include_router(products.audit_router)
    app.include_router(conversations.annotations_router)
    app.include_router(handoff.router)
    app.include_router(handoff.widget_router)
    app.include_router(handoff.canned_router)
    app.include_router(merchant_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/media", MediaFiles(directory=media_root(services.settings.var_dir)), name="media")
    _serve_metrics(app, app.state.web)
    return app


def _serve_metrics(app: FastAPI, web: WebState) -> None:
    """GET /metrics for Prometheus (daogou/metrics.py), and every request timed by its route.
    Open unless `DAOGOU_METRICS_TOKEN` is set; then it wants that Bearer token."""
    settings = web.services.settings
    page = MetricsPage(
        [
            CatalogCollector(web.services.view, partial(_built_search, web)),
            ModelFilesCollector(model_path(settings), default_model_path(settings.var_dir)),
            RasaCollector(settings.rasa_url, settings.rasa_token),
            HandoffCollector(web.services.store),
            ServiceHealthCollector(state_files(settings)),
        ]
    )

    # A plain `def`: FastAPI runs it in a worker thread, since a scrape reads the database and
    # asks Rasa's /status.
    def metrics(request: Request) -> Response:
        if not authorized(request.headers.get("authorization"), settings.metrics_token):
            return JSONResponse(
                error_body("unauthorized", "请提供有效的监控令牌"),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body, content_type = page.render(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestTimer)


def _built_search(web: WebState) -> ProductSearch | None:
    """The searcher once the warm-up built it; a scrape must never be the one that builds it."""
    if web.ready.is_set() and web.warm_up_error is None:
        return web.services.search()
    return None


def _review_index(services: Services) -> ConversationIndex:
    """Rasa's tracker table, read-only, and the console's index of it."""
    settings = services.settings
    return ConversationIndex(settings.tracker_db_url, settings.review_index_url)


def _once(factory: Callable[[], T]) -> Callable[[], T]:
    lock, made = threading.Lock(), []

    def get() -> T:
        if not made:
            with lock:
                if not made:
                    made.append(factory())
        return made[0]

    return get


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Loads the embedding model, index and recommender before the first shopper (the first
    search took over 30 s when built on first use); /health says `starting` until then."""
    threading.Thread(target=_warm_up, args=(app.state.web,), name="warm-up", daemon=True).start()
    handoff.start(app)  # holding messages and the console's live feed (web/handoff_loop.py)
    retention = _start_retention(app.state.web.services)
    recs_training = _start_recs_training(app.state.web.services)
    try:
        yield
    finally:
        handoff.stop(app)
        for loop in (retention, recs_training):
            if loop is not None:
                loop.stop()


def _start_retention(services: Services) -> DailyJob | None:
    """The daily retention run (web/retention_loop.py), unless it is off or left to cron."""
    settings = services.settings
    at = settings.retention_at if settings.retention_days > 0 else ""
    return retention_loop.start(partial(retain_scheduled, services, settings.retention_days), at)


def _start_recs_training(services: Services) -> DailyJob | None:
    """The daily gated retrain of the recommender (web/recs_loop.py), unless left to cron."""
    return recs_loop.start(partial(train_scheduled, services), services.settings.recs_train_at)


def _warm_up(web: WebState) -> None:
    try:
        web.services.warm_up()
        _index_conversations(web)
        gc.freeze()  # the model and index live as long as the process: no GC pass walks them again
    except Exception as exc:  # still serve the catalog; /health reports the broken part
        logging.getLogger(__name__).exception("warm-up failed")
        web.warm_up_error = exc
    finally:
        web.ready.set()


def _index_conversations(web: WebState) -> None:
    """Brings the console's conversation index up to date now, not in the first list request;
    a tracker store that cannot be read yet is not a reason to hold up the shop."""
    if web.review_index is None:
        return
    try:
        web.review_index().catch_up()
    except Exception:
        logging.getLogger(__name__).exception("conversation index catch-up failed")


def app_factory() -> FastAPI:
    """For `uvicorn --factory web.app:app_factory`: the web app's start-up."""
    mask_log_records()  # shoppers' phone numbers, ID numbers and addresses never reach a log
    count_logged_errors("web", ("", "uvicorn"))  # uvicorn's loggers do not reach the root
    return create_app(build_services(load_settings(), "web"))

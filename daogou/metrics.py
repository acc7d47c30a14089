"""Prometheus metrics of the web app and the action server (``GET /metrics`` on each).

Both processes import the definitions below, so a dashboard reads one set of names whichever
process it scrapes. Counters and histograms live in prometheus_client's process-wide registry;
what is read at scrape time (catalog and index versions, model files, Rasa's status, handoffs)
comes from collectors that each app builds for itself, put together by :class:`MetricsPage`.

Every label has a bounded set of values: action names are the registered actions (others count
as ``unknown``), routes are route templates (``/api/products/{sku}``, never the raw path),
statuses are classes (``2xx``), methods the standard ones, components our packages.

Handoffs are counted in the shared database rather than where they change: a request is opened
by the action server, taken and closed by any web replica, so only the table sees all of them.
Every replica therefore reports the same numbers (aggregate them with ``max``, not ``sum``).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from daogou.process_health import service_health
from knowledge_graph.handoff import OPEN
from knowledge_graph.tables import Handoff

if TYPE_CHECKING:
    from knowledge_graph.service import CatalogView
    from knowledge_graph.store import CatalogStore
    from search.hybrid import ProductSearch

log = logging.getLogger(__name__)
T = TypeVar("T")
# No `_created` series beside every counter and histogram: twice the series for a start time
# that Prometheus does not need (it detects counter resets itself).
disable_created_metrics()

# From a cached answer (5 ms) to Rasa's action timeout (2.5 s, settings.action_timeout_seconds)
# and just past it: the 2.5 edge counts the turns the shopper was told "cannot right now".
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Our packages name themselves as the component of an error they log; anything else (uvicorn,
# Sanic, rasa_sdk, SQLAlchemy ...) is the process's own (`web` or `actions`).
DOMAIN_COMPONENTS = frozenset({"knowledge_graph", "search", "recommender", "daogou", "cn_text"})
UNMATCHED = "unmatched"  # a 404 outside every route: one label, whatever the path
SCRAPE_CACHE_SECONDS = 5.0
RASA_STATUS_TIMEOUT = 1.0

TURNS = Counter(
    "daogou_turns",
    "Action runs Rasa asked the action server for (one per action of a turn), by action.",
    ["action"],
)
ACTION_LATENCY = Histogram(
    "daogou_action_latency_seconds",
    "Time the action server took to run an action, by action.",
    ["action"],
    buckets=LATENCY_BUCKETS,
)
FALLBACKS = Counter(
    "daogou_fallbacks",
    "Turns the bot did not understand, by the fallback action that answered them.",
    ["action"],
)
ERRORS = Counter(
    "daogou_errors",
    "Errors logged (level ERROR or worse), by component.",
    ["component"],
)
HTTP_LATENCY = Histogram(
    "daogou_http_request_duration_seconds",
    "Web app requests by route template, method and status class, with their duration.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)


def bounded(value: str, allowed: Iterable[str], other: str = "other") -> str:
    """`value` as a label if it is one of `allowed`, else `other`: no label explodes."""
    return value if value in allowed else other


# -- errors -------------------------------------------------------------------------------------


class ErrorCounter(logging.Handler):
    """Counts every record at ERROR or above; writes nothing (the process's own handlers do)."""

    def __init__(self, process: str) -> None:
        super().__init__(level=logging.ERROR)
        self.process = process

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "daogou_counted", False):
            return  # already counted by the counter of a logger it propagated from
        record.daogou_counted = True
        ERRORS.labels(component_of(record.name, self.process)).inc()


def component_of(logger_name: str, process: str) -> str:
    package = logger_name.split(".", 1)[0]
    return package if package in DOMAIN_COMPONENTS else process


def count_logged_errors(process: str, logger_names: Iterable[str] = ("",)) -> None:
    """Counts this process's logged errors as `daogou_errors_total`. Give also the loggers that
    do not propagate to the root (uvicorn's); a second call adds nothing."""
    for name in logger_names:
        target = logging.getLogger(name)
        if not any(isinstance(h, ErrorCounter) for h in target.handlers):
            target.addHandler(ErrorCounter(process))


# -- HTTP requests of the web app ---------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestTimer:
    """ASGI middleware: every HTTP request into `daogou_http_request_duration_seconds`.

    Plain ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task and a stream per
    request and holds back streamed answers (the console's event stream); this costs two clock
    reads and one histogram observation. The route is read after the router has run, from
    ``scope["route"]``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500  # what the shopper gets when the app raises before answering

        async def noting_status(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            labels = (
                route_template(scope, root_path),
                bounded(scope.get("method", ""), HTTP_METHODS),
                f"{status // 100}xx",
            )
            series = self._series.get(labels)
            if series is None:  # labels() takes a lock and checks: once per series, not per request
                series = self._series[labels] = HTTP_LATENCY.labels(*labels)
            series.observe(time.perf_counter() - started)


def route_template(scope: Scope, root_path: str = "") -> str:
    """The matched route's path template; a mounted app (static files, media) as
    ``/static/{path}``; ``unmatched`` when no route matched. `root_path`: the scope's before
    routing, since FastAPI's router records a mount only by extending it."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        if hasattr(route, "endpoint"):
            return path or "/"
        return f"{path.rstrip('/')}/{{path}}"  # Starlette's Mount: its app serves all below
    mounted = scope.get("root_path", "")
    if "endpoint" in scope and mounted.startswith(root_path) and len(mounted) > len(root_path):
        return f"{mounted[len(root_path) :]}/{{path}}"
    return UNMATCHED


# -- read at scrape time ------------------------------------------------------------------------


class Cached(Generic[T]):
    """`read()`'s answer, asked again at most every `seconds` (default SCRAPE_CACHE_SECONDS):
    several Prometheus servers, or a person reloading the page, must not each cost a database
    query or an HTTP call."""

    def __init__(self, read: Callable[[], T], seconds: float | None = None) -> None:
        self.read, self.seconds = read, seconds
        self._lock = threading.Lock()
        self._at = -float("inf")
        self._value: T | None = None

    def get(self) -> T:
        seconds = SCRAPE_CACHE_SECONDS if self.seconds is None else self.seconds
        with self._lock:
            if time.monotonic() - self._at >= seconds:
                self._value, self._at = self.read(), time.monotonic()
            return self._value  # type: ignore[return-value]


class CatalogCollector(Collector):
    """The catalog version this process serves and its search index (version, size, whether
    vectors are used). `search` returns None until the index is built: a scrape never builds
    it (that takes seconds)."""

    def __init__(
        self,
        view: Callable[[], CatalogView],
        search: Callable[[], ProductSearch | None],
    ) -> None:
        self.view, self.search = view, search

    def collect(self) -> Iterator[Metric]:
        try:
            version = self.view().version
        except Exception:  # no catalog loaded yet and the database does not answer
            log.debug("no catalog version to report", exc_info=True)
        else:
            yield GaugeMetricFamily(
                "daogou_catalog_version", "Catalog version this process serves.", value=version
            )
        try:
            searcher = self.search()
        except Exception:  # the warm-up could not build it either (and logged why)
            searcher = None
        if searcher is None:
            return
        yield GaugeMetricFamily(
            "daogou_search_index_version",
            "Catalog version the search index was built from.",
            value=searcher.version,
        )
        yield GaugeMetricFamily(
            "daogou_search_index_size",
            "Products in the vector index.",
            value=len(searcher.vectors),
        )
        yield GaugeMetricFamily(
            "daogou_search_dense_ready",
            "1 when search uses the vector index, 0 while it is keyword-only (rebuilding).",
            value=int(searcher.dense_ready),
        )


class ModelFilesCollector(Collector):
    """The NLU model file the launcher gives Rasa and the recommender's model file: their
    names and modification times (absent while a file does not exist)."""

    def __init__(self, nlu_model: Path, recommender_model: Path) -> None:
        self.nlu_model, self.recommender_model = nlu_model, recommender_model

    def collect(self) -> Iterator[Metric]:
        nlu_mtime = _mtime(self.nlu_model)
        if nlu_mtime is not None:
            info = InfoMetricFamily("daogou_nlu_model", "The NLU model file Rasa is started with.")
            info.add_metric([], {"file": self.nlu_model.name})
            yield info
            yield GaugeMetricFamily(
                "daogou_nlu_model_mtime_seconds",
                "When the NLU model file was written (Unix time).",
                value=nlu_mtime,
            )
        recommender_mtime = _mtime(self.recommender_model)
        if recommender_mtime is not None:
            yield GaugeMetricFamily(
                "daogou_recommender_model_mtime_seconds",
                "When the recommender's served model was written (Unix time).",
                value=recommender_mtime,
            )


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


class RasaCollector(Collector):
    """`daogou_rasa_up` and the model Rasa serves, from Rasa's ``/status`` (asked at scrape time
    with a short timeout, the answer kept a few seconds): Rasa runs another Python, so the web
    app reports its health."""

    def __init__(self, rasa_url: str, token: str, timeout: float = RASA_STATUS_TIMEOUT) -> None:
        self.url, self.token, self.timeout = f"{rasa_url.rstrip('/')}/status", token, timeout
        self._status = Cached(self._ask)

    def _ask(self) -> dict[str, Any] | None:
        try:
            answer = httpx.get(self.url, params={"token": self.token}, timeout=self.timeout)
            answer.raise_for_status()
            status = answer.json()
        except (httpx.HTTPError, ValueError):
            return None
        return status if isinstance(status, dict) else None

    def collect(self) -> Iterator[Metric]:
        status = self._status.get()
        yield GaugeMetricFamily(
            "daogou_rasa_up",
            "1 when the Rasa server answered its /status, else 0.",
            value=int(status is not None),
        )
        if status:
            info = InfoMetricFamily("daogou_rasa_model", "The model the Rasa server serves.")
            model_file = Path(str(status.get("model_file") or "")).name
            info.add_metric([], {"model_id": str(status.get("model_id") or ""), "file": model_file})
            yield info


class HandoffCollector(Collector):
    """Handoffs from the shared table (module docstring): how many were ever requested, taken
    and closed, and how many are open now, by status."""

    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self._counts = Cached(self._count)

    def _count(self) -> tuple[dict[str, int], dict[str, int]] | None:
        try:
            with self.store.session() as session:
                requested, taken, closed = session.execute(
                    select(
                        func.count(), func.count(Handoff.taken_at), func.count(Handoff.closed_at)
                    )
                ).one()
                open_now = dict(
                    session.execute(
                        select(Handoff.status, func.count())
                        .where(Handoff.status.in_(OPEN))
                        .group_by(Handoff.status)
                    ).all()
                )
        except Exception:  # the database does not answer: no numbers rather than wrong ones
            log.warning("handoff metrics: the database did not answer", exc_info=True)
            return None
        return {"requested": requested, "taken": taken, "closed": closed}, open_now

    def collect(self) -> Iterator[Metric]:
        counts = self._counts.get()
        if counts is None:
            return
        events, open_now = counts
        total = CounterMetricFamily(
            "daogou_handoffs",
            "Handoffs to a person ever requested, taken by staff and closed (shared table: "
            "the same in every replica).",
            labels=["event"],
        )
        for event, count in events.items():
            total.add_metric([event], count)
        yield total
        waiting = GaugeMetricFamily(
            "daogou_handoffs_open", "Handoff requests open now, by status.", labels=["status"]
        )
        for status in OPEN:
            waiting.add_metric([status], open_now.get(status, 0))
        yield waiting


class ServiceHealthCollector(Collector):
    """Each service the launcher started (daogou/process_health.py): up, resident memory, CPU
    seconds, threads and restarts, labelled by service and profile, read from the operating
    system at scrape time. Rasa runs another Python and cannot be asked for its own process
    metrics, so the web app reports every service's. No cache: a scrape reads a few /proc
    files per service (well under a millisecond), and a cached reading would be a stale one."""

    LABELS = ("service", "profile")

    def __init__(self, state_files: Mapping[str, Path]) -> None:
        """`state_files`: profile -> the launcher's list (process_health.state_files)."""
        self.state_files = dict(state_files)

    def collect(self) -> Iterator[Metric]:
        readings = service_health(self.state_files)
        families = {
            "up": GaugeMetricFamily(
                "daogou_service_up",
                "1 when the service's process runs, else 0 (from the launcher's list).",
                labels=self.LABELS,
            ),
            "rss": GaugeMetricFamily(
                "daogou_service_resident_memory_bytes",
                "Resident memory of the service's process.",
                labels=self.LABELS,
            ),
            "cpu": CounterMetricFamily(
                "daogou_service_cpu_seconds",
                "User and system CPU time of the service's process (its children excluded).",
                labels=self.LABELS,
            ),
            "threads": GaugeMetricFamily(
                "daogou_service_threads", "Threads of the service's process.", labels=self.LABELS
            ),
            "restarts": GaugeMetricFamily(
                "daogou_service_restarts",
                "Times in a row the launcher restarted the service (cluster profile; the count "
                "starts again when it stops after ten minutes of running).",
                labels=self.LABELS,
            ),
        }
        for health in readings:
            labels = [health.name, health.profile]
            families["up"].add_metric(labels, int(health.up))
            families["restarts"].add_metric(labels, health.restarts)
            if health.up and health.rss_bytes is not None:
                families["rss"].add_metric(labels, health.rss_bytes)
                families["cpu"].add_metric(labels, health.cpu_seconds)
                families["threads"].add_metric(labels, health.threads)
        yield from families.values()


# -- the page -----------------------------------------------------------------------------------


class _ProcessMetrics(Collector):
    """prometheus_client's process-wide registry (the counters above, process and GC metrics)
    inside an app's own registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class MetricsPage:
    """What one app serves at /metrics: the process's metrics and the app's collectors, in the
    format the scraper asks for (its Accept header)."""

    def __init__(self, collectors: Iterable[Collector] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_ProcessMetrics())
        for collector in collectors:
            self.registry.register(collector)

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The page and its content type. Blocking (database, Rasa): run it off the loop."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


def authorized(authorization: str | None, token: str | None) -> bool:
    """No token configured: open. Otherwise ``Authorization: Bearer <token>`` is required."""
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip(), token)

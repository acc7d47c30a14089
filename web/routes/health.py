"""GET /health: `starting` (503) until the warm-up is done, then `ok` or `degraded` (200: the
shop still serves) with the component that is not.

`catalog` is whether the catalog database answers a version check now; while it does not, the
process serves the catalog it loaded last (knowledge_graph/service.py) and says `unreachable`
here, and `ok` again as soon as the database answers, without a restart. `search` is `keyword`
while the vector index is rebuilt after a damaged or missing one (search/hybrid.py).
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from knowledge_graph.service import CatalogService
from web.deps import CatalogDep, SettingsDep, WebState, WebStateDep
from web.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=None)
async def health(
    web: WebStateDep, settings: SettingsDep, catalog: CatalogDep
) -> Health | JSONResponse:
    if not web.ready.is_set():
        starting = Health(status="starting", components={"search": "loading"})
        return JSONResponse(starting.model_dump(), status_code=503)
    components = await run_in_threadpool(_catalog_components, catalog)
    components["search"] = _search_state(web)
    async with httpx.AsyncClient(timeout=1.0) as client:
        for name, url in (
            ("rasa", f"{settings.rasa_url}/"),
            ("action_server", settings.action_server_url.replace("/webhook", "/health")),
        ):
            components[name] = await _probe(client, url)
    healthy = all(v == "ok" for k, v in components.items() if k != "catalog_version")
    return Health(status="ok" if healthy else "degraded", components=components)


def _catalog_components(catalog: CatalogService) -> dict[str, str]:
    """A version check now (one cheap query, in a worker thread: a database that does not
    answer must not hold up the event loop)."""
    try:
        view = catalog.refresh()
    except Exception as exc:  # no catalog was ever loaded: nothing to serve from
        return {"database": f"error: {type(exc).__name__}", "catalog": "unreachable"}
    state = "ok" if catalog.reachable else "unreachable"
    return {"database": state, "catalog": state, "catalog_version": str(view.version)}


def _search_state(web: WebState) -> str:
    """After the warm-up the searcher is built, so asking for it costs nothing."""
    if web.warm_up_error is not None:
        return "error"
    return "ok" if web.services.search().dense_ready else "keyword"


async def _probe(client: httpx.AsyncClient, url: str) -> str:
    """`ok`, `error` (not a 200), `degraded` (a 200 that says so) or `unreachable`."""
    try:
        response = await client.get(url)
    except httpx.HTTPError:
        return "unreachable"
    if response.status_code != 200:
        return "error"
    try:
        said = response.json().get("status")
    except (ValueError, AttributeError):
        said = None
    return "degraded" if said == "degraded" else "ok"

"""GET /health: `starting` (503) until the warm-up is done, then `ok` or `degraded` with the
component that is not."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from web.deps import CatalogDep, SettingsDep, WebStateDep
from web.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=None)
async def health(
    web: WebStateDep, settings: SettingsDep, catalog: CatalogDep
) -> Health | JSONResponse:
    if not web.ready.is_set():
        starting = Health(status="starting", components={"search": "loading"})
        return JSONResponse(starting.model_dump(), status_code=503)
    components = {"database": "ok"}
    components["search"] = "ok" if web.warm_up_error is None else "error"
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

"""A shopper's PIPL requests over the API: their data as JSON, and its erasure.

- ``GET /api/widget/my-data``, ``POST /api/widget/my-data/erase`` ``{"confirm": true}``: the
  shopper themself, by their signed identity (cookie or the shop's Bearer token, as the other
  widget routes); after erasure the identity cookie is dropped, so the next visit is a new
  shopper. At most three erasures an hour per shopper: each one vacuums the databases.
- ``GET /api/privacy/shoppers/{user_id}``, ``POST /api/privacy/shoppers/{user_id}/erase``
  ``{"confirm": true}``: an admin on the shopper's behalf.

Both run ``daogou privacy export|erase`` (daogou/privacy.py: every place, down to the bytes),
which writes every request to the audit log under a pseudonym, with who asked ("shopper" or
the admin's name) and counts only. web/ may not import daogou/, so the app hands these in
(web/app.py, ``WebState.privacy``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from web import identity
from web.deps import AdminDep, ShopperData, WebState, WebStateDep
from web.errors import ApiError
from web.ratelimit import RateLimiter
from web.routes.widget import KnownShopperDep

router = APIRouter(tags=["privacy"])
_erasures = RateLimiter(rate_per_second=1 / 1200, burst=3)  # per shopper: three an hour
UserId = Annotated[str, Path(min_length=1, max_length=128)]


class EraseIn(BaseModel):
    confirm: bool = False  # erasure cannot be undone: the caller says so


def _privacy(web: WebState) -> ShopperData:
    if web.privacy is None:  # an app built without daogou/ (never by web/app.py)
        raise ApiError(503, "privacy_unavailable", "暂时无法处理个人信息请求，请稍后再试")
    return web.privacy


def _confirmed(body: EraseIn) -> None:
    if not body.confirm:
        raise ApiError(422, "confirmation_required", "删除后无法恢复，请确认（confirm: true）")


def _download(response: Response, user_id: str) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = f'attachment; filename="daogou-{user_id[:40]}.json"'


@router.get("/api/widget/my-data")
def my_data(shopper: KnownShopperDep, web: WebStateDep, response: Response) -> dict[str, Any]:
    _download(response, shopper.sender_id)
    return _privacy(web).export(shopper.sender_id, "shopper")


@router.post("/api/widget/my-data/erase")
def erase_my_data(
    body: EraseIn, shopper: KnownShopperDep, web: WebStateDep, response: Response
) -> dict[str, Any]:
    _confirmed(body)
    if not _erasures.allow(shopper.sender_id):
        raise ApiError(429, "too_many_requests", "您的删除请求太频繁了，请稍后再试")
    removed = _privacy(web).erase(shopper.sender_id, "shopper")
    response.delete_cookie(identity.COOKIE)
    return {"user_id": shopper.sender_id, "removed": removed}


@router.get("/api/privacy/shoppers/{user_id}")
def export_for_shopper(
    user_id: UserId, admin: AdminDep, web: WebStateDep, response: Response
) -> dict[str, Any]:
    _download(response, user_id)
    return _privacy(web).export(user_id, admin.username)


@router.post("/api/privacy/shoppers/{user_id}/erase")
def erase_for_shopper(
    user_id: UserId, body: EraseIn, admin: AdminDep, web: WebStateDep
) -> dict[str, Any]:
    _confirmed(body)
    return {"user_id": user_id, "removed": _privacy(web).erase(user_id, admin.username)}

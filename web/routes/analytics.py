"""GET /api/analytics: the staff dashboard's figures over a date range (staff and admins)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from web.deps import ReviewIndexDep, StaffDep, StoreDep
from web.errors import ApiError
from web.review.analytics import SHOP_TZ, dashboard
from web.schemas import DashboardOut

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
MAX_DAYS = 366


@router.get("", response_model=DashboardOut)
def analytics(
    _: StaffDep,
    store: StoreDep,
    index: ReviewIndexDep,
    since: datetime | None = None,
    until: datetime | None = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 14,
) -> DashboardOut:
    """`since`/`until` (naive times are the shop's, China Standard Time); without them the
    last `days` days up to now."""
    until = _shop_time(until) if until else datetime.now(SHOP_TZ)
    since = _shop_time(since) if since else until - timedelta(days=days)
    if since >= until or until - since > timedelta(days=MAX_DAYS):
        raise ApiError(422, "invalid_parameter", "时间范围不正确（最长一年）")
    index.catch_up()
    report = dashboard(index.reader, store, since, until)
    return DashboardOut(
        dashboard=report,
        click_rates={f.source: f.click_rate for f in report.funnel},
        cart_rates={f.source: f.cart_rate for f in report.funnel},
    )


def _shop_time(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=SHOP_TZ)

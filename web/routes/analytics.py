"""GET /api/analytics: the staff dashboard's figures over a date range (staff and admins),
with the current A/B experiment's figures per arm when it has events in the range (issue #18)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from recommender.ab import AbReport, ab_report
from web.deps import ReviewIndexDep, SettingsDep, StaffDep, StoreDep
from web.errors import ApiError
from web.review.analytics import SHOP_TZ, dashboard
from web.schemas import DashboardOut

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
MAX_DAYS = 366


class DashboardWithTestOut(DashboardOut):
    # The current experiment (DAOGOU_AB_EXPERIMENT), per arm: shoppers, impressions, clicks,
    # carts, CTR and cart rate with 95% intervals, and each arm's difference from the control;
    # with the count of arm events of the range that name no experiment (left out). None when
    # the range has neither.
    ab_test: AbReport | None = None


@router.get("", response_model=DashboardWithTestOut)
def analytics(
    _: StaffDep,
    store: StoreDep,
    index: ReviewIndexDep,
    settings: SettingsDep,
    since: datetime | None = None,
    until: datetime | None = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 14,
) -> DashboardWithTestOut:
    """`since`/`until` (naive times are the shop's, China Standard Time); without them the
    last `days` days up to now."""
    until = _shop_time(until) if until else datetime.now(SHOP_TZ)
    since = _shop_time(since) if since else until - timedelta(days=days)
    if since >= until or until - since > timedelta(days=MAX_DAYS):
        raise ApiError(422, "invalid_parameter", "时间范围不正确（最长一年）")
    index.catch_up()
    report = dashboard(index.reader, store, since, until)
    test = ab_report(store, settings.ab_experiment, since, until, settings.ab_arms)
    return DashboardWithTestOut(
        dashboard=report,
        click_rates={f.source: f.click_rate for f in report.funnel},
        cart_rates={f.source: f.cart_rate for f in report.funnel},
        ab_test=test if test.arms or test.unnamed_events else None,
    )


def _shop_time(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=SHOP_TZ)

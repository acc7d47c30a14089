"""``daogou ab report [--since DAYS] [--json]``: the rankers' A/B test (issue #18) per arm.

Shoppers, impressions, clicks, add-to-carts, CTR and add-to-cart rate per impression with 95%
intervals clustered by shopper, and each arm's difference from the control (the first arm of
``DAOGOU_AB_ARMS``), from the events of the last ``DAYS`` days (recommender/ab.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from recommender.ab import AbReport, Estimate, ab_report

DEFAULT_DAYS = 14
COLUMNS = (
    "arm",
    "shoppers",
    "impressions",
    "clicks",
    "carts",
    "CTR [95% CI]",
    "cart rate [95% CI]",
)
NUMERIC = {1, 2, 3, 4}  # the count columns, right-aligned


def add_ab_parser(subparsers: argparse._SubParsersAction) -> None:
    ab = subparsers.add_parser("ab", help="A/B tests of the rankers").add_subparsers(
        dest="action", required=True
    )
    report = ab.add_parser(
        "report", help="CTR and add-to-cart rate per arm, with intervals and differences"
    )
    report.add_argument(
        "--since",
        type=_days,
        default=DEFAULT_DAYS,
        metavar="DAYS",
        help=f"the last DAYS days (default {DEFAULT_DAYS})",
    )
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.set_defaults(func=run_report)


def _days(text: str) -> int:
    days = int(text)
    if days < 1:
        raise argparse.ArgumentTypeError("DAYS must be at least 1")
    return days


def run_report(args: argparse.Namespace) -> int:
    from daogou.container import build_services
    from daogou.settings import get_settings

    settings = get_settings()
    until = datetime.now(UTC)
    report = ab_report(
        build_services(settings).store, until - timedelta(days=args.since), until, settings.ab_arms
    )
    if args.json:
        print(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


def report_json(report: AbReport) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(report), default=_iso))


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def format_report(report: AbReport) -> str:
    """A table per arm, the differences from the control, and the anonymous visitors."""
    if not report.arms:
        return "no A/B test events in this period (set DAOGOU_AB_ARMS to start a test)"
    rows = [COLUMNS] + [
        (
            arm.arm,
            str(arm.shoppers),
            str(arm.impressions),
            str(arm.clicks),
            str(arm.add_to_cart),
            _rate(arm.ctr),
            _rate(arm.cart_rate),
        )
        for arm in report.arms
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [_period(report), ""]
    lines += [_line(row, widths) for row in rows]
    for diff in report.differences:
        lines.append(
            f"{diff.arm} - {diff.control}: CTR {_points(diff.ctr)}, "
            f"cart rate {_points(diff.cart_rate)}"
        )
    for arm in report.arms:
        if arm.anonymous.impressions or arm.anonymous.clicks or arm.anonymous.add_to_cart:
            lines.append(
                f"not compared: visitors without consent served by {arm.arm}: "
                f"{arm.anonymous.impressions} impressions, {arm.anonymous.clicks} clicks, "
                f"{arm.anonymous.add_to_cart} carts"
            )
    return "\n".join(lines)


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    """The arm left-aligned, the counts right-aligned, the rates left-aligned."""
    aligned = [
        cell.rjust(width) if column in NUMERIC else cell.ljust(width)
        for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(aligned).rstrip()


def _period(report: AbReport) -> str:
    since = report.since.date().isoformat() if report.since else "the start"
    until = report.until.date().isoformat() if report.until else "now"
    return (
        f"A/B test from {since} to {until}, control {report.control}; "
        f"{report.confidence:.0%} intervals clustered by shopper (delta method)"
    )


def _rate(estimate: Estimate) -> str:
    if estimate.value is None:
        return "-"
    if estimate.low is None or estimate.high is None:
        return f"{estimate.value:.2%}"
    return f"{estimate.value:.2%} [{estimate.low:.2%}, {estimate.high:.2%}]"


def _points(estimate: Estimate) -> str:
    """A difference of rates in percentage points."""
    if estimate.value is None:
        return "-"
    text = f"{100 * estimate.value:+.2f} pts"
    if estimate.low is None or estimate.high is None:
        return text
    return f"{text} [{100 * estimate.low:+.2f}, {100 * estimate.high:+.2f}]"

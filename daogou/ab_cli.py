"""``daogou ab report [--since DAYS] [--experiment NAME | --unnamed | --list] [--json]``: the
rankers' A/B test (issue #18) per arm.

Shoppers, impressions, clicks, add-to-carts, CTR and add-to-cart rate per impression with 95%
intervals clustered by shopper, and each arm's difference from the control, from the events of
the last ``DAYS`` days (recommender/ab.py). The experiment is the current one
(``DAOGOU_AB_EXPERIMENT``, its control the first arm of ``DAOGOU_AB_ARMS``) unless
``--experiment`` names a past one; ``--unnamed`` reports the arm events recorded before
events carried the experiment's name, which may mix experiments; ``--list`` lists the
experiments the events name, over all time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from recommender.ab import AbReport, Estimate, ExperimentSeen, ab_report, experiments_seen

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
LIST_COLUMNS = ("experiment", "arms", "first event (UTC)", "last event (UTC)", "shoppers", "events")
LIST_NUMERIC = {4, 5}
NO_TEST_HINT = "--list shows the experiments with events; DAOGOU_AB_ARMS starts a test"
UNNAMED = "(unnamed)"  # the arm events recorded before the experiment was (migration 0009)


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
        help=f"the last DAYS days (default {DEFAULT_DAYS}; not used by --list)",
    )
    which = report.add_mutually_exclusive_group()
    which.add_argument(
        "--experiment",
        type=_name,
        metavar="NAME",
        help="a past experiment (default: the current one, DAOGOU_AB_EXPERIMENT)",
    )
    which.add_argument(
        "--unnamed",
        action="store_true",
        help="the arm events recorded before events named their experiment (may mix several)",
    )
    which.add_argument(
        "--list",
        action="store_true",
        help="the experiments the events name, with first/last event and shoppers",
    )
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.set_defaults(func=run_report)


def _days(text: str) -> int:
    days = int(text)
    if days < 1:
        raise argparse.ArgumentTypeError("DAYS must be at least 1")
    return days


def _name(text: str) -> str:
    name = text.strip()
    if not 1 <= len(name) <= 64:
        raise argparse.ArgumentTypeError("NAME must have 1 to 64 characters")
    return name


def run_report(args: argparse.Namespace) -> int:
    from daogou.container import build_services
    from daogou.settings import get_settings

    settings = get_settings()
    store = build_services(settings).store
    if args.list:
        seen = experiments_seen(store)
        print(_json({"experiments": seen}) if args.json else format_experiments(seen))
        return 0
    experiment = None if args.unnamed else args.experiment or settings.ab_experiment
    # The configured arms order only the current experiment: a past one had its own.
    arms = settings.ab_arms if experiment == settings.ab_experiment else ()
    until = datetime.now(UTC)
    report = ab_report(store, experiment, until - timedelta(days=args.since), until, arms)
    print(_json(report) if args.json else format_report(report))
    return 0


def _json(value: object) -> str:
    return json.dumps(report_json(value), ensure_ascii=False, indent=2)


def report_json(value: object) -> Any:
    """A report (or a dict of dataclasses) as JSON values, times in ISO 8601."""
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"not JSON: {value!r}")


def format_report(report: AbReport) -> str:
    """A table per arm, the differences from the control, the anonymous visitors, and the
    unnamed events left out."""
    if not report.arms and report.experiment is None:
        return "no arm events without an experiment's name in this period"
    if not report.arms:
        empty = f"no events of {_experiment(report)} in this period ({NO_TEST_HINT})"
        return "\n".join([empty] + _unnamed_note(report))
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
    lines = [_period(report), ""] + _table(rows, NUMERIC)
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
    return "\n".join(lines + _unnamed_note(report))


def format_experiments(seen: list[ExperimentSeen]) -> str:
    """One line per experiment the events name, oldest first."""
    if not seen:
        return "no A/B test events yet (DAOGOU_AB_ARMS starts a test)"
    rows = [LIST_COLUMNS] + [
        (
            e.name if e.name is not None else UNNAMED,
            ",".join(e.arms),
            _minute(e.first),
            _minute(e.last),
            str(e.shoppers),
            str(e.events),
        )
        for e in seen
    ]
    lines = _table(rows, LIST_NUMERIC)
    if any(e.name is None for e in seen):
        lines.append(
            f"{UNNAMED}: arm events recorded before events named their experiment; "
            "report them with --unnamed"
        )
    return "\n".join(lines)


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _table(rows: list[tuple[str, ...]], numeric: set[int]) -> list[str]:
    """Text columns left-aligned, the ``numeric`` ones right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _experiment(report: AbReport) -> str:
    if report.experiment is None:
        return "the unnamed arm events (recorded before events named their experiment)"
    return f"experiment {report.experiment}"


def _unnamed_note(report: AbReport) -> list[str]:
    if report.experiment is None:
        return [
            "these events do not say which experiment served them: experiments that used "
            "the same arm names are counted together"
        ]
    if report.unnamed_events:
        return [
            f"not counted: {report.unnamed_events} arm events of this period recorded before "
            "events named their experiment (daogou ab report --unnamed)"
        ]
    return []


def _period(report: AbReport) -> str:
    since = report.since.date().isoformat() if report.since else "the start"
    until = report.until.date().isoformat() if report.until else "now"
    return (
        f"A/B test: {_experiment(report)}, from {since} to {until}, control {report.control}; "
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

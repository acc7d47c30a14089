"""`daogou status [--profile default|cluster] [--json]`: the launcher's services and how each
process is doing (daogou/process_health.py). Exit 0 when every listed service is up, 1 when one
is down or nothing is running."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from daogou.process_health import PROFILES, ServiceHealth, launcher_alive, service_health
from daogou.process_health import state_files as profile_state_files
from daogou.settings import get_settings

COLUMNS = ("service", "pid", "state", "RSS MB", "CPU s", "uptime", "restarts")


def add_status_parser(subparsers: argparse._SubParsersAction) -> None:
    status = subparsers.add_parser(
        "status", help="the running services: pid, up/down, memory, CPU, uptime, restarts"
    )
    status.add_argument(
        "--profile", choices=PROFILES, help="only this profile's services (default: both)"
    )
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    status.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    files = profile_state_files(get_settings())
    if args.profile:
        files = {args.profile: files[args.profile]}
    readings = service_health(files)
    all_up = bool(readings) and all(health.up for health in readings)
    if args.json:
        body = {"all_up": all_up, "services": [health.as_dict() for health in readings]}
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0 if all_up else 1
    if not readings:
        print("Daogou is not running: no service list in " + ", ".join(map(str, files.values())))
        return 1
    print(table(readings))
    for profile, path in files.items():
        if launcher_alive(path) is False:
            print(
                f"warning: the {profile} launcher is gone (killed?): its services above are no "
                "longer watched; stop the ones still up by their pid",
                file=sys.stderr,
            )
    return 0 if all_up else 1


def table(readings: Sequence[ServiceHealth]) -> str:
    """Aligned columns, one service a row."""
    rows = [COLUMNS, *(_row(health) for health in readings)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                  for i, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
        for row in rows
    )  # fmt: skip


def _row(health: ServiceHealth) -> tuple[str, ...]:
    def number(value: float | None, scale: float = 1.0) -> str:
        return "-" if value is None else f"{value / scale:.1f}"

    return (
        health.name,
        str(health.pid),
        "up" if health.up else "down",
        number(health.rss_bytes, 1024 * 1024),
        number(health.cpu_seconds),
        duration(health.uptime_seconds),
        str(health.restarts),
    )


def duration(seconds: float | None) -> str:
    """`42s`, `3m07s`, `2h05m`, `3d04h`; `-` for none."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"

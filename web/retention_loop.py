"""The web app's daily retention run (daogou/retention.py does the work; web/app.py, the
start-up module, hands it in as `run`).

A thread started by the app's lifespan sleeps until `DAOGOU_RETENTION_AT` in shop time (China
Standard Time; default 03:30, when the shop is quietest: the run vacuums the databases and
refits the recommender) and then runs retention once. Every replica schedules it; the lease in
the catalog database lets one of them run, and the others skip the day because the audit log
shows the run (``retain_scheduled``). A web app started after the hour waits for the next day's:
it never starts a vacuum in the middle of the shop's day. Shops that prefer cron set
`DAOGOU_RETENTION_AT` empty and run ``daogou privacy retain``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from knowledge_graph.handoff import SHOP_TZ
from web.background import BackgroundThread

log = logging.getLogger(__name__)

# The day's run, given its scheduled moment: the counts removed, or None when another replica
# had it (daogou.retention.retain_scheduled).
Run = Callable[[datetime], dict[str, int] | None]
MAX_SLEEP = 600.0  # seconds between looks at the clock (a suspended machine, a clock change)


def parse_at(text: str) -> time | None:
    """ "HH:MM" in shop time; None for "" (the web app does not schedule retention)."""
    if not text:
        return None
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes, tzinfo=SHOP_TZ)
    except ValueError as exc:
        raise ValueError(f"DAOGOU_RETENTION_AT must be HH:MM (shop time), not {text!r}") from exc


def next_run(now: datetime, at: time) -> datetime:
    """The first moment after `now` whose shop time is `at`."""
    local = now.astimezone(SHOP_TZ)
    due = datetime.combine(local.date(), at.replace(tzinfo=None), tzinfo=SHOP_TZ)
    return due if due > local else due + timedelta(days=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RetentionLoop(BackgroundThread):
    """Runs retention once a day at `at` (module docstring)."""

    thread_name = "retention-loop"

    run: Run
    at: time
    clock: Callable[[], datetime] = _utcnow
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        due = next_run(self.clock(), self.at)
        while not self._stop.is_set():
            remaining = (due - self.clock()).total_seconds()
            if remaining > 0:
                self._stop.wait(min(remaining, MAX_SLEEP))
                continue
            self.run_once(due)
            due = next_run(self.clock(), self.at)

    def run_once(self, due: datetime) -> dict[str, int] | None:
        """The day's run, unless another replica has it; errors are logged, the loop goes on."""
        try:
            return self.run(due)
        except Exception:  # a database hiccup: tomorrow's run removes what today's did not
            log.exception("retention run failed")
            return None


def start(run: Run, at_text: str) -> RetentionLoop | None:
    """The app lifespan's loop, started; None when `at_text` is "" (retention left to cron)."""
    at = parse_at(at_text)
    if at is None:
        return None
    loop = RetentionLoop(run, at)
    loop.start()
    return loop

"""The web app's background threads: a daemon thread that a dataclass runs and stops (the
handoff loop), and :class:`DailyJob`, a job run once a day at a shop time (retention,
web/retention_loop.py; the recommender's retrain, web/recs_loop.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from knowledge_graph.handoff import SHOP_TZ

MAX_SLEEP = 600.0  # seconds between looks at the clock (a suspended machine, a clock change)
RETRY_SECONDS = 300.0  # a day's attempt that asked to be tried again waits this long

# One try at the day's run, given its scheduled moment: True when the day is done (run, skipped,
# or given up after an error), False to try again after `retry_seconds` (another process busy).
Attempt = Callable[[datetime], bool]


class BackgroundThread:
    """Gives a class with ``_stop: threading.Event``, ``_thread`` and ``_run()`` (its loop,
    which returns once ``_stop`` is set) ``start`` and ``stop``."""

    thread_name = "background"
    _stop: threading.Event
    _thread: threading.Thread | None

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def parse_at(text: str, setting: str) -> time | None:
    """The setting's "HH:MM" in shop time (China Standard Time); None for "", which turns the
    job off (shops that prefer cron; tests/conftest.py for test apps)."""
    if not text:
        return None
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes, tzinfo=SHOP_TZ)
    except ValueError as exc:
        raise ValueError(f"{setting} must be HH:MM (shop time), not {text!r}") from exc


def next_run(now: datetime, at: time) -> datetime:
    """The first moment after `now` whose shop time is `at`."""
    local = now.astimezone(SHOP_TZ)
    due = datetime.combine(local.date(), at.replace(tzinfo=None), tzinfo=SHOP_TZ)
    return due if due > local else due + timedelta(days=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DailyJob(BackgroundThread):
    """Sleeps until `at` (shop time), then calls `attempt` with that day's scheduled moment,
    again every `retry_seconds` while it returns False, and then waits for the next day. A job
    started after the hour waits for the next day's: a vacuum or a retrain never starts in the
    middle of the shop's day because a replica restarted."""

    attempt: Attempt
    at: time
    thread_name: str = "daily-job"
    clock: Callable[[], datetime] = _utcnow
    retry_seconds: float = RETRY_SECONDS
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def _run(self) -> None:
        due = next_run(self.clock(), self.at)
        try_at = due
        while not self._stop.is_set():
            remaining = (try_at - self.clock()).total_seconds()
            if remaining > 0:
                self._stop.wait(min(remaining, MAX_SLEEP))
                continue
            if self.attempt(due):
                due = next_run(self.clock(), self.at)
                try_at = due
            else:
                try_at = self.clock() + timedelta(seconds=self.retry_seconds)


def start_daily(attempt: Attempt, at_text: str, setting: str, thread_name: str) -> DailyJob | None:
    """The app lifespan's job for the `setting` whose value is `at_text`, started; None when
    `at_text` is "" (the job is left to cron)."""
    at = parse_at(at_text, setting)
    if at is None:
        return None
    job = DailyJob(attempt, at, thread_name)
    job.start()
    return job

"""The web app's daily recommender retrain (recommender/gate.py judges and publishes;
web/app.py, the start-up module, hands in `run`: daogou.recs_cli.train_scheduled).

A thread started by the app's lifespan sleeps until `DAOGOU_RECS_TRAIN_AT` in shop time (China
Standard Time; default 04:00, after the 03:30 retention run has removed expired events) and
then runs the gate once. Every replica schedules it. One training runs at a time (a file lock
beside the model, a PostgreSQL advisory lock when the catalog is there): a replica that finds
another one training tries again every `RETRY_SECONDS`, and then skips the day if a run has
started since the scheduled moment on its var/ (a replica on another machine, with a model
file of its own, trains its own). A web app started after the hour waits for the next day's.
Shops that prefer cron set `DAOGOU_RECS_TRAIN_AT` empty and run ``daogou recs train``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from knowledge_graph.handoff import SHOP_TZ
from recommender.gate import GateResult, TrainingBusy
from web.background import BackgroundThread
from web.retention_loop import next_run

log = logging.getLogger(__name__)

# The day's run, given its scheduled moment: the gate's result, or None when this var/ has had
# a run since then; raises TrainingBusy while another process trains.
Run = Callable[[datetime], GateResult | None]
MAX_SLEEP = 600.0  # seconds between looks at the clock (a suspended machine, a clock change)
RETRY_SECONDS = 300.0  # while another process trains


def parse_at(text: str) -> time | None:
    """ "HH:MM" in shop time; None for "" (the web app does not schedule the retrain)."""
    if not text:
        return None
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes, tzinfo=SHOP_TZ)
    except ValueError as exc:
        raise ValueError(f"DAOGOU_RECS_TRAIN_AT must be HH:MM (shop time), not {text!r}") from exc


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RecsTrainLoop(BackgroundThread):
    """Runs the gated retrain once a day at `at` (module docstring)."""

    thread_name = "recs-train-loop"

    run: Run
    at: time
    clock: Callable[[], datetime] = _utcnow
    retry_seconds: float = RETRY_SECONDS
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        due = next_run(self.clock(), self.at)
        attempt = due
        while not self._stop.is_set():
            remaining = (attempt - self.clock()).total_seconds()
            if remaining > 0:
                self._stop.wait(min(remaining, MAX_SLEEP))
                continue
            if self.run_once(due):
                due = next_run(self.clock(), self.at)
                attempt = due
            else:
                attempt = self.clock() + timedelta(seconds=self.retry_seconds)

    def run_once(self, due: datetime) -> bool:
        """The day's run; False when another process is training (try again later). Errors
        are logged and the day is given up: tomorrow's run trains on the same events and more."""
        try:
            result = self.run(due)
        except TrainingBusy:
            log.info("recommender training busy elsewhere; retrying in %.0f s", self.retry_seconds)
            return False
        except Exception:
            log.exception("recommender training failed")
            return True
        if result is not None:
            log.info("recommender %s: %s", result.decision, result.reason)
        return True


def start(run: Run, at_text: str) -> RecsTrainLoop | None:
    """The app lifespan's loop, started; None when `at_text` is "" (training left to cron)."""
    at = parse_at(at_text)
    if at is None:
        return None
    loop = RecsTrainLoop(run, at)
    loop.start()
    return loop

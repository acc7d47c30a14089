"""The web app's daily recommender retrain (recommender/gate.py judges and publishes;
web/app.py, the start-up module, hands in `run`: daogou.recs_cli.train_scheduled;
web/background.py's DailyJob keeps the time).

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
from collections.abc import Callable
from datetime import datetime
from functools import partial

from recommender.gate import GateResult, TrainingBusy
from web.background import RETRY_SECONDS, DailyJob, start_daily

log = logging.getLogger(__name__)

SETTING = "DAOGOU_RECS_TRAIN_AT"
THREAD_NAME = "recs-train-loop"
# The day's run, given its scheduled moment: the gate's result, or None when this var/ has had
# a run since then; raises TrainingBusy while another process trains.
Run = Callable[[datetime], GateResult | None]


def run_once(run: Run, due: datetime) -> bool:
    """The day's run; False when another process is training (try again later). Errors are
    logged and the day is given up: tomorrow's run trains on the same events and more."""
    try:
        result = run(due)
    except TrainingBusy:
        log.info("recommender training busy elsewhere; retrying in %.0f s", RETRY_SECONDS)
        return False
    except Exception:
        log.exception("recommender training failed")
        return True
    if result is not None:
        log.info("recommender %s: %s", result.decision, result.reason)
    return True


def start(run: Run, at_text: str) -> DailyJob | None:
    """The app lifespan's job, started; None when `at_text` is "" (training left to cron)."""
    return start_daily(partial(run_once, run), at_text, SETTING, THREAD_NAME)

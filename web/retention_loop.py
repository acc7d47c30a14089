"""The web app's daily retention run (daogou/retention.py does the work; web/app.py, the
start-up module, hands it in as `run`; web/background.py's DailyJob keeps the time).

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
from collections.abc import Callable
from datetime import datetime
from functools import partial

from web.background import DailyJob, start_daily

log = logging.getLogger(__name__)

SETTING = "DAOGOU_RETENTION_AT"
THREAD_NAME = "retention-loop"
# The day's run, given its scheduled moment: the counts removed, or None when another replica
# had it (daogou.retention.retain_scheduled).
Run = Callable[[datetime], dict[str, int] | None]


def run_once(run: Run, due: datetime) -> bool:
    """The day's run, unless another replica has it. Never tried again the same day: errors are
    logged and tomorrow's run removes what today's did not."""
    try:
        run(due)
    except Exception:  # a database hiccup
        log.exception("retention run failed")
    return True


def start(run: Run, at_text: str) -> DailyJob | None:
    """The app lifespan's job, started; None when `at_text` is "" (retention left to cron)."""
    return start_daily(partial(run_once, run), at_text, SETTING, THREAD_NAME)

"""The web app's daily jobs (web/background.py DailyJob: retention and the recommender's
retrain): the next run in shop time, across midnight and a change of year, and turning a job
off with an empty setting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest

from knowledge_graph.handoff import SHOP_TZ
from web.background import DailyJob, next_run, parse_at, start_daily

QUARTER_PAST_MIDNIGHT = time(0, 15, tzinfo=SHOP_TZ)


def test_the_next_run_after_late_evening_is_just_after_midnight():
    new_years_eve = datetime(2026, 12, 31, 23, 50, tzinfo=SHOP_TZ)
    assert next_run(new_years_eve, QUARTER_PAST_MIDNIGHT) == datetime(
        2027, 1, 1, 0, 15, tzinfo=SHOP_TZ
    )


def test_the_run_at_the_very_moment_is_tomorrows():
    just_before = datetime(2027, 1, 1, 0, 14, 59, tzinfo=SHOP_TZ)
    assert next_run(just_before, QUARTER_PAST_MIDNIGHT) == datetime(
        2027, 1, 1, 0, 15, tzinfo=SHOP_TZ
    )
    on_time = datetime(2027, 1, 1, 0, 15, tzinfo=SHOP_TZ)
    assert next_run(on_time, QUARTER_PAST_MIDNIGHT) == datetime(2027, 1, 2, 0, 15, tzinfo=SHOP_TZ)


def test_a_late_evening_job_seen_just_after_midnight_runs_that_evening():
    after_midnight = datetime(2027, 1, 1, 0, 30, tzinfo=SHOP_TZ)
    assert next_run(after_midnight, time(23, 45, tzinfo=SHOP_TZ)) == datetime(
        2027, 1, 1, 23, 45, tzinfo=SHOP_TZ
    )


def test_midnight_is_the_shops_not_utcs():
    # 16:20 UTC on 31 December is 00:20 on 1 January in Beijing: today's 00:15 has passed
    afternoon_utc = datetime(2026, 12, 31, 16, 20, tzinfo=UTC)
    assert next_run(afternoon_utc, QUARTER_PAST_MIDNIGHT) == datetime(
        2027, 1, 2, 0, 15, tzinfo=SHOP_TZ
    )
    # while at 16:10 UTC it is 00:10 there: the run is five minutes away
    assert next_run(afternoon_utc - timedelta(minutes=10), QUARTER_PAST_MIDNIGHT) == datetime(
        2027, 1, 1, 0, 15, tzinfo=SHOP_TZ
    )


def test_the_job_started_before_midnight_runs_once_for_the_new_day():
    calls: list[datetime] = []
    ran = threading.Event()

    def attempt(due: datetime) -> bool:
        calls.append(due)
        ran.set()
        return True

    # the first look at the clock is at 23:50; every later one finds it 00:15:01
    looks = iter([datetime(2026, 12, 31, 23, 50, tzinfo=SHOP_TZ)])
    later = datetime(2027, 1, 1, 0, 15, 1, tzinfo=SHOP_TZ)
    job = DailyJob(attempt, QUARTER_PAST_MIDNIGHT, clock=lambda: next(looks, later))
    job.start()
    try:
        assert ran.wait(10)
    finally:
        job.stop()
    assert calls == [datetime(2027, 1, 1, 0, 15, tzinfo=SHOP_TZ)]  # then it waits for 2 January


def test_an_empty_setting_turns_the_job_off():
    def attempt(due: datetime) -> bool:
        raise AssertionError("a job turned off never runs")

    assert parse_at("", "DAOGOU_RETENTION_AT") is None
    assert start_daily(attempt, "", "DAOGOU_RETENTION_AT", "retention-loop") is None
    job = start_daily(attempt, "03:30", "DAOGOU_RETENTION_AT", "retention-loop")
    assert job is not None and job.at == time(3, 30, tzinfo=SHOP_TZ)
    assert job.thread_name == "retention-loop"
    job.stop()


@pytest.mark.parametrize("text", ["3点半", "25:00", "04", "4:00:00"])
def test_a_setting_that_is_not_hh_mm_names_itself(text):
    with pytest.raises(ValueError, match=f"DAOGOU_RECS_TRAIN_AT must be HH:MM .*{text!r}"):
        parse_at(text, "DAOGOU_RECS_TRAIN_AT")

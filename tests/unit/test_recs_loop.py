"""The web app's daily gated retrain (web/recs_loop.py, daogou.recs_cli.train_scheduled) and the
lease that lets one training run at a time."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, time, timedelta
from functools import partial

import pytest

from daogou.container import Services, build_services
from daogou.recs_cli import train_scheduled, training_lease
from daogou.settings import load_settings
from knowledge_graph.handoff import SHOP_TZ
from recommender.gate import GateResult, TrainingBusy, read_reports
from tests.fixtures import BigramEncoder
from tests.unit.test_recs_gate import book_store
from web.background import DailyJob
from web.recs_loop import THREAD_NAME, run_once, start

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture()
def services(tmp_path) -> Services:
    settings = dataclasses.replace(
        load_settings(),
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'books.db'}",
        recs_holdout_days=7.0,
    )
    return build_services(settings, store=book_store(tmp_path), encoder=BigramEncoder())


def test_the_training_time_is_shop_time_and_empty_turns_it_off():
    loop = start(lambda due: None, "04:00")
    assert loop is not None and loop.at == time(4, 0, tzinfo=SHOP_TZ)
    assert loop.thread_name == THREAD_NAME == "recs-train-loop"
    loop.stop()
    assert start(lambda due: None, "") is None
    with pytest.raises(ValueError, match="DAOGOU_RECS_TRAIN_AT must be HH:MM"):
        start(lambda due: None, "凌晨四点")


def test_the_daily_run_happens_once_per_var_however_many_replicas_schedule_it(services):
    scheduled = datetime.now(UTC) - timedelta(minutes=5)
    first = train_scheduled(services, scheduled)
    assert first is not None and first.decision == "accepted"
    assert train_scheduled(services, scheduled) is None  # a run has started since
    tomorrow = train_scheduled(services, scheduled + timedelta(days=1))
    assert tomorrow is not None and tomorrow.decision == "accepted"
    assert len(read_reports(services.settings.var_dir / "recs")) == 2


def test_a_replica_finding_another_training_is_told_so(services):
    with training_lease(services.settings) as held:
        assert held
        with training_lease(services.settings) as second:
            assert not second  # another process's lock would be refused the same way
        with pytest.raises(TrainingBusy):
            train_scheduled(services, NOW)
    with training_lease(services.settings) as again:
        assert again


def test_the_loop_retries_while_another_process_trains_then_waits_for_the_next_day():
    at = time(4, 0, tzinfo=SHOP_TZ)
    due = datetime(2026, 12, 6, 4, 0, tzinfo=SHOP_TZ)
    now = [due - timedelta(microseconds=1)]
    calls: list[datetime] = []
    done = threading.Event()

    def run(scheduled: datetime) -> GateResult | None:
        calls.append(scheduled)
        now[0] = scheduled + timedelta(minutes=len(calls))
        if len(calls) == 1:
            raise TrainingBusy("another recommender training is running")
        done.set()
        return None

    def clock() -> datetime:
        """The loop starts just before 04:00 and finds it 04:00 when it looks again."""
        seen = now[0]
        now[0] = max(seen, due)
        return seen

    loop = DailyJob(partial(run_once, run), at, clock=clock, retry_seconds=0.0)
    loop.start()
    try:
        assert done.wait(10)
    finally:
        loop.stop()
    assert calls == [due, due]  # the same day's run, tried again once the lock was free


def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog):
    def run(scheduled: datetime) -> GateResult | None:
        raise OSError("disk full")

    assert run_once(run, NOW) is True  # given up for the day, not retried
    assert "recommender training failed" in caplog.text


def test_the_lease_on_postgresql_is_an_advisory_lock(services):
    from tests.unit.test_store_postgres import ADMIN_URL, _answers

    if not _answers():
        pytest.skip("no PostgreSQL server answers at " + ADMIN_URL)
    settings = dataclasses.replace(services.settings, database_url=ADMIN_URL)
    other_var = dataclasses.replace(settings, var_dir=services.settings.var_dir / "other")
    with training_lease(settings) as first:
        assert first
        with training_lease(other_var) as elsewhere:  # another machine: its own var/
            assert not elsewhere
    with training_lease(other_var) as again:
        assert again


def test_the_web_app_starts_the_daily_run_at_the_configured_shop_time(services, monkeypatch):
    """What web/app.py's lifespan does with the settings."""
    monkeypatch.delenv("DAOGOU_RECS_TRAIN_AT", raising=False)
    assert load_settings().recs_train_at == "04:00"  # the default
    loop = start(partial(train_scheduled, services), "04:00")
    assert loop is not None and loop.at == time(4, 0, tzinfo=SHOP_TZ)
    loop.stop()

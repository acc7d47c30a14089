"""Retention (daogou/retention.py, web/retention_loop.py): a conversation and events older than
the period are gone down to the database files' bytes; a conversation with recent activity is
kept whole, however old its start; a dry run and a period of 0 change nothing; one run at a time.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, select

from daogou import cli
from daogou.container import build_services
from daogou.retention import (
    PSEUDONYM_PREFIX,
    RetentionBusy,
    lease,
    lock_path,
    retain,
    retain_scheduled,
)
from daogou.settings import get_settings, load_settings
from knowledge_graph.consent import is_granted
from knowledge_graph.conversations import add_annotation, record_flag, save_review
from knowledge_graph.handoff import SHOP_TZ, HandoffQueue
from knowledge_graph.orders import OrderStore
from knowledge_graph.privacy import pseudonym
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Annotation, AuditEntry, Event, Handoff
from tests.fixtures import BigramEncoder, mini_catalog
from tests.unit.test_review_tracker import History
from web.app import _start_retention
from web.background import DailyJob, next_run
from web.retention_loop import run_once, start
from web.review.fake_history import append_events, create_events_table
from web.review.tracker import ConversationIndex

OLD = "s-retention-old-wang5"  # chatted and browsed 400 days ago, never since
KEPT = "s-retention-kept-zhao6"  # browsed 400 days ago, chatted and browsed 10 days ago
LONG = "s-retention-long-qian7"  # a conversation started 400 days ago, a message yesterday
PHONE = "13987654321"  # what OLD typed: must not survive anywhere
LONG_SECRET = "QQ88123456"  # what LONG typed 400 days ago: kept with the live conversation
DAYS = 365
NOW = datetime.now(UTC).replace(microsecond=0)
AGO_400 = NOW - timedelta(days=400)
AGO_10 = NOW - timedelta(days=10)
YESTERDAY = NOW - timedelta(days=1)


@pytest.fixture()
def services(tmp_path, mini_services):
    """A private var/ with file databases (their bytes are read): catalog, tracker, index."""
    store = CatalogStore.from_url(f"sqlite:///{tmp_path / 'daogou.db'}")
    store.create_schema()
    catalog = mini_catalog()
    store.load_catalog(catalog)
    order = catalog["orders"][0]
    OrderStore(store).load(
        [
            {**order, "order_id": "DG20221201000001", "user_id": OLD, "created_at": _iso(4 * 365)},
            {**order, "order_id": "DG20241201000002", "user_id": KEPT, "created_at": _iso(2 * 365)},
        ]
    )
    settings = dataclasses.replace(
        mini_services.settings,
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'daogou.db'}",
        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    services = build_services(settings, store=store, encoder=BigramEncoder())
    for user in (OLD, KEPT, LONG):
        services.consent.decide(user, True)
    for user, ts in ((OLD, AGO_400), (KEPT, AGO_400), (KEPT, AGO_10), (LONG, AGO_10)):
        services.events.record(user, "PH-XM-14-256", "view", "widget", ts=ts)
        services.events.record(user, "PH-HW-M60P-256", "click", "chat", ts=ts)
    services.events.record("s-not-agreed", "PH-XM-14-256", "view", "widget", ts=AGO_400)
    record_flag(store, OLD, "handoff", f"电话{PHONE}，请回电")
    save_review(store, OLD, "staff1", tags=["回访"], note="已处理")
    HandoffQueue(store).request(OLD, f"转人工 {PHONE}")
    add_annotation(
        store, sender_id=OLD, event_id=3, text="我的手机号是[手机号]", predicted_intent="inform",
        intent="inform", entities=[], actor="staff1",
    )  # fmt: skip
    record_flag(store, LONG, "feedback_up", "很好")
    history = History()
    history.session(OLD, AGO_400.timestamp())
    history.user(OLD, AGO_400.timestamp() + 1, f"我的手机号是{PHONE}", "inform", 0.9)
    history.bot(OLD, AGO_400.timestamp() + 2, "好的")
    history.session(LONG, AGO_400.timestamp() + 10)
    history.user(LONG, AGO_400.timestamp() + 11, f"我的{LONG_SECRET}", "inform", 0.9)
    history.bot(LONG, AGO_400.timestamp() + 12, "收到")
    history.session(KEPT, AGO_10.timestamp())
    history.user(KEPT, AGO_10.timestamp() + 1, "有没有华为手机", "search_product", 0.95)
    history.bot(KEPT, AGO_10.timestamp() + 2, "有的")
    history.session(LONG, YESTERDAY.timestamp())
    history.user(LONG, YESTERDAY.timestamp() + 1, "还在吗", "greet", 0.8)
    tracker = create_engine(settings.tracker_db_url)
    with tracker.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")  # as Rasa's store keeps it
    create_events_table(tracker)
    append_events(tracker, history.saved())
    tracker.dispose()
    index = ConversationIndex(settings.tracker_db_url, settings.review_index_url)
    index.catch_up()
    index.dispose()
    services.recommendations().save()  # a served model fitted on everyone's events
    return services


def _iso(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def database_bytes(services, *names: str) -> bytes:
    """The bytes of the database files (and their WAL), of those named only if `names`."""
    files = sorted(services.settings.var_dir.rglob("*.db*"))
    return b"".join(p.read_bytes() for p in files if not names or p.name.startswith(names))


def tracker_events(services, sender: str) -> list[dict]:
    engine = create_engine(services.settings.tracker_db_url)
    events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id)
        ).scalars()
        found = [json.loads(data) for data in rows]
    engine.dispose()
    return found


def snapshot(services) -> dict[str, list[tuple]]:
    """Every row of every table of the three databases, for 'nothing changed'."""
    settings = services.settings
    rows: dict[str, list[tuple]] = {}
    for url in (settings.database_url, settings.tracker_db_url, settings.review_index_url):
        engine = create_engine(url)
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                found = conn.execute(select(table)).all()
                rows[f"{url}:{table.name}"] = sorted(tuple(map(str, row)) for row in found)
        engine.dispose()
    return rows


@pytest.fixture()
def rasa_connection(services):
    """An idle connection kept open on the tracker database, as Rasa's store keeps one: the
    write-ahead log is then not checkpointed when the retention job's connections close."""
    connection = sqlite3.connect(services.settings.var_dir / "tracker.db")
    connection.execute("SELECT count(*) FROM events").fetchone()
    yield connection
    connection.close()


def test_retention_removes_old_conversations_and_events_down_to_the_bytes(
    services, rasa_connection
):
    assert OLD.encode() in database_bytes(services) and PHONE.encode() in database_bytes(services)
    long_before = tracker_events(services, LONG)
    kept_before = tracker_events(services, KEPT)

    removed = retain(services, DAYS, now=NOW)

    assert removed == {
        "tracker.conversations": 1,
        "tracker.events": 5,  # session start, session_started, listen, message, reply
        "review_index": 5,  # OLD's sender, session, intent, message and reply rows
        "catalog.events": 5,  # OLD's 2, KEPT's 2 old ones, one of a shopper who did not agree
        "catalog.orders": 1,
        "catalog.conversation_flags": 1,
        "catalog.conversation_reviews": 1,
        "catalog.handoffs": 1,
        "catalog.annotations": 1,
        "catalog.shopper_consents": 1,
        "recommender.refitted": 1,
    }
    everything = database_bytes(services)
    assert OLD.encode() not in everything
    assert PHONE.encode() not in everything
    assert tracker_events(services, OLD) == []
    # a conversation with recent activity is kept whole, its oldest session too
    assert tracker_events(services, LONG) == long_before
    assert LONG_SECRET.encode() in everything
    assert tracker_events(services, KEPT) == kept_before
    # the catalog keeps only what is recent, and what is not bound to OLD
    with services.store.session() as session:
        events = session.execute(select(Event.user_id, Event.ts)).all()
        annotation = session.scalars(select(Annotation)).one()
        handoffs = session.scalars(select(Handoff)).all()
    assert sorted(user for user, _ in events) == [KEPT, KEPT, LONG, LONG]
    assert annotation.sender_id == "" and annotation.text == "我的手机号是[手机号]"
    assert handoffs == []
    assert is_granted(services.store, KEPT) and is_granted(services.store, LONG)
    # orders stay: three years with the shopper, then under the erasure pseudonym
    orders = OrderStore(services.store)
    assert orders.get("DG20221201000001")["user_id"] == pseudonym(OLD)
    assert pseudonym(OLD).startswith(PSEUDONYM_PREFIX)
    assert orders.get("DG20241201000002")["user_id"] == KEPT
    # the console lists the kept conversations only
    index = ConversationIndex(services.settings.tracker_db_url, services.settings.review_index_url)
    assert index.summary(OLD) is None
    assert index.summary(LONG).shopper_messages == 2 and index.summary(KEPT) is not None
    index.dispose()
    # the shop still recommends, and the run is logged with counts only
    assert services.recommendations().recommend(KEPT, k=3)
    with services.store.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention")).one()
        logged = (entry.actor, entry.detail["days"], entry.detail["tracker.conversations"])
    assert logged == ("retention", DAYS, 1)


def test_when_every_conversation_is_old_not_one_sender_id_is_left(services, rasa_connection):
    """The console index's state row names the last event it read (LONG's): it goes too."""
    removed = retain(services, 1, now=NOW + timedelta(days=30))
    assert removed["tracker.conversations"] == 3 and removed["catalog.events"] == 9
    everything = database_bytes(services)
    assert OLD.encode() not in everything and LONG.encode() not in everything
    assert LONG_SECRET.encode() not in everything
    # KEPT's order of two years ago still names KEPT (orders: three years); nothing else does
    assert KEPT.encode() not in database_bytes(services, "tracker.db", "review_index.db")
    assert OrderStore(services.store).get("DG20241201000002")["user_id"] == KEPT


def test_a_shopper_who_still_shops_keeps_their_consent_when_their_old_conversation_goes(
    services,
):
    browser = "s-retention-browser-sun8"
    services.consent.decide(browser, True)
    services.events.record(browser, "PH-XM-14-256", "view", "storefront", ts=AGO_10)
    history = History()
    history.session(browser, AGO_400.timestamp())
    history.user(browser, AGO_400.timestamp() + 1, "你好", "greet", 0.9)
    append_events(create_engine(services.settings.tracker_db_url), history.saved())
    removed = retain(services, DAYS, now=NOW)
    assert removed["tracker.conversations"] == 2  # OLD's and the browser's
    assert tracker_events(services, browser) == []
    assert is_granted(services.store, browser)
    assert [i.sku for i in services.events.history(browser)] == ["PH-XM-14-256"]


def test_a_second_run_finds_nothing_more(services):
    retain(services, DAYS, now=NOW)
    assert retain(services, DAYS, now=NOW) == {}


def test_a_dry_run_counts_and_changes_nothing(services):
    before = snapshot(services)
    counted = retain(services, DAYS, now=NOW, dry_run=True)
    assert counted == {
        "tracker.conversations": 1,
        "tracker.events": 5,
        "catalog.events": 5,
        "catalog.orders": 1,
        "catalog.conversation_flags": 1,
        "catalog.conversation_reviews": 1,
        "catalog.handoffs": 1,
        "catalog.annotations": 1,
        "catalog.shopper_consents": 1,
    }
    assert snapshot(services) == before


def test_a_period_of_zero_days_keeps_everything(services):
    before = snapshot(services)
    assert retain(services, 0, now=NOW) is None
    assert snapshot(services) == before


def test_a_shorter_period_takes_the_conversation_of_ten_days_ago_too(services):
    removed = retain(services, 5, now=NOW)
    assert removed["tracker.conversations"] == 2  # OLD and KEPT; LONG wrote yesterday
    assert tracker_events(services, KEPT) == []
    assert len(tracker_events(services, LONG)) == 9
    assert is_granted(services.store, LONG) and not is_granted(services.store, KEPT)


# -- one run at a time --------------------------------------------------------------------------


def test_the_lease_lets_one_run_at_a_time(services):
    before = snapshot(services)
    with lease(services.settings) as first:
        assert first
        with lease(services.settings) as second:
            assert not second
        with pytest.raises(RetentionBusy):
            retain(services, DAYS, now=NOW)
        assert retain_scheduled(services, DAYS, NOW - timedelta(minutes=1), now=NOW) is None
    assert snapshot(services) == before
    assert retain(services, DAYS, now=NOW)["tracker.conversations"] == 1  # released


def test_the_lease_is_held_across_processes(services):
    """Two web app replicas are two processes: the lock file's lock holds between them."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_path(services.settings))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RetentionBusy):
            retain(services, DAYS, now=NOW)
    finally:
        holder.communicate("")
    assert retain(services, DAYS, now=NOW)["tracker.conversations"] == 1


HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
sys.stdin.read()
"""


def test_the_daily_run_happens_once_however_many_replicas_schedule_it(services):
    scheduled = NOW - timedelta(minutes=5)
    assert retain_scheduled(services, DAYS, scheduled, now=NOW)["tracker.conversations"] == 1
    assert retain_scheduled(services, DAYS, scheduled, now=NOW) is None  # logged since then
    assert retain_scheduled(services, DAYS, NOW + timedelta(days=1), now=NOW) == {}  # next day


def test_the_lease_on_postgresql_is_an_advisory_lock(services):
    from tests.unit.test_store_postgres import ADMIN_URL, _answers

    if not _answers():
        pytest.skip("no PostgreSQL server answers at " + ADMIN_URL)
    settings = dataclasses.replace(services.settings, database_url=ADMIN_URL)
    with lease(settings) as first:
        assert first
        with lease(settings) as second:
            assert not second
    with lease(settings) as again:
        assert again


# -- the schedule and the command ---------------------------------------------------------------


def test_the_run_is_scheduled_at_the_shop_time():
    at = time(3, 30, tzinfo=SHOP_TZ)
    night = datetime(2026, 12, 5, 2, 0, tzinfo=SHOP_TZ)
    assert next_run(night, at) == datetime(2026, 12, 5, 3, 30, tzinfo=SHOP_TZ)
    assert next_run(night.replace(hour=3, minute=30), at) == datetime(
        2026, 12, 6, 3, 30, tzinfo=SHOP_TZ
    )
    # 20:00 UTC is 04:00 the next morning in Beijing: the next run is the morning after
    evening_utc = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    assert next_run(evening_utc, at) == datetime(2026, 12, 7, 3, 30, tzinfo=SHOP_TZ)
    assert start(lambda due: None, "") is None
    with pytest.raises(ValueError, match="DAOGOU_RETENTION_AT must be HH:MM"):
        start(lambda due: None, "3点半")


def test_the_loop_runs_the_days_retention_once_its_hour_has_come(services):
    def run(due: datetime) -> dict[str, int] | None:
        removed = retain_scheduled(services, DAYS, due, now=NOW)
        runs.append((due, removed))
        ran.set()
        return removed

    runs: list[tuple[datetime, dict[str, int] | None]] = []
    ran = threading.Event()
    at = time(3, 30, tzinfo=SHOP_TZ)
    due = next_run(NOW - timedelta(days=1), at)  # within the last day: the log's times are real
    clock = iter([NOW - timedelta(days=1)] + [due + timedelta(seconds=1)] * 1000)
    loop = DailyJob(partial(run_once, run), at, clock=lambda: next(clock))
    loop.start()
    try:
        assert ran.wait(30)
    finally:
        loop.stop()
    assert runs[0][0] == due and runs[0][1]["tracker.conversations"] == 1
    assert run_once(run, due) is True  # a second replica at the same hour: the day is done
    assert runs[1] == (due, None)  # retain_scheduled skipped it: the audit log shows the run


def test_a_failing_run_is_logged_and_not_tried_again_that_day(caplog):
    def run(due: datetime) -> dict[str, int] | None:
        raise sa.exc.OperationalError("VACUUM", {}, Exception("database is locked"))

    assert run_once(run, NOW) is True
    assert "retention run failed" in caplog.text


def test_the_web_app_schedules_retention_unless_it_is_off_or_left_to_cron(services, monkeypatch):
    monkeypatch.delenv("DAOGOU_RETENTION_AT")  # tests/conftest.py turns it off for test apps
    assert load_settings().retention_at == "03:30"  # the default
    scheduled = dataclasses.replace(services.settings, retention_at="03:30")
    services = dataclasses.replace(services, settings=scheduled)
    loop = _start_retention(services)
    assert loop is not None and loop.at == time(3, 30, tzinfo=SHOP_TZ)
    loop.stop()
    for change in ({"retention_days": 0}, {"retention_at": ""}):
        off = dataclasses.replace(
            services, settings=dataclasses.replace(services.settings, **change)
        )
        assert _start_retention(off) is None


def test_the_command_prints_what_a_dry_run_would_remove(services, monkeypatch, capsys):
    var = services.settings.var_dir
    monkeypatch.setenv("DAOGOU_VAR", str(var))
    for name in ("DATABASE_URL", "TRACKER_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        before = snapshot(services)
        assert cli.main(["privacy", "retain", "--days", "365", "--dry-run"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["dry_run"] is True and report["days"] == 365
        assert report["removed"]["tracker.conversations"] == 1
        assert report["removed"]["catalog.events"] == 5
        assert snapshot(services) == before
        assert cli.main(["privacy", "retain", "--days", "0"]) == 0
        assert "nothing removed" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


@pytest.fixture()
def pg_services(tmp_path, mini_services):
    """Catalog and tracker on PostgreSQL, each its own database (both have an `events` table)."""
    from tests.unit.test_store_postgres import ADMIN_URL, _answers, _start_postgres

    if not _answers():
        _start_postgres()
    if not _answers():
        pytest.skip("no PostgreSQL server answers at " + ADMIN_URL)
    names = [f"daogou_retention_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    catalog_url, tracker_url = (ADMIN_URL.rsplit("/", 1)[0] + "/" + name for name in names)
    store = CatalogStore.from_url(catalog_url)
    store.create_schema()
    store.load_catalog(mini_catalog())
    settings = dataclasses.replace(
        mini_services.settings, var_dir=tmp_path, database_url=catalog_url,
        tracker_db_url=tracker_url,
    )  # fmt: skip
    services = build_services(settings, store=store, encoder=BigramEncoder())
    yield services
    store.engine.dispose()
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_retention_on_postgresql(pg_services):
    services = pg_services
    for user in (OLD, LONG):
        services.consent.decide(user, True)
        services.events.record(user, "PH-XM-14-256", "view", "widget", ts=AGO_400)
    record_flag(services.store, OLD, "handoff", f"电话{PHONE}")
    history = History()
    history.session(OLD, AGO_400.timestamp())
    history.user(OLD, AGO_400.timestamp() + 1, f"我的手机号是{PHONE}", "inform", 0.9)
    history.session(LONG, AGO_400.timestamp() + 10)
    history.user(LONG, YESTERDAY.timestamp(), "还在吗", "greet", 0.8)
    tracker = create_engine(services.settings.tracker_db_url)
    create_events_table(tracker)
    append_events(tracker, history.saved())
    tracker.dispose()
    index = ConversationIndex(services.settings.tracker_db_url, services.settings.review_index_url)
    index.catch_up()
    index.dispose()

    assert retain(services, DAYS, now=NOW, dry_run=True)["tracker.events"] == 4
    removed = retain(services, DAYS, now=NOW)
    assert removed == {
        "tracker.conversations": 1,
        "tracker.events": 4,
        "review_index": 4,  # OLD's sender, session, intent and message rows
        "catalog.events": 2,
        "catalog.conversation_flags": 1,
        "catalog.shopper_consents": 1,
    }
    assert tracker_events(services, OLD) == [] and len(tracker_events(services, LONG)) == 4
    assert is_granted(services.store, LONG) and not is_granted(services.store, OLD)

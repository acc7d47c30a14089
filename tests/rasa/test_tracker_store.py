"""bot/tracker_store.py: the in-memory copy must always be what Rasa's own SQL store would read
from the database, and every event must still reach the database in its own turn."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from sqlalchemy.engine import make_url

from bot.tracker_store import CachedSQLTrackerStore

EXPECTED = {
    "after_session_start_same_as_sql": True,
    "cached_object_reused": True,
    "cached_same_as_sql": True,
    "slot_kept": "P001",
    "embedding_stored": False,
    "intent_stored": ["greet", "ask_price"],
    "unsaved_changes_dropped": True,
    "sees_other_writers": True,
    "events_in_db": 17,  # 1 + (2 + 4) + 5 + 5
    "stale_save_adds_nothing": True,
    "cache_bounded": True,
    "unknown_sender": True,
}


def run_check(store_config: dict[str, Any], count_url: str) -> dict[str, Any]:
    counter = sa.create_engine(count_url)

    def sql(query: str) -> list[Any]:
        with counter.connect() as connection:
            return connection.execute(sa.text(query)).fetchall()

    domain = Domain.from_dict({
        "intents": ["greet", "ask_price"],
        "slots": {"focus_sku": {"type": "text", "mappings": [{"type": "custom"}]}},
        "responses": {"utter_hi": [{"text": "您好"}]},
    })  # fmt: skip
    report: dict[str, Any] = {}

    def turn(text: str, intent: str, sku: str | None = None) -> list[Any]:
        parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [],
                 "text_embedding": {"model": "m", "dtype": "float16", "data": "AAAA"}}  # fmt: skip
        events = [
            UserUttered(text, parse_data=parse),
            ActionExecuted("utter_hi"),
            BotUttered("您好"),
        ]
        if sku:
            events.append(SlotSet("focus_sku", sku))
        return events + [ActionExecuted("action_listen")]

    async def plain_view(sender: str) -> list[dict[str, Any]] | None:
        # what Rasa's own store reads from the same database
        tracker = await SQLTrackerStore(domain, **store_config).retrieve(sender)
        return None if tracker is None else [e.as_dict() for e in tracker.events]

    async def main() -> None:
        store = CachedSQLTrackerStore(domain=domain, cache_size=2, **store_config)
        tracker = await store.get_or_create_tracker("s1")
        for event in [SessionStarted(), ActionExecuted("action_listen"), *turn("你好", "greet")]:
            tracker.update(event)
        await store.save(tracker)  # starts a session: the copy is dropped, the database answers
        first = await store.retrieve("s1")
        report["after_session_start_same_as_sql"] = [
            e.as_dict() for e in first.events
        ] == await plain_view("s1")
        for event in turn("Mate60多少钱", "ask_price", "P001"):
            first.update(event)
        await store.save(first)
        again = await store.retrieve("s1")
        report["cached_object_reused"] = again is first
        report["cached_same_as_sql"] = [e.as_dict() for e in again.events] == await plain_view("s1")
        report["slot_kept"] = again.get_slot("focus_sku")

        rows = sql("select data from events where type_name='user'")
        report["embedding_stored"] = any(
            "text_embedding" in json.loads(r[0])["parse_data"] for r in rows
        )
        report["intent_stored"] = [json.loads(r[0])["parse_data"]["intent"]["name"] for r in rows]

        # a turn that fails half-way: changed in memory, never saved
        again.update(
            UserUttered("半截", parse_data={"intent": {"name": "greet", "confidence": 1.0}})
        )
        after_failure = await store.retrieve("s1")
        report["unsaved_changes_dropped"] = after_failure is not again and [
            e.as_dict() for e in after_failure.events
        ] == await plain_view("s1")

        # another process (a second replica) writes to the same conversation
        other = SQLTrackerStore(domain, **store_config)
        theirs = await other.retrieve("s1")
        for event in turn("还有货吗", "ask_price", "P002"):
            theirs.update(event)
        await other.save(theirs)
        ours = await store.retrieve("s1")
        report["sees_other_writers"] = ours.get_slot("focus_sku") == "P002" and (
            [e.as_dict() for e in ours.events] == await plain_view("s1")
        )

        def count() -> int:
            return sql("select count(*) from events where sender_id='s1'")[0][0]

        report["events_in_db"] = count()
        await store.save(again)  # a stale copy, as Rasa's own store would: nothing duplicated
        report["stale_save_adds_nothing"] = count() == report["events_in_db"] and (
            [e.as_dict() for e in (await store.retrieve("s1")).events] == await plain_view("s1")
        )

        for sender in ("s2", "s3", "s4"):
            await store.get_or_create_tracker(sender)
        report["cache_bounded"] = len(store._cache) <= 2
        if store.engine.dialect.name == "sqlite":  # 1 = NORMAL: WAL synced at checkpoints
            with store.engine.connect() as connection:
                report["synchronous"] = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        report["unknown_sender"] = await store.retrieve("nobody") is None
        store.engine.dispose()

    try:
        asyncio.run(main())
    finally:
        counter.dispose()
    return report


def test_cached_tracker_store_agrees_with_the_database(tmp_path):
    db = tmp_path / "tracker.db"
    report = run_check({"dialect": "sqlite", "db": str(db)}, f"sqlite:///{db}")
    assert report == {**EXPECTED, "synchronous": 1}


@pytest.mark.postgres
def test_cached_tracker_store_on_postgresql(pg_url):
    url = make_url(pg_url)
    store = {
        "dialect": "postgresql", "host": url.host, "port": url.port or 5432,
        "username": url.username, "password": url.password, "db": url.database,
    }  # fmt: skip
    report = run_check(store, url.set(drivername="postgresql").render_as_string(False))
    assert report == EXPECTED

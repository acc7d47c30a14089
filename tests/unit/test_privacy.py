"""A shopper's data exported and erased everywhere it is kept: catalog database (events,
orders, staff marks, consent), Rasa's tracker table, the console's conversation index, the served
recommender; afterwards not one byte of it is left in the database files, and everyone else's
data and the service still work."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import create_engine, select

from daogou.container import build_services
from daogou.privacy import erase_shopper, export_shopper
from knowledge_graph.consent import is_granted
from knowledge_graph.conversations import record_flag, save_review
from knowledge_graph.orders import OrderStore
from knowledge_graph.privacy import pseudonym
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import AuditEntry
from tests.fixtures import BigramEncoder, mini_catalog
from tests.unit.test_review_tracker import History
from web.review.fake_history import append_events, create_events_table
from web.review.tracker import ConversationIndex

SHOPPER = "s-privacy-zhang3"
PHONE = "13912345678"  # what the shopper typed: must not survive anywhere
OTHER = "s-someone-else"
T0 = 1_780_000_000.0


@pytest.fixture()
def services(tmp_path, mini_services):
    """A private var/: file databases (so their bytes can be read), tracker and index beside."""
    store = CatalogStore.from_url(f"sqlite:///{tmp_path / 'daogou.db'}")
    store.create_schema()
    catalog = mini_catalog()
    store.load_catalog(catalog)
    orders = [
        {**catalog["orders"][0], "order_id": "DG20261201000001", "user_id": SHOPPER},
        {**catalog["orders"][0], "order_id": "DG20261201000002", "user_id": OTHER},
    ]
    OrderStore(store).load(orders)
    settings = dataclasses.replace(
        mini_services.settings,
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'daogou.db'}",
        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    services = build_services(settings, store=store, encoder=BigramEncoder())
    for user in (SHOPPER, OTHER):
        services.consent.decide(user, True)  # agreed: their events are kept under their id
        services.events.record(user, "PH-XM-14-256", "view", "widget")
        services.events.record(user, "PH-HW-M60P-256", "click", "chat")
    record_flag(store, SHOPPER, "handoff", f"电话{PHONE}，请回电")
    save_review(store, SHOPPER, "staff1", tags=["回访"], note="已处理")
    history = History()
    for user in (SHOPPER, OTHER):
        history.session(user, T0)
        history.user(
            user, T0 + 1, f"我的手机号是{PHONE}" if user == SHOPPER else "你好", "inform", 0.9
        )
        history.bot(user, T0 + 2, "好的")
    tracker = create_engine(settings.tracker_db_url)
    create_events_table(tracker)
    append_events(tracker, history.saved())
    index = ConversationIndex(settings.tracker_db_url, f"sqlite:///{tmp_path / 'review_index.db'}")
    index.catch_up()
    index.dispose()
    services.recommendations().save()  # a served model fitted on everyone's events
    return services


def database_bytes(services) -> bytes:
    var = services.settings.var_dir
    return b"".join(p.read_bytes() for p in sorted(var.rglob("*.db*")))


def test_export_has_everything_about_the_shopper_and_nothing_else(services):
    document = export_shopper(services, SHOPPER, actor="admin")
    catalog = document["catalog"]
    assert {e["sku"] for e in catalog["events"]} == {"PH-XM-14-256", "PH-HW-M60P-256"}
    assert [o["order_id"] for o in catalog["orders"]] == ["DG20261201000001"]
    assert catalog["conversation_flags"][0]["text"] == f"电话{PHONE}，请回电"
    assert catalog["conversation_reviews"][0]["tags"] == ["回访"]
    assert [(c["sender_id"], c["granted"]) for c in catalog["shopper_consents"]] == [
        (SHOPPER, True)
    ]
    texts = [e.get("text") for e in document["conversation"] if e["event"] == "user"]
    assert texts == [f"我的手机号是{PHONE}"]
    assert OTHER not in json.dumps(document, ensure_ascii=False)


def test_erasure_leaves_no_byte_behind_and_the_shop_keeps_working(services):
    assert SHOPPER.encode() in database_bytes(services)
    assert PHONE.encode() in database_bytes(services)
    removed = erase_shopper(services, SHOPPER, actor="admin")
    assert removed["catalog.events"] == 2 and removed["tracker.events"] > 0
    assert removed["catalog.shopper_consents"] == 1
    assert removed["review_index"] > 0 and removed["recommender.refitted"] == 1
    everything = database_bytes(services)
    assert SHOPPER.encode() not in everything
    assert PHONE.encode() not in everything
    # the order stays for the shop's accounts, under a pseudonym
    order = OrderStore(services.store).get("DG20261201000001")
    assert order is not None and order["user_id"] == pseudonym(SHOPPER)
    # everyone else is untouched, and recommendations still work
    assert OrderStore(services.store).get("DG20261201000002")["user_id"] == OTHER
    assert [i.sku for i in services.events.history(OTHER)] != []
    assert services.recommendations().recommend(OTHER, k=3)
    assert is_granted(services.store, OTHER) and not is_granted(services.store, SHOPPER)
    assert export_shopper(services, SHOPPER, actor="admin")["conversation"] == []
    # both requests are logged, by pseudonym and counts, not by the shopper's id or data
    with services.store.session() as session:
        logged = session.scalars(select(AuditEntry).where(AuditEntry.action.like("privacy_%")))
        entries = [(e.action, e.target) for e in logged]
    assert entries == [
        ("privacy_erase", pseudonym(SHOPPER)),
        ("privacy_export", pseudonym(SHOPPER)),
    ]

"""Two Rasa replicas answer alternate turns of one conversation, each sent straight to a replica's
own port: every turn needs what the other replica heard before (the brand, then the list shown),
so a replica answering from a stale in-memory tracker (bot/tracker_store.py) would get it wrong.
The tracker table then holds every event once, in order."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa


def catalog_price(cluster, sku: str) -> float:
    engine = sa.create_engine(cluster.catalog_url)
    try:
        with engine.connect() as connection:
            return float(
                connection.execute(
                    sa.text("SELECT price FROM products WHERE sku = :sku"), {"sku": sku}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def said_price(text: str) -> float:
    """The price in the bot's answer (「……售价 1199元。」)."""
    found = re.search(r"售价\s*¥?([\d,]+(?:\.\d+)?)\s*元", text)
    assert found, text
    return float(found.group(1).replace(",", ""))


def test_alternate_turns_on_two_replicas_keep_one_conversation(cluster):
    sender = f"cluster-coherence-{uuid.uuid4().hex[:8]}"
    token = cluster.token(sender)

    cluster.say(cluster.replica_url(1), sender, "华为手机", token)
    shown = cluster.say(cluster.replica_url(2), sender, "3000以内的", token).products
    assert shown and len(shown) >= 2
    assert {p["brand"] for p in shown} == {"华为"}  # the brand came from replica 1's turn
    assert {p["category"] for p in shown} == {"手机"}
    assert all(p["price"] <= 3000 for p in shown)

    second = shown[1]
    answer = cluster.say(cluster.replica_url(1), sender, "第二个多少钱", token)
    assert [p["sku"] for p in answer.products] == [second["sku"]]  # the list replica 2 showed
    assert second["price"] == catalog_price(cluster, second["sku"])
    assert said_price(answer.text) == second["price"]

    first = shown[0]
    answer = cluster.say(cluster.replica_url(2), sender, "第一个多少钱", token)
    assert [p["sku"] for p in answer.products] == [first["sku"]]
    assert said_price(answer.text) == catalog_price(cluster, first["sku"])

    stored = cluster.stored_events(sender)
    texts = [e["text"] for e in stored if e["event"] == "user"]
    assert texts == ["华为手机", "3000以内的", "第二个多少钱", "第一个多少钱"]
    stamps = [e["timestamp"] for e in stored]
    assert stamps == sorted(stamps)  # in the order they happened
    keys = [(e["event"], e["timestamp"], e.get("name"), e.get("text")) for e in stored]
    assert len(keys) == len(set(keys))  # none stored twice
    for replica in (1, 2):  # each replica's view is exactly the table's
        seen = cluster.tracker_events_on(replica, sender)
        assert [(e["event"], e["timestamp"]) for e in seen] == [
            (e["event"], e["timestamp"]) for e in stored
        ]

"""Consent to personal recommendations (issue #19): the stored answer (knowledge_graph/consent.py),
its cached lookup, and what it changes: a shopper's history personalises recommendations only
while they agree, and without consent their events are kept for the shop's counts only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from knowledge_graph import consent
from knowledge_graph.consent import ConsentLookup
from recommender.events import ANONYMOUS, EventStore

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_no_answer_is_no_and_the_latest_answer_counts(mini_store):
    assert consent.decision(mini_store, "s-1") is None
    assert consent.is_granted(mini_store, "s-1") is False
    given = consent.decide(mini_store, "s-1", True, clock=lambda: T0)
    assert given == consent.Consent("s-1", True, T0)
    assert consent.decision(mini_store, "s-1") == consent.Consent("s-1", True, T0)
    assert consent.is_granted(mini_store, "s-1") is True
    later = T0 + timedelta(days=3)
    consent.decide(mini_store, "s-1", False, clock=lambda: later)
    assert consent.decision(mini_store, "s-1") == consent.Consent("s-1", False, later)
    assert consent.is_granted(mini_store, "s-1") is False
    assert consent.decision(mini_store, "s-2") is None  # one shopper's answer is not another's


@pytest.mark.parametrize("sender", ["", "x" * 129])
def test_a_sender_id_must_be_one_to_128_characters(mini_store, sender):
    with pytest.raises(ValueError):
        consent.decide(mini_store, sender, True)


def test_lookup_keeps_an_answer_for_ttl_seconds_and_forgets_it_after_a_change_here(mini_store):
    now = [100.0]
    lookup = ConsentLookup(mini_store, ttl=5.0, clock=lambda: now[0])
    assert lookup("s-1") is False
    consent.decide(mini_store, "s-1", True)  # changed by another process (the web app)
    now[0] += 4.9
    assert lookup("s-1") is False  # still the cached answer
    now[0] += 0.2
    assert lookup("s-1") is True  # read again after the TTL
    lookup.decide("s-1", False)  # changed in this process: seen at once
    assert lookup("s-1") is False


def test_lookup_remembers_at_most_max_cached_shoppers(mini_store):
    lookup = ConsentLookup(mini_store, max_cached=2)
    for sender in ("a", "b", "c"):
        lookup(sender)
    assert list(lookup._cached) == ["b", "c"]


# -- what consent changes ------------------------------------------------------------------------


@pytest.fixture()
def shop(mini_services):
    """The composition root's services over the mini catalog, with the behaviour of simulated
    shoppers (recorded as given: they stand for the seed's histories)."""
    simulated = EventStore(mini_services.store)
    rows = []
    for u in range(8):
        rows += [
            {"user_id": f"a{u}", "sku": "PH-AP-15-128", "type": "view", "ts": T0.isoformat()},
            {"user_id": f"a{u}", "sku": "AC-CASE-IP15", "type": "purchase", "ts": T0.isoformat()},
            {"user_id": f"b{u}", "sku": "PH-HW-M60-256", "type": "view", "ts": T0.isoformat()},
            {"user_id": f"b{u}", "sku": "PH-HW-M60P-256", "type": "click", "ts": T0.isoformat()},
            {"user_id": f"b{u}", "sku": "PH-XM-14-256", "type": "view", "ts": T0.isoformat()},
        ]  # fmt: skip
    simulated.record_many(rows)
    return mini_services


def picks(recs) -> list[tuple[str, str, float]]:
    return [(r.product.sku, r.reason, round(r.score, 9)) for r in recs]


def test_recommendations_are_personal_only_while_the_shopper_agrees(shop):
    service = shop.recommendations()
    anonymous = picks(service.recommend(None, k=4))
    # Before any answer: the shopper's clicks are not even kept under their id.
    shop.events.record("s-shopper", "PH-HW-M60-256", "click", "widget")
    assert shop.events.history("s-shopper") == []
    assert picks(service.recommend("s-shopper", k=4)) == anonymous

    shop.consent.decide("s-shopper", True)
    shop.events.record("s-shopper", "PH-HW-M60-256", "click", "widget")
    personal = service.recommend("s-shopper", k=4)
    assert personal[0].product.model == "Mate 60 Pro"  # same series as the click, co-viewed
    assert "Mate 60" in personal[0].reason
    assert picks(personal) != anonymous

    shop.consent.decide("s-shopper", False)  # withdrawn: the kept history is no longer used
    assert picks(service.recommend("s-shopper", k=4)) == anonymous
    assert [e.sku for e in shop.events.history("s-shopper")] == ["PH-HW-M60-256"]

    shop.consent.decide("s-shopper", True)  # agreed again: the same history counts again
    assert picks(service.recommend("s-shopper", k=4)) == picks(personal)


def test_a_history_without_consent_changes_neither_recommendations_nor_reranking(shop):
    # Events kept under the shopper's id from before consent was asked, and no answer since.
    EventStore(shop.store).record("s-earlier", "PH-HW-M60-256", "click", "widget")
    service = shop.recommendations()
    assert picks(service.recommend("s-earlier", k=4)) == picks(service.recommend(None, k=4))
    context = "PH-XM-14-256"
    assert picks(service.recommend("s-earlier", k=4, context_sku=context)) == picks(
        service.recommend(None, k=4, context_sku=context)
    )
    products = [shop.view().graph.products[s] for s in sorted(shop.view().graph.products)]
    assert picks(service.rerank("s-earlier", products)) == picks(service.rerank(None, products))
    shop.consent.decide("s-earlier", True)
    reranked = service.rerank("s-earlier", products)
    assert picks(reranked) != picks(service.rerank(None, products))
    assert next(r.reason for r in reranked if r.product.model == "Mate 60 Pro")


def test_events_without_consent_count_for_the_shop_but_are_nobodys_history(shop):
    before = shop.events.count()
    shop.events.record("s-quiet", "PH-XM-14-256", "click", "widget")
    shop.events.record_many(
        [{"user_id": "s-quiet", "sku": "PH-XM-14-256", "type": "view", "source": "chat", "ts": T0}]
    )
    assert shop.events.count() == before + 2
    assert shop.events.history("s-quiet") == []
    assert shop.events.history(ANONYMOUS) == []
    trained = shop.events.all_interactions()
    assert all(i.user_id for i in trained)  # the anonymous events train no one's profile
    assert len(trained) == 40
    shop.consent.decide("s-quiet", True)
    shop.events.record_many(
        [{"user_id": "s-quiet", "sku": "PH-XM-14-256", "type": "view", "source": "chat", "ts": T0}]
    )
    assert [(e.sku, e.type) for e in shop.events.history("s-quiet")] == [("PH-XM-14-256", "view")]

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recommender.events import EventStore, InvalidEvent
from recommender.recommendations import RecommendationService

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture()
def events(mini_store) -> EventStore:
    store = EventStore(mini_store)
    # Shoppers who look at the iPhone also look at its case; Mate 60 fans look at the Mate 60 Pro.
    rows = []
    for u in range(8):
        rows += [
            {"user_id": f"a{u}", "sku": "PH-AP-15-128", "type": "view", "ts": (T0 + timedelta(minutes=u)).isoformat()},
            {"user_id": f"a{u}", "sku": "AC-CASE-IP15", "type": "purchase", "ts": (T0 + timedelta(minutes=u + 1)).isoformat()},
            {"user_id": f"b{u}", "sku": "PH-HW-M60-256", "type": "view", "ts": T0.isoformat()},
            {"user_id": f"b{u}", "sku": "PH-HW-M60P-256", "type": "click", "ts": T0.isoformat()},
            {"user_id": f"b{u}", "sku": "PH-XM-14-256", "type": "view", "ts": T0.isoformat()},
        ]  # fmt: skip
    store.record_many(rows)
    return store


@pytest.fixture()
def service(mini_service, events) -> RecommendationService:
    return RecommendationService(mini_service, events)


def test_cold_start_gets_popular_in_stock_items_with_reasons(service):
    recs = service.recommend(None, k=5)
    assert recs and all(r.product["stock"] > 0 for r in recs)
    assert all(r.reason for r in recs)


def test_history_changes_next_recommendations_without_retraining(service, events):
    before = [r.product["sku"] for r in service.recommend("new-shopper", k=3)]
    service.train()
    events.record("new-shopper", "PH-HW-M60-256", "click", "chat")
    after = service.recommend("new-shopper", k=3)
    assert after[0].product["model"] == "Mate 60 Pro"  # same series and co-viewed
    assert "Mate 60" in after[0].reason
    assert [r.product["sku"] for r in after] != before


def test_out_of_stock_and_bought_items_never_recommended(service, events):
    events.record("s1", "PH-XM-14-256", "purchase")
    skus = [r.product["sku"] for r in service.recommend("s1", k=10)]
    assert "PH-AP-15-128" not in skus  # out of stock
    assert "PH-XM-14-256" not in skus  # just bought


def test_one_variant_per_model(service):
    recs = service.recommend(None, k=10, context_sku="PH-HW-M60-256")
    models = [r.product["model"] for r in recs]
    assert len(models) == len(set(models))
    assert "Mate 60" not in models  # the product in context itself


def test_context_product_relations_give_reasons(service):
    recs = service.recommend(None, k=3, context_sku="PH-HW-M60-256")
    assert recs[0].product["model"] == "Mate 60 Pro" and "同系列" in recs[0].reason


@pytest.mark.parametrize(
    ("args", "message"),
    [(("u", "PH-XM-14-256", "like"), "type"), (("u", "PH-XM-14-256", "view", "email"), "source"), (("", "PH-XM-14-256", "view"), "user_id")],
)  # fmt: skip
def test_invalid_events_refused(events, args, message):
    with pytest.raises(InvalidEvent, match=message):
        events.record(*args)


def test_record_many_stores_every_known_row_and_skips_unknown_types(mini_store):
    store = EventStore(mini_store)
    rows = [
        {"user_id": "c1", "sku": "PH-XM-14-256", "type": "view", "ts": T0.isoformat()},
        {"user_id": "c1", "sku": "AC-CASE-IP15", "type": "wishlist", "ts": T0},
        {"user_id": "c1", "sku": "AC-CASE-IP15", "type": "click", "source": "chat", "ts": T0},
    ]
    assert store.record_many(rows) == 2
    assert store.record_many([]) == 0
    history = store.history("c1")
    assert [(e.sku, e.type) for e in history] == [
        ("PH-XM-14-256", "view"),
        ("AC-CASE-IP15", "click"),
    ]
    assert all(e.ts.replace(tzinfo=UTC) == T0 for e in history)
    assert store.count() == 2


def test_saved_model_is_picked_up_by_a_serving_process(mini_service, events, tmp_path):
    path = tmp_path / "recs" / "model.npz"
    trainer = RecommendationService(mini_service, events, model_path=path)
    trainer.save()
    server = RecommendationService(mini_service, events, model_path=path)
    server.recommend(None, k=1)
    assert (
        server._model is not None and server._model.trained_events == trainer._model.trained_events
    )
    import numpy as np

    assert np.allclose(server._model.model.weights, trainer._model.model.weights)

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recommender.events import EventStore, InvalidEvent
from recommender.recommendations import RecommendationService, everyone

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
    return RecommendationService(mini_service, events, consented=everyone)


def test_cold_start_gets_popular_in_stock_items_with_reasons(service):
    recs = service.recommend(None, k=5)
    assert recs and all(r.product.stock > 0 for r in recs)
    assert all(r.reason for r in recs)


def test_history_changes_next_recommendations_without_retraining(service, events):
    before = [r.product.sku for r in service.recommend("new-shopper", k=3)]
    service.train()
    events.record("new-shopper", "PH-HW-M60-256", "click", "chat")
    after = service.recommend("new-shopper", k=3)
    assert after[0].product.model == "Mate 60 Pro"  # same series and co-viewed
    assert "Mate 60" in after[0].reason
    assert [r.product.sku for r in after] != before


def test_out_of_stock_and_bought_items_never_recommended(service, events):
    events.record("s1", "PH-XM-14-256", "purchase")
    skus = [r.product.sku for r in service.recommend("s1", k=10)]
    assert "PH-AP-15-128" not in skus  # out of stock
    assert "PH-XM-14-256" not in skus  # just bought


def test_one_variant_per_model(service):
    recs = service.recommend(None, k=10, context_sku="PH-HW-M60-256")
    models = [r.product.model for r in recs]
    assert len(models) == len(set(models))
    assert "Mate 60" not in models  # the product in context itself


def test_context_product_relations_give_reasons(service):
    recs = service.recommend(None, k=3, context_sku="PH-HW-M60-256")
    assert recs[0].product.model == "Mate 60 Pro" and "同系列" in recs[0].reason


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
    trainer = RecommendationService(mini_service, events, model_path=path, consented=everyone)
    trainer.save()
    server = RecommendationService(mini_service, events, model_path=path, consented=everyone)
    server.recommend(None, k=1)
    assert (
        server._model is not None and server._model.trained_events == trainer._model.trained_events
    )
    import numpy as np

    assert server._model.ranker.blend == trainer._model.ranker.blend  # tuned once, when trained
    assert np.array_equal(server._model.collaborative.ease, trainer._model.collaborative.ease)
    # the co-views behind 「看过X的人也看了」 travel with the weights
    assert (server._model.together != trainer._model.together).nnz == 0
    # the file is the served model class's own save, loadable without the service
    from recommender.cf import ServedRanker

    ranker = ServedRanker.load(path)
    assert ranker.items is not None and list(ranker.items.keys) == server._model.skus
    assert [(r.product.sku, r.reason) for r in server.recommend("a0", k=3)] == [
        (r.product.sku, r.reason) for r in trainer.recommend("a0", k=3)
    ]


@pytest.mark.parametrize(
    "saved",
    [
        {"version": 1, "skus": ["x"], "weights": [[0.0]]},  # the first layout
        # a ServedRanker of the session-EASE days: other parameters, an "ease." state
        {"model": "served", "params": '{"regularization": 50.0, "session_gap": 1800.0}',
         "n_items": 1, "state.ease.weights": [[0.0]]},
    ],
)  # fmt: skip
def test_a_model_file_in_an_older_format_is_refitted_not_fatal(
    mini_service, events, tmp_path, saved
):
    import numpy as np

    path = tmp_path / "recs" / "model.npz"
    path.parent.mkdir()
    np.savez(path, **{k: np.array(v) for k, v in saved.items()})
    server = RecommendationService(mini_service, events, model_path=path, consented=everyone)
    assert server.recommend("a0", k=3)
    assert server._model is not None and server._model.trained_events > 0


# -- recommendations fit what the shopper is looking at ------------------------


def _views(events: EventStore, user: str, skus: list[str], start: datetime) -> None:
    events.record_many(
        {"user_id": user, "sku": s, "type": "view", "ts": start + timedelta(minutes=2 * i)}
        for i, s in enumerate(skus)
    )


def test_viewed_products_and_their_model_lines_are_never_suggested_again(service, events):
    # Mate 60 Pro and 小米14 are ALTERNATIVE_TO each other: before, each came back as
    # 「…的同级替代款」 of the other although the shopper had just viewed both.
    _views(events, "v1", ["PH-HW-M60P-256", "PH-XM-14-256"], datetime.now(UTC))
    recs = service.recommend("v1", k=3)
    picks = [(r.product.sku, r.reason) for r in recs]
    assert picks[0] == ("PH-HW-M60-256", "和你看过的华为 Mate 60 Pro同系列")
    # the phones run out (the iPhone is sold out): the rest, in the collaborative part's order
    # (the case goes with iPhone viewers, not with these), is said plainly
    assert set(picks[1:]) == {
        ("AC-CASE-IP15", "近期热销的手机配件"),
        ("SH-NK-PEG40-42", "近期热销的跑步鞋"),
    }


def test_accessory_of_a_viewed_phone_says_what_it_fits(service, events):
    _views(events, "v2", ["PH-AP-15-128"], datetime.now(UTC))
    recs = {r.product.sku: r.reason for r in service.recommend("v2", k=4)}
    assert recs == {
        "PH-HW-M60P-256": "和你看过的苹果 iPhone 15价位相近",
        "PH-HW-M60-256": "和你看过的苹果 iPhone 15价位相近",
        "PH-XM-14-256": "手机里好评率很高（4.8分）",  # 3999 is below 5999's price band
        "AC-CASE-IP15": "适配你看过的苹果 iPhone 15",
    }


# The seed catalog's hair dryers (小家电, 品类 吹风机); the fifth, 米家 H501, is not viewed.
HAIR_DRYERS = ["HA-DY-DYHD15", "HA-LF-LF03", "HA-LF-LFSE", "HA-PA-PANA98"]
DRYER_NAMES = {"HA-DY-DYHD15": "戴森 Supersonic HD15", "HA-LF-LF03": "徕芬 LF03",
               "HA-LF-LFSE": "徕芬 SE", "HA-PA-PANA98": "松下 EH-NA98"}  # fmt: skip


@pytest.fixture(scope="module")
def seed_shop(tmp_path_factory):
    """The seed catalog and its seeded behaviour, loaded as `daogou db init` loads them."""
    from data.generate_catalog import build_catalog
    from knowledge_graph.service import CatalogService
    from knowledge_graph.store import CatalogStore

    catalog = build_catalog()
    store = CatalogStore.from_url(f"sqlite:///{tmp_path_factory.mktemp('seed') / 'seed.db'}")
    store.create_schema()
    store.load_catalog(catalog)
    events = EventStore(store)
    events.record_many(catalog["interactions"])
    service = RecommendationService(
        CatalogService(store, check_interval=0.0), events, consented=everyone
    )
    service.train()
    return service, events, catalog


def _true_reasons(view, catalog, product, viewed: list[str]) -> set[str]:
    """Every reason that would be true of `product` for a shopper who viewed `viewed`."""
    products = view.graph.products
    category = product.category
    kind = product.attributes.get("品类")
    true = {f"{category}里好评率很高（{product.rating}分）" if product.rating >= 4.8
            else f"近期热销的{category}"}  # fmt: skip
    viewers: dict[str, set[str]] = {}
    for e in catalog["interactions"]:
        viewers.setdefault(e["sku"], set()).add(e["user_id"])
    for sku in viewed:
        seen, name = products[sku], DRYER_NAMES[sku]
        relations = {r for other, r in view.graph.related(sku) if other == product.sku}
        templates = {"SAME_SERIES": "和你看过的{}同系列", "BUNDLE_WITH": "常和{}一起买",
                     "ALTERNATIVE_TO": "{}的同级替代款"}  # fmt: skip
        true |= {templates[r].format(name) for r in relations if r in templates}
        if category != seen.category:
            continue
        in_band = seen.price / 1.5 <= product.price <= seen.price * 1.5
        same_kind = kind is not None and kind == seen.attributes.get("品类")
        if viewers.get(sku, set()) & viewers.get(product.sku, set()):
            true.add(f"看过{name}的人也看了")
        if in_band:
            true.add(f"和你看过的{name}价位相近")
        if same_kind:
            true.add(f"和你看过的{name}同类")
        if same_kind and in_band:
            true.add(f"和你看过的{name}同类，价位相近")
    return true


def test_four_hair_dryers_viewed_bring_small_appliances_with_true_reasons(seed_shop):
    service, events, catalog = seed_shop
    view = service.catalog.current()
    assert all(view.graph.products[s].attributes["品类"] == "吹风机" for s in HAIR_DRYERS)
    _views(events, "dryers", HAIR_DRYERS, datetime.now(UTC) - timedelta(minutes=10))
    recs = service.recommend("dryers", k=10)
    skus = [r.product.sku for r in recs]
    assert len(skus) == 10 and not set(skus) & set(HAIR_DRYERS)
    # 小家电 has no accessories in the catalog: all ten should be small appliances (>= 8 needed)
    assert [r.product.category for r in recs] == ["小家电"] * 10
    reasons = dict(zip(skus, (r.reason for r in recs), strict=True))
    # the one hair dryer left, named after the viewed dryer of its kind and price band
    assert reasons["HA-XM-MIH501"] == "和你看过的徕芬 SE同类，价位相近"
    for r in recs:
        assert r.reason in _true_reasons(view, catalog, r.product, HAIR_DRYERS), r


def test_an_earlier_visit_does_not_steer_this_one(seed_shop):
    service, events, _ = seed_shop
    now = datetime.now(UTC)
    phones = ["PH-HW-MATE60PRO-256", "PH-XM-XIAOMI14-256", "PH-AP-IPHONE15-128"]
    _views(events, "back-again", phones, now - timedelta(days=3))
    _views(events, "back-again", HAIR_DRYERS, now - timedelta(minutes=10))
    recs = service.recommend("back-again", k=10)
    in_category = [r.product.sku for r in recs if r.product.category == "小家电"]
    assert len(recs) == 10 and len(in_category) >= 8
    assert not {r.product.sku for r in recs} & {*phones, *HAIR_DRYERS}

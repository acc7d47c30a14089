"""Collaborative-filtering models on hand-made data where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.cf import (
    ALS,
    EASE,
    MODEL_NAMES,
    MODELS,
    Fold,
    ItemFacts,
    ItemKNN,
    Popularity,
    ServedRanker,
    SessionBlend,
    build_model,
    load_model,
    to_user_items,
    top_n,
)
from recommender.cf.blend_tuning import CandidatePool, coordinate_ascent, newest_item_fold
from recommender.cf.served import Reason, collapse_runs

N_ITEMS = 7  # two clusters {0,1,2} and {3,4,5}; item 6 is liked by nobody


def cluster_histories() -> list[np.ndarray]:
    """20 users walk 0 -> 1 -> 2, 20 users walk 3 -> 4 -> 5, a few stop early."""
    histories = [np.array([0, 1, 2]) for _ in range(18)] + [np.array([3, 4, 5]) for _ in range(18)]
    histories += [np.array([0, 1]), np.array([1, 2]), np.array([3, 4]), np.array([4, 5])]
    return histories


def small_models() -> list:
    return [
        ItemKNN(neighbours=5, shrinkage=0.0),
        EASE(regularization=1.0),
        ALS(factors=2, regularization=0.1, alpha=5.0, iterations=20, seed=1),
        SessionBlend(als_factors=2, als_regularization=0.1),
        ServedRanker(collaborative={"als_factors": 2, "als_regularization": 0.1}),
    ]


@pytest.fixture(scope="module")
def user_items() -> sp.csr_matrix:
    return to_user_items(cluster_histories(), N_ITEMS)


@pytest.mark.parametrize("model", small_models(), ids=lambda m: m.name)
def test_recommends_the_co_occurring_item_and_skips_liked(model, user_items) -> None:
    model.fit(user_items)
    probes = to_user_items([np.array([0, 1]), np.array([3, 4])], N_ITEMS)
    ids, scores = model.recommend(np.array([0, 1]), probes, n=3)
    assert ids[0, 0] == 2
    assert ids[1, 0] == 5
    assert not set(ids[0]) & {0, 1}
    assert not set(ids[1]) & {3, 4}
    assert np.all(np.diff(scores, axis=1) <= 1e-6), "best first"


@pytest.mark.parametrize("model", small_models(), ids=lambda m: m.name)
def test_recommend_sequences_matches_the_matrix_path(model) -> None:
    model.fit_sequences(cluster_histories(), N_ITEMS)
    ids, _ = model.recommend_sequences([np.array([1, 0]), np.array([4, 3])], n=1)
    assert ids[:, 0].tolist() == [2, 5]


@pytest.mark.parametrize("model", small_models()[:2], ids=lambda m: m.name)
def test_similar_items_stay_in_the_cluster(model, user_items) -> None:
    model.fit(user_items)
    ids, _ = model.similar_items(np.array([0, 4]), n=2)
    assert set(ids[0]) == {1, 2}
    assert set(ids[1]) == {3, 5}


def test_session_blend_similar_items_prefers_the_next_item() -> None:
    model = SessionBlend().fit_sequences(cluster_histories(), N_ITEMS)
    ids, _ = model.similar_items(np.array([0]), n=1)
    assert ids[0, 0] == 1


def test_filters_and_candidates(user_items) -> None:
    model = EASE(regularization=1.0).fit(user_items)
    probe = to_user_items([np.array([0, 1])], N_ITEMS)
    ids, _ = model.recommend(np.array([0]), probe, n=3, item_filter=np.array([2]))
    assert 2 not in ids[0]
    ids, _ = model.recommend(np.array([0]), probe, n=3, candidates=np.array([4, 5]))
    assert set(ids[0][ids[0] >= 0]) == {4, 5}
    assert ids[0, 2] == -1, "fewer candidates than n are padded with -1"
    ids, _ = model.recommend(np.array([0]), probe, n=N_ITEMS, filter_already_liked=False)
    assert {0, 1} <= set(ids[0])


def test_full_matrix_is_indexed_by_user_ids(user_items) -> None:
    model = ItemKNN(neighbours=5, shrinkage=0.0).fit(user_items)
    ids, _ = model.recommend(np.array([0, 18]), user_items, n=1, filter_already_liked=False)
    rows = user_items[[0, 18]]
    expected, _ = model.recommend(np.array([0, 18]), rows, n=1, filter_already_liked=False)
    assert ids.tolist() == expected.tolist()


def test_popularity_ranks_by_count_and_skips_liked() -> None:
    histories = [np.array([0, 1]), np.array([0, 2]), np.array([0, 1]), np.array([3])]
    model = Popularity().fit(to_user_items(histories, 4))
    ids, scores = model.recommend_sequences([np.array([3]), np.array([0])], n=3)
    assert ids[0].tolist() == [0, 1, 2]
    assert scores[0].tolist() == [3.0, 2.0, 1.0]
    assert ids[1].tolist() == [1, 2, 3]


def test_session_blend_uses_the_latest_items() -> None:
    model = SessionBlend(blend={"slit": 1.0}).fit_sequences(cluster_histories(), N_ITEMS)
    ids, _ = model.recommend_sequences([np.array([3, 0]), np.array([0, 3])], n=1)
    assert ids[:, 0].tolist() == [1, 4]


def test_session_blend_recency_weighting_moves_the_ranking() -> None:
    model = SessionBlend(blend={"ease@0.1": 1.0}).fit_sequences(cluster_histories(), N_ITEMS)
    ids, _ = model.recommend_sequences([np.array([3, 0]), np.array([0, 3])], n=1)
    assert ids[0, 0] in {1, 2}
    assert ids[1, 0] in {4, 5}


def test_session_blend_cold_user_gets_popular_items() -> None:
    histories = cluster_histories() + [np.array([0])] * 5
    model = SessionBlend().fit_sequences(histories, N_ITEMS)
    ids, _ = model.recommend_sequences([np.array([], dtype=np.int32)], n=2)
    assert ids[0, 0] == 0
    assert 6 not in ids[0]


def test_session_blend_late_penalty_hides_items_not_yet_seen() -> None:
    histories = [np.array([0, 1]), np.array([0, 1]), np.array([0, 2]), np.array([0, 2])]
    stamps = [
        np.array([0.0, 10.0]),
        np.array([0.0, 10.0]),
        np.array([0.0, 1e6]),
        np.array([0, 1e6]),
    ]
    model = SessionBlend(blend={"ease@1": 1.0, "late": 5.0}, late_slack=100.0)
    model.fit_sequences(histories, 3, timestamps=stamps)
    ids, _ = model.recommend_sequences([np.array([0])], n=1, timestamps=[np.array([20.0])])
    assert ids[0, 0] == 1
    # Asked later (the shop asks "now"), item 2 is out and no longer penalised.
    history, stamp = [np.array([0])], [np.array([20.0])]
    late = model.features(history, ["late"], timestamps=stamp)["late"]
    assert late[0].tolist() == [0.0, 0.0, -1.0]
    late = model.features(history, ["late"], timestamps=stamp, request_times=[2e6])["late"]
    assert late[0].tolist() == [0.0, 0.0, 0.0]


def test_session_blend_tune_picks_weights_on_validation() -> None:
    histories = cluster_histories()
    fold = Fold(
        histories=[h[:-1] for h in histories],
        targets=[h[-1:] for h in histories],
        n_items=N_ITEMS,
    )
    model = SessionBlend(als_factors=2, als_regularization=0.1)
    params = model.tune([fold], k=1)
    assert params["blend"]
    assert set(model.blend) <= set(model.feature_names(with_time=False))
    assert all(w > 0 for w in model.blend.values())
    model.fit_sequences(histories, N_ITEMS)
    ids, _ = model.recommend_sequences([np.array([0, 1])], n=1)
    assert ids[0, 0] == 2


def test_coordinate_ascent_finds_the_informative_signal() -> None:
    # Signal "good" ranks the target first, "bad" ranks it last.
    parts = {
        "good": np.array([[0.1, 0.2, 1.0, 0.3]]),
        "bad": np.array([[1.0, 0.9, 0.0, 0.8]]),
    }
    seen = sp.csr_matrix((1, 4))
    pool = CandidatePool.build(parts, ["good", "bad"], seen, [np.array([2])], per_signal=2)
    assert pool.metrics(np.array([0.0, 1.0]), k=1) == (0.0, 0.0)
    weights = coordinate_ascent(pool, start={"bad": 1.0}, k=1)
    assert pool.metrics(np.array([weights.get("good", 0), weights.get("bad", 0)]), k=1) == (
        1.0,
        1.0,
    )


def test_candidate_pool_keeps_to_the_allowed_items() -> None:
    parts = {"s": np.array([[0.9, 0.8, 0.7, 0.1], [0.9, 0.8, 0.7, 0.1]])}
    seen = sp.csr_matrix((2, 4))
    targets = [np.array([0]), np.array([3])]
    pool = CandidatePool.build(parts, ["s"], seen, targets, per_signal=3, allowed=[None, [2, 3]])
    assert pool.metrics(np.array([1.0]), k=1) == (0.5, 0.5)  # user 0: 0 first; user 1: 2 first
    pool = CandidatePool.build(parts, ["s"], seen, targets, per_signal=3, allowed=[[1, 2], [3]])
    assert pool.metrics(np.array([1.0]), k=1) == (0.5, 0.5)  # user 0's target is never shown
    assert np.isnan(pool.values[1, 1:]).all(), "user 1 has one candidate"


def test_newest_item_fold_holds_out_the_item_reached_last() -> None:
    histories = [np.array([1, 2, 1, 3, 2]), np.array([4, 4]), np.array([5, 6])]
    stamps = [np.arange(5.0), np.arange(2.0), np.arange(2.0)]
    fold = newest_item_fold(histories, 7, timestamps=stamps)
    assert [h.tolist() for h in fold.histories] == [[1, 2, 1], [4, 4], [5]]
    assert [t.tolist() for t in fold.targets] == [[3], [], [6]]
    assert [t.tolist() for t in fold.timestamps] == [[0.0, 1.0, 2.0], [0.0, 1.0], [0.0]]
    for history, target in zip(fold.histories, fold.targets, strict=True):
        assert not set(target.tolist()) & set(history.tolist())


def test_collapse_runs_makes_one_step_of_a_run_of_events() -> None:
    items, weights, times = collapse_runs(
        [np.array([1, 1, 2, 2, 2, 1]), np.array([], np.int64)],
        [np.array([1.0, 2.0, 1.0, 1.0, 1.0, 4.0]), np.array([])],
        [np.arange(6.0), np.array([])],
    )
    assert [i.tolist() for i in items] == [[1, 2, 1], []]
    assert [w.tolist() for w in weights] == [[3.0, 3.0, 4.0], []]
    assert [t.tolist() for t in times] == [[1.0, 4.0, 5.0], []]


def test_als_fold_in_matches_implicit_recalculate_user(user_items) -> None:
    model = ALS(factors=4, regularization=0.5, alpha=3.0, iterations=5, seed=1).fit(user_items)
    rows = sp.csr_matrix(user_items[[0, 18, 36]] * np.float32(0.5))
    expected = model._model.recalculate_user(np.arange(3), rows)
    assert np.allclose(model.user_factors(rows), expected, atol=1e-5)


def test_top_n_pads_and_orders() -> None:
    scores = np.array([[0.1, 0.5, 0.3]], dtype=np.float32)
    exclude = sp.csr_matrix(([1.0], ([0], [1])), shape=(1, 3))
    ids, best = top_n(scores, 3, exclude)
    assert ids.tolist() == [[2, 0, -1]]
    assert best[0, 2] == -np.inf


def test_build_model_knows_every_cli_name() -> None:
    assert set(MODEL_NAMES) == {
        "pop",
        "itemknn",
        "als",
        "spark_als",
        "ease",
        "session_blend",
        "served",
    }
    for name in MODEL_NAMES:
        assert build_model(name).name == name
    with pytest.raises(KeyError):
        build_model("nope")


# -- save / load ----------------------------------------------------------------------


def fitted(name: str):
    """Every model fitted on the cluster walks, with times (two sessions for some users)."""
    histories = cluster_histories()
    stamps = [np.array([0.0, 60.0, 7200.0])[: len(h)] for h in histories]
    model = {
        "als": ALS(factors=2, regularization=0.1, iterations=5, seed=1),
        "session_blend": SessionBlend(
            als_factors=2, als_regularization=0.1, blend={"ease@0.8": 1.0, "slit": 1.0, "als": 0.5}
        ),
    }.get(name) or build_model(name)
    return model.fit_sequences(histories, N_ITEMS, timestamps=stamps)


# spark_als: tests/unit/test_spark_als.py (a JVM start and 256 factors take 48 s here).
@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if n != "spark_als"])
def test_save_load_round_trip_gives_identical_recommendations(name, tmp_path) -> None:
    model = fitted(name)
    path = model.save(tmp_path / name)
    assert path == tmp_path / f"{name}.npz" and path.exists()
    loaded = type(model).load(path)
    also = load_model(path)
    assert type(also) is type(model) is MODELS[name]
    assert loaded.get_params() == model.get_params()
    probes = to_user_items([np.array([0, 1]), np.array([3]), np.array([], np.int64)], N_ITEMS)
    users = np.arange(3)
    expected = model.recommend(users, probes, n=5)
    for other in (loaded, also):
        ids, scores = other.recommend(users, probes, n=5)
        assert ids.tolist() == expected[0].tolist()
        assert scores.tolist() == expected[1].tolist()
    histories = [np.array([3, 0]), np.array([0, 3, 4])]
    stamps = [np.array([0.0, 10.0]), np.array([0.0, 5000.0, 5010.0])]
    expected = model.recommend_sequences(histories, n=4, timestamps=stamps)
    ids, scores = loaded.recommend_sequences(histories, n=4, timestamps=stamps)
    assert ids.tolist() == expected[0].tolist() and scores.tolist() == expected[1].tolist()
    assert loaded.similar_items(np.array([0, 4]), n=2)[0].tolist() == (
        model.similar_items(np.array([0, 4]), n=2)[0].tolist()
    )


def test_load_refuses_another_models_file(tmp_path) -> None:
    path = fitted("ease").save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="ease"):
        Popularity.load(path)


# -- the served ranker ----------------------------------------------------------------
#
# Items: phones 0 (brand X, model A), 1, 2, 6 (another variant of model A), 7 (sold out);
# 3 a case that fits phone 0; 4 and 5 running shoes.


def shop_facts() -> ItemFacts:
    phone, case, shoe = "手机", "手机配件", "跑步鞋"
    categories = [phone, phone, phone, case, shoe, shoe, phone, phone]
    lines = [("X", "A"), ("Y", "B"), ("Z", "C"), ("K", "壳"), ("N", "S"), ("M", "T"), ("X", "A"),
             ("W", "D")]  # fmt: skip
    return ItemFacts.build(
        keys=[f"sku{i}" for i in range(8)],
        version=3,
        category=categories,
        kind=[None] * 8,
        price=[5000, 4800, 1500, 39, 800, 700, 5500, 3000],
        rating=[4.8] * 8,
        in_stock=[True] * 7 + [False],
        line=lines,
        brand=[(brand, c) for (brand, _), c in zip(lines, categories, strict=True)],
        relations=[[(3, "COMPATIBLE_WITH")], [], [], [(0, "COMPATIBLE_WITH")], [], [], [], []],
        accessory_category=case,
    )


SHOP_BLEND = {"ease@1": 1.0}  # the shop layer's tests: a fixed, order-free collaborative part


def shop_ranker(**params) -> ServedRanker:
    return ServedRanker(blend=SHOP_BLEND, items=shop_facts(), **params)


def shop_histories() -> list[np.ndarray]:
    """Phone viewers mostly go on to look at running shoes: the co-views pull shoes up."""
    walks = [[0, 4]] * 10 + [[1, 4]] * 10 + [[0, 5]] * 6 + [[1, 5]] * 6
    walks += [[2, 0], [2, 1], [3, 0], [3, 0], [7, 6]]
    return [np.array(w) for w in walks]


def test_served_ranker_keeps_the_visit_category_and_excludes_what_was_seen() -> None:
    model = shop_ranker().fit_sequences(shop_histories(), 8)
    ranked = model.rank(model.request([0, 1]), n=8, explain=True)
    # Phones (and the case that fits phone 0) first, though the shoes score higher; never the
    # viewed phones 0 and 1, nor 6 (another variant of phone 0), nor the sold-out 7.
    assert ranked.items == [3, 2, 4, 5]
    assert ranked.scores[2] > ranked.scores[0]
    assert ranked.reasons[0] == Reason("COMPATIBLE_WITH", 0)
    assert ranked.reasons[1] == Reason("CO_VIEW", 1)
    assert ranked.reasons[2:] == [None, None]  # a shoe co-viewed with a phone is not "similar"
    ids, _ = model.recommend_sequences([np.array([0, 1])], n=8)
    assert ids[0].tolist() == [3, 2, 4, 5, -1, -1, -1, -1]
    # Without the catalog the same behaviour puts the shoes first.
    plain = ServedRanker(blend=SHOP_BLEND).fit_sequences(shop_histories(), 8)
    assert plain.recommend_sequences([np.array([0, 1])], n=4)[0][0].tolist() == [4, 5, 2, 3]


def test_served_ranker_intent_follows_the_current_visit() -> None:
    model = shop_ranker().fit_sequences(shop_histories(), 8)
    # Shoe 4 two hours ago, phone 1 now: this visit is about phones. Phone 2 and one variant
    # of model A (0 or 6, never both), then, the phones used up, the other shoe before the case
    # that fits a phone the shopper never looked at.
    ids, _ = model.recommend_sequences(
        [np.array([4, 1])], n=4, timestamps=[np.array([0.0, 7200.0])]
    )
    first, rest = set(ids[0, :2].tolist()), ids[0, 2:].tolist()
    assert 2 in first and len(first & {0, 6}) == 1
    assert rest == [5, 3]
    # The same two views in one visit: shoes and phones share the attention, the shoe comes
    # before a phone.
    ids, _ = model.recommend_sequences([np.array([4, 1])], n=4, timestamps=[np.array([0.0, 60.0])])
    assert set(ids[0, :3].tolist()) == {0, 2, 5} and ids[0, 3] == 3


def test_served_ranker_round_trip_keeps_facts_and_reasons(tmp_path) -> None:
    model = shop_ranker().fit_sequences(shop_histories(), 8)
    loaded = ServedRanker.load(model.save(tmp_path / "served.npz"))
    assert loaded.items is not None and loaded.items.version == 3
    assert loaded.items.keys.tolist() == [f"sku{i}" for i in range(8)]
    for history, context in (([0, 1], None), ([4], 2), ([], 0)):
        a = model.rank(model.request(history, context=context), n=5, explain=True)
        b = loaded.rank(loaded.request(history, context=context), n=5, explain=True)
        assert a == b


def test_served_ranker_exclusions_hold() -> None:
    """Never what the shopper saw, another variant of it, a sold-out item, or a third item of
    one brand in a category while others are left."""
    model = shop_ranker().fit_sequences(shop_histories(), 8)
    for history in ([0], [1, 2], [3], [4, 0]):
        ranked = model.rank(model.request(history), n=8)
        assert not set(ranked.items) & {*history, 7}
        if 0 in history:
            assert 6 not in ranked.items  # model line A already seen
        assert len(set(ranked.items)) == len(ranked.items)
    # Phones 1-3 of brand X are the most co-viewed with phone 0, then 4 (Y), then 5 (Z): two
    # of brand X, the other brands, and only then the third X.
    brands = ["V", "X", "X", "X", "Y", "Z"]
    facts = ItemFacts.build(
        keys=[f"p{i}" for i in range(6)], version=1, category=["手机"] * 6, kind=[None] * 6,
        price=[1000.0] * 6, rating=[4.5] * 6, in_stock=[True] * 6, line=list(range(6)),
        brand=brands, relations=[[] for _ in range(6)], accessory_category="手机配件",
    )  # fmt: skip
    walks = [[0, 1]] * 6 + [[0, 2]] * 5 + [[0, 3]] * 4 + [[0, 4]] * 2 + [[0, 5]]
    capped = ServedRanker(blend=SHOP_BLEND, items=facts)
    capped.fit_sequences([np.array(w) for w in walks], 6)
    assert capped.rank(capped.request([0]), n=5).items == [1, 2, 4, 5, 3]


def test_served_ranker_without_a_catalog_ranks_like_its_collaborative_part() -> None:
    """On data without a catalog the shop layer leaves the ranking alone, tuned in fit or not."""
    rng = np.random.default_rng(3)
    histories = [rng.choice(30, size=rng.integers(3, 9), replace=False) for _ in range(120)]
    stamps = [np.cumsum(rng.exponential(900.0, size=len(h))) for h in histories]
    probes, probe_times = histories[:40], stamps[:40]
    params = {"als_factors": 4, "als_regularization": 0.5}
    for blend in ({"ease@0.8": 1.0, "slit": 1.0, "als": 0.3, "pop": 0.1, "late": 0.5}, None):
        served = ServedRanker(blend=blend, collaborative=params).fit_sequences(
            histories, 30, timestamps=stamps
        )
        alone = SessionBlend(**params)
        if blend is None:
            alone.tune([newest_item_fold(histories, 30, timestamps=stamps)])
            assert served.blend == alone.blend
        else:
            alone.blend = dict(blend)
        alone.fit_sequences(histories, 30, timestamps=stamps)
        ours = served.recommend_sequences(probes, n=5, timestamps=probe_times)[0]
        theirs = alone.recommend_sequences(probes, n=5, timestamps=probe_times)[0]
        assert ours.tolist() == theirs.tolist()


def test_served_ranker_tunes_inside_fit_without_the_held_out_items(monkeypatch) -> None:
    fits: list[list[np.ndarray]] = []
    original = SessionBlend.fit_sequences

    def spy(self, histories, n_items, weights=None, timestamps=None):
        fits.append([np.asarray(h).copy() for h in histories])
        return original(self, histories, n_items, weights, timestamps)

    monkeypatch.setattr(SessionBlend, "fit_sequences", spy)
    params = {"als_factors": 2, "als_regularization": 0.1}
    # 40 shoppers are too few to tune on: the default blend, one fit.
    model = ServedRanker(collaborative=params).fit_sequences(cluster_histories(), N_ITEMS)
    assert model.blend == SessionBlend().blend and len(fits) == 1
    fits.clear()
    histories = cluster_histories() * 2
    model = ServedRanker(collaborative=params).fit_sequences(histories, N_ITEMS)
    assert model.blend and set(model.blend) <= set(model.cf.feature_names(with_time=False))
    tuning, final = fits
    for history, seen in zip(histories, tuning, strict=True):
        held_out = history[-1]  # every walk reaches a new item last
        assert held_out not in seen.tolist() and seen.tolist() == history[:-1].tolist()
    assert [h.tolist() for h in final] == [h.tolist() for h in histories]
    assert model.recommend_sequences([np.array([0, 1])], n=1)[0][0, 0] == 2


def test_served_ranker_tunes_within_the_intent(monkeypatch) -> None:
    """Tuning ranks each held-out item among what picking would show first: the categories of
    the visit and accessories that fit."""
    shown: list = []
    original = CandidatePool.build

    def spy(*args, **kwargs):
        shown.extend(kwargs.get("allowed") or [])
        return original(*args, **kwargs)

    monkeypatch.setattr(CandidatePool, "build", staticmethod(spy))
    histories = [np.array([0, 1]), np.array([4, 5]), np.array([2, 3])]
    fold = Fold(histories=[h[:1] for h in histories], targets=[h[1:] for h in histories], n_items=8)
    ServedRanker(items=shop_facts(), collaborative={"als_factors": 2}).tune([fold], k=2)
    # phone 0 (a case fits it), shoe 4, phone 2: phones, the case for phone 0, shoes, phones
    assert [set(a.tolist()) for a in shown] == [{0, 1, 2, 3, 6, 7}, {4, 5}, {0, 1, 2, 6, 7}]

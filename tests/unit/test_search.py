"""Hybrid search over the mini catalog with a small deterministic encoder (character bigrams).

The real E5 model is exercised in tests/integration; here the mechanics are checked: filters,
fusion, boosts, incremental index updates and persistence.
"""

from __future__ import annotations

import numpy as np

from knowledge_graph.qa import SearchFilters
from search.hybrid import ProductSearch
from tests.fixtures import BigramEncoder


def test_hard_filters_always_hold(mini_view):
    search = ProductSearch(BigramEncoder())
    hits = search.search(
        mini_view, "拍照好的手机", k=10, filters=SearchFilters(category="手机", max_price=6000)
    )
    assert hits
    assert all(h.product.category == "手机" and h.product.price <= 6000 for h in hits)
    assert all(h.product.stock > 0 for h in hits)  # iPhone 15 is out of stock


def test_keyword_finds_model_names(mini_view):
    search = ProductSearch(BigramEncoder())
    hits = search.search(mini_view, "飞马 跑鞋", k=3, mode="keyword")
    assert hits[0].product.sku == "SH-NK-PEG40-42"


def test_attribute_words_boost_matching_products(mini_view):
    search = ProductSearch(BigramEncoder())
    hits = search.search(mini_view, "续航", k=5, filters=SearchFilters(category="手机"))
    assert hits[0].product.attributes["电池容量"] == 5000
    assert any("电池容量" in r for r in hits[0].reasons)


def test_incremental_sync_embeds_only_changes(mini_store, mini_service, tmp_path):
    encoder = BigramEncoder()
    search = ProductSearch(encoder, tmp_path / "index")
    search.sync(mini_service.current())
    assert encoder.documents_encoded == 7
    mini_store.update_product("PH-XM-14-256", {"title": "小米14 徕卡影像 旗舰手机 新配色"})
    search.sync(mini_service.current())
    assert encoder.documents_encoded == 8  # one product re-embedded, not seven
    mini_store.delete_product("AC-CASE-IP15")
    search.sync(mini_service.current())
    assert "AC-CASE-IP15" not in search.vectors.ids and len(search.vectors) == 6
    # A new process reuses the saved vectors: nothing is embedded again.
    fresh_encoder = BigramEncoder()
    reloaded = ProductSearch(fresh_encoder, tmp_path / "index")
    reloaded.sync(mini_service.current())
    assert fresh_encoder.documents_encoded == 0
    assert reloaded.search(mini_service.current(), "徕卡", k=1)[0].product.sku == "PH-XM-14-256"


def test_empty_and_hostile_queries(mini_view):
    search = ProductSearch(BigramEncoder())
    assert len(search.search(mini_view, "", k=3)) == 3
    assert isinstance(search.search(mini_view, "😀' OR 1=1; <script>", k=3), list)
    assert (
        search.search(mini_view, "手机", filters=SearchFilters(category="手机", min_price=99999))
        == []
    )


def test_a_given_query_vector_replaces_embedding_the_query(mini_view):
    encoder = BigramEncoder()
    search = ProductSearch(encoder)
    filters = SearchFilters(category="手机")
    plain = search.search(mini_view, "拍照好的手机", k=5, filters=filters)
    assert encoder.queries_encoded == 1
    vector = encoder.encode_queries(["拍照好的手机"])[0]
    given = search.search(mini_view, "拍照好的手机", k=5, filters=filters, query_vector=vector)
    assert encoder.queries_encoded == 2  # only the call above: the search embedded nothing
    assert [h.product.sku for h in given] == [h.product.sku for h in plain]
    # a vector of the wrong size (another model) is ignored, never an error
    wrong = search.search(mini_view, "拍照好的手机", k=5, filters=filters, query_vector=vector[:10])
    assert [h.product.sku for h in wrong] == [h.product.sku for h in plain]


def test_product_vector_is_the_indexed_embedding(mini_view):
    encoder = BigramEncoder()
    search = ProductSearch(encoder)
    sku = "PH-HW-M60-256"
    vector = search.product_vector(mini_view, sku)
    stored = search.vectors.vectors_of([sku])[0]
    assert vector is not None and vector.shape == (encoder.dim,)
    np.testing.assert_allclose(vector, stored)
    assert search.product_vector(mini_view, "NO-SUCH-SKU") is None
    # the product itself is its own nearest neighbour by meaning
    hits = search.search(mini_view, "", k=1, mode="dense", query_vector=vector)
    ranked = search.search(mini_view, "华为", k=1, mode="dense", query_vector=vector)
    assert hits and ranked[0].product.sku == sku
    assert encoder.queries_encoded == 0


def test_cached_candidates_follow_stock_and_price_changes(mini_store, mini_service):
    """Candidates are cached per catalog version: a merchant's edit must show in the next search."""
    search = ProductSearch(BigramEncoder())
    filters = SearchFilters(category="手机", max_price=6000)
    before = {h.product.sku for h in search.search(mini_service.current(), "手机", 10, filters)}
    assert "PH-XM-14-256" in before
    assert search.search(mini_service.current(), "拍照", 10, filters)  # same filter: cached
    mini_store.update_product("PH-XM-14-256", {"stock": 0})
    after = {h.product.sku for h in search.search(mini_service.refresh(), "手机", 10, filters)}
    assert after == before - {"PH-XM-14-256"}
    mini_store.update_product("PH-XM-14-256", {"stock": 5, "price": 9999})
    pricier = {h.product.sku for h in search.search(mini_service.refresh(), "手机", 10, filters)}
    assert "PH-XM-14-256" not in pricier
    unfiltered = search.search(mini_service.current(), "小米14", 10, SearchFilters(category="手机"))
    assert "PH-XM-14-256" in {h.product.sku for h in unfiltered}

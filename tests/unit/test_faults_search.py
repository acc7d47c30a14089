"""A saved vector index that is truncated or corrupt at start: search answers at once by BM25
(with the attribute boosts) while the index is rebuilt in the background, `/health` says
`search: keyword` meanwhile, then hybrid ranking comes back by itself, equal to a fresh index's,
and the rebuilt index is saved for the next start. A first start with no index at all builds it
before answering, as before."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from search.hybrid import ProductSearch
from search.text import product_text
from tests.fixtures import BigramEncoder
from web.app import create_app

QUERIES = ["飞马 跑鞋", "徕卡 手机", "拍照好的手机", "iPhone 15 手机壳"]


class GatedEncoder(BigramEncoder):
    """Embeds products only once the test opens the gate: the rebuild stays under way."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def encode_documents(self, texts, batch_size=32):
        assert self.gate.wait(10), "the test never opened the gate"
        return super().encode_documents(texts, batch_size)


def ranking(search: ProductSearch, view, query: str, mode: str = "hybrid") -> list[str]:
    return [hit.product.sku for hit in search.search(view, query, k=10, mode=mode)]


@pytest.fixture()
def damaged_index(tmp_path, mini_view) -> Path:
    """An index saved by a healthy process, then its FAISS file cut in half."""
    folder = tmp_path / "index"
    ProductSearch(BigramEncoder(), folder).sync(mini_view)
    faiss_file = folder / "products.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[: faiss_file.stat().st_size // 2])
    return folder


def test_a_truncated_index_serves_keyword_results_then_hybrid(damaged_index, mini_view):
    encoder = GatedEncoder()
    search = ProductSearch(encoder, damaged_index)
    started = time.monotonic()
    search.sync(mini_view)
    assert time.monotonic() - started < 1.0 and not search.dense_ready
    keyword_only = ProductSearch(BigramEncoder())
    for query in ("飞马 跑鞋", "徕卡 手机", "iPhone 15 手机壳"):  # no attribute words: no boosts
        assert ranking(search, mini_view, query) == ranking(
            keyword_only, mini_view, query, "keyword"
        )
    assert ranking(search, mini_view, "飞马 跑鞋")[0] == "SH-NK-PEG40-42"
    assert search.product_vector(mini_view, "PH-XM-14-256") is None
    assert encoder.queries_encoded == 0  # nothing dense was tried

    encoder.gate.set()
    assert search.wait_until_dense(10)
    fresh = ProductSearch(BigramEncoder())
    for query in QUERIES:
        assert ranking(search, mini_view, query) == ranking(fresh, mini_view, query), query
    assert encoder.documents_encoded == 7

    reloaded_encoder = BigramEncoder()
    reloaded = ProductSearch(reloaded_encoder, damaged_index)
    reloaded.sync(mini_view)
    assert reloaded.dense_ready and reloaded_encoder.documents_encoded == 0
    assert ranking(reloaded, mini_view, "拍照好的手机") == ranking(fresh, mini_view, "拍照好的手机")


@pytest.mark.parametrize("damage", ["ids", "digests", "no_faiss"])
def test_other_damage_is_rebuilt_the_same_way(damaged_index, mini_view, damage):
    healthy = damaged_index.parent / "healthy"
    ProductSearch(BigramEncoder(), healthy).sync(mini_view)
    if damage == "ids":
        (healthy / "products.ids.json").write_text('{"next_id": 7, "ids": {"PH')
    elif damage == "digests":
        (healthy / "digests.json").write_text("[1, 2")
    else:
        (healthy / "products.faiss").unlink()
    search = ProductSearch(BigramEncoder(), healthy)
    search.sync(mini_view)
    assert search.wait_until_dense(10)
    assert len(search.vectors) == 7
    fresh = ProductSearch(BigramEncoder())
    for query in QUERIES:
        assert ranking(search, mini_view, query) == ranking(fresh, mini_view, query), query


def test_a_catalog_change_during_the_rebuild_is_in_the_rebuilt_index(
    damaged_index, mini_store, mini_service
):
    encoder = GatedEncoder()
    search = ProductSearch(encoder, damaged_index)
    search.sync(mini_service.current())
    new_title = "小米14 徕卡影像 旗舰手机 新配色"
    mini_store.update_product("PH-XM-14-256", {"title": new_title})
    changed = mini_service.current()
    search.sync(changed)  # keyword index follows at once
    assert ranking(search, changed, "新配色")[0] == "PH-XM-14-256"
    encoder.gate.set()
    assert search.wait_until_dense(10)
    expected = BigramEncoder().encode_documents(
        [product_text(changed.graph.products["PH-XM-14-256"])]
    )
    assert np.allclose(search.product_vector(changed, "PH-XM-14-256"), expected[0], atol=1e-6)


def test_a_first_start_without_an_index_builds_it_before_answering(tmp_path, mini_view):
    encoder = BigramEncoder()
    search = ProductSearch(encoder, tmp_path / "new-index")
    search.sync(mini_view)
    assert search.dense_ready and encoder.documents_encoded == 7
    assert (tmp_path / "new-index" / "products.faiss").exists()


def test_health_says_keyword_search_until_the_index_is_rebuilt(damaged_index, mini_services):
    encoder = GatedEncoder()
    services = dataclasses.replace(mini_services, index_dir=damaged_index, _encoder=lambda: encoder)
    app = create_app(services)
    with TestClient(app) as client:
        assert app.state.web.ready.wait(10)
        during = client.get("/health").json()
        results = client.get("/api/search", params={"q": "飞马 跑鞋"}).json()
        encoder.gate.set()
        assert services.search().wait_until_dense(10)
        after = client.get("/health").json()
    assert during["components"]["search"] == "keyword" and during["status"] == "degraded"
    assert results["items"][0]["sku"] == "SH-NK-PEG40-42"
    assert after["components"]["search"] == "ok"

"""Search and recommendation speed, index build at 100k products, and action-server memory.

- Search p95 at k=10 over 10,000 products, query embedding included (target <= 30 ms), beside
  BM25 alone and the bare query embedding in the same run.
- Recommendation p95 (target <= 20 ms) beside plain popularity.
- FAISS index build for 100,000 synthetic 384-d vectors: exact (Flat) and IVF, with build time,
  memory and IVF's recall@10 against exact search.
- Resident memory of an action server with the graph, model and indexes loaded.
"""

from __future__ import annotations

import dataclasses
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daogou.container import Services, build_services  # noqa: E402
from daogou.settings import load_settings  # noqa: E402
from knowledge_graph.graph import ProductGraph  # noqa: E402
from knowledge_graph.linking import EntityLinker  # noqa: E402
from knowledge_graph.qa import SearchFilters  # noqa: E402
from knowledge_graph.service import CatalogService, CatalogView  # noqa: E402
from knowledge_graph.store import CatalogStore  # noqa: E402
from recommender.events import EventStore  # noqa: E402
from recommender.recommendations import RecommendationService, everyone  # noqa: E402
from search.hybrid import ProductSearch  # noqa: E402
from search.vector_index import VectorIndex, choose_index  # noqa: E402

QUERIES = ["拍照好的手机", "适合油皮的洗面奶", "降噪耳机 通勤", "轻薄笔记本 办公", "送女朋友的口红",
           "iPhone 15 手机壳", "跑步鞋 缓震好", "低糖零食", "大容量充电宝", "学生用平板",
           "华为手表", "三千左右的游戏手机", "保湿面霜 干皮", "空气炸锅", "速干运动T恤"]  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def synthetic_view(view: CatalogView, size: int) -> CatalogView:
    """`size` products made from the seed catalog: each copy a new SKU with a varied title."""
    rng = random.Random(42)
    snapshot = view.graph
    base = list(snapshot.products.values())
    suffixes = ["", " 新款", " 升级版", " 礼盒装", " 官方标配", " 年度款", " 限定色", " 套装"]
    products = []
    for i in range(size):
        p = base[i % len(base)]
        title = p.title + rng.choice(suffixes) + f" {i % 97}"
        price = round(p.price * rng.uniform(0.85, 1.15), 0)
        products.append(dataclasses.replace(p, sku=f"{p.sku}-X{i:06d}", title=title, price=price))
    from knowledge_graph.store import CatalogSnapshot

    snap = CatalogSnapshot(
        version=10_000 + size,
        products=products,
        brands=list(snapshot.brands.values()),
        categories=list(snapshot.categories.values()),
        attribute_defs=[
            {
                "category": c,
                "key": k,
                "type": s.type,
                "unit": s.unit,
                "better": s.better,
                "aliases": list(s.aliases),
            }
            for c, specs in snapshot.schema.items()
            for k, s in specs.items()
        ],
        relations=[],
    )
    graph = ProductGraph(snap)
    return CatalogView(graph, EntityLinker(graph))


def time_calls(fn, args_list) -> list[float]:
    times = []
    for args in args_list:
        started = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - started) * 1000)
    return times


def search_latency(services: Services, size: int) -> None:
    big = synthetic_view(services.view(), size)
    embedder = services.encoder()
    # Kept under var/bench/: embedding 10k product texts takes minutes; a rerun embeds nothing.
    search = ProductSearch(embedder, services.settings.var_dir / "bench" / f"index-{size}")
    reused = len(search.digests)
    started = time.perf_counter()
    search.sync(big)
    build = time.perf_counter() - started
    print(
        f"\nsearch over {size} products (index built in {build:.0f}s, {reused} vectors reused)",
        flush=True,
    )
    calls = [(big, q) for q in QUERIES * 8]
    filtered = [(big, q, SearchFilters(category="手机", max_price=4000)) for q in QUERIES[:5] * 8]
    rows = {
        "query embedding only": time_calls(lambda v, q: embedder.encode_queries([q]), calls),
        "BM25 only": time_calls(lambda v, q: search.search(v, q, k=10, mode="keyword"), calls),
        "hybrid, no filter": time_calls(lambda v, q: search.search(v, q, k=10), calls),
        "hybrid, category+price": time_calls(
            lambda v, q, f: search.search(v, q, k=10, filters=f), filtered
        ),
    }
    print(f"{'':26}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in rows.items():
        print(f"{name:26}{pct(values, 0.5):9.1f}{pct(values, 0.95):9.1f}")
    print("target: hybrid p95 <= 30 ms at k=10 over 10,000 products")


def recommendation_latency(view: CatalogView, store: CatalogStore) -> None:
    # Simulated shoppers who agreed to personal recommendations (issue #19).
    service = RecommendationService(CatalogService(store), EventStore(store), consented=everyone)
    started = time.perf_counter()
    service.train()
    train = time.perf_counter() - started
    users = [f"u{i:04d}" for i in range(1, 201)]
    recs = time_calls(lambda u: service.recommend(u, k=10), [(u,) for u in users])
    with_context = time_calls(
        lambda u, s: service.recommend(u, k=10, context_sku=s),
        [(u, s) for u, s in zip(users, sorted(view.graph.products), strict=False)],
    )
    model = service._model
    assert model is not None
    popular = time_calls(lambda u: np.argsort(-model.popularity)[:10], [(u,) for u in users])
    print(f"\nrecommendations ({len(view.graph.products)} products, model trained in {train:.2f}s)")
    print(f"{'':26}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in (
        ("popularity (baseline)", popular),
        ("personalised", recs),
        ("personalised + context", with_context),
    ):
        print(f"{name:26}{pct(values, 0.5):9.2f}{pct(values, 0.95):9.2f}")
    print("target: p95 <= 20 ms")


def index_build(size: int = 100_000, dim: int = 384) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 2000, size)] + 0.3 * rng.normal(size=(size, dim)).astype(
        np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    skus = [f"S{i}" for i in range(size)]
    queries = vectors[rng.choice(size, 200, replace=False)] + 0.05 * rng.normal(
        size=(200, dim)
    ).astype(np.float32)
    print(
        f"\nFAISS index build, {size} synthetic {dim}-d vectors (embedding them takes ~{size / 130 / 60:.0f} min at 130/s)"
    )
    print(f"{'':14}{'build s':>9}{'MB':>8}{'query ms':>10}{'recall@10':>11}")
    exact_ids = None
    for kind in ("Flat (exact)", "IVF"):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        # Exact: the flat index whatever the size (VectorIndex.build would pick IVF at 100k).
        index = VectorIndex(dim, choose_index(dim, size, vectors if kind == "IVF" else None))
        index.upsert(skus, vectors)
        build = time.perf_counter() - started
        memory = index.index.ntotal * dim * 4 / 2**20
        started = time.perf_counter()
        found = [[s for s, _ in index.search(q, 10)] for q in queries]
        query_ms = (time.perf_counter() - started) * 1000 / len(queries)
        if exact_ids is None:
            exact_ids = found
        hits = statistics.mean(
            len(set(a) & set(b)) / 10 for a, b in zip(found, exact_ids, strict=True)
        )
        _ = before
        print(f"{kind:14}{build:9.1f}{memory:8.0f}{query_ms:10.2f}{hits:11.3f}")


def action_server_memory() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "from actions.runtime import warm_up; import resource; warm_up(); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    print(f"\naction server with graph, embedding model and indexes loaded: {int(out.stdout.split()[-1]) / 1024:.0f} MB peak RSS, "
          f"loaded in {time.perf_counter() - started:.1f}s")  # fmt: skip


def main() -> None:
    services = build_services(load_settings())
    view = services.view()
    search_latency(services, 10_000)
    recommendation_latency(view, services.store)
    index_build()
    action_server_memory()


if __name__ == "__main__":
    main()

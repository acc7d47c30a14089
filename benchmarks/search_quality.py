"""Search quality on the project's labelled shopper queries (benchmarks/data/search_queries.yml):
NDCG@10 and Recall@10 for BM25 only, dense only and hybrid, side by side.

Target (search issue): hybrid NDCG@10 >= 1.15 x BM25's.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daogou.settings import load_settings  # noqa: E402
from knowledge_graph.service import CatalogService  # noqa: E402
from knowledge_graph.store import CatalogStore  # noqa: E402
from recommender.embeddings import get_embedder  # noqa: E402
from recommender.search import ProductSearch  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "data" / "search_queries.yml"
K = 10


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** grades.get(s, 0) - 1) / math.log2(i + 2) for i, s in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    relevant = {s for s, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def main() -> None:
    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    view = CatalogService(CatalogStore.from_url(load_settings().database_url)).current()
    search = ProductSearch(get_embedder())
    started = time.perf_counter()
    search.sync(view)
    print(
        f"indexed {len(view.graph.products)} products in {time.perf_counter() - started:.1f}s; {len(queries)} queries"
    )
    rows = []
    for mode in ("keyword", "dense", "hybrid"):
        n_sum = r_sum = 0.0
        for q in queries:
            grades = {sku: int(g) for sku, g in q["labels"].items()}
            ranked = [
                h.product["sku"]
                for h in search.search(view, q["query"], k=K, mode=mode, in_stock=False)
            ]
            n_sum += ndcg(ranked, grades)
            r_sum += recall(ranked, grades)
        rows.append((mode, n_sum / len(queries), r_sum / len(queries)))
    label = {
        "keyword": "BM25 only",
        "dense": "dense only (E5+FAISS)",
        "hybrid": "hybrid (RRF + attributes)",
    }
    print(f"{'':28}{'NDCG@10':>10}{'Recall@10':>11}")
    for mode, n, r in rows:
        print(f"{label[mode]:28}{n:10.4f}{r:11.4f}")
    bm25, hybrid = rows[0][1], rows[2][1]
    print(f"hybrid / BM25 NDCG@10 = {hybrid / bm25:.3f} (target >= 1.15)")


if __name__ == "__main__":
    main()

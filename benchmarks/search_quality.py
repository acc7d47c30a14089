"""Search quality on the project's labelled shopper queries (benchmarks/data/search_queries.yml):
NDCG@10 and Recall@10 for BM25 only, dense only and hybrid, side by side; then, for the original
labelled set, the shopper-style set (`set: shopper`: Latin brand names, accessories for a named
device, appliance names, written budgets) and both, category and constraint precision@10 beside
them.

Targets: hybrid NDCG@10 >= 1.15 x BM25's on the labelled set; hybrid category
precision@10 >= 0.95 over both sets, with hybrid NDCG@10 on the labelled set not below 0.806,
its value before the search-box work.

    DAOGOU_VAR=var .venv/bin/python benchmarks/search_quality.py [--worst N]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.label_queries import SETS, constraint_conditions, matches  # noqa: E402
from daogou.container import build_services  # noqa: E402
from daogou.settings import load_settings  # noqa: E402
from knowledge_graph.product import Product  # noqa: E402
from knowledge_graph.service import CatalogView  # noqa: E402
from search.hybrid import ProductSearch, SearchHit, search_box  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "data" / "search_queries.yml"
K = 10
# "search box" is what GET /api/search does: hybrid under the filters the query writes.
MODES = ("keyword", "dense", "hybrid", "searchbox")
LABEL = {
    "keyword": "BM25 only",
    "dense": "dense only (E5+FAISS)",
    "hybrid": "hybrid (RRF + attributes)",
    "searchbox": "search box (understood+hybrid)",
}
CATEGORY_PRECISION_TARGET = 0.95
HYBRID_NDCG_BEFORE = 0.806  # hybrid NDCG@10 on the labelled set before the search-box work


def run_query(
    search: ProductSearch, view: CatalogView, query_text: str, mode: str
) -> list[SearchHit]:
    """The one place every query reaches the searcher, in every mode. Query understanding (the
    query text turned into hard filters: category, brand, price bounds) plugs in here."""
    if mode == "searchbox":
        return search_box(search, view, query_text, k=K, in_stock=False).hits
    return search.search(view, query_text, k=K, mode=mode, in_stock=False)


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** grades.get(s, 0) - 1) / math.log2(i + 2) for i, s in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    relevant = {s for s, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def satisfies(product: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether the product meets every constraint the query is labelled with: its category and,
    when the query names them, brand, min_price and max_price (as label_queries.py applies them)."""
    if query.get("category") and product.category != query["category"]:
        return False
    return matches(product, constraint_conditions(query))


def precision(ok: list[bool], k: int = K) -> float:
    """The share of the top-k hits that are `ok` (one flag per hit, best first). Taken over the
    hits returned when there are fewer than k (a searcher that applies hard filters may rightly
    return fewer); 0 when none are returned."""
    top = ok[:k]
    return sum(top) / len(top) if top else 0.0


def category_precision(hits: list[Product], category: str, k: int = K) -> float:
    return precision([p.category == category for p in hits], k)


def constraint_precision(hits: list[Product], query: dict[str, Any], k: int = K) -> float:
    return precision([satisfies(p, query) for p in hits], k)


@dataclass
class Result:
    """One query's top-k in one mode, with its scores."""

    query: dict[str, Any]
    hits: list[Product]
    ndcg: float
    recall: float
    category_precision: float | None  # None when the query names no category
    constraint_precision: float


def evaluate(query: dict[str, Any], hits: list[Product]) -> Result:
    grades = {sku: int(g) for sku, g in query["labels"].items()}
    ranked = [p.sku for p in hits]
    category = query.get("category")
    return Result(
        query,
        hits,
        ndcg(ranked, grades),
        recall(ranked, grades),
        category_precision(hits, category) if category else None,
        constraint_precision(hits, query),
    )


def query_set(query: dict[str, Any]) -> str:
    return query.get("set", SETS[0])


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def summary(results: list[Result]) -> tuple[int, float, float, float, float]:
    """n, NDCG@10, Recall@10, category precision@10 (queries naming a category), constraint
    precision@10."""
    return (
        len(results),
        mean([r.ndcg for r in results]),
        mean([r.recall for r in results]),
        mean([r.category_precision for r in results if r.category_precision is not None]),
        mean([r.constraint_precision for r in results]),
    )


def describe(product: Product, query: dict[str, Any]) -> str:
    mark = "+" if satisfies(product, query) else "-"
    return f"{mark} {product.title} [{product.category}, {product.brand}, ¥{product.price:g}]"


def print_worst(results: list[Result], n: int) -> None:
    """The n queries of each set with the lowest category precision (then constraint precision),
    with what came back: `-` marks a hit that breaks a labelled constraint."""
    for name in SETS:
        chosen = [r for r in results if query_set(r.query) == name]
        chosen.sort(key=lambda r: (r.category_precision or 0.0, r.constraint_precision))
        print(f"\nworst {min(n, len(chosen))} {name} queries (hybrid), by category precision@{K}")
        for r in chosen[:n]:
            q = r.query
            named = ", ".join(
                f"{k}={q[k]}" for k in ("category", "brand", "min_price", "max_price") if k in q
            )
            print(
                f"  {q['query']}  ({named}): category {r.category_precision:.1f}, "
                f"constraints {r.constraint_precision:.1f}, NDCG {r.ndcg:.2f}"
            )
            for product in r.hits[:K]:
                print(f"      {describe(product, q)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--worst",
        type=int,
        default=0,
        metavar="N",
        help="also list each set's N worst queries (hybrid)",
    )
    args = parser.parse_args(argv)
    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    labelled = [q for q in queries if query_set(q) == SETS[0]]
    services = build_services(load_settings())
    view = services.view()
    search = ProductSearch(services.encoder())  # in memory: every run indexes afresh, timed
    started = time.perf_counter()
    search.sync(view)
    print(
        f"indexed {len(view.graph.products)} products in {time.perf_counter() - started:.1f}s; {len(labelled)} queries"
    )
    results: dict[str, list[Result]] = {}
    for mode in MODES:
        results[mode] = [
            evaluate(q, [h.product for h in run_query(search, view, q["query"], mode)])
            for q in queries
        ]

    # The labelled set's figures, printed as before the shopper-style set was added.
    rows = []
    for mode in MODES:
        _, n, r, _, _ = summary([x for x in results[mode] if query_set(x.query) == SETS[0]])
        rows.append((mode, n, r))
    print(f"{'':28}{'NDCG@10':>10}{'Recall@10':>11}")
    for mode, n, r in rows:
        print(f"{LABEL[mode]:28}{n:10.4f}{r:11.4f}")
    bm25, hybrid = rows[0][1], rows[2][1]
    print(f"hybrid / BM25 NDCG@10 = {hybrid / bm25:.3f} (target >= 1.15)")

    print(f"\nby query set: NDCG@{K}, Recall@{K}, category and constraint precision@{K}")
    print(
        f"{'':28}{'set':<10}{'n':>4}{'NDCG@10':>10}{'Recall@10':>11}{'catP@10':>10}{'consP@10':>10}"
    )
    for mode in MODES:
        for i, name in enumerate((*SETS, "all")):
            chosen = [x for x in results[mode] if name in ("all", query_set(x.query))]
            count, n, r, cat, cons = summary(chosen)
            head = LABEL[mode] if i == 0 else ""
            print(f"{head:28}{name:<10}{count:>4}{n:10.4f}{r:11.4f}{cat:10.4f}{cons:10.4f}")
    _, _, _, cat_all, _ = summary(results["hybrid"])
    print(
        f"hybrid category precision@{K} (all) = {cat_all:.4f} (target >= {CATEGORY_PRECISION_TARGET}); "
        f"hybrid NDCG@{K} (labelled) = {hybrid:.4f} (target >= {HYBRID_NDCG_BEFORE})"
    )
    _, box_ndcg, _, _, _ = summary(
        [x for x in results["searchbox"] if query_set(x.query) == SETS[0]]
    )
    _, _, _, box_cat, box_cons = summary(results["searchbox"])
    print(
        f"search box (/api/search): category precision@{K} (all) = {box_cat:.4f}, "
        f"constraint precision@{K} (all) = {box_cons:.4f}, NDCG@{K} (labelled) = {box_ndcg:.4f}"
    )
    if args.worst:
        print_worst(results["hybrid"], args.worst)


if __name__ == "__main__":
    main()

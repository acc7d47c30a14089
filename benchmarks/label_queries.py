"""Turn the hand-written relevance criteria (benchmarks/data/search_queries_spec.yml) into graded
labels over the seed catalog (benchmarks/data/search_queries.yml), for search_quality.py.

    .venv/bin/python benchmarks/label_queries.py            # rewrite the labels, print counts
    .venv/bin/python benchmarks/label_queries.py --check    # exit 1 if the committed file is stale

Each spec entry names a query, its kind, one category and two condition sets:
a product of that category is grade 1 when it meets every `must` condition and grade 2 when it
meets every `better` condition as well (an entry without `better` grades all its matches 2).
Products outside the category, or failing `must`, are grade 0 and left out of the labels.

An entry may also carry the hard constraints its query text names, beside the category:
`brand` (one brand or a list, any), `min_price` and `max_price` (CNY, inclusive). They are part
of `must` (a product of another brand or outside the budget is grade 0) and are copied into the
record, so that search_quality.py can measure how many hits satisfy every named constraint.
`set: shopper` marks the shopper-style queries added for the search box (Latin brand names,
accessories for a named device, appliance names, written budgets); entries without it form the
original labelled set, whose NDCG@10 figures stay comparable across versions.

Conditions (all of a set must hold):
  brand          one brand name or a list (any)
  model          one model name or a list (any), exact but case-insensitive ("小米14 Ultra")
  tags_any       the product has at least one of these tags
  tags_all       the product has all of these tags
  attr_min       {attribute: number}: numeric attribute >= number ("512GB" and "1TB" compare in GB)
  attr_max       {attribute: number}: numeric attribute <= number
  attr_contains  {attribute: value or [values]}: a list attribute has one of the values as an
                 element, or a text attribute contains one of them as a substring
  attr_is        {attribute: value}: the attribute equals the value exactly (a boolean, a number
                 or a whole text such as 品类: 精华, which 精华水 does not equal)
  title_any      [texts]: one occurs in the title, model or an alias (case-insensitive)
  price_min / price_max   price in CNY, inclusive
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from data.generate_catalog import build_catalog  # noqa: E402
from knowledge_graph.product import Product  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
SPEC_PATH = DATA / "search_queries_spec.yml"
LABELS_PATH = DATA / "search_queries.yml"
KINDS = ("need", "attribute", "brand", "mixed")
SETS = ("labelled", "shopper")  # an entry without `set` belongs to the first
# The constraints a query names, in record order, and the condition each one stands for.
CONSTRAINTS = {"brand": "brand", "min_price": "price_min", "max_price": "price_max"}
MIN_RELEVANT = 1
MAX_RELEVANT = 60
# Sizes are compared in the smaller unit of their family: TB in GB, kg in g, L in ml.
UNIT_FACTORS = {"tb": 1024.0, "kg": 1000.0, "l": 1000.0}
NUMBER_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)")
CONDITIONS = (
    "brand",
    "model",
    "tags_any",
    "tags_all",
    "attr_min",
    "attr_max",
    "attr_contains",
    "attr_is",
    "title_any",
    "price_min",
    "price_max",
)


Conditions = dict[str, Any]


class SpecError(ValueError):
    """The spec names something the catalog does not have, or is malformed."""


def parse_number(value: Any) -> float | None:
    """A comparable number from an attribute value: 6.7, 5000, "512GB", "1TB", "750g（30袋）"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    match = NUMBER_WITH_UNIT.search(value)
    if not match:
        return None
    return float(match.group(1)) * UNIT_FACTORS.get(match.group(2).lower(), 1.0)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _contains(actual: Any, wanted: Iterable[Any]) -> bool:
    if isinstance(actual, list):
        return any(w in actual for w in wanted)
    if isinstance(actual, str):
        return any(isinstance(w, str) and w in actual for w in wanted)
    return False


def _names(product: Product) -> list[str]:
    return [product.title, product.model or "", *product.aliases]


def _holds(kind: str, arg: Any, product: Product) -> bool:
    attrs = product.attributes
    if kind == "brand":
        return product.brand in _as_list(arg)
    if kind == "model":
        model = (product.model or "").lower()
        return any(model == str(m).lower() for m in _as_list(arg))
    if kind == "tags_any":
        return any(t in product.tags for t in _as_list(arg))
    if kind == "tags_all":
        return all(t in product.tags for t in _as_list(arg))
    if kind in ("attr_min", "attr_max"):
        for key, bound in arg.items():
            number = parse_number(attrs.get(key))
            if number is None:
                return False
            if (number < bound) if kind == "attr_min" else (number > bound):
                return False
        return True
    if kind == "attr_contains":
        return all(_contains(attrs.get(k), _as_list(v)) for k, v in arg.items())
    if kind == "attr_is":
        return all(k in attrs and attrs[k] == v for k, v in arg.items())
    if kind == "title_any":
        names = [n.lower() for n in _names(product)]
        return any(str(t).lower() in n for t in _as_list(arg) for n in names)
    if kind == "price_min":
        return product.price >= arg
    if kind == "price_max":
        return product.price <= arg
    raise SpecError(f"unknown condition {kind!r}")


def matches(product: Product, conditions: Conditions | None) -> bool:
    """Whether the product meets every condition (an empty set always holds)."""
    return all(_holds(kind, arg, product) for kind, arg in (conditions or {}).items())


def constraint_conditions(entry: dict[str, Any]) -> Conditions:
    """The entry's named constraints (brand, min_price, max_price) as conditions."""
    return {cond: entry[key] for key, cond in CONSTRAINTS.items() if entry.get(key) is not None}


def grade(product: Product, entry: dict[str, Any]) -> int:
    """0 (not relevant), 1 (meets the constraints and `must`) or 2 (meets `better` as well)."""
    if product.category != entry["category"]:
        return 0
    if not (matches(product, constraint_conditions(entry)) and matches(product, entry.get("must"))):
        return 0
    return 2 if matches(product, entry.get("better")) else 1


def label_query(entry: dict[str, Any], products: list[Product]) -> dict[str, int]:
    """The graded relevant products of one spec entry, sku -> 1|2, sorted by sku."""
    grades = {p.sku: grade(p, entry) for p in products}
    return {sku: g for sku, g in sorted(grades.items()) if g > 0}


def _check_conditions(
    query: str, conditions: Conditions, category: str, catalog: dict[str, Any]
) -> None:
    schema = catalog["attribute_schema"][category]
    tags = {t for p in catalog["products"] for t in p["tags"]}
    brands = {p["brand"] for p in catalog["products"]}
    for kind, arg in conditions.items():
        if kind not in CONDITIONS:
            raise SpecError(f"{query}: unknown condition {kind!r}")
        if kind.startswith("attr_"):
            if not isinstance(arg, dict) or not arg:
                raise SpecError(f"{query}: {kind} needs a mapping of attributes")
            unknown = [k for k in arg if k not in schema]
            if unknown:
                raise SpecError(f"{query}: {category} has no attribute {unknown}")
        if kind.startswith("tags_") and not set(_as_list(arg)) <= tags:
            raise SpecError(f"{query}: unknown tags {set(_as_list(arg)) - tags}")
        if kind == "brand" and not set(_as_list(arg)) <= brands:
            raise SpecError(f"{query}: unknown brands {set(_as_list(arg)) - brands}")


def validate_spec(spec: list[dict[str, Any]], catalog: dict[str, Any]) -> None:
    """Reject typos (attributes, tags, brands, kinds) before they silently match nothing."""
    categories = {c["name"] for c in catalog["categories"]}
    seen: set[str] = set()
    for entry in spec:
        query = entry.get("query")
        if not isinstance(query, str) or not query.strip():
            raise SpecError(f"entry without a query: {entry}")
        if query in seen:
            raise SpecError(f"duplicate query {query!r}")
        seen.add(query)
        extra = set(entry) - {"query", "kind", "category", "must", "better", "note", "set"}
        if extra - set(CONSTRAINTS):
            raise SpecError(f"{query}: unknown keys {sorted(extra - set(CONSTRAINTS))}")
        if entry.get("kind") not in KINDS:
            raise SpecError(f"{query}: kind must be one of {KINDS}")
        if entry.get("category") not in categories:
            raise SpecError(f"{query}: unknown category {entry.get('category')!r}")
        if entry.get("set", SETS[0]) not in SETS:
            raise SpecError(f"{query}: set must be one of {SETS}")
        for key in ("min_price", "max_price"):
            bound = entry.get(key)
            if key in entry and (isinstance(bound, bool) or not isinstance(bound, int | float)):
                raise SpecError(f"{query}: {key} must be a number")
        if entry.get("min_price", 0) > entry.get("max_price", float("inf")):
            raise SpecError(f"{query}: min_price above max_price")
        for part in ("must", "better"):
            _check_conditions(query, entry.get(part) or {}, entry["category"], catalog)
        _check_conditions(query, constraint_conditions(entry), entry["category"], catalog)


def build_record(entry: dict[str, Any], products: list[Product]) -> dict[str, Any]:
    """`{query, kind, category, [brand, min_price, max_price, set,] labels}`: the optional keys
    only when the entry has them, so records of entries without them keep their old text."""
    record = {"query": entry["query"], "kind": entry["kind"], "category": entry["category"]}
    record.update((key, entry[key]) for key in CONSTRAINTS if entry.get(key) is not None)
    if entry.get("set", SETS[0]) != SETS[0]:
        record["set"] = entry["set"]
    record["labels"] = label_query(entry, products)
    return record


def build_labels(spec: list[dict[str, Any]], catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """One record (see build_record) per spec entry, in spec order."""
    validate_spec(spec, catalog)
    products = [Product.from_dict(p) for p in catalog["products"]]
    return [build_record(e, products) for e in spec]


def load_spec(path: Path = SPEC_PATH) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dump_labels(records: list[dict[str, Any]]) -> str:
    """Stable YAML text: fields in a fixed order (query first, for review), skus sorted."""
    header = (
        "# Generated by benchmarks/label_queries.py from search_queries_spec.yml; do not edit.\n"
        "# labels: sku -> grade (2 = a strong match, 1 = relevant); unlisted products are 0.\n"
    )
    body = yaml.safe_dump(
        records, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000
    )
    return header + body


def out_of_bounds(records: list[dict[str, Any]]) -> list[str]:
    """Queries whose relevant set is empty or too large to be a useful test."""
    return [r["query"] for r in records if not MIN_RELEVANT <= len(r["labels"]) <= MAX_RELEVANT]


def report(records: list[dict[str, Any]]) -> str:
    """Per-query counts, then the distribution over categories, kinds and grades."""
    lines = [f"{'g2':>4}{'g1':>4}{'all':>5}  kind       category  query"]
    for r in records:
        grades = Counter(r["labels"].values())
        lines.append(
            f"{grades[2]:>4}{grades[1]:>4}{len(r['labels']):>5}  {r['kind']:<10} "
            f"{r['category']:<6}  {r['query']}"
        )
    sizes = sorted(len(r["labels"]) for r in records)
    total = Counter(g for r in records for g in r["labels"].values())
    lines += [
        "",
        f"queries: {len(records)}",
        f"by category: {dict(Counter(r['category'] for r in records))}",
        f"by kind: {dict(Counter(r['kind'] for r in records))}",
        f"by set: {dict(Counter(r.get('set', SETS[0]) for r in records))}",
        f"relevant per query: min {sizes[0]}, median {sizes[len(sizes) // 2]}, "
        f"mean {sum(sizes) / len(sizes):.1f}, max {sizes[-1]}",
        f"labels: {sum(total.values())} (grade 2: {total[2]}, grade 1: {total[1]})",
        f"queries with no grade-2 product: {sum(1 for r in records if 2 not in r['labels'].values())}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the file")
    parser.add_argument("--quiet", action="store_true", help="print the summary only")
    args = parser.parse_args(argv)
    records = build_labels(load_spec(), build_catalog())
    text = report(records)
    print(text if not args.quiet else text.split("\n\n", 1)[1])
    bad = out_of_bounds(records)
    if bad:
        print(f"\n{len(bad)} queries outside {MIN_RELEVANT}..{MAX_RELEVANT} relevant: {bad}")
        return 1
    rendered = dump_labels(records)
    if args.check:
        current = LABELS_PATH.read_text(encoding="utf-8") if LABELS_PATH.exists() else ""
        if current != rendered:
            print(f"\n{LABELS_PATH} is stale: run benchmarks/label_queries.py")
            return 1
        return 0
    LABELS_PATH.write_text(rendered, encoding="utf-8")
    print(f"\nwrote {LABELS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

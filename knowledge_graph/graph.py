"""The product knowledge graph (networkx) built from a catalog snapshot, and its queries.

Nodes: ("product", sku), ("brand", name), ("category", name), ("value", key, value).
Edges: product -BRAND-> brand, product -IN_CATEGORY-> category, product -HAS-> value,
and product -RELATION_TYPE-> product for the catalog relations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from knowledge_graph.product import Product
from knowledge_graph.store import SYMMETRIC_RELATION_TYPES, CatalogSnapshot


@dataclass(frozen=True)
class AttributeSpec:
    key: str
    type: str
    unit: str | None
    better: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparisonRow:
    key: str
    value_a: Any
    value_b: Any
    better: str | None  # "a", "b", "same" or None where "better" means nothing (colour, size)


@dataclass
class Comparison:
    sku_a: str
    sku_b: str
    rows: list[ComparisonRow] = field(default_factory=list)

    @property
    def differing(self) -> list[ComparisonRow]:
        return [r for r in self.rows if r.value_a != r.value_b]

    def wins(self) -> tuple[int, int]:
        return (
            sum(r.better == "a" for r in self.rows),
            sum(r.better == "b" for r in self.rows),
        )


def format_value(value: Any, unit: str | None = None) -> str:
    """Human-readable Chinese rendering of an attribute value."""
    if isinstance(value, bool):
        return "支持" if value else "不支持"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if unit and isinstance(value, int | float):
        return f"{text}{unit}"
    return text


def _node_value(value: Any) -> Iterable[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ()  # numeric values are filtered by range, not by node
    return (value,)


class ProductGraph:
    def __init__(self, snapshot: CatalogSnapshot) -> None:
        self.version = snapshot.version
        self.graph = nx.MultiDiGraph()
        self.products: dict[str, Product] = {p.sku: p for p in snapshot.products}
        # A model name is a brand's own: SK-II's and Olay's 「大红瓶」 are not variants of one product.
        self._by_model: dict[tuple[str, str], list[str]] = {}
        for p in snapshot.products:
            if p.model:
                self._by_model.setdefault((p.brand, p.model), []).append(p.sku)
        self.tags = sorted({t for p in snapshot.products for t in p.tags if t})
        self.brands = {b["name"]: b for b in snapshot.brands}
        self.categories = {c["name"]: c for c in snapshot.categories}
        self.merchants = snapshot.merchants
        self.schema: dict[str, dict[str, AttributeSpec]] = {}
        for a in snapshot.attribute_defs:
            self.schema.setdefault(a["category"], {})[a["key"]] = AttributeSpec(
                a["key"], a["type"], a["unit"], a["better"], tuple(a["aliases"])
            )
        self._build(snapshot)

    def _build(self, snapshot: CatalogSnapshot) -> None:
        g = self.graph
        for name in self.brands:
            g.add_node(("brand", name))
        for name in self.categories:
            g.add_node(("category", name))
        for sku, p in self.products.items():
            node = ("product", sku)
            g.add_node(node)
            g.add_edge(node, ("brand", p.brand), key="BRAND")
            g.add_edge(node, ("category", p.category), key="IN_CATEGORY")
            for key, value in p.attributes.items():
                for v in _node_value(value):
                    g.add_edge(node, ("value", key, v), key="HAS")
        for source, target, rel in snapshot.relations:
            if source in self.products and target in self.products:
                g.add_edge(("product", source), ("product", target), key=rel)
                if rel in SYMMETRIC_RELATION_TYPES:
                    g.add_edge(("product", target), ("product", source), key=rel)

    # -- KnowledgeBase-style access ---------------------------------------------
    def product(self, sku: str) -> Product | None:
        return self.products.get(sku)

    def attribute_spec(self, category: str, key: str) -> AttributeSpec | None:
        return self.schema.get(category, {}).get(key)

    def attribute_key(self, category: str, key: str) -> str | None:
        """The category's own name for an attribute asked by another category's name or alias:
        「续航」 is 电池容量 on a phone and 续航 on a laptop; 「尺寸」 is 屏幕尺寸 on a tablet."""
        own = self.schema.get(category, {})
        if key in own:
            return key
        words = {key}
        for specs in self.schema.values():
            if key in specs:
                words |= {key, *specs[key].aliases}
        overlap = {k: len(words & {k, *spec.aliases}) for k, spec in own.items()}
        best = max(overlap, key=overlap.get, default=None)
        return best if best is not None and overlap[best] > 0 else None

    def attributes_of(self, sku: str) -> dict[str, Any]:
        product = self.products.get(sku)
        return dict(product.attributes) if product else {}

    def filter(
        self,
        *,
        category: str | None = None,
        brands: Iterable[str] | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        attributes: dict[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        in_stock: bool = False,
        exclude: Iterable[str] = (),
    ) -> list[Product]:
        """Products matching every hard constraint, in sku order.

        `attributes` maps a key to a wanted value: a text/bool value must be present,
        a (low, high) tuple bounds a numeric value.
        """
        candidates = self._candidates(category, brands)
        brand_set = set(brands) if brands else None
        excluded = set(exclude)
        tag_set = set(tags or ())
        result = []
        for sku in sorted(candidates):
            p = self.products[sku]
            if sku in excluded or (brand_set and p.brand not in brand_set):
                continue
            if category and p.category != category:
                continue
            if min_price is not None and p.price < min_price:
                continue
            if max_price is not None and p.price > max_price:
                continue
            if in_stock and p.stock <= 0:
                continue
            if tag_set and not tag_set.issubset(p.tags):
                continue
            if attributes and not all(
                _matches(p.attributes.get(k), v) for k, v in attributes.items()
            ):
                continue
            result.append(p)
        return result

    def _candidates(self, category: str | None, brands: Iterable[str] | None) -> set[str]:
        if category and ("category", category) in self.graph:
            return {sku for (_, sku), _ in self._in_edges(("category", category))}
        if brands:
            found: set[str] = set()
            for brand in brands:
                if ("brand", brand) in self.graph:
                    found |= {sku for (_, sku), _ in self._in_edges(("brand", brand))}
            return found
        return set(self.products)

    def _in_edges(self, node: tuple) -> Iterable[tuple[tuple, str]]:
        for source, _, key in self.graph.in_edges(node, keys=True):
            if source[0] == "product":
                yield source, key

    def variants(self, sku: str) -> list[str]:
        """SKUs of the same model line (storage or size variants), `sku` first."""
        product = self.products.get(sku)
        if product is None:
            return []
        model = product.model
        line = self._by_model.get((product.brand, model), ()) if model else ()
        others = sorted(s for s in line if s != sku)
        return [sku, *others]

    def related(
        self, sku: str, types: Iterable[str] | None = None, whole_model: bool = True
    ) -> list[tuple[str, str]]:
        """(sku, relation) pairs next to `sku`, incoming ACCESSORY_OF/COMPATIBLE_WITH included.

        With `whole_model`, relations of the model's other variants count too: the seed catalog
        links alternatives and bundles to a model's base version only.
        """
        if sku not in self.products:
            return []
        pairs: dict[tuple[str, str], None] = {}
        sources = self.variants(sku) if whole_model else [sku]
        for source in sources:
            pairs.update(dict.fromkeys(self._related_one(source, types)))
        own = set(sources)
        return sorted(p for p in pairs if p[0] not in own)

    def _related_one(self, sku: str, types: Iterable[str] | None) -> list[tuple[str, str]]:
        node = ("product", sku)
        wanted = set(types) if types else None
        pairs: dict[tuple[str, str], None] = {}
        for _, target, key in self.graph.out_edges(node, keys=True):
            if target[0] == "product" and (wanted is None or key in wanted):
                pairs[(target[1], key)] = None
        for source, key in self._in_edges(node):
            if key in SYMMETRIC_RELATION_TYPES:
                continue  # already stored in both directions
            if wanted is None or key in wanted:
                pairs[(source[1], key)] = None
        return sorted(pairs)

    def is_compatible(self, accessory_sku: str, device_sku: str) -> bool:
        g = self.graph
        a, d = ("product", accessory_sku), ("product", device_sku)
        return any(
            g.has_edge(x, y, key=k)
            for x, y in ((a, d), (d, a))
            for k in ("COMPATIBLE_WITH", "ACCESSORY_OF")
        )

    def compare(self, sku_a: str, sku_b: str) -> Comparison:
        a, b = self.products[sku_a], self.products[sku_b]
        comparison = Comparison(sku_a, sku_b)
        keys = list(dict.fromkeys([*a.attributes, *b.attributes]))
        spec_category = a.category if a.category == b.category else None
        for key in keys:
            va, vb = a.attributes.get(key), b.attributes.get(key)
            spec = self.attribute_spec(spec_category or a.category, key)
            better = model_number_better(va, vb) if key in CHIP_KEYS else _better(spec, va, vb)
            comparison.rows.append(ComparisonRow(key, va, vb, better))
        for key, better in (("价格", "lower"), ("评分", "higher")):
            field_name = "price" if key == "价格" else "rating"
            va, vb = getattr(a, field_name), getattr(b, field_name)
            comparison.rows.append(
                ComparisonRow(
                    key, va, vb, _better(AttributeSpec(key, "number", None, better), va, vb)
                )
            )
        return comparison


_QUANTITY = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(tb|gb|g|mb|mah|w|小时|h|天|寸|英寸|ml|毫升|克|kg)?", re.I
)
_SCALE = {"tb": 1024.0, "kg": 1000.0}


def numeric_value(value: Any) -> float | None:
    """A comparable number from 5000, 4.5 or a quantity string such as "512GB" or "1TB"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value))
    if not match:
        return None
    unit = (match.group(2) or "").lower()
    return float(match.group(1)) * _SCALE.get(unit, 1.0)


def _matches(actual: Any, wanted: Any) -> bool:
    if actual is None:
        return False
    if isinstance(wanted, tuple):
        low, high = wanted
        number = numeric_value(actual)
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)
    if isinstance(actual, list):
        return wanted in actual
    return actual == wanted


# Chips are named by family and number: within one family and naming pattern the higher number
# is the newer, faster part (骁龙8 Gen3 > 骁龙8 Gen2, i7-13620H > i5-13500H, RTX 4060 > 4050).
CHIP_KEYS = frozenset({"处理器", "显卡"})
_TRAILING_SUFFIX = re.compile(r"(?:[A-Za-z+\-\s]|星速版|for Galaxy)+$")


def model_number_better(va: Any, vb: Any) -> str | None:
    """ "a", "b" or "same" for two chip names of one family and pattern, else None (骁龙 and
    天玑 are not compared by number; neither are 骁龙870 and 骁龙8 Gen3)."""
    if not isinstance(va, str) or not isinstance(vb, str):
        return None
    shapes = [_TRAILING_SUFFIX.sub("", re.sub(r"\d+", "#", v)) for v in (va, vb)]
    numbers = [re.findall(r"\d+", v) for v in (va, vb)]
    if shapes[0] != shapes[1] or "#" not in shapes[0]:
        return None
    if [len(n) for n in numbers[0]] != [len(n) for n in numbers[1]]:
        return None  # i5-1235U and i5-12450H: numbers of different generations' schemes
    a, b = ([int(n) for n in ns] for ns in numbers)
    if a == b:
        return "same" if va == vb else None
    return "a" if a > b else "b"


def _better(spec: AttributeSpec | None, va: Any, vb: Any) -> str | None:
    if spec is None or spec.better not in ("higher", "lower"):
        return None
    if isinstance(va, bool) and isinstance(vb, bool):
        return "same" if va == vb else ("a" if va else "b")
    va, vb = numeric_value(va), numeric_value(vb)
    if va is None or vb is None:
        return None
    if va == vb:
        return "same"
    a_higher = va > vb
    return "a" if a_higher == (spec.better == "higher") else "b"

"""Product question answering over the graph: which product, which attribute, which filters.

Pure functions over a `CatalogView`; the actions only format what these return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge_graph.linking import Mention, normalise_key
from knowledge_graph.service import CatalogView

# Questions about catalog fields rather than attributes, and the words shoppers use for them.
FIELD_CUES: dict[str, tuple[str, ...]] = {
    "price": (
        "多少钱",
        "价格",
        "价钱",
        "售价",
        "多钱",
        "几块",
        "多少米",
        "贵不贵",
        "什么价",
        "啥价",
        "报价",
    ),
    "stock": ("有货", "库存", "还有吗", "有现货", "缺货", "卖完", "没货", "断货", "还剩"),
    "rating": ("评分", "口碑", "评价", "好评"),
}


@dataclass(frozen=True)
class ProductRef:
    """A product the shopper named: a model (maybe several SKUs/variants) and how it was found."""

    model: str
    skus: tuple[str, ...]
    text: str
    score: float = 1.0

    @property
    def sku(self) -> str:
        return self.skus[0]


@dataclass
class SearchFilters:
    category: str | None = None
    brands: list[str] = field(default_factory=list)
    min_price: float | None = None
    max_price: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    colour: str | None = None
    terms: list[str] = field(default_factory=list)  # attribute words such as 拍照, 续航
    within: list[str] | None = None  # only these SKUs (accessories of a named phone, say)

    def is_empty(self) -> bool:
        return not (self.category or self.brands or self.min_price or self.max_price or self.colour)


def product_refs(
    view: CatalogView, text: str, entity_values: Iterable[str] = ()
) -> list[ProductRef]:
    """Products named in the raw text (primary) or in NLU `product` entities (backup)."""
    refs = _refs_from(view.linker.link(text))
    if not refs:
        for value in entity_values:
            refs += _refs_from(view.linker.link(value))
    unique: dict[str, ProductRef] = {}
    for ref in refs:
        unique.setdefault(ref.model, ref)
    return list(unique.values())


def _refs_from(mentions: Sequence[Mention]) -> list[ProductRef]:
    return [
        ProductRef(m.value, m.skus, m.text, m.score)
        for m in mentions
        if m.kind == "product" and m.skus
    ]


def representative(view: CatalogView, skus: Sequence[str]) -> dict[str, Any]:
    """The variant to talk about: the cheapest one in stock, else the cheapest."""
    products = [view.graph.products[s] for s in skus if s in view.graph.products]
    return min(products, key=lambda p: (p["stock"] <= 0, p["price"], p["sku"]))


def asked_fields(view: CatalogView, text: str) -> list[str]:
    """What the shopper asks about: catalog fields ("price", "stock", "rating") and attribute keys."""
    plain = normalise_key(text)  # simplified, half-width: 多少錢 asks the price too
    asked: list[str] = [name for name, cues in FIELD_CUES.items() if any(c in plain for c in cues)]
    for mention in view.linker.link(text):
        if mention.kind == "attribute" and mention.value not in asked:
            asked.append(mention.value)
    if "颜色" not in asked and re.search(r"(几种|哪些|什么)(颜色|配色)|颜色", plain):
        asked.append("颜色")
    return asked


def filters_from(
    view: CatalogView, text: str, entities: Sequence[dict[str, Any]] = ()
) -> SearchFilters:
    """Hard filters from the text and the NLU entities (prices come with roles from the NLU)."""
    filters = SearchFilters()
    for mention in view.linker.link(text):
        if mention.kind == "category" and not filters.category:
            filters.category = mention.value
        elif mention.kind == "brand" and mention.value not in filters.brands:
            filters.brands.append(mention.value)
        elif mention.kind == "color" and not filters.colour:
            filters.colour = mention.value
        elif mention.kind == "attribute":
            filters.terms.append(mention.text)
    for entity in entities:
        if entity.get("entity") != "price":
            continue
        value = _number(entity.get("value"))
        if value is None:
            continue
        role = entity.get("role")
        if role == "max":
            filters.max_price = value
        elif role == "min":
            filters.min_price = value
        elif role == "around":
            filters.min_price, filters.max_price = round(value * 0.8), round(value * 1.2)
    return filters


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def filter_products(
    view: CatalogView, filters: SearchFilters, in_stock: bool = True
) -> list[dict[str, Any]]:
    products = view.graph.filter(
        category=filters.category,
        brands=filters.brands or None,
        min_price=filters.min_price,
        max_price=filters.max_price,
        in_stock=in_stock,
    )
    if filters.colour:
        products = [
            p for p in products if colour_matches(p["attributes"].get("颜色"), filters.colour)
        ]
    if filters.within is not None:
        allowed = set(filters.within)
        products = [p for p in products if p["sku"] in allowed]
    return products


def tags_in(view: CatalogView, text: str) -> list[str]:
    """Catalog tags the shopper used (拍照, 油皮, 学生, 送礼 ...), longest first."""
    plain = normalise_key(text)
    vocabulary = {t for p in view.graph.products.values() for t in p.get("tags") or []}
    return sorted((t for t in vocabulary if len(t) >= 2 and t in plain), key=len, reverse=True)


def colour_matches(values: Any, wanted: str) -> bool:
    """「白色」 matches 雪域白 and 白沙银: shoppers name the hue, catalogs name the shade."""
    hue = wanted[:-1] if wanted.endswith("色") and len(wanted) > 1 else wanted
    names = values if isinstance(values, list) else [values] if values else []
    return any(hue in str(name) for name in names)


def related_in_category(view: CatalogView, skus: Sequence[str], category: str) -> list[str]:
    """Products of `category` related to any of `skus`: 「iPhone 15的手机壳」 -> its cases."""
    found: dict[str, None] = {}
    for sku in skus:
        for other, _ in view.graph.related(sku):
            if view.graph.products[other]["category"] == category:
                found[other] = None
    return list(found)


def rank_by_quality(
    products: list[dict[str, Any]], terms: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Until the hybrid ranker is used: tag/description matches first, then rating, then stock."""

    def key(p: dict[str, Any]) -> tuple:
        text = " ".join([p["title"], p.get("description", ""), *p.get("tags", [])])
        hits = sum(term in text for term in terms)
        return (-hits, -p["rating"], p["price"], p["sku"])

    return sorted(products, key=key)


def one_per_model(products: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keeps the first variant of each model so a list never shows the same phone five times."""
    seen: set[str] = set()
    kept = []
    for p in products:
        model = p.get("model") or p["title"]
        if model not in seen:
            seen.add(model)
            kept.append(p)
    return kept


# -- references to products already in the conversation ----------------------------------
_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_ORDINAL = re.compile(r"第\s*([一二两三四五六七八九十\d]+)\s*(?:个|款|台|件|种|部|双|支|瓶)?")
_FIRST_N = re.compile(r"(?:前|这)\s*([两二三四五\d])\s*(?:个|款|台|件|种|部|双)")
_LAST = re.compile(r"最后(?:一|1)?(?:个|款|台|件)")
_PREVIOUS = re.compile(r"上一(?:个|款|台|件)|刚才(?:那|的)|之前(?:那|的)|前面那")
_THIS = re.compile(r"这(?:款|个|台|部|件|双|支|瓶)|那(?:款|个|台|部|件|双)|它|他|她")


def _small_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text in _CN_DIGITS:
        return _CN_DIGITS[text]
    if text.startswith("十") and len(text) == 2:
        return 10 + _CN_DIGITS.get(text[1], 0)
    return None


def resolve_references(
    text: str, shown: Sequence[str], focus: str | None, previous_focus: str | None = None
) -> list[str]:
    """SKUs that 「第二个」「前两个」「最后一个」「刚才那个」「这款」「它」 point to, in order."""
    shown = list(shown or [])
    match = _FIRST_N.search(text)
    if match and shown:
        count = _small_number(match.group(1)) or 0
        return shown[:count]
    found: list[str] = []
    for match in _ORDINAL.finditer(text):
        index = _small_number(match.group(1))
        if index and 1 <= index <= len(shown):
            found.append(shown[index - 1])
    if _LAST.search(text) and shown:
        found.append(shown[-1])
    if found:
        return list(dict.fromkeys(found))
    if _PREVIOUS.search(text) and previous_focus:
        return [previous_focus]
    if _THIS.search(text):
        if focus:
            return [focus]
        if len(shown) == 1:
            return shown[:1]
    return []

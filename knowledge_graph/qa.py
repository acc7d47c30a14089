"""Product question answering over the graph: which product, which attribute, which filters.

Pure functions over a `CatalogView`; the actions only format what these return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cn_text.numbers import parse_chinese_number
from knowledge_graph import constraints
from knowledge_graph.linking import Mention, normalise_key
from knowledge_graph.product import Product
from knowledge_graph.resolve import gender_of
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


_BARE_HOW_MUCH = re.compile(r"多少[呀啊呢?？。!！]*$|的多少")


@dataclass(frozen=True)
class ProductRef:
    """A product the shopper named: a model (maybe several SKUs/variants) and how it was found."""

    model: str
    skus: tuple[str, ...]
    text: str
    score: float = 1.0
    named: tuple[str, ...] = ()  # what the alias names (「iPhone 15」 in 「iPhone 15的手机壳」)
    start: int = 0
    end: int = 0
    exact: bool = False  # a whole catalog title
    missing: str | None = None  # a modifier asked that the shop's product lacks (「至尊版」)

    @property
    def sku(self) -> str:
        return self.skus[0]


@dataclass
class SearchFilters:
    category: str | None = None
    brands: list[str] = field(default_factory=list)
    avoided_brands: list[str] = field(default_factory=list)  # 「除了华为和小米」, said back as such
    min_price: float | None = None
    max_price: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    colour: str | None = None
    avoided_colours: list[str] = field(default_factory=list)  # 「不要黑色的」
    size: str | None = None  # 「42码的跑鞋」: only products made in that size
    gender: str | None = None  # "男" or "女": 男款/女款 lines (unisex ones always fit)
    kind: str | None = None  # its 品类/类型/款式 (吹风机 after a hair dryer, not any 小家电)
    terms: list[str] = field(default_factory=list)  # attribute words such as 拍照, 续航
    within: list[str] | None = None  # only these SKUs (accessories of a named phone, say)

    def is_empty(self) -> bool:
        return not (
            self.category
            or self.brands
            or self.avoided_brands
            or self.min_price
            or self.max_price
            or self.colour
            or self.avoided_colours
            or self.size
            or self.gender
            or self.kind
        )


def product_refs(
    view: CatalogView, text: str, entity_values: Iterable[str] = ()
) -> list[ProductRef]:
    """Products named in the raw text (primary) or in NLU `product` entities (backup)."""
    refs = [
        replace(ref, missing=view.linker.resolver.unmatched_modifier(ref.skus, text[ref.end :]))
        if not ref.exact
        else ref
        for ref in _refs_from(view.linker.link(text))
    ]
    if not refs:
        for value in entity_values:
            refs += _refs_from(view.linker.link(value))
    unique: dict[str, ProductRef] = {}
    for ref in refs:
        unique.setdefault(ref.model, ref)
    return list(unique.values())


def _refs_from(mentions: Sequence[Mention]) -> list[ProductRef]:
    return [
        ProductRef(m.value, m.skus, m.text, m.score, m.named or m.skus, m.start, m.end, m.exact)
        for m in mentions
        if m.kind == "product" and m.skus
    ]


def representative(view: CatalogView, skus: Sequence[str]) -> Product:
    """The variant to talk about: the cheapest one in stock, else the cheapest."""
    products = [view.graph.products[s] for s in skus if s in view.graph.products]
    return min(products, key=lambda p: (p.stock <= 0, p.price, p.sku))


def asked_fields(view: CatalogView, text: str) -> list[str]:
    """What the shopper asks about: catalog fields ("price", "stock", "rating") and attribute keys."""
    mentions = view.linker.link(text)
    # simplified, half-width: 多少錢 asks the price too; a title's own words ask nothing
    plain = normalise_key(masked(text, mentions))
    asked: list[str] = [name for name, cues in FIELD_CUES.items() if any(c in plain for c in cues)]
    if "price" not in asked and _BARE_HOW_MUCH.search(plain):
        asked.insert(0, "price")  # 「1T的多少」「这个多少？」
    for mention in mentions:
        if mention.kind == "attribute" and mention.value not in asked:
            asked.append(mention.value)
    if "颜色" not in asked and re.search(r"(几种|哪些|什么)(颜色|配色)|颜色", plain):
        asked.append("颜色")
    return asked


def masked(text: str, mentions: Sequence[Mention]) -> str:
    """`text` with the named products blanked out: a title's 2024, 白/粉 or 适用 is its name,
    never a budget, a colour filter or a compatibility question."""
    chars = list(text)
    for m in mentions:
        if m.kind == "product":
            chars[m.start : m.end] = "、" * (m.end - m.start)
    return "".join(chars)


ACCESSORY_CATEGORY = "手机配件"


def filter_products(
    view: CatalogView, filters: SearchFilters, in_stock: bool = True
) -> list[Product]:
    products = view.graph.filter(
        category=filters.category,
        brands=filters.brands or None,
        min_price=filters.min_price,
        max_price=filters.max_price,
        in_stock=in_stock,
    )
    if filters.colour:
        products = [p for p in products if colour_matches(p.attributes.get("颜色"), filters.colour)]
    if filters.avoided_brands:
        products = [p for p in products if p.brand not in filters.avoided_brands]
    if filters.avoided_colours:
        products = [
            p for p in products if other_colour(p.attributes.get("颜色"), filters.avoided_colours)
        ]
    if filters.size:
        products = [p for p in products if has_size(p.attributes.get("尺码"), filters.size)]
    if filters.gender:
        products = [p for p in products if gender_fits(p, filters.gender)]
    if filters.kind:
        products = [p for p in products if kind_of(p) == filters.kind]
    if filters.attributes:
        products = [p for p in products if constraints.fits(p, view.graph, filters.attributes)]
    if filters.within is not None:
        allowed = set(filters.within)
        products = [p for p in products if p.sku in allowed]
    return products


KIND_KEYS = ("品类", "类型", "款式")  # the catalog's own "what kind of product" attributes


def kind_of(product: Product) -> str | None:
    """What kind of product it is within its category (吹风机, 手机壳, 面霜), where it says."""
    attributes = product.attributes
    return next((str(attributes[k]) for k in KIND_KEYS if attributes.get(k)), None)


def gender_fits(product: Product, gender: str) -> bool:
    """A 男款 product never answers a woman's request; unisex and ungendered ones fit both."""
    line = str(product.attributes.get("适用人群") or "")
    own = gender_of(f"{product.title}{line}")
    return own is None or own == f"<{gender}>"


def has_size(values: Any, size: str) -> bool:
    sizes = values if isinstance(values, list) else [values] if values else []
    return any(str(v).upper() == size.upper() for v in sizes)


def colours_matching(values: Any, wanted: str) -> list[str]:
    names = values if isinstance(values, list) else [values] if values else []
    return [str(n) for n in names if colour_matches(n, wanted)]


@dataclass
class EmptyResult:
    """Why a search found nothing and what comes closest: never a silent, relaxed search."""

    blocker: str  # "price", "brand", "colour", "size" or "category"
    nearest: list[Product]  # closest products breaking only the blocker
    others: list[Product]  # products keeping the budget, of other brands or colours


def explain_empty(view: CatalogView, filters: SearchFilters) -> EmptyResult:
    """Drops one constraint at a time to find which one empties the result (price first: a
    shopper who names a brand usually cares about it), and the nearest products without it."""
    has_price = filters.min_price is not None or filters.max_price is not None
    unpriced = replace(filters, min_price=None, max_price=None)
    if has_price and (without_price := filter_products(view, unpriced)):
        nearest = sorted(without_price, key=lambda p: _price_gap(p.price, filters))
        others = filter_products(view, replace(filters, brands=[], colour=None))
        return EmptyResult("price", one_per_model(nearest)[:1], _best(others))
    if filters.brands and (other_brands := filter_products(view, replace(filters, brands=[]))):
        return EmptyResult("brand", [], _best(other_brands))
    if filters.colour and (other_colours := filter_products(view, replace(filters, colour=None))):
        return EmptyResult("colour", [], _best(other_colours))
    if filters.size and (other_sizes := filter_products(view, replace(filters, size=None))):
        return EmptyResult("size", [], _best(other_sizes))
    widest = filter_products(view, SearchFilters(category=filters.category))
    return EmptyResult("category", [], _best(widest))


def _price_gap(price: float, filters: SearchFilters) -> float:
    if filters.max_price is not None and price > filters.max_price:
        return price - filters.max_price
    if filters.min_price is not None and price < filters.min_price:
        return filters.min_price - price
    return 0.0


def _best(products: list[Product], k: int = 3) -> list[Product]:
    return one_per_model(rank_by_quality(products))[:k]


def colour_matches(values: Any, wanted: str) -> bool:
    """「白色」 matches 雪域白 and 白沙银: shoppers name the hue, catalogs name the shade."""
    hue = wanted[:-1] if wanted.endswith("色") and len(wanted) > 1 else wanted
    names = values if isinstance(values, list) else [values] if values else []
    return any(hue in str(name) for name in names)


def other_colour(values: Any, avoided: Sequence[str]) -> bool:
    """Whether a product comes in a colour other than the avoided ones (one without colours
    does): 「不要黑色的」 keeps a phone sold in black and white."""
    names = values if isinstance(values, list) else [values] if values else []
    return not names or any(not any(colour_matches(n, a) for a in avoided) for n in names)


def related_in_category(view: CatalogView, skus: Sequence[str], category: str) -> list[str]:
    """Products of `category` related to any of `skus`: 「iPhone 15的手机壳」 -> its cases."""
    found: dict[str, None] = {}
    for sku in skus:
        for other, _ in view.graph.related(sku):
            if view.graph.products[other].category == category:
                found[other] = None
    return list(found)


def rank_by_quality(products: list[Product], terms: Sequence[str] = ()) -> list[Product]:
    """Until the hybrid ranker is used: tag/description matches first, then rating, then stock."""

    def key(p: Product) -> tuple:
        text = " ".join([p.title, p.description, *p.tags])
        hits = sum(term in text for term in terms)
        return (-hits, -p.rating, p.price, p.sku)

    return sorted(products, key=key)


def one_per_model(products: Iterable[Product]) -> list[Product]:
    """Keeps the first variant of each model so a list never shows the same phone five times."""
    seen: set[str] = set()
    kept = []
    for p in products:
        model = p.model or p.title
        if model not in seen:
            seen.add(model)
            kept.append(p)
    return kept


# -- references to products already in the conversation ----------------------------------
_ORDINAL = re.compile(r"第\s*([一二两三四五六七八九十\d]+)\s*(?:个|款|台|件|种|部|双|支|瓶)?")
_FIRST_N = re.compile(r"(?:前|这)\s*([两二三四五\d])\s*(?:个|款|台|件|种|部|双)")
_LAST = re.compile(r"最后(?:一|1)?(?:个|款|台|件)")
_PREVIOUS = re.compile(r"上一(?:个|款|台|件)|刚才(?:那|的)|之前(?:那|的)|前面那")
_THIS = re.compile(r"这(?:款|个|台|部|件|双|支|瓶)|那(?:款|个|台|部|件|双)|它|他|她")


def _small_number(text: str) -> int | None:
    """「二」「两」「十二」「二十」「3」 as a count or position (cn_text reads the numeral)."""
    value = parse_chinese_number(text)
    return int(value) if value is not None and value.is_integer() else None


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

"""Product question answering over the graph: which product, which attribute, which filters.

Pure functions over a `CatalogView`; the actions only format what these return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cn_text.numbers import extract_prices
from knowledge_graph import constraints
from knowledge_graph.linking import Mention, normalise_key
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
    min_price: float | None = None
    max_price: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    colour: str | None = None
    size: str | None = None  # 「42码的跑鞋」: only products made in that size
    gender: str | None = None  # "男" or "女": 男款/女款 lines (unisex ones always fit)
    kind: str | None = None  # its 品类/类型/款式 (吹风机 after a hair dryer, not any 小家电)
    terms: list[str] = field(default_factory=list)  # attribute words such as 拍照, 续航
    within: list[str] | None = None  # only these SKUs (accessories of a named phone, say)

    def is_empty(self) -> bool:
        return not (
            self.category
            or self.brands
            or self.min_price
            or self.max_price
            or self.colour
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


def representative(view: CatalogView, skus: Sequence[str]) -> dict[str, Any]:
    """The variant to talk about: the cheapest one in stock, else the cheapest."""
    products = [view.graph.products[s] for s in skus if s in view.graph.products]
    return min(products, key=lambda p: (p["stock"] <= 0, p["price"], p["sku"]))


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


_REFUSED = re.compile(r"(?:不要|不喜欢|除了|别买|不考虑|不想要|排除)[^，,。]{0,2}$")
_NOT_BOUGHT = re.compile(r"(?:我是|我用|我的|用的是|我有|在用)[^，,。 ]{0,3}$|[打接]$")
_RAISED_TO = re.compile(
    r"(?:加|提|放宽|涨|降|调|增加|提高|放|改|升)(?:到|至)\s*([0-9一二两三四五六七八九十百千万kKwW.]+(?:元|块)?)"
)
# 「跑马拉松用什么表」「买块表」: 表 after a measure word is a watch (not 表格, 表情, 表演)
_WATCH = re.compile(r"(?:什么|块|个|款|只|的|好)表(?![格情演达示白哥姐妹弟])")


def prices_in(text: str) -> tuple[float | None, float | None]:
    """(min, max) yuan from Chinese price wishes, parsed by the same rules as the NLU's."""
    low = high = None
    # 「预算加到6000」「放宽到4000」: the new ceiling, not a price around it
    text = _RAISED_TO.sub(lambda m: f"{m.group(1)}以内", text)
    for constraint in extract_prices(text):
        if constraint.around is not None:
            low, high = round(constraint.around * 0.8), round(constraint.around * 1.2)
            continue
        if constraint.min is not None:
            low = constraint.min
        if constraint.max is not None:
            high = constraint.max
    return low, high


def filters_from(
    view: CatalogView, text: str, entities: Sequence[dict[str, Any]] = ()
) -> SearchFilters:
    """Hard filters from the text: category, brands, colour and attribute words from the linker,
    prices from `cn_text` on the text without the products it names. The NLU's price entities
    (the same parser, inside Rasa) are used only where they lie outside those products."""
    filters = SearchFilters()
    mentions = view.linker.link(text)
    excluded: set[str] = set()
    for mention in mentions:
        if mention.kind == "category":
            # The head noun comes last in Chinese: 「能打电话的手表」 is a watch, 「给笔记本充电的
            # 充电器」 a charger; what the shopper owns or does (「我是安卓手机」「能打电话」) is not
            # what they buy.
            if not (
                filters.category
                and _NOT_BOUGHT.search(text[max(0, mention.start - 5) : mention.start])
            ):
                filters.category = mention.value
        elif mention.kind == "brand" and _REFUSED.search(
            text[max(0, mention.start - 4) : mention.start]
        ):
            excluded.add(mention.value)  # 「他不喜欢苹果」「除了华为」
        elif mention.kind == "brand" and mention.value not in filters.brands:
            filters.brands.append(mention.value)
        elif mention.kind == "color" and not filters.colour:
            filters.colour = mention.value
        elif mention.kind == "attribute":
            filters.terms.append(mention.text)
    if not filters.category:
        filters.category = _category_inside_attribute_words(view, mentions)  # 「有什么配件」
    plain = masked(text, mentions)
    if not filters.category and not any(m.kind == "product" for m in mentions):
        # 「五百以内的吹风机」: a kind of product that only the titles name.
        filters.category = view.linker.resolver.category_of_kind_words(normalise_key(plain))
    if excluded and not filters.brands and filters.category:
        makers = {p["brand"] for p in view.graph.filter(category=filters.category)}
        filters.brands = sorted(makers - excluded)
    named_product = any(m.kind == "product" for m in mentions)
    if not filters.category and not named_product and _WATCH.search(plain):
        filters.category = "智能手表" if "智能手表" in view.graph.schema else None
    kind = constraints.kind_in(view.graph, normalise_key(plain))
    if kind and not named_product and filters.category in (None, kind[1]):
        filters.kind, filters.category = kind  # 「口红推荐」: lipsticks, not every 彩妆
    line = None if named_product else constraints.product_line_in(view.graph, text)
    if line and _OWNED_LINE.search(text.lower().split(line.word)[0][-6:]):
        line = None  # 「我用的iPhone，想买个手表」: the phone they own, not what they buy
    if line and filters.brands in ([], [line.brand]):
        # 「想买MacBook」「iPhone推荐」: that maker's line, whatever its models are called
        category = filters.category or line.category
        skus = [s for s in line.skus if category in (None, view.graph.products[s]["category"])]
        devices = [s for s in line.skus if view.graph.products[s]["category"] != category]
        if category == ACCESSORY_CATEGORY and len(devices) > len(skus):
            # 「iPhone手机壳」: cases for the line's devices, of any maker
            filters.within = related_in_category(view, devices, category)
        elif skus:
            filters.brands, filters.within, filters.category = [line.brand], skus, category
    filters.attributes = constraints.attribute_requirements(
        view.graph, plain, filters.category, attribute_mentions(view, mentions)
    )
    for wanted in filters.attributes.values():
        for token in wanted if isinstance(wanted, frozenset) else ():
            if token.isdigit():  # 「要4060显卡」 names a GPU, not a budget of about 4060
                plain = re.sub(token, "、" * len(token), plain, flags=re.I)
    filters.min_price, filters.max_price = prices_in(plain)
    filters.size = asked_size(plain)
    filters.gender = _GENDER_OF.get(gender_of(plain) or "")
    if filters.min_price is None and filters.max_price is None:
        spans = [(m.start, m.end) for m in mentions if m.kind == "product"]
        _apply_price_entities(filters, [e for e in entities if not _inside(e, spans)])
    return filters


ACCESSORY_CATEGORY = "手机配件"
_OWNED_LINE = re.compile(r"(?:我用的|我是|用的是|平时用|我的|用着)\s*$")
_QUESTION_WORD = re.compile(r"(?:什么|啥|哪种|哪类|哪款)\S")


def _category_inside_attribute_words(view: CatalogView, mentions: Sequence[Mention]) -> str | None:
    """「什么配件」 is a question word of 类型, and it ends in the category word 配件."""
    for mention in mentions:
        if mention.kind == "attribute" and _QUESTION_WORD.match(mention.text):
            for inner in view.linker.link(mention.text[1:]):
                if inner.kind == "category" and mention.text.endswith(inner.text):
                    return inner.value
    return None


def attribute_mentions(view: CatalogView, mentions: Sequence[Mention]) -> list[Mention]:
    """Attribute words, also those inside a category word: 「降噪耳机」 is an earphone that must
    have noise cancelling (the head noun is the last character or two, so it is left off)."""
    found = [m for m in mentions if m.kind == "attribute"]
    for mention in mentions:
        if mention.kind == "category" and len(mention.text) > 2:
            inner = view.linker.link(mention.text[:-1])
            found += [
                replace(m, start=mention.start + m.start, end=mention.start + m.end)
                for m in inner
                if m.kind == "attribute" and _is_feature(view, mention.value, m.value)
            ]
    return found


def _is_feature(view: CatalogView, category: str, attribute: str) -> bool:
    """A yes/no feature (降噪, 速干): what a category word's modifier can require. 「充电宝」
    holds 充电 but requires nothing."""
    key = view.graph.attribute_key(category, attribute)
    spec = view.graph.attribute_spec(category, key) if key else None
    return spec is not None and spec.type == "bool"


def requirements_in(view: CatalogView, text: str, category: str | None) -> dict[str, Any]:
    """Attribute requirements of a follow-up (「要带GPS的」) on the category already searched."""
    mentions = view.linker.link(text)
    return constraints.attribute_requirements(
        view.graph, masked(text, mentions), category, attribute_mentions(view, mentions)
    )


def understand_query(view: CatalogView, text: str) -> SearchFilters:
    """A search-box query as hard filters, the way the chat reads a message. A query that names
    products (「空气炸锅」「iphone15手机壳」) keeps to their category: hits of other categories
    that share a word (空气净化器, 小米15的壳) do not belong in its results."""
    filters = filters_from(view, text)
    if not filters.category:
        named = [m for m in view.linker.link(text) if m.kind == "product"]
        categories = {view.graph.products[s]["category"] for m in named for s in m.skus}
        if len(categories) == 1:
            filters.category = categories.pop()
    return filters


def understood_fields(filters: SearchFilters) -> dict[str, Any]:
    """What was understood, for the storefront's removable filter chips."""
    fields: dict[str, Any] = {
        "category": filters.category,
        "brand": filters.brands[0] if len(filters.brands) == 1 else None,
        "brands": filters.brands or None,
        "min_price": filters.min_price,
        "max_price": filters.max_price,
        "colour": filters.colour,
        "size": filters.size,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _inside(entity: dict[str, Any], spans: Sequence[tuple[int, int]]) -> bool:
    start, end = entity.get("start"), entity.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return False
    return any(start < e and end > s for s, e in spans)


def _apply_price_entities(filters: SearchFilters, entities: Sequence[dict[str, Any]]) -> None:
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


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def described_product(view: CatalogView, text: str) -> dict[str, Any] | None:
    """The one product a description fits, when it names no model: a brand, a kind and a spec
    (「小米20000mAh充电宝」). None when it fits none or several."""
    filters = filters_from(view, text)
    if not (filters.kind or filters.category) or not filters.brands or filters.within:
        return None
    fitting = one_per_model(filter_products(view, filters, in_stock=False))
    return fitting[0] if len(fitting) == 1 else None


def described_device(
    view: CatalogView, text: str, accessory_category: str
) -> dict[str, Any] | None:
    """The device a description names for its accessories (「苹果手表表带 46mm的」 → the Apple
    Watch of 46mm): its maker and category, narrowed by the sizes and numbers written, when one
    model is left."""
    filters = filters_from(view, text)
    category = filters.category
    if category == accessory_category or not filters.brands:
        category = next(
            (m.value for m in view.linker.link(text) if m.kind == "category"
             and m.value != accessory_category), None,
        )  # fmt: skip
    if not category or not filters.brands:
        return None
    devices = view.graph.filter(category=category, brands=filters.brands, in_stock=False)
    numbers = re.findall(r"\d+\s*(?:mm|英寸|寸)?", text.lower())
    for number in numbers:
        narrowed = [p for p in devices if number.replace(" ", "") in p["title"].lower()]
        devices = narrowed or devices
    models = one_per_model(devices)
    return models[0] if len(models) == 1 else None


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
    if filters.size:
        products = [p for p in products if has_size(p["attributes"].get("尺码"), filters.size)]
    if filters.gender:
        products = [p for p in products if gender_fits(p, filters.gender)]
    if filters.kind:
        products = [p for p in products if kind_of(p) == filters.kind]
    if filters.attributes:
        products = [p for p in products if constraints.fits(p, view.graph, filters.attributes)]
    if filters.within is not None:
        allowed = set(filters.within)
        products = [p for p in products if p["sku"] in allowed]
    return products


# 「42码」「36.5号」「8的有吗」(US sizes) 「M码」「4XL码」: a size needs 码/号 or 「的有」 after it.
_SIZE = re.compile(
    r"(?<![\d.a-z])(\d{1,2}(?:\.5)?)\s*(?:码|号|的码|的(?=还?有))"
    r"|(?<![a-z0-9])([2-6]?x{1,3}l|xs|s|m|l)\s*(?:码|号|的(?=还?有))",
    re.I,
)


def asked_size(text: str) -> str | None:
    """The size in 「42码有吗」「M码还有吗」 (shoe sizes and letter sizes), as the catalog writes it."""
    match = _SIZE.search(text)
    if not match:
        return None
    return match.group(1) or match.group(2).upper()


_BARE_NUMBER = re.compile(
    r"^\s*(?:要|穿|我穿)?\s*(\d{2}(?:\.5)?|[smlx]{1,3}l?)\s*(?:的|吧|呢)?\s*$", re.I
)


def bare_size(view: CatalogView, text: str, category: str | None) -> str | None:
    """「43」「XL」 alone, in a category sold by size (跑步鞋, 运动服饰): the size asked for."""
    match = _BARE_NUMBER.match(text)
    if not match or not category or "尺码" not in view.graph.schema.get(category, {}):
        return None
    size = match.group(1).upper()
    sizes = {
        str(s).upper()
        for p in view.graph.filter(category=category)
        for s in (p["attributes"].get("尺码") or [])
    }
    return size if size in sizes else None


_BARE_HUE = re.compile(r"有(?:没有)?([白黑红蓝绿紫粉金银灰黄橙棕])(?:色|的)?(?:吗|么|嘛|没)")


def asked_colour(view: CatalogView, text: str) -> str | None:
    """A colour the shopper asks about (「有白色吗」「雅川青有货吗」「有黑的吗」), outside any
    product's name."""
    linked = next((m.value for m in view.linker.link(text) if m.kind == "color"), None)
    if linked:
        return linked
    bare = _BARE_HUE.search(text)
    return f"{bare.group(1)}色" if bare else None


_GENDER_OF = {"<男>": "男", "<女>": "女"}
KIND_KEYS = ("品类", "类型", "款式")  # the catalog's own "what kind of product" attributes


def kind_of(product: dict[str, Any]) -> str | None:
    """What kind of product it is within its category (吹风机, 手机壳, 面霜), where it says."""
    attributes = product.get("attributes") or {}
    return next((str(attributes[k]) for k in KIND_KEYS if attributes.get(k)), None)


def gender_fits(product: dict[str, Any], gender: str) -> bool:
    """A 男款 product never answers a woman's request; unisex and ungendered ones fit both."""
    line = str((product.get("attributes") or {}).get("适用人群") or "")
    own = gender_of(f"{product['title']}{line}")
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
    nearest: list[dict[str, Any]]  # closest products breaking only the blocker
    others: list[dict[str, Any]]  # products keeping the budget, of other brands or colours


def explain_empty(view: CatalogView, filters: SearchFilters) -> EmptyResult:
    """Drops one constraint at a time to find which one empties the result (price first: a
    shopper who names a brand usually cares about it), and the nearest products without it."""
    has_price = filters.min_price is not None or filters.max_price is not None
    unpriced = replace(filters, min_price=None, max_price=None)
    if has_price and (without_price := filter_products(view, unpriced)):
        nearest = sorted(without_price, key=lambda p: _price_gap(p["price"], filters))
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


def _best(products: list[dict[str, Any]], k: int = 3) -> list[dict[str, Any]]:
    return one_per_model(rank_by_quality(products))[:k]


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

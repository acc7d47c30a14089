"""Query understanding: what a shopper's words ask for, as filters over the catalog graph.

The chat's actions and the storefront's search box (`search/hybrid.py:search_box`) read a
request the same way: mentions linked to the graph (brands, categories, models, attribute
values), prices by the NLU's own rules (cn_text/prices.py), sizes, colours, gender, features
named inside category words (降噪耳机), and the products or devices a description fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cn_text.prices import NameWords, extract_prices
from knowledge_graph import constraints
from knowledge_graph.context import accessory_kinds_in
from knowledge_graph.linking import Mention, normalise_key
from knowledge_graph.product import Product
from knowledge_graph.qa import (
    ACCESSORY_CATEGORY,
    SearchFilters,
    filter_products,
    kind_of,
    masked,
    one_per_model,
    related_in_category,
)
from knowledge_graph.resolve import gender_of
from knowledge_graph.service import CatalogView

_REFUSED = re.compile(r"(?:不要|不喜欢|除了|别买|别|不考虑|不想要|排除|去掉)[^，,。]{0,2}$")
_REFUSED_COLOUR = re.compile(
    r"(?:不要|不喜欢|除了|别|不考虑|不想要|排除|(?<!是)不是)[^，,。]{0,2}$"
)
# 「华为和小米以外的」「小米的不要」: a refusal after the names.
_REFUSED_AFTER = re.compile(r"^(?:的)?(?:都|也)?(?:不要(?!太)|不考虑|不喜欢|除外|以外|之外|算了)")
# What joins names refused together: 「除了华为和小米」「不要黑色或白色」.
_JOINED = re.compile(r"^\s*(?:和|跟|与|或者|或|及|、|/)\s*$")
_NOT_BOUGHT = re.compile(r"(?:我是|我用|我的|用的是|我有|在用)[^，,。 ]{0,3}$|[打接]$")
_RAISED_TO = re.compile(
    r"(?:加|提|放宽|涨|降|调|增加|提高|放|改|升)(?:到|至)\s*([0-9一二两三四五六七八九十百千万kKwW.]+(?:元|块)?)"
)


# 「跑马拉松用什么表」「买块表」: 表 after a measure word is a watch (not 表格, 表情, 表演)
_WATCH = re.compile(r"(?:什么|块|个|款|只|的|好)表(?![格情演达示白哥姐妹弟])")


# A message that is only an amount (「3000」「三千块」「2k」), the way a budget asked for is given.
_BARE_AMOUNT = re.compile(
    r"\s*[0-9一二两三四五六七八九十百千万kKwW.]+\s*(?:块钱|块|元|rmb)?\s*[。.!！~～]*\s*", re.I
)


def prices_in(text: str, names: NameWords) -> tuple[float | None, float | None]:
    """(min, max) yuan from Chinese price wishes, parsed by the same rules as the NLU's;
    `names` are the catalog's brand and model-line names (`CatalogView.price_names`)."""
    low = high = None
    # 「预算加到6000」「放宽到4000」: the new ceiling, not a price around it
    text = _RAISED_TO.sub(lambda m: f"{m.group(1)}以内", text)
    for constraint in extract_prices(text, names):
        if constraint.around is not None and _BARE_AMOUNT.fullmatch(text):
            high = constraint.around  # 「3000」 alone, as a budget is given: at most that
            continue
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
    refused = _refused(text, mentions, "brand", _REFUSED) | _refused(
        text, mentions, "color", _REFUSED_COLOUR
    )
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
        elif mention.kind == "brand" and id(mention) in refused:
            excluded.add(mention.value)  # 「他不喜欢苹果」「除了华为和小米」
        elif mention.kind == "brand" and mention.value not in filters.brands:
            filters.brands.append(mention.value)
        elif mention.kind == "color" and id(mention) in refused:
            if mention.value not in filters.avoided_colours:
                filters.avoided_colours.append(mention.value)  # 「不要黑色的」
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
    filters.avoided_brands = sorted(excluded - set(filters.brands))
    if excluded and not filters.brands and filters.category:
        makers = {p.brand for p in view.graph.filter(category=filters.category)}
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
        skus = [s for s in line.skus if category in (None, view.graph.products[s].category)]
        devices = [s for s in line.skus if view.graph.products[s].category != category]
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
        if isinstance(wanted, tuple):  # 「重量200以内」: the spec's number, not a budget
            for bound in (b for b in wanted if b is not None):
                number = re.escape(f"{bound:g}")
                plain = re.sub(
                    rf"(?<=[\u4e00-\u9fff])({number})(?![\d.])",
                    lambda m: "、" * len(m.group()),
                    plain,
                )
    filters.min_price, filters.max_price = prices_in(plain, view.price_names)
    filters.size = asked_size(plain)
    filters.gender = _GENDER_OF.get(gender_of(plain) or "")
    if filters.min_price is None and filters.max_price is None:
        spans = [(m.start, m.end) for m in mentions if m.kind == "product"]
        _apply_price_entities(filters, [e for e in entities if not _inside(e, spans)])
    return filters


def _refused(
    text: str, mentions: Sequence[Mention], kind: str, refusal: re.Pattern[str]
) -> set[int]:
    """The ids of the `kind` mentions refused: after a refusal word, joined to a refused one
    (「除了华为和小米」), or before a refusal (「华为和小米以外」「黑色的不要」)."""
    named = [m for m in mentions if m.kind == kind]
    refused: set[int] = set()
    for i, mention in enumerate(named):
        joined = i > 0 and _JOINED.match(text[named[i - 1].end : mention.start])
        if refusal.search(text[max(0, mention.start - 4) : mention.start]) or (
            joined and id(named[i - 1]) in refused
        ):
            refused.add(id(mention))
    for i in reversed(range(len(named))):
        after = i + 1 < len(named) and _JOINED.match(text[named[i].end : named[i + 1].start])
        if _REFUSED_AFTER.match(text[named[i].end :]) or (after and id(named[i + 1]) in refused):
            refused.add(id(named[i]))
    return refused


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
    named = [s for m in view.linker.link(text) if m.kind == "product" for s in m.skus]
    devices = [s for s in named if view.graph.products[s].category != ACCESSORY_CATEGORY]
    kinds = accessory_kinds_in(text) if devices else []
    if kinds and filters.category in (None, ACCESSORY_CATEGORY, *_categories(view, devices)):
        # 「iPhone15的壳」「mate60的膜」: the accessories of those kinds made for the device
        fitting = related_in_category(view, devices, ACCESSORY_CATEGORY)
        products = view.graph.products
        filters.category = ACCESSORY_CATEGORY
        filters.within = [s for s in fitting if kind_of(products[s]) in kinds]
    elif not filters.category:
        categories = _categories(view, named)
        if len(categories) == 1:
            filters.category = categories.pop()
    return filters


def _categories(view: CatalogView, skus: Sequence[str]) -> set[str]:
    return {view.graph.products[s].category for s in skus}


def understood_fields(filters: SearchFilters) -> dict[str, Any]:
    """What was understood, for the storefront's removable filter chips."""
    fields: dict[str, Any] = {
        "category": filters.category,
        "brand": filters.brands[0] if len(filters.brands) == 1 else None,
        "brands": filters.brands or None,
        "avoided_brands": filters.avoided_brands or None,
        "min_price": filters.min_price,
        "max_price": filters.max_price,
        "colour": filters.colour,
        "avoided_colours": filters.avoided_colours or None,
        "size": filters.size,
        "attributes": {
            key: constraints.requirement_json(wanted) for key, wanted in filters.attributes.items()
        }
        or None,
    }
    return {k: v for k, v in fields.items() if v is not None}


def understood_requirements(view: CatalogView, filters: SearchFilters) -> list[str]:
    """The attribute requirements restated with their units (「屏幕尺寸6.5英寸以上」)."""
    units = constraints.spec_units(view.graph, filters.category)
    return [
        constraints.requirement_text(key, wanted, units.get(key, ""))
        for key, wanted in filters.attributes.items()
    ]


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


def described_product(view: CatalogView, text: str) -> Product | None:
    """The one product a description fits, when it names no model: a brand, a kind and a spec
    (「小米20000mAh充电宝」). None when it fits none or several."""
    filters = filters_from(view, text)
    if not (filters.kind or filters.category) or not filters.brands or filters.within:
        return None
    fitting = one_per_model(filter_products(view, filters, in_stock=False))
    return fitting[0] if len(fitting) == 1 else None


def described_device(view: CatalogView, text: str, accessory_category: str) -> Product | None:
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
        narrowed = [p for p in devices if number.replace(" ", "") in p.title.lower()]
        devices = narrowed or devices
    models = one_per_model(devices)
    return models[0] if len(models) == 1 else None


# 「42码」「36.5号」「8的有吗」(US sizes) 「M码」「4XL码」: a size needs 码/号 or 「的有」 after it.
_SIZE = re.compile(
    r"(?<![\d.a-z])(\d{1,2}(?:\.5)?)\s*(?:码|号|的码|的(?=还?有))(半)?"
    r"|(?<![a-z0-9])([2-6]?x{1,3}l|xs|s|m|l)\s*(?:码|号|的(?=还?有))"
    r"|(?<![a-z0-9])([2-6]?x{1,3}l|x{1,2}s)(?![a-z0-9])",  # 「XL的」「要XXL」: sizes by themselves
    re.I,
)


def asked_size(text: str) -> str | None:
    """The size in 「42码有吗」「M码还有吗」 (shoe sizes and letter sizes), as the catalog writes it."""
    match = _SIZE.search(text)
    if not match:
        return None
    if match.group(1):
        return match.group(1) + (".5" if match.group(2) else "")  # 「42码半」
    return _LETTER_SIZES.get(size := (match.group(3) or match.group(4)).upper(), size)


_LETTER_SIZES = {"XXXL": "3XL", "2XL": "XXL", "XXXXL": "4XL"}  # as the catalog writes them


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
        for s in (p.attributes.get("尺码") or [])
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


def tags_in(view: CatalogView, text: str) -> list[str]:
    """Catalog tags the shopper used (拍照, 油皮, 学生, 送礼 ...), longest first."""
    plain = normalise_key(text)
    vocabulary = {t for p in view.graph.products.values() for t in p.tags}
    return sorted((t for t in vocabulary if len(t) >= 2 and t in plain), key=len, reverse=True)

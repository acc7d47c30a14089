"""Follow-ups read against the conversation: 「哪个便宜」 over the list shown, 「差价多少」 between
the two products just discussed, 「那13呢」 as the model in focus with another number, accessories
named by shoppers' words (壳, 膜, 表带) for a device, and bundles with their total.

Pure functions over a `CatalogView`; the actions keep the state (slots) and format replies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge_graph import qa
from knowledge_graph.graph import numeric_value
from knowledge_graph.product import Product
from knowledge_graph.service import CatalogView

ACCESSORY_CATEGORY = qa.ACCESSORY_CATEGORY
# Shoppers' words for an accessory kind (the catalog's 类型). One word may mean several kinds
# (保护套: a phone case or an earbuds case); the device decides which exist.
ACCESSORY_WORDS: dict[str, tuple[str, ...]] = {
    "手机壳": ("手机壳", "保护壳", "手机套", "外壳", "保护套", "壳"),
    "贴膜": ("钢化膜", "手机膜", "保护膜", "屏幕膜", "贴膜", "膜"),
    "无线充电器": ("无线充电器", "无线充"),
    "充电器": ("充电器", "充电头", "快充头", "适配器", "插头"),
    "数据线": ("数据线", "充电线"),
    "充电宝": ("充电宝", "移动电源"),
    "表带": ("表带", "腕带"),
    "耳机保护套": ("耳机保护套", "耳机套", "耳机壳", "保护套"),
    "支架": ("手机支架", "支架"),
}
_NOT_ACCESSORY = re.compile(r"面膜|膜法|贝壳|壳牌")

_WHICH = re.compile(r"哪(?:个|款|台|部|双|支|瓶|一个|一款|一台|一部|一双|种)|谁")
_DIFFERENCE = re.compile(
    r"差价|价差|差多少|差了多少|相差|贵多少|便宜多少|贵了多少|便宜了多少|差几[块百千]|[贵便宜]几[块百千]"
)
_TOTAL = re.compile(r"一共|总共|加起来|合计|总价|一起买|全部买|都买|打包")
# Adjectives that name what 「哪个…」 is about when no attribute word does.
_CHEAP = re.compile(r"便宜|实惠|划算|省钱|价格低|价格便宜|最低价")
_DEAR = re.compile(r"最贵|更贵|贵一些|价格高")
_RATED = re.compile(r"评分|口碑|好评|评价")
_LIGHT = re.compile(r"轻")
_SMALL = re.compile(r"小|短|薄|低|少|慢")
_BIG = re.compile(r"大|长|高|多|快|强|久")


@dataclass(frozen=True)
class Superlative:
    """The product that wins on one criterion among those shown, with every value."""

    label: str  # what was judged: 价格, 电池容量 …
    winner: Product
    values: list[tuple[Product, Any]]  # (product, value) in the order shown
    unit: str | None
    direction: str | None  # "higher", "lower" or None when there is no better (颜色, 处理器)


def asks_which(text: str) -> bool:
    return bool(_WHICH.search(text))


def asks_difference(text: str) -> bool:
    return bool(_DIFFERENCE.search(text))


def asks_total(text: str) -> bool:
    return bool(_TOTAL.search(text)) and bool(re.search(r"多少|几[块钱]|价", text))


def superlative(view: CatalogView, text: str, products: Sequence[Product]) -> Superlative | None:
    """「哪个便宜」「哪个充电快」「哪个更轻」 over `products`: the one that wins, or None when the
    message names no criterion the catalog can judge."""
    if len(products) < 2:
        return None
    if _CHEAP.search(text) or _DEAR.search(text):
        direction = "higher" if _DEAR.search(text) else "lower"
        values = [(p, p.price) for p in products]
        return _winner("价格", values, "元", direction)
    fields = [f for f in qa.asked_fields(view, text) if f not in ("stock",)]
    if _RATED.search(text) or fields[:1] == ["rating"]:
        return _winner("评分", [(p, p.rating) for p in products], "分", "higher")
    category = products[0].category
    if not fields and _LIGHT.search(text):
        fields = [k for k in ("重量",) if view.graph.attribute_key(category, k)]
    for field_name in fields:
        key = view.graph.attribute_key(category, field_name)
        if not key:
            continue
        spec = view.graph.attribute_spec(category, key)
        values = [(p, p.attributes.get(key)) for p in products]
        if all(v is None for _, v in values):
            continue
        direction = spec.better if spec else None
        asked_small = _SMALL.search(text) or _LIGHT.search(text)
        if asked_small and not _BIG.search(text):
            direction = "lower" if direction in ("higher", None) else direction
        elif _BIG.search(text) and direction is None and _numeric(values):
            direction = "higher"
        return _winner(key, values, spec.unit if spec else None, direction)
    return None


def _numeric(values: Sequence[tuple[Product, Any]]) -> bool:
    return all(numeric_value(v) is not None for _, v in values if v is not None)


def _winner(
    label: str, values: list[tuple[Product, Any]], unit: str | None, direction: str | None
) -> Superlative:
    known = [(p, numeric_value(v)) for p, v in values if numeric_value(v) is not None]
    winner = values[0][0]
    if known and direction in ("higher", "lower"):
        pick = max if direction == "higher" else min
        winner = pick(known, key=lambda pv: pv[1])[0]
    else:
        direction = None
    return Superlative(label, winner, values, unit, direction)


def price_difference(a: Product, b: Product) -> float:
    return abs(a.price - b.price)


# -- accessories and bundles -------------------------------------------------------------------
def accessory_kinds_in(text: str) -> list[str]:
    """Accessory kinds the shopper's words name, in the order written (「壳和膜」 → 手机壳, 贴膜).
    A word that could be several kinds yields all of them; `fitting` keeps those that exist."""
    plain = _NOT_ACCESSORY.sub(" ", text)
    kinds_of: dict[str, list[str]] = {}
    for kind, words in ACCESSORY_WORDS.items():
        for word in words:
            kinds_of.setdefault(word, []).append(kind)
    taken = [False] * len(plain)
    found: list[tuple[int, str]] = []
    for word in sorted(kinds_of, key=len, reverse=True):  # 钢化膜 before 膜
        for match in re.finditer(re.escape(word), plain):
            span = range(match.start(), match.end())
            if any(taken[i] for i in span):
                continue
            for i in span:
                taken[i] = True
            found += [(match.start(), kind) for kind in kinds_of[word]]
    return list(dict.fromkeys(kind for _, kind in sorted(found)))


_ORIGINAL = re.compile(r"原装|原厂|官方")


def asks_original(text: str) -> bool:
    """「原装壳」, 「要原装的」, 「官方的」: made by the device's own brand."""
    return bool(_ORIGINAL.search(text))


def fitting(
    view: CatalogView, device_skus: Sequence[str], kinds: Sequence[str], per_kind: int = 2
) -> dict[str, list[Product]]:
    """In-stock accessories of each kind made for (or compatible with) the device, best first.
    Kinds the device has none of are left out."""
    related = qa.related_in_category(view, list(device_skus), ACCESSORY_CATEGORY)
    found: dict[str, list[Product]] = {}
    for kind in kinds:
        products = [
            view.graph.products[s]
            for s in related
            if qa.kind_of(view.graph.products[s]) == kind and view.graph.products[s].stock > 0
        ]
        if products:
            found[kind] = qa.one_per_model(qa.rank_by_quality(products))[:per_kind]
    return found


@dataclass(frozen=True)
class Bundle:
    items: list[Product]
    total: float
    missing: list[str]  # kinds asked for that the device has no accessory of


def bundle(view: CatalogView, device: Product, kinds: Sequence[str]) -> Bundle:
    """The device with the best-rated fitting accessory of each kind asked, and the total."""
    picks = fitting(view, view.graph.variants(device.sku), kinds, per_kind=1)
    items = [device, *(products[0] for products in picks.values())]
    missing = [k for k in kinds if k not in picks and not found_as_alias(k, picks)]
    return Bundle(items, round(sum(p.price for p in items), 2), missing)


def found_as_alias(kind: str, picks: dict[str, Any]) -> bool:
    """保护套 asked: found as a phone case, so not missing as an earbuds case."""
    shared = set(ACCESSORY_WORDS[kind])
    return any(shared & set(ACCESSORY_WORDS[k]) for k in picks)


# -- 「那13呢」: the model in focus with another number or suffix ---------------------------
_ELLIPSIS = re.compile(
    r"^(?:那|那么|换成|换|要是|如果是|改成)?\s*(.+?)\s*(?:的)?\s*(?:呢|咧|嘞)?[?？。!！~～]*$"
)
_SWAP = re.compile(r"^\d{1,3}$|^(?:pro|max|plus|ultra|mini|air|lite|se)(?:\s*\+|\s*max)?$", re.I)


def swapped_model_name(text: str, focus: Product | None) -> str | None:
    """「那13呢」 after the iPhone 15 → "iPhone 13"; 「pro呢」 after the 小米14 → "小米14 Pro"."""
    if focus is None or "尺码" in focus.attributes:
        return None  # 「42呢」 after a shoe is its size, not a model number
    match = _ELLIPSIS.match(text.strip())
    if not match or not re.search(r"呢|咧|嘞", text):
        return None
    word = match.group(1).strip()
    if not _SWAP.match(word):
        return None
    model = focus.model or ""
    if word.isdigit():
        numbers = list(re.finditer(r"\d+", model))
        if not numbers:
            return None
        last = numbers[-1]
        swapped = model[: last.start()] + word + model[last.end() :]
        # 「iPhone 15 Pro」 with 「13」: the number's line, without the suffix the shopper dropped
        return swapped[: last.start() + len(word)].strip()
    base = re.sub(r"\s+(?:pro|max|plus|ultra|mini|air|lite|se)\b.*$", "", model, flags=re.I)
    return f"{base} {word}"


# -- comparisons per use: the catalog's facts that matter for it, as a reviewer would weigh ----
USES: dict[str, tuple[str, ...]] = {
    "拍照": ("主摄像素",),
    "续航": ("电池容量", "充电功率", "续航", "续航天数"),
    "性能": ("处理器", "运行内存", "内存", "显卡", "独立显卡", "屏幕刷新率"),
    "游戏": ("处理器", "运行内存", "内存", "显卡", "屏幕刷新率", "电池容量"),
    "马拉松": ("适用场景", "碳板", "缓震", "重量"),
    "降噪": ("降噪", "类型", "续航"),
    "防晒": ("防晒指数", "适用肤质"),
    "缓震": ("缓震", "中底科技", "重量"),
}
_USE_WORDS = {"拍照": r"拍照|拍摄|摄影|相机|拍人像|夜景", "续航": r"续航|电池|待机|耐用电",
              "性能": r"性能|流畅|卡不卡|速度", "游戏": r"游戏|打游戏|吃鸡|原神|王者",
              "马拉松": r"马拉松|半马|全马|比赛", "降噪": r"降噪|通勤|地铁|安静",
              "防晒": r"防晒|晒黑|紫外线", "缓震": r"缓震|脚感|回弹"}  # fmt: skip
SKIN_TYPES = ("干皮", "油皮", "混油", "混干", "混合皮", "敏感肌", "中性皮")


def use_asked(view: CatalogView, text: str, category: str) -> tuple[str | None, list[str]]:
    """「哪个拍照好」 → ("拍照", the category's keys for it); (None, []) when no use is named."""
    schema = view.graph.schema.get(category, {})
    for use, pattern in _USE_WORDS.items():
        if re.search(pattern, text):
            keys = [k for k in USES[use] if k in schema]
            if keys:
                return use, keys
    return None, []


def skin_asked(text: str) -> str | None:
    return next((s for s in SKIN_TYPES if s in text), None)


def skin_fit(product: Product, skin: str) -> int:
    """2: made for that skin, 1: for every skin, 0: not said."""
    told = str(product.attributes.get("适用肤质") or "") + " ".join(product.tags)
    if skin in told or skin.rstrip("皮肌") in told:
        return 2
    return 1 if "所有肤质" in told else 0

"""Constraints a shopper writes beyond category, brand and price: the kind of product (口红, not
any 彩妆; 电饭煲, not any 小家电) and attribute requirements (要带GPS的, 有碳板的, 内存32G, 要
4060显卡, 有线的, 控油的). Each is a hard filter, kept across refinements like the others.

Words come from the catalog itself (its kind values and attribute values), so a merchant's new
kind or spec is understood without code changes; a few shoppers' synonyms are listed here.
"""

from __future__ import annotations

import math
import re
import statistics
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from knowledge_graph.graph import ProductGraph, numeric_value
from knowledge_graph.measures import (
    MEMORY_KEYS,
    RAM_KEYS,
    STORAGE_KEYS,
    is_weight,
    measured_requirements,
)
from knowledge_graph.product import Product

KIND_KEYS = ("品类", "类型", "款式")
# Shoppers' words for a catalog kind.
KIND_SYNONYMS = {
    "洗面奶": "洁面",
    "洁面乳": "洁面",
    "洗脸奶": "洁面",
    "精华液": "精华",
    "电吹风": "吹风机",
    "扫地机": "扫地机器人",
    "电饭锅": "电饭煲",
    "烧水壶": "电热水壶",
    "热水壶": "电热水壶",
    "运动bra": "运动内衣",
    "运动文胸": "运动内衣",
    "t恤": "短袖T恤",
    "短袖": "短袖T恤",
    "小锅": "料理锅",
    "煮面锅": "料理锅",
    "宿舍锅": "料理锅",
    "多功能锅": "料理锅",
}
# Kinds too generic to name one (「充电器套装」 is not a skincare set).
GENERIC_KINDS = frozenset({"套装"})
# Attributes other filters own, or whose values are not requirements.
SKIPPED_KEYS = frozenset({"颜色", "尺码", "适用人群", *KIND_KEYS, "适配机型", "处理器", "操作系统"})
ALL_SKINS = "所有肤质"
# Shoppers' skin words for the catalog's 适用肤质 values (same length, so positions hold).
SKIN_WORDS = {"油皮": "油性", "干皮": "干性", "混油": "混合", "混干": "混合", "油痘": "痘痘"}
# A number right after a spec's word (「内存32G」「内存要16G」「电池至少5000」), or with its unit
# right before it (「16G内存」); not one words away (「拍照好的手机3000左右」 is a budget).
_NUMBER_AFTER = re.compile(
    r"^[\s:：=]*(?:要|是|在|有|达到|至少|起码|最少|大于|超过|不低于|不小于|>=|≥|>)?[\s:：=]*"
    r"(\d+(?:\.\d+)?)\s*(tb|t|gb|g|mah|w|hz|小时|天|寸|英寸)?",
    re.I,
)
_NUMBER_BEFORE = re.compile(r"(\d+(?:\.\d+)?)\s*(tb|t|gb|g|mah|w|hz|小时|天|寸|英寸)\D{0,2}$", re.I)
_SCALE = {"t": 1024.0, "tb": 1024.0}
# The bound that makes sense for a spec's direction, after a number without a unit: 「电池5000以上」
# and 「重量200以下」 are the spec; 「电池3000以内」 or 「续航2000左右」 read as a budget.
_SPEC_SIDE = {"higher": ("以上",), "lower": ("以下", "以内")}
_PRICE_AFTER = re.compile(r"\s*(?:以内|以下|以上|左右|上下|元|块|rmb)")
# 「不带碳板的」「不要降噪的」; 「有没有碳板的」「能不能打电话」「带不带GPS」 are questions.
_NEGATED = re.compile(
    r"(?:(?<!要)不要|(?<!用)不用|(?<!需要)不需要|别|(?<!有)没有|无需|(?<!带)不带|(?<!含)不含"
    r"|(?<!是)不是|(?<!能)不能)\s*$"
)
# 「电池要大的」「续航长一点」「大电池」「高刷」 / 「噪音小的」「重量轻一点」「低噪音」「静音」: a spec
# asked bigger or smaller without a number. 「拍照好的」 is not: more pixels are no better photos.
_BIGGER_AFTER = re.compile(r"^\s*(?:要|更|再|比较|超|很|够)?(?:大|长|久|多|足|高)")
_BIGGER_BEFORE = re.compile(r"(?:大|长|高|超大|超长)$")
_SMALLER_AFTER = re.compile(r"^\s*(?:要|更|再|比较|超|很|够)?(?:轻|小|低|少)")
_SMALLER_BEFORE = re.compile(r"(?:低|轻|小)$")


def _beats_typical(text: str, mention: Any, higher: bool) -> bool:
    after, before = (
        text[mention.end : mention.end + 6],
        text[max(0, mention.start - 2) : mention.start],
    )
    word = mention.text
    if higher:
        return bool(
            _BIGGER_AFTER.match(after) or _BIGGER_BEFORE.search(before) or word[:1] in "大长高"
        )
    return bool(
        _SMALLER_AFTER.match(after) or _SMALLER_BEFORE.search(before) or word[:1] in "低轻小静"
    )


_ALSO_FINE = re.compile(r"^[^，,。；;]*(?:也行|也可以|也没关系|也ok|无所谓)", re.I)
# 「缓震好一点」「续航强的」: a graded text value asked above its plainest grade.
_BETTER = re.compile(r"^\s*(?:要|更|再)?(?:好|强|足|高|棒|厉害|出色)")
_PLAINEST_GRADE = re.compile(r"^(?:轻|低|弱|基础|普通|入门|一般)")
# 「辣的」「要甜一点的」「有没有清淡的」: one short word standing for a value.
_BARE_WORD = re.compile(
    r"(?:要|有没有|有|来点|想要|换成?)?([\u4e00-\u9fff]{1,3}?)(?:一点|点)?的(?:吗|呢|吧|有吗)?[?？]?"
)
# The shopper's own phone decides which watches work with it: 「我用的iPhone」 needs iOS support.
SYSTEM_KEY = "适配系统"
_OWN_SYSTEMS = (
    (re.compile(r"iphone|苹果手机|果粉|(?<![a-z])ios(?![a-z])", re.I), "ios"),
    (re.compile(r"安卓|android", re.I), "android"),
    (re.compile(r"鸿蒙|harmony", re.I), "harmonyos"),
)


class _Vocabulary:
    """Kind words and attribute value tokens of one catalog version."""

    def __init__(self, graph: ProductGraph) -> None:
        self.kinds: dict[str, tuple[str, str]] = {}  # word → (kind, category)
        self.values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.by_key: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for product in graph.products.values():
            attributes = product.attributes
            kind = next((str(attributes[k]) for k in KIND_KEYS if attributes.get(k)), None)
            if kind and kind not in GENERIC_KINDS and len(kind) >= 2:
                self.kinds.setdefault(kind.lower(), (kind, product.category))
            for key, value in attributes.items():
                if key in SKIPPED_KEYS or isinstance(value, bool | int | float):
                    continue
                for item in value if isinstance(value, list) else [value]:
                    self.by_key[product.category][key].add(str(item))
                    for token in _tokens(str(item)):
                        self.values[product.category][token].add(key)
        self.typical = _typical_values(graph)
        for word, kind in KIND_SYNONYMS.items():
            owner = self.kinds.get(kind.lower())
            if owner:
                self.kinds[word] = owner
        self.lines = _product_lines(graph)


def _typical_values(graph: ProductGraph) -> dict[tuple[str, str], float]:
    """(category, key) -> the category's median of each spec where more or less is better,
    rounded to two significant digits towards the side that keeps the median product in:
    what 「电池要大的」「噪音小的」 ask to beat."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for product in graph.products.values():
        for key, spec in graph.schema.get(product.category, {}).items():
            number = numeric_value(product.attributes.get(key))
            if spec.type == "number" and spec.better in ("higher", "lower") and number is not None:
                values[(product.category, key)].append(number)
    typical = {}
    for (category, key), numbers in values.items():
        median = statistics.median(numbers)
        higher = graph.schema[category][key].better == "higher"
        typical[(category, key)] = _two_digits(median, down=higher)
    return typical


def _two_digits(value: float, down: bool) -> float:
    if value <= 0:
        return value
    step = 10 ** (math.floor(math.log10(value)) - 1)
    rounded = (math.floor if down else math.ceil)(round(value / step, 6)) * step
    return float(f"{rounded:.6g}")


# Values that say nothing a shopper would require (「支持」 is 磁吸's yes).
NOT_REQUIREMENTS = frozenset({"支持", "不支持", "标准", "普通", "其他", "通用", "均衡", "无"})


def _tokens(value: str) -> set[str]:
    """A value's words a shopper would write: a short Chinese value whole (有线, 控油, 油皮),
    model numbers inside longer ones (RTX 4060 → 4060)."""
    tokens = {t for t in re.findall(r"[a-z]*\d{4,}[a-z]*", value.lower())}
    if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", value):
        tokens.add(value)
    return tokens - NOT_REQUIREMENTS


_CACHE: dict[int, _Vocabulary] = {}
_LOCK = threading.Lock()


def vocabulary(graph: ProductGraph) -> _Vocabulary:
    with _LOCK:
        if id(graph) not in _CACHE:
            if len(_CACHE) > 4:
                _CACHE.clear()  # catalog versions come and go; keep the live few
            _CACHE[id(graph)] = _Vocabulary(graph)
        return _CACHE[id(graph)]


# Latin words that begin models of several makers or say nothing of a line (Watch GT, Buds 3).
_NOT_LINES = frozenset(
    {"watch", "band", "buds", "pad", "book", "pro", "air", "max", "plus", "mini", "ultra",
     "series", "smart", "sport", "lite", "note", "free", "open", "wireless", "fresh", "forever"}
)  # fmt: skip


@dataclass(frozen=True)
class ProductLine:
    """A maker's line of models (MacBook, iPhone, ThinkPad): 「想买MacBook」 is any of them."""

    word: str
    brand: str
    category: str | None  # None when the line spans categories (Galaxy phones and watches)
    skus: tuple[str, ...]


def _product_lines(graph: ProductGraph) -> dict[str, ProductLine]:
    brand_words = {
        word.lower()
        for name, brand in graph.brands.items()
        for word in [name, *(brand.get("aliases") or [])]
    }
    grouped: dict[str, list[Product]] = defaultdict(list)
    for product in graph.products.values():
        match = re.match(r"([A-Za-z]{4,})(?![A-Za-z])", (product.model or "").strip())
        word = match.group(1).lower() if match else ""
        if word and word not in brand_words and word not in _NOT_LINES:
            grouped[word].append(product)
    lines = {}
    for word, products in grouped.items():
        brands = {p.brand for p in products}
        categories = {p.category for p in products}
        if len(brands) == 1 and len({p.model for p in products}) >= 2:
            category = next(iter(categories)) if len(categories) == 1 else None
            skus = tuple(sorted(p.sku for p in products))
            lines[word] = ProductLine(word, brands.pop(), category, skus)
    return lines


def product_line_in(graph: ProductGraph, text: str) -> ProductLine | None:
    """The line a message names as a whole word (「剪视频用 想买MacBook」 → MacBook)."""
    lowered = text.lower()
    for word, line in vocabulary(graph).lines.items():
        # 「mate70 pro」 names one model (maybe one the shop lacks), not the Mate line
        if re.search(rf"(?<![a-z]){word}(?![a-z])(?!\s*\d)", lowered):
            return line
    return None


def kind_in(graph: ProductGraph, text: str) -> tuple[str, str] | None:
    """The last kind word in the text (the head noun comes last), longest at each place:
    「想要个控油的洗面奶」 → (洁面, 护肤品)."""
    lowered = text.lower()
    found: tuple[int, int, tuple[str, str]] | None = None
    for word, owner in vocabulary(graph).kinds.items():
        start = lowered.rfind(word)
        if start < 0:
            continue
        end = start + len(word)
        if found is None or end > found[0] or (end == found[0] and len(word) > found[1]):
            found = (end, len(word), owner)
    return found[2] if found else None


def attribute_requirements(
    graph: ProductGraph, text: str, category: str | None, attribute_mentions: list[Any]
) -> dict[str, Any]:
    """{key: wanted} from the text, in the category's own attribute names: True for a yes/no
    feature named (要带GPS的), False for one refused (不带碳板的), (low, high) for a number next
    to a spec where more or less is better (内存32G, 重量200以内), an amount with its unit
    (6.5寸以上) or a spec asked bigger or smaller (电池要大的), {tokens} for words of the
    category's values (4060, 有线, 控油)."""
    if not category:
        return {}
    schema = graph.schema.get(category, {})
    wanted: dict[str, Any] = {}
    lowered = text.lower()
    for word, value in SKIN_WORDS.items():
        lowered = lowered.replace(word, value)  # 「油皮」 is the catalog's 油性
    for mention in attribute_mentions:
        key = _feature_named(schema, mention.text) or graph.attribute_key(category, mention.value)
        spec = schema.get(key) if key else None
        if spec is None or key in SKIPPED_KEYS:
            continue
        if _NEGATED.search(text[: mention.start]):
            if spec.type == "bool" and not _ALSO_FINE.search(text[mention.end :]):
                wanted[key] = False  # 「不要降噪的」: only those without it
            continue
        if spec.type == "bool":
            wanted[key] = True
        elif spec.type == "text" and _BETTER.search(text[mention.end : mention.end + 5]):
            # 「缓震好一点的」: any grade above the plainest (均衡缓震, 高缓震; not 轻缓震)
            grades = vocabulary(graph).by_key[category][key]
            better = {v for v in grades if not _PLAINEST_GRADE.match(v)}
            if better and better != grades:
                wanted[key] = frozenset(better)
        elif spec.better in ("higher", "lower"):
            number = _number_near(text, mention.start, mention.end, spec.better)
            higher = spec.better == "higher"
            if number is not None:
                wanted[key] = (number, None) if higher else (None, number)
            elif _beats_typical(text, mention, higher):
                # 「电池要大的」「噪音小一点」: better than the category's typical product
                typical = vocabulary(graph).typical.get((category, key))
                if typical is not None:
                    wanted[key] = (typical, None) if higher else (None, typical)
    if SYSTEM_KEY in schema:
        system = next((name for pattern, name in _OWN_SYSTEMS if pattern.search(text)), None)
        if system:
            wanted[SYSTEM_KEY] = frozenset({system})
    for key, size in _memory_sizes(text, schema):
        wanted.setdefault(key, (size, size))
    named = [(m.end, graph.attribute_key(category, m.value) or m.value) for m in attribute_mentions]
    wanted.update(measured_requirements(text, schema, named))  # 「6.5寸以上」「200g以下」
    values = vocabulary(graph).values.get(category, {})
    bare = _BARE_WORD.fullmatch(lowered.strip())
    if bare:
        # 「辣的」: a word inside the values of one attribute (香辣味, 麻辣味 of 口味)
        word = bare.group(1)
        keys = {key for token, owners in values.items() if word in token for key in owners}
        if len(keys) == 1:
            wanted[keys.pop()] = frozenset({word})
    for token, keys in values.items():
        if bare and any(isinstance(w, frozenset) for w in wanted.values()):
            break
        at = lowered.find(token)
        if at < 0 or _NEGATED.search(lowered[:at]):
            continue
        if token.isdigit() and _PRICE_AFTER.match(lowered[at + len(token) :]):
            continue  # 「4060以内」 is a budget
        for key in keys:
            if key not in wanted:
                wanted[key] = frozenset({token})
            elif isinstance(wanted[key], frozenset):
                wanted[key] = wanted[key] | {token}
    return wanted


def _feature_named(schema: dict[str, Any], word: str) -> str | None:
    """The yes/no feature a word names where a text spec shares it (「独显」: 独立显卡, not 显卡):
    asked for, it is the feature that is wanted."""
    word = word.strip().lower()
    for key, spec in schema.items():
        if spec.type == "bool" and word in {a.lower() for a in (key, *spec.aliases)}:
            return key
    return None


_MEMORY = re.compile(r"(?<![\d+.])(\d{1,4})\s*(g|gb|t|tb)(?![a-z\d])", re.I)
RAM_LIMIT = 64  # GB: no phone or laptop here has more RAM, none less storage


_NETWORK = re.compile(r"[345]g", re.I)
_MEMORY_AFTER = re.compile(r"\s*(?:\+|运存|运行内存|内存|ram|的?运行)", re.I)


def _memory_sizes(text: str, schema: dict[str, Any]) -> list[tuple[str, float]]:
    """「要512G的」 on phones: 存储容量 512GB; 「16G的」 on laptops: 内存 16GB. A memory pair
    (12+256) or a number with its key written (内存32G) is read elsewhere."""
    found = []
    for match in _MEMORY.finditer(text):
        before = text[max(0, match.start() - 4) : match.start()]
        if re.search(r"内存|运存|硬盘|存储|\+", before):
            continue
        if _NETWORK.fullmatch(match.group()) and not _MEMORY_AFTER.match(text[match.end() :]):
            continue  # 「5G手机」「4G网络」: the network, not 5 GB
        number = float(match.group(1))
        if is_weight(text, match.start(), number, match.group(2), schema):
            continue  # 「200g以下」: measures.measured_requirements reads it
        size = number * _SCALE.get(match.group(2).lower(), 1.0)
        keys = RAM_KEYS if size <= RAM_LIMIT else STORAGE_KEYS
        key = next((k for k in keys if k in schema), None)
        if key:
            found.append((key, size))
    return found


def _number_near(text: str, start: int, end: int, better: str | None = None) -> float | None:
    """The number a spec's word is written with (「内存32G」「16G内存」「重量200以下」)."""
    after = _NUMBER_AFTER.match(text[end:])
    if after and not after.group(2):
        cue = _PRICE_AFTER.match(text[end + after.end() :])
        if cue and cue.group().strip() not in _SPEC_SIDE.get(better or "", ()):
            after = None  # 「电池 3000以内」「拍照3000左右」: a budget, not the spec
    before = _NUMBER_BEFORE.search(text[:start])
    match = after or before
    if not match:
        return None
    return float(match.group(1)) * _SCALE.get((match.group(2) or "").lower(), 1.0)


def fits(product: Product, graph: ProductGraph, requirements: Product) -> bool:
    attributes = product.attributes
    for asked, wanted in requirements.items():
        key = graph.attribute_key(product.category, asked) or asked
        actual = attributes.get(key)
        if isinstance(wanted, frozenset):
            values = [str(v) for v in (actual if isinstance(actual, list) else [actual])]
            joined = " ".join(values).lower()
            if ALL_SKINS in joined and key == "适用肤质":
                continue  # every skin includes the one asked
            if not any(token in joined for token in wanted):
                return False
        elif isinstance(wanted, tuple):
            number = numeric_value(actual)
            low, high = wanted
            if number is None or (low is not None and number < low):
                return False
            if high is not None and number > high:
                return False
        elif actual != wanted:
            return False
    return True


def requirement_text(key: str, wanted: Any, unit: str = "") -> str:
    """「带GPS」「内存32GB以上」「重量200g以下」「屏幕尺寸6.7英寸左右」「显卡4060」: a requirement
    as a reply or the search page restates it."""
    if wanted is True:
        return f"带{key}"
    if wanted is False:
        return f"不带{key}"
    if isinstance(wanted, tuple):
        low, high = wanted
        if high is None:
            return f"{key}{low:g}{unit}以上"
        if low is None:
            return f"{key}{high:g}{unit}以下"
        if low == high:
            return f"{key}{low:g}{unit}"
        return f"{key}{round((low + high) / 2, 2):g}{unit}左右"  # a window around what was said
    if isinstance(wanted, frozenset | set):
        values = "/".join(sorted(wanted))
        return values if all(key in v for v in wanted) else f"{key}{values}"  # 「高缓震」
    return f"{key}{wanted}"


def spec_units(graph: ProductGraph, category: str | None) -> dict[str, str]:
    """The units of the category's specs for `requirement_text` (GB for the memory specs, whose
    values are text)."""
    units = {key: spec.unit or "" for key, spec in graph.schema.get(category or "", {}).items()}
    return units | {key: "GB" for key in MEMORY_KEYS if key in units and not units[key]}


def requirement_json(wanted: Any) -> Any:
    """A requirement in JSON: true, {"min", "max"} or the value words."""
    if isinstance(wanted, tuple):
        return {"min": wanted[0], "max": wanted[1]}
    if isinstance(wanted, frozenset | set):
        return sorted(wanted)
    return wanted

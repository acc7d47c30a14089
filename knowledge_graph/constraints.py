"""Constraints a shopper writes beyond category, brand and price: the kind of product (口红, not
any 彩妆; 电饭煲, not any 小家电) and attribute requirements (要带GPS的, 有碳板的, 内存32G, 要
4060显卡, 有线的, 控油的). Each is a hard filter, kept across refinements like the others.

Words come from the catalog itself (its kind values and attribute values), so a merchant's new
kind or spec is understood without code changes; a few shoppers' synonyms are listed here.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from typing import Any

from knowledge_graph.graph import ProductGraph, numeric_value

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
}
# Kinds too generic to name one (「充电器套装」 is not a skincare set).
GENERIC_KINDS = frozenset({"套装"})
# Attributes other filters own, or whose values are not requirements.
SKIPPED_KEYS = frozenset({"颜色", "尺码", "适用人群", *KIND_KEYS, "适配机型", "处理器", "操作系统"})
ALL_SKINS = "所有肤质"
# Shoppers' skin words for the catalog's 适用肤质 values (same length, so positions hold).
SKIN_WORDS = {"油皮": "油性", "干皮": "干性", "混油": "混合", "混干": "混合", "油痘": "痘痘"}
_NUMBER_AFTER = re.compile(
    r"^\D{0,4}?(\d+(?:\.\d+)?)\s*(tb|t|gb|g|mah|w|hz|小时|天|寸|英寸)?", re.I
)
_NUMBER_BEFORE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(tb|t|gb|g|mah|w|hz|小时|天|寸|英寸)?\D{0,2}$", re.I
)
_SCALE = {"t": 1024.0, "tb": 1024.0}
_PRICE_AFTER = re.compile(r"\s*(?:以内|以下|以上|左右|上下|元|块|rmb)")
_NEGATED = re.compile(r"(?:不要|不用|不需要|别|没有|无需)$")


class _Vocabulary:
    """Kind words and attribute value tokens of one catalog version."""

    def __init__(self, graph: ProductGraph) -> None:
        self.kinds: dict[str, tuple[str, str]] = {}  # word → (kind, category)
        self.values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for product in graph.products.values():
            attributes = product.get("attributes") or {}
            kind = next((str(attributes[k]) for k in KIND_KEYS if attributes.get(k)), None)
            if kind and kind not in GENERIC_KINDS and len(kind) >= 2:
                self.kinds.setdefault(kind.lower(), (kind, product["category"]))
            for key, value in attributes.items():
                if key in SKIPPED_KEYS or isinstance(value, bool | int | float):
                    continue
                for item in value if isinstance(value, list) else [value]:
                    for token in _tokens(str(item)):
                        self.values[product["category"]][token].add(key)
        for word, kind in KIND_SYNONYMS.items():
            owner = self.kinds.get(kind.lower())
            if owner:
                self.kinds[word] = owner


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
    feature named (要带GPS的), (n, None) for a number next to a higher-is-better spec (内存32G),
    {tokens} for words of the category's values (4060, 有线, 控油)."""
    if not category:
        return {}
    schema = graph.schema.get(category, {})
    wanted: dict[str, Any] = {}
    lowered = text.lower()
    for word, value in SKIN_WORDS.items():
        lowered = lowered.replace(word, value)  # 「油皮」 is the catalog's 油性
    for mention in attribute_mentions:
        key = graph.attribute_key(category, mention.value)
        spec = schema.get(key) if key else None
        if spec is None or key in SKIPPED_KEYS or _NEGATED.search(text[: mention.start]):
            continue
        if spec.type == "bool":
            wanted[key] = True
        elif spec.better == "higher":
            number = _number_near(text, mention.start, mention.end)
            if number is not None:
                wanted[key] = (number, None)
    for key, size in _memory_sizes(text, schema):
        wanted.setdefault(key, (size, size))
    for token, keys in vocabulary(graph).values.get(category, {}).items():
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


_MEMORY = re.compile(r"(?<![\d+.])(\d{1,4})\s*(g|gb|t|tb)(?![a-z\d])", re.I)
# Which key a bare 「512G」 means: the storage key, or the RAM key for small numbers.
STORAGE_KEYS = ("存储容量", "硬盘")
RAM_KEYS = ("运行内存", "内存")
RAM_LIMIT = 64  # GB: no phone or laptop here has more RAM, none less storage


def _memory_sizes(text: str, schema: dict[str, Any]) -> list[tuple[str, float]]:
    """「要512G的」 on phones: 存储容量 512GB; 「16G的」 on laptops: 内存 16GB. A memory pair
    (12+256) or a number with its key written (内存32G) is read elsewhere."""
    found = []
    for match in _MEMORY.finditer(text):
        before = text[max(0, match.start() - 4) : match.start()]
        if re.search(r"内存|运存|硬盘|存储|\+", before):
            continue
        size = float(match.group(1)) * _SCALE.get(match.group(2).lower(), 1.0)
        keys = RAM_KEYS if size <= RAM_LIMIT else STORAGE_KEYS
        key = next((k for k in keys if k in schema), None)
        if key:
            found.append((key, size))
    return found


def _number_near(text: str, start: int, end: int) -> float | None:
    after = _NUMBER_AFTER.match(text[end:])
    before = _NUMBER_BEFORE.search(text[:start])
    match = after or before
    if not match:
        return None
    return float(match.group(1)) * _SCALE.get((match.group(2) or "").lower(), 1.0)


def fits(product: dict[str, Any], graph: ProductGraph, requirements: dict[str, Any]) -> bool:
    attributes = product.get("attributes") or {}
    for asked, wanted in requirements.items():
        key = graph.attribute_key(product["category"], asked) or asked
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

"""Amounts with a unit in a shopper's words (「6.5寸以上」「200g以下」「5000毫安」「1亿像素」「续航
7天」) as bounds on the category's spec that has that unit.

The unit picks the spec (the catalog's own `unit` of each numeric attribute), words around the
number pick the side: 「以上」「至少」「大于」 a lower bound, 「以下」「以内」「不超过」 an upper
bound, 「左右」 both; with none, the spec's better direction decides (more mAh, fewer grams), and
a spec where more is not better (屏幕尺寸) gets a narrow window around the number.

A Latin 「g」 is grams only where it cannot be memory or a network (「5G」): the category has no
memory spec, the number is no memory size, or 「重」「轻」 stands just before it (「重量256g以下」).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Written unit -> (the unit it is measured in, the factor to that unit). The catalog's own units
# are read through the same table, so 「500克」 against a spec in kg is 0.5.
UNIT_WORDS: dict[str, tuple[str, float]] = {
    "mah": ("mah", 1.0), "毫安时": ("mah", 1.0), "毫安": ("mah", 1.0),
    "w": ("w", 1.0), "瓦": ("w", 1.0),
    "hz": ("hz", 1.0), "赫兹": ("hz", 1.0),
    "英寸": ("英寸", 1.0), "寸": ("英寸", 1.0), "inch": ("英寸", 1.0),
    "kg": ("g", 1000.0), "公斤": ("g", 1000.0), "千克": ("g", 1000.0), "斤": ("g", 500.0),
    "克": ("g", 1.0), "g": ("g", 1.0),
    "亿像素": ("万像素", 10000.0), "万像素": ("万像素", 1.0), "mp": ("万像素", 100.0),
    "db": ("db", 1.0), "分贝": ("db", 1.0),
    "升": ("l", 1.0), "l": ("l", 1.0),
    "平方米": ("㎡", 1.0), "平米": ("㎡", 1.0), "㎡": ("㎡", 1.0), "平": ("㎡", 1.0),
    "个小时": ("小时", 1.0), "小时": ("小时", 1.0), "分钟": ("小时", 1 / 60), "天": ("小时", 24.0),
    "毫米": ("mm", 1.0), "mm": ("mm", 1.0),
    "米": ("米", 1.0),
}  # fmt: skip
_UNIT = "|".join(sorted(map(re.escape, UNIT_WORDS), key=len, reverse=True))
# A Latin unit must end the word (「5g网络」 is no gram, 「20w」 is a watt; 「2000mAh」 ends at h).
_AMOUNT = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*({_UNIT})(?![a-z])", re.I)

_AT_LEAST_BEFORE = re.compile(
    r"(?:(?<!不)(?:大于|超过|高于|多于)|不低于|不小于|不少于|至少|最少|起码|最低|>=|≥|>)\s*$"
)
_AT_MOST_BEFORE = re.compile(
    r"(?:(?<!不)(?:小于|低于|少于)|不超过|不高于|不大于|不到|最多|最大|顶多|<=|≤|<)\s*$"
)
_AT_LEAST_AFTER = re.compile(r"^\s*(?:及以上|或以上|以上|起|往上|\+)")
_AT_MOST_AFTER = re.compile(r"^\s*(?:及以下|或以下|以下|以内|之内|内|往下)")
_AROUND_AFTER = re.compile(r"^\s*(?:左右|上下|前后)")
AROUND = 0.1  # 「5000毫安左右」: within 10%
EXACT = 0.02  # 「6.7寸的」 on a spec where more is not better: 6.57-6.83

# Memory sizes in GB: a Latin 「g」 after one of these is memory on a category with memory specs.
MEMORY_SIZES = frozenset({1, 2, 3, 4, 6, 8, 12, 16, 18, 24, 32, 48, 64, 96, 128, 256, 512, 1024})
# Which key a bare 「512G」 means: the storage key, or the RAM key for small numbers.
STORAGE_KEYS = ("存储容量", "硬盘")
RAM_KEYS = ("运行内存", "内存")
MEMORY_KEYS = RAM_KEYS + STORAGE_KEYS
NETWORK_GENERATIONS = frozenset({3, 4, 5})
_WEIGHT_CUE = re.compile(r"[重轻]\S{0,3}$")


def unit_of(name: str | None) -> tuple[str, float] | None:
    """The catalog's unit of a spec as (unit, factor), or None for a unit read nowhere here."""
    return UNIT_WORDS.get((name or "").strip().lower())


def is_weight(
    text: str, start: int, number: float, written: str, schema: Mapping[str, Any]
) -> bool:
    """Whether 「{number}{written}」 at `start` is a weight (a Latin g may be memory)."""
    if written.lower() != "g":  # 「1TB」「512GB」 are memory; 「200克」「1.5kg」 weights
        return UNIT_WORDS.get(written.lower(), ("",))[0] == "g"
    if not any(key in schema for key in MEMORY_KEYS):
        return True
    if number in NETWORK_GENERATIONS:
        return False  # 「5G手机」: a network (constraints._memory_sizes tells it from 4G RAM)
    return bool(_WEIGHT_CUE.search(text[max(0, start - 4) : start])) or number not in MEMORY_SIZES


def measured_requirements(
    text: str, schema: Mapping[str, Any], named: Sequence[tuple[int, str]] = ()
) -> dict[str, tuple[float | None, float | None]]:
    """{key: (low, high)} for every amount whose unit names one spec of `schema`; where several
    specs share the unit, the one named right before it (`named`: (end, key) of attribute words)."""
    wanted: dict[str, tuple[float | None, float | None]] = {}
    for match in _AMOUNT.finditer(text):
        number, written = float(match.group(1)), match.group(2)
        unit, factor = UNIT_WORDS[written.lower()]
        after = text[match.end() :]
        if unit == "g" and (
            after.startswith("+") or not is_weight(text, match.start(), number, written, schema)
        ):
            continue  # memory (「256G」「12G+256G」): constraints._memory_sizes reads it
        if written == "平" and after.startswith("板"):
            continue  # 「2平板」
        key = _key_for(unit, match.start(), schema, named)
        if key is None:
            continue
        value = number * factor / (unit_of(schema[key].unit) or (unit, 1.0))[1]
        before = text[max(0, match.start() - 4) : match.start()]
        wanted[key] = bounds(value, before, after, schema[key].better)
    return wanted


def bounds(
    value: float, before: str, after: str, better: str | None
) -> tuple[float | None, float | None]:
    """The side the words around an amount ask for (see the module's docstring)."""
    if _AT_LEAST_BEFORE.search(before) or _AT_LEAST_AFTER.match(after):
        return (value, None)
    if _AT_MOST_BEFORE.search(before) or _AT_MOST_AFTER.match(after):
        return (None, value)
    if _AROUND_AFTER.match(after):
        return (_round(value * (1 - AROUND)), _round(value * (1 + AROUND)))
    if better == "higher":
        return (value, None)
    if better == "lower":
        return (None, value)
    return (_round(value * (1 - EXACT)), _round(value * (1 + EXACT)))


def _key_for(
    unit: str, start: int, schema: Mapping[str, Any], named: Sequence[tuple[int, str]]
) -> str | None:
    keys = [key for key, spec in schema.items() if (unit_of(spec.unit) or ("",))[0] == unit]
    if len(keys) <= 1:
        return keys[0] if keys else None
    near = [key for end, key in named if end <= start and start - end <= 6 and key in keys]
    return near[-1] if near else None


def _round(value: float) -> float:
    return round(value, 4)

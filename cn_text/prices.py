"""Price wishes in a shopper's message: "三千以内" → at most 3000 yuan.

Standard library only: the Rasa NLU component (bot/components/price_extractor.py, Python 3.10)
and the action server (Python 3.11) use the same rules, so a price is read the same way in both.

Decisions worth knowing (tests/unit/test_cn_prices.py pins each of them):

- A bare price ("3000的手机", "100块钱", "¥299", "千元机", "两千档") is ``around``.
- "预算3000" is a ``max`` (a budget is an upper bound); "预算3000左右" is ``around``.
- "两三千" / "三四百" / "一两千" are ranges: 2000-3000, 300-400, 1000-2000.
- "一千多" means more than 1000 but short of the next step: min 1000, max 1999.
  The step is the number's last non-zero place: "1500多" is 1500-1599.
- "千元机" / "千元档" is ``around`` 1000 (the action layer picks its own tolerance);
  "万元以内" is max 10000.
- "两千出头" is ``around`` 2000; "3000+" is min 3000.
- Numbers with a k or w suffix ("2k", "1.5w") are prices only with a price cue,
  because "2K屏" and "4K电视" are display specs; w is read as 万 only below 10w
  ("65W" and "120W" are charger power).
- Specs and model numbers are never prices: a unit after the number (GB, mAh,
  英寸, 码, W ...), a Latin model name joined to it ("RTX4060", "DG2026..."), ordinals
  ("第二个"), counts ("两个"), ids and dates.
- After a catalog name (a brand or a model line: "vivo", "小米", "iPhone", "天选") a number
  is a model number unless a price cue says otherwise: "小米14" and "荣耀400" are phones,
  "vivo3000左右" and "华为3000以内" are prices. The names come from the catalog
  (`NameWords`, cn_text/lexicon.py), not from this module.
- A plain number needs a cue unless it is at least 100; below 10 only a currency
  word makes it a price ("5块钱", not "两块手表").
- Typos such as "三干" are not corrected: too ambiguous ("干" is a common verb).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cn_text import lexicon
from cn_text.numbers import (
    BIG_UNITS,
    CN_DIGITS,
    LATIN_MULTIPLIER_BASE_LIMIT,
    LATIN_MULTIPLIERS,
    NUMBER_RUN_RE,
    SMALL_UNITS,
    normalize_chars,
    parse_decimal,
)
from cn_text.words import (
    BLOCK_NOUNS,
    CN_SPEC_UNITS,
    CURRENCY_AFTER,
    CURRENCY_BEFORE,
    LATIN_MODEL_WORDS,
    LATIN_SPEC_UNITS,
    LEFT_CUES,
    NOT_A_PRICE_AFTER,
    RIGHT_CUES,
)

__all__ = [
    "NameWords",
    "PriceConstraint",
    "NO_NAMES",
    "extract_prices",
    "format_price_value",
    "price_roles",
]


@dataclass(frozen=True)
class PriceConstraint:
    """A price wish found in a message; ``start``/``end`` index the original text.

    Exactly one shape is used: ``around`` alone, or ``min`` and/or ``max``.
    """

    min: float | None
    max: float | None
    around: float | None
    start: int
    end: int
    text: str


def format_price_value(value: float) -> str:
    """The entity value string: "3000" for integral values, else "1499.5"."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def price_roles(constraint: PriceConstraint) -> list[tuple[str, float]]:
    """The (role, value) pairs a constraint becomes as `price` entities."""
    if constraint.around is not None:
        return [("around", constraint.around)]
    roles: list[tuple[str, float]] = []
    if constraint.min is not None:
        roles.append(("min", constraint.min))
    if constraint.max is not None:
        roles.append(("max", constraint.max))
    return roles


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_LEFT_CUE_RE = {
    kind: re.compile(rf"(?:{_alternation(words)})$", re.I) for kind, words in LEFT_CUES.items()
}
_RIGHT_CUE_RE = re.compile(
    "|".join(rf"(?P<{kind}>{_alternation(words)})" for kind, words in RIGHT_CUES.items())
    + r"|(?P<max_inner>[内內](?![存置容衣裤胆核]))|(?P<min_plus>\+(?![0-9]))"
)
_LEFT_FILLER_RE = re.compile(
    r"(?:[\s:,]|在|是|为|有|就|只有|也就|也|要|得|能|可以|花|的话|呢|吧)+$"
)
_LEFT_CURRENCY_RE = re.compile(rf"(?:{_alternation(CURRENCY_BEFORE)})\s*$", re.I)
_RIGHT_CURRENCY_RE = re.compile(rf"\s*(?:{_alternation(CURRENCY_AFTER)})", re.I)
_CONNECTOR_RE = re.compile(r"\s*(?:到|至|-|~|～)\s*(?:¥|rmb)?\s*", re.I)
_BETWEEN_CONNECTOR_RE = re.compile(r"\s*(?:和|与|跟)\s*(?:¥|rmb)?\s*", re.I)
_BETWEEN_RE = re.compile(r"\s*之间")
_APPROX_SUFFIX_RE = re.compile(r"多(?!少)|来(?=块|元)")

_CN_SPEC_RE = re.compile(rf"\s*(?:{_alternation(CN_SPEC_UNITS)})")
_LATIN_SPEC_AFTER_SPACE_RE = re.compile(
    rf"\s+(?:{_alternation(LATIN_SPEC_UNITS)})(?![A-Za-z])", re.I
)
_JOINED_NUMBER_RE = re.compile(r"\s*[+/×*xX:]\s*[0-9]")
_RANGE_LIKE_RE = re.compile(r"\s*[-~/.]\s*[0-9]")
_NOT_A_PRICE_BEFORE_RE = re.compile(rf"(?:{_alternation(NOT_A_PRICE_AFTER)})[\s:是为]*$", re.I)
_BLOCK_NOUN_RE = re.compile(rf"(?:{_alternation(BLOCK_NOUNS)})")
_LATIN_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z0-9.\-]*) ?$")
_NUMBER_JOINED_BEFORE_RE = re.compile(r"[0-9]\s*[-~/:+×*]\s*$")
_STORAGE_SIZES = {Decimal(n) for n in (64, 128, 256, 512, 1024, 2048)}
_MAX_PRICE = Decimal(100_000_000)
_APPROX_RANGE_RE = re.compile(r"^([一二两三四五六七八九])([二两三四五六七八九])([十百千万萬])$")

# A Latin name is one word as _LATIN_WORD_BEFORE_RE reads it; a Chinese name has a Han character.
_LATIN_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*")
_HAN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NEVER_NAMES = LATIN_MODEL_WORDS | {unit.lower() for unit in LATIN_SPEC_UNITS}


class NameWords:
    """Catalog names (brands and model lines) after which a number is a model number unless a
    price cue says otherwise: "小米14", "荣耀400", "iPhone15" are products, "vivo3000左右" and
    "华为3000以内" are prices.

    A Latin name is compared whole and case-insensitively with the Latin word right before
    the number; a Latin word that is not a name and is joined to the number is a model name
    ("RTX4060"). A Chinese name (any name with a Han character) must end right before the
    number, one space allowed. Generic model words and spec units ("x", "pro") are never names:
    what they do after a number is decided by cn_text/words.py alone.
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        latin: set[str] = set()
        chinese: set[str] = set()
        for word in (word.strip() for word in words):
            if _LATIN_NAME_RE.fullmatch(word):
                if word.lower() not in _NEVER_NAMES:
                    latin.add(word.lower())
            elif _HAN_RE.search(word) and not any(char.isspace() for char in word):
                chinese.add(word)
        self.latin = frozenset(latin)
        self.chinese = frozenset(chinese)
        self._chinese_end = (
            re.compile(rf"(?:{_alternation(sorted(chinese))})\s?$") if chinese else None
        )
        # A match ends the text: only its tail (a name, a space, a final line break) is searched.
        self._tail = max(map(len, chinese), default=0) + 2

    @classmethod
    def from_lexicon(cls, entries: Mapping[str, Iterable[str]]) -> NameWords:
        """From a names lexicon (cn_text/lexicon.py): every kind counts alike."""
        return cls(word for words in entries.values() for word in words)

    @classmethod
    def read(cls, path: str | Path) -> NameWords | None:
        """The names in the lexicon file at ``path``; None when there is no such file."""
        entries = lexicon.read_lexicon(path)
        return None if entries is None else cls.from_lexicon(entries)

    def __bool__(self) -> bool:
        return bool(self.latin or self.chinese)

    def ends_with_chinese_name(self, text: str) -> bool:
        if self._chinese_end is None:
            return False
        return self._chinese_end.search(text, max(0, len(text) - self._tail)) is not None


NO_NAMES = NameWords()


@dataclass
class _Number:
    """One number mention in the normalised text."""

    start: int
    end: int
    value: Decimal
    low: Decimal | None = None  # set for vague ranges: "两三千", "一千多"
    high: Decimal | None = None
    trailing_unit: int | None = None  # "3千", "3k": a bare "2" before "到" takes it over
    plain: bool = False  # digits only, no unit: may take over the other side's unit
    latin_multiplier: bool = False
    at_most: bool = False  # 「几百块」: at most its value, whatever the words around it say


@dataclass
class _Context:
    """What surrounds a number: price cues, currency, and reasons it is not a price."""

    start: int
    end: int
    kinds: set[str]
    currency: bool = False
    rejected: bool = False
    attached_brand: bool = False  # "小米14", "vivo3000": needs an explicit cue


def _trailing_unit(run: str) -> int | None:
    last = run[-1].lower()
    if last in SMALL_UNITS:
        return SMALL_UNITS[last]
    if last in BIG_UNITS:
        return BIG_UNITS[last]
    return LATIN_MULTIPLIERS.get(last)


def _approx_range(run: str) -> tuple[Decimal, Decimal] | None:
    """ "两三千" → (2000, 3000): two neighbouring digits before one unit."""
    match = _APPROX_RANGE_RE.match(run)
    if not match:
        return None
    first, second = CN_DIGITS[match.group(1)], CN_DIGITS[match.group(2)]
    if second != first + 1:
        return None
    unit = SMALL_UNITS.get(match.group(3)) or BIG_UNITS[match.group(3)]
    return Decimal(first * unit), Decimal(second * unit)


def _latin_multiplier_end(norm: str, run_end: int, value: Decimal) -> int | None:
    """End of "2k" / "1.5w" if the run is followed by a k or w suffix that multiplies it."""
    if run_end >= len(norm) or norm[run_end].lower() not in LATIN_MULTIPLIERS:
        return None
    if not norm[run_end - 1].isdigit():
        return None
    if run_end + 1 < len(norm) and norm[run_end + 1].isascii() and norm[run_end + 1].isalpha():
        return None  # "2kg", "3wh" are units; "2k到3k" and "3w左右" are money
    if value >= LATIN_MULTIPLIER_BASE_LIMIT[norm[run_end].lower()]:
        return None
    if re.match(r"[0-9](?![0-9.])", norm[run_end + 1 : run_end + 3]):
        return run_end + 2  # "1w2" = 12000, "2k5" = 2500
    return run_end + 1


# 「几十块」「十几块」「小几百块」: a vague amount of money, read as at most the top of its span
# (「几百块的耳机」: under a thousand; a cheaper one is no less welcome).
_VAGUE_MONEY_RE = re.compile(r"(小)?(几十|十几|几百|几千|几万)(?=(?:块|元|钱))")
_VAGUE_TOPS = {"几十": 99, "十几": 19, "几百": 999, "小几百": 500, "几千": 9999, "几万": 99999}


def _vague_money(norm: str, start: int) -> _Number | None:
    """The vague amount around the unit run at `start` (「几十块」's 十), if it is one."""
    for begin in (start - 2, start - 1, start):
        match = _VAGUE_MONEY_RE.match(norm, max(begin, 0))
        if match and match.start(2) <= start < match.end(2):
            top = Decimal(_VAGUE_TOPS[(match.group(1) or "") + match.group(2)])
            return _Number(match.start(), match.end(), top, at_most=True)
    return None


def _number_from_run(norm: str, start: int, end: int) -> _Number | None:
    run = norm[start:end]
    if run in SMALL_UNITS or run in BIG_UNITS:
        vague = _vague_money(norm, start)
        if vague is not None:
            return vague
    value = parse_decimal(run)
    if value is not None:
        multiplied_end = _latin_multiplier_end(norm, end, value)
        if multiplied_end is not None:
            written = norm[start:multiplied_end]
            full = parse_decimal(written)
            if full is not None:
                unit = _trailing_unit(written)
                return _Number(
                    start, multiplied_end, full, trailing_unit=unit, latin_multiplier=True
                )
        plain = all(char.isdigit() or char in ".," or char in CN_DIGITS for char in run)
        return _Number(start, end, value, trailing_unit=_trailing_unit(run), plain=plain)
    approx = _approx_range(run)
    if approx is not None:
        return _Number(start, end, approx[0], low=approx[0], high=approx[1])
    return _bare_unit_number(norm, start, end)


def _bare_unit_number(norm: str, start: int, end: int) -> _Number | None:
    """ "千元机", "万元以内", "千把块": a lone 百/千/万 counts as one of it before money words."""
    run = norm[start:end]
    unit = SMALL_UNITS.get(run) or BIG_UNITS.get(run)
    if unit is None or unit < 100:
        return None
    if start > 0 and norm[start - 1] in "几上数好成":
        return None  # "几百块", "上千块": too vague to filter on
    follow = norm[end : end + 3]
    if re.match(r"(?:元|块|把块|把元)", follow):
        return _Number(start, end, Decimal(unit))
    return None


def _find_numbers(norm: str) -> list[_Number]:
    numbers: list[_Number] = []
    for match in NUMBER_RUN_RE.finditer(norm):
        number = _number_from_run(norm, match.start(), match.end())
        if number is None:
            number = _number_from_suffix(norm, match.start(), match.end())
        if number is not None:
            numbers.append(number)
    return numbers


def _number_from_suffix(norm: str, start: int, end: int) -> _Number | None:
    """The longest readable tail of an unreadable run: "万一三千" → "三千"."""
    for cut in range(start + 1, end):
        if norm[cut] in SMALL_UNITS or norm[cut] in BIG_UNITS:
            continue
        number = _number_from_run(norm, cut, end)
        if number is not None:
            return number
    return None


def _left_context(norm: str, number: _Number, names: NameWords) -> _Context:
    position = number.start
    context = _Context(start=position, end=number.end, kinds=set())
    currency = _LEFT_CURRENCY_RE.search(norm, 0, position)
    if currency:
        context.currency = True
        position = context.start = currency.start()
    else:
        _check_left_attachment(norm, number, context, names)
    for _ in range(4):
        cue_end = _strip_left_fillers(norm, position)
        kind, cue_start = _left_cue(norm, cue_end)
        if kind is None:
            break
        context.kinds.add(kind)
        position = context.start = cue_start
    return context


def _strip_left_fillers(norm: str, position: int) -> int:
    filler = _LEFT_FILLER_RE.search(norm, 0, position)
    return filler.start() if filler else position


def _left_cue(norm: str, position: int) -> tuple[str | None, int]:
    best: tuple[str | None, int] = (None, position)
    for kind, pattern in _LEFT_CUE_RE.items():
        match = pattern.search(norm, 0, position)
        if match and match.start() < best[1]:
            best = (kind, match.start())  # the longest cue wins: "不超过" over "超过"
    return best


def _check_left_attachment(norm: str, number: _Number, context: _Context, names: NameWords) -> None:
    before = norm[: number.start]
    previous = before[-1:] if before else ""
    if previous in ("第", "+", "/", "×", "*", ".") or previous.isdigit():
        context.rejected = True  # ordinals and the second half of "12+256"
    elif _NOT_A_PRICE_BEFORE_RE.search(before) or _NUMBER_JOINED_BEFORE_RE.search(before):
        context.rejected = True  # ids, chips, promotions, the tail of "2024-11-05", "10:30"
    else:
        latin = _LATIN_WORD_BEFORE_RE.search(before)
        if latin and _latin_word_counts(norm, number, latin):
            if _latin_word_is_model(latin.group(1), latin.group().endswith(" "), names):
                context.rejected = True  # "RTX4060", "DG2026...", "X 200": model names
            else:
                context.attached_brand = True  # "vivo3000左右", "iPhone15": a price only with a cue
        elif names.ends_with_chinese_name(before):
            context.attached_brand = True


def _latin_word_counts(norm: str, number: _Number, latin: re.Match[str]) -> bool:
    """Only Arabic digits form model names, and "512G" before a number is a spec, not a name."""
    if not norm[number.start].isdigit():
        return False
    return not (latin.start() > 0 and norm[latin.start() - 1].isdigit())


def _latin_word_is_model(word: str, spaced: bool, names: NameWords) -> bool:
    lowered = word.lower()
    if lowered in names.latin:
        return False
    if not spaced:
        return True
    return lowered in LATIN_MODEL_WORDS or any(char.isdigit() for char in lowered)


def _right_context(norm: str, number: _Number, position: int) -> _Context:
    """Cues after the number, starting at ``position`` (after any 多/来 suffix)."""
    context = _Context(start=number.start, end=position, kinds=set())
    currency = _right_currency(norm, number, position)
    if currency is not None:
        context.currency = True
        position = currency
    elif _is_spec_after(norm, position):
        context.rejected = True
        return context
    match = _RIGHT_CUE_RE.match(norm, _skip_spaces(norm, position))
    if match and match.lastgroup:
        kind = match.lastgroup.split("_")[0]
        context.kinds.add("around" if kind == "tier" else kind)
        position = match.end()
    elif context.currency and norm.startswith("机", position):
        context.kinds.add("around")  # "千元机"
        position += 1
    context.end = position
    return context


def _skip_spaces(norm: str, position: int) -> int:
    while position < len(norm) and norm[position] in " \t":
        position += 1
    return position


def _right_currency(norm: str, number: _Number, position: int) -> int | None:
    if norm.startswith("把", position):
        position += 1  # "千把块"
    match = _RIGHT_CURRENCY_RE.match(norm, position)
    if not match:
        return None
    if match.group().strip() == "块":
        if _BLOCK_NOUN_RE.match(norm, match.end()):
            return None  # "两块手表", "20块巧克力" count things
        if number.value < 10 and not _RIGHT_CUE_RE.match(norm, match.end()):
            return None  # "两块" alone is too often a count; "5块钱" and "5块以内" are money
    return match.end()


def _is_spec_after(norm: str, position: int) -> bool:
    rest = norm[position:]
    if rest[:1].isascii() and rest[:1].isalpha():
        return True  # "12GB", "5000mAh", "120W", "15Pro"
    if _LATIN_SPEC_AFTER_SPACE_RE.match(rest) or _CN_SPEC_RE.match(rest):
        return True
    return bool(_JOINED_NUMBER_RE.match(rest) or _RANGE_LIKE_RE.match(rest))


def _approx_suffix(norm: str, number: _Number) -> tuple[int, str | None]:
    """Consume "多" ("一千多" → 1000-1999) or "来" ("一百来块" → around 100)."""
    match = _APPROX_SUFFIX_RE.match(norm, number.end)
    if not match or number.low is not None:
        return number.end, None
    if match.group() == "来":
        return match.end(), "around"
    step = _more_step(number.value)
    if step is None:
        return number.end, None
    number.low, number.high = number.value, number.value + step - 1
    return match.end(), None


def _more_step(value: Decimal) -> Decimal | None:
    if value < 10 or value != value.to_integral_value():
        return None
    step = Decimal(1)
    integer = int(value)
    while integer % 10 == 0:
        integer //= 10
        step *= 10
    return step if step > 1 else None


# ----------------------------------------------------------------- deciding


_EXPLICIT_KINDS = {"max", "min", "around", "budget", "price"}


def _has_cue(left: _Context, right: _Context) -> bool:
    return left.currency or right.currency or bool((left.kinds | right.kinds) & _EXPLICIT_KINDS)


def _is_price(number: _Number, left: _Context, right: _Context) -> bool:
    if left.rejected or right.rejected:
        return False
    if number.value <= 0 or number.value >= _MAX_PRICE:
        return False
    cue = _has_cue(left, right)
    if number.value < 10:
        return left.currency or right.currency
    if left.attached_brand or number.latin_multiplier:
        return cue and (number.value >= 100 or number.latin_multiplier)
    if cue:
        return True
    return number.value >= 100 and number.value not in _STORAGE_SIZES


def _resolve_kind(kinds: set[str]) -> str:
    """Explicit words win; a budget alone is an upper bound; anything else is "around"."""
    for kind in ("max", "min", "around"):
        if kind in kinds:
            return kind
    return "max" if "budget" in kinds else "around"


def _constraint(
    text: str, start: int, end: int, *, low: Decimal | None, high: Decimal | None,
    around: Decimal | None,
) -> PriceConstraint:  # fmt: skip
    def as_float(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return PriceConstraint(
        min=as_float(low), max=as_float(high), around=as_float(around),
        start=start, end=end, text=text[start:end],
    )  # fmt: skip


def _single_constraint(
    text: str, number: _Number, left: _Context, right: _Context
) -> PriceConstraint:
    kinds = left.kinds | right.kinds
    kind = _resolve_kind(kinds)
    start, end = left.start, right.end
    if number.low is not None and number.high is not None:
        # A vague range keeps both bounds unless an explicit word keeps one: "两三千以内".
        low = None if "max" in kinds else number.low
        high = None if "min" in kinds and "max" not in kinds else number.high
        return _constraint(text, start, end, low=low, high=high, around=None)
    value = number.value
    if kind == "max" or number.at_most:
        return _constraint(text, start, end, low=None, high=value, around=None)
    if kind == "min":
        return _constraint(text, start, end, low=value, high=None, around=None)
    return _constraint(text, start, end, low=None, high=None, around=value)


def _range_partner(norm: str, first: _Number, numbers: list[_Number], index: int) -> int | None:
    """Index of the number that closes "A到B" / "A-B" / "A和B之间", if any."""
    if index + 1 >= len(numbers):
        return None
    second = numbers[index + 1]
    position = first.end
    currency = _RIGHT_CURRENCY_RE.match(norm, position)
    if currency:
        position = currency.end()
    connector = _CONNECTOR_RE.match(norm, position)
    if connector and connector.end() == second.start:
        return index + 1
    between = _BETWEEN_CONNECTOR_RE.match(norm, position)
    if between and between.end() == second.start:
        after = second.end
        tail = _RIGHT_CURRENCY_RE.match(norm, after)
        if _BETWEEN_RE.match(norm, tail.end() if tail else after):
            return index + 1
    return None


def _range_bounds(first: _Number, second: _Number) -> tuple[Decimal, Decimal] | None:
    low, high = first.value, second.value
    if first.plain and second.trailing_unit and not first.trailing_unit:
        scaled = low * second.trailing_unit
        if scaled <= high and scaled * 10 > high:
            low = scaled  # "2到3千", "1.5-2万", "两到三千"
    if low > high and low < high * 10:
        low, high = high, low  # "3000到2000" still means between the two
    if low >= high:
        return None
    return low, high


def _range_constraint(
    text: str, norm: str, first: _Number, second: _Number, names: NameWords
) -> PriceConstraint | None:
    bounds = _range_bounds(first, second)
    if bounds is None:
        return None
    left = _left_context(norm, first, names)
    right = _right_context(norm, second, second.end)
    if left.rejected or right.rejected:
        return None
    end = right.end
    between = _BETWEEN_RE.match(norm, end)
    if between:
        end = between.end()
    low, high = bounds
    cue = _has_cue(left, right) or first.latin_multiplier or second.latin_multiplier
    if not (cue or high >= 100) or low <= 0 or high >= _MAX_PRICE:
        return None
    return _constraint(text, left.start, end, low=low, high=high, around=None)


def _merge_adjacent_bounds(norm: str, found: list[PriceConstraint]) -> list[PriceConstraint]:
    """ "3000以上5000以下" → one constraint with both bounds."""
    merged: list[PriceConstraint] = []
    for constraint in found:
        if merged and _can_merge(norm, merged[-1], constraint):
            previous = merged.pop()
            low = previous.min if previous.min is not None else constraint.min
            high = previous.max if previous.max is not None else constraint.max
            start, end = previous.start, constraint.end
            constraint = PriceConstraint(low, high, None, start, end, "")
        merged.append(constraint)
    return merged


def _can_merge(norm: str, first: PriceConstraint, second: PriceConstraint) -> bool:
    one_sided = (first.min is None) != (first.max is None) and (second.min is None) != (
        second.max is None
    )
    if not one_sided or (first.min is None) == (second.min is None):
        return False
    gap = norm[first.end : second.start]
    if not re.fullmatch(r"[\s,，、;；]*(?:和|且|并且|而且|但是|但|又|也|同时)?[\s,，、;；]*", gap):
        return False
    low = first.min if first.min is not None else second.min
    high = first.max if first.max is not None else second.max
    return low is not None and high is not None and low < high


def extract_prices(text: str, names: NameWords | None = None) -> list[PriceConstraint]:
    """Every price wish in a shopper's message, in text order.

    "三千以内的华为手机" → [PriceConstraint(min=None, max=3000.0, around=None, 0, 4, "三千以内")].
    ``names`` are the catalog's brand and model-line names (the Rasa component reads them from
    the NLU export, the action side takes them from the live catalog); without them a number
    after a name is read plainly.
    """
    names = NO_NAMES if names is None else names
    norm = normalize_chars(text)
    numbers = _find_numbers(norm)
    found: list[PriceConstraint] = []
    index = 0
    while index < len(numbers):
        number = numbers[index]
        partner = _range_partner(norm, number, numbers, index)
        if partner is not None:
            ranged = _range_constraint(text, norm, number, numbers[partner], names)
            if ranged is not None:
                found.append(ranged)
                index = partner + 1
                continue
            if _RANGE_LIKE_RE.match(norm, number.end):
                index = partner + 1  # "2024-11-05", "16-12": neither side is a price
                continue
        single = _single_price(text, norm, number, names)
        if single is not None:
            found.append(single)
        index += 1
    merged = _merge_adjacent_bounds(norm, found)
    return [
        PriceConstraint(c.min, c.max, c.around, c.start, c.end, text[c.start : c.end])
        for c in merged
    ]


def _single_price(
    text: str, norm: str, number: _Number, names: NameWords
) -> PriceConstraint | None:
    position, suffix_kind = _approx_suffix(norm, number)
    left = _left_context(norm, number, names)
    right = _right_context(norm, number, position)
    if suffix_kind:
        right.kinds.add(suffix_kind)
    if not _is_price(number, left, right):
        return None
    return _single_constraint(text, number, left, right)

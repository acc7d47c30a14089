"""Chinese and Arabic numerals: one number, however a shopper writes it.

"三千", "一千五" (1500), "两百五" (250), "一千零五" (1005), "1.5万", "2k", "1w2" (12000),
"３０００" and "3,000" all read as numbers; ranges ("两三千") and words do not. The price
decisions built on this are in cn_text/prices.py.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = [
    "BIG_UNITS",
    "CN_DIGITS",
    "LATIN_MULTIPLIERS",
    "LATIN_MULTIPLIER_BASE_LIMIT",
    "NUMBER_RUN_RE",
    "SMALL_UNITS",
    "normalize_chars",
    "parse_chinese_number",
    "parse_decimal",
]

CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "兩": 2, "三": 3,
    "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
    "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}
LATIN_MULTIPLIERS = {"k": 1000, "w": 10_000}
# Largest base a k / w suffix may carry: "65W" and "120W" are charger power, not 650000 yuan.
LATIN_MULTIPLIER_BASE_LIMIT = {"k": Decimal(100), "w": Decimal(10)}

_CN_NUMERAL_CHARS = "".join(CN_DIGITS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS)
_ARABIC = r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+(?:\.[0-9]+)?"
_TOKEN_RE = re.compile(rf"{_ARABIC}|[{_CN_NUMERAL_CHARS}]|[kKwW]")
NUMBER_RUN_RE = re.compile(rf"(?:{_ARABIC}|[{_CN_NUMERAL_CHARS}])+")
_CURRENCY_AROUND_NUMBER_RE = re.compile(r"^(?:¥|rmb)?\s*(.+?)\s*(?:块钱|元钱|元|块|rmb)?$", re.I)

# Characters whose NFKC form is one character are normalised in place, so every index
# into the normalised text is also an index into the original text.
_EXTRA_CHAR_MAP = {"〜": "~", "—": "-", "–": "-", "―": "-", "﹣": "-", "－": "-", "～": "~"}


def normalize_chars(text: str) -> str:
    """Full-width digits and letters, dashes and tildes folded to ASCII, one character for
    one character."""
    out = []
    for char in text:
        folded = _EXTRA_CHAR_MAP.get(char) or unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _to_decimal(token: str) -> Decimal:
    return Decimal(token.replace(",", ""))


class _NumberParser:
    """Reads one number written with Arabic digits, Chinese numerals or both.

    Follows the usual section rule (units 十百千 inside a section, 万 and 亿 close a
    section) plus the spoken shortcut where a trailing digit takes the next lower
    place: 一千五 = 1500, 一万二 = 12000, 两百五 = 250, but 一千零五 = 1005.
    """

    def __init__(self) -> None:
        self.total = Decimal(0)
        self.section = Decimal(0)
        self.pending: Decimal | None = None
        self.pending_is_single_digit = False
        self.section_unit = 10**9  # smallest unit used in the current section so far
        self.big_unit: int | None = None
        self.last_unit: int | None = None
        self.previous_was_unit = False
        self.after_zero = False
        self.saw_number = False

    def parse(self, tokens: list[str]) -> Decimal | None:
        if tokens in (["零"], ["〇"]):
            return Decimal(0)
        for index, token in enumerate(tokens):
            rest = tokens[index + 1 :]
            # "2k" and "1.5w" end the number; "1w2" / "2k5" add one spoken digit after it.
            may_multiply = not rest or (len(rest) == 1 and rest[0].isdigit() and len(rest[0]) == 1)
            if not self._feed(token, may_multiply):
                return None
        if not self.saw_number:
            return None
        return self._finish()

    def _feed(self, token: str, may_multiply: bool) -> bool:
        lowered = token.lower()
        if token in ("零", "〇"):
            if self.pending is not None:
                return False
            self.after_zero = True
            self.previous_was_unit = False
            return True
        if token in CN_DIGITS or token[0].isdigit():
            return self._feed_number(token)
        if token in SMALL_UNITS:
            return self._feed_small_unit(SMALL_UNITS[token])
        if token in BIG_UNITS:
            return self._feed_big_unit(BIG_UNITS[token])
        if lowered in LATIN_MULTIPLIERS:
            return may_multiply and self._feed_latin_multiplier(lowered)
        return False

    def _feed_number(self, token: str) -> bool:
        if self.pending is not None:
            return False  # two numbers in a row ("两三", "二零二四") are not one number
        if token in CN_DIGITS:
            self.pending = Decimal(CN_DIGITS[token])
            self.pending_is_single_digit = True
        else:
            self.pending = _to_decimal(token)
            self.pending_is_single_digit = len(token) == 1
        self.saw_number = True
        return True

    def _feed_small_unit(self, unit: int) -> bool:
        if self.pending is None:
            if unit != 10:
                return False  # "千" alone is not a number; "十" alone is 10
            self.pending = Decimal(1)
            self.saw_number = True
        if unit >= self.section_unit:
            return False  # units must fall inside a section: "五百三千" is not a number
        self.section += self.pending * unit
        self._after_unit(unit)
        self.section_unit = unit
        return True

    def _feed_big_unit(self, unit: int) -> bool:
        if self.pending is not None:
            self.section += self.pending
        if self.section == 0 or (self.big_unit is not None and unit >= self.big_unit):
            return False
        self.total += self.section * unit
        self.section = Decimal(0)
        self.section_unit = 10**9
        self.big_unit = unit
        self._after_unit(unit)
        return True

    def _feed_latin_multiplier(self, letter: str) -> bool:
        base = self.pending
        if base is None or self.last_unit is not None or self.section or self.total:
            return False  # only a plain Arabic number takes "k" / "w": "2k", "1.5w"
        self.total = base * LATIN_MULTIPLIERS[letter]
        self._after_unit(LATIN_MULTIPLIERS[letter])
        return True

    def _after_unit(self, unit: int) -> None:
        self.pending = None
        self.last_unit = unit
        self.previous_was_unit = True
        self.after_zero = False

    def _finish(self) -> Decimal:
        if self.pending is not None:
            self.section += self._trailing_digit_value()
        return self.total + self.section

    def _trailing_digit_value(self) -> Decimal:
        assert self.pending is not None
        spoken_shortcut = (
            self.previous_was_unit
            and not self.after_zero
            and self.pending_is_single_digit
            and self.last_unit is not None
            and self.last_unit >= 100
        )
        if spoken_shortcut:
            assert self.last_unit is not None
            return self.pending * (self.last_unit // 10)
        return self.pending


def parse_decimal(text: str) -> Decimal | None:
    """One number in already normalised text, spaces ignored; None unless the whole text is it."""
    compact = re.sub(r"\s+", "", text)
    tokens = _TOKEN_RE.findall(compact)
    if not tokens or "".join(tokens) != compact:
        return None
    try:
        return _NumberParser().parse(tokens)
    except InvalidOperation:
        return None


def parse_chinese_number(text: str) -> float | None:
    """Parse one number: "三千", "一千五", "1.5万", "2k", "３０００", "十", "零".

    A leading ¥ or a trailing 元/块/块钱 is accepted ("3000元" → 3000.0). Anything
    else (a range such as "两三千", words, "千" alone) gives None.
    """
    normalized = normalize_chars(text).strip()
    match = _CURRENCY_AROUND_NUMBER_RE.match(normalized)
    if not match:
        return None
    value = parse_decimal(match.group(1))
    return None if value is None else float(value)

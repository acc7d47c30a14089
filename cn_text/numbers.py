"""Chinese number parsing and price-constraint extraction for shopping chat.

Pure standard-library Python: the Rasa 3.6 NLU component (Python 3.10), the action
server (Python 3.11) and the unit tests all import this module, so it must never
import rasa.

Decisions worth knowing (the unit tests pin each of them):

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
  英寸, 码, W ...), a Latin model name before it ("iPhone15", "mate60", "RTX 4060"),
  a Chinese brand right before it without a price cue ("小米14", "荣耀400"),
  ordinals ("第二个"), counts ("两个"), ids and dates.
- A plain number needs a cue unless it is at least 100; below 10 only a currency
  word makes it a price ("5块钱", not "两块手表").
- Typos such as "三干" are not corrected: too ambiguous ("干" is a common verb).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "PriceConstraint",
    "extract_prices",
    "format_price_value",
    "parse_chinese_number",
    "price_roles",
]

# --------------------------------------------------------------------------- numbers

_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "兩": 2, "三": 3,
    "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
    "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}
_LATIN_MULTIPLIERS = {"k": 1000, "w": 10_000}
# Largest base a k / w suffix may carry: "65W" and "120W" are charger power, not 650000 yuan.
_LATIN_MULTIPLIER_BASE_LIMIT = {"k": Decimal(100), "w": Decimal(10)}

_CN_NUMERAL_CHARS = "".join(_CN_DIGITS) + "".join(_SMALL_UNITS) + "".join(_BIG_UNITS)
_ARABIC = r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+(?:\.[0-9]+)?"
_TOKEN_RE = re.compile(rf"{_ARABIC}|[{_CN_NUMERAL_CHARS}]|[kKwW]")
_RUN_RE = re.compile(rf"(?:{_ARABIC}|[{_CN_NUMERAL_CHARS}])+")
_CURRENCY_AROUND_NUMBER_RE = re.compile(r"^(?:¥|rmb)?\s*(.+?)\s*(?:块钱|元钱|元|块|rmb)?$", re.I)

# Characters whose NFKC form is one character are normalised in place, so every index
# into the normalised text is also an index into the original text.
_EXTRA_CHAR_MAP = {"〜": "~", "—": "-", "–": "-", "―": "-", "﹣": "-", "－": "-", "～": "~"}


def _normalize_chars(text: str) -> str:
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
        if token in _CN_DIGITS or token[0].isdigit():
            return self._feed_number(token)
        if token in _SMALL_UNITS:
            return self._feed_small_unit(_SMALL_UNITS[token])
        if token in _BIG_UNITS:
            return self._feed_big_unit(_BIG_UNITS[token])
        if lowered in _LATIN_MULTIPLIERS:
            return may_multiply and self._feed_latin_multiplier(lowered)
        return False

    def _feed_number(self, token: str) -> bool:
        if self.pending is not None:
            return False  # two numbers in a row ("两三", "二零二四") are not one number
        if token in _CN_DIGITS:
            self.pending = Decimal(_CN_DIGITS[token])
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
        self.total = base * _LATIN_MULTIPLIERS[letter]
        self._after_unit(_LATIN_MULTIPLIERS[letter])
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


def _parse_decimal(text: str) -> Decimal | None:
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
    normalized = _normalize_chars(text).strip()
    match = _CURRENCY_AROUND_NUMBER_RE.match(normalized)
    if not match:
        return None
    value = _parse_decimal(match.group(1))
    return None if value is None else float(value)


# --------------------------------------------------------------------------- prices


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


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_LEFT_CUES: dict[str, list[str]] = {
    "max": [
        "不超过", "不要超过", "别超过", "不能超过", "不得超过", "不想超过", "不超出", "不超",
        "不高于", "不多于", "不大于", "最多", "最高", "最贵", "顶多", "至多", "低于", "小于",
        "少于", "不到", "不足", "降到", "降至", "<=", "<", "≤",
    ],
    "min": [
        "至少", "最少", "最低", "起码", "不低于", "不少于", "不小于", "高于", "大于", "超过",
        "多于", ">=", ">", "≥",
    ],
    "around": ["大概", "大约", "大致", "约莫", "约", "差不多", "估计", "接近", "将近"],
    "budget": ["预算", "控制在", "控制", "能接受", "承受", "手头", "手上", "兜里"],
    "price": ["价格区间", "价格范围", "价格", "价位", "价钱", "售价", "标价", "报价", "单价"],
}  # fmt: skip
_RIGHT_CUES: dict[str, list[str]] = {
    "max": [
        "以内", "之内", "以內", "之內", "以下", "之下", "以里", "封顶", "为限", "为上限", "不到",
        "打住", "顶天",
    ],
    "min": ["以上", "之上", "往上", "朝上", "起步", "起", "开外", "为下限", "打底", "保底"],
    "around": ["左右", "上下", "前后", "附近", "出头"],
    "tier": ["档", "价位", "价格", "价"],
}  # fmt: skip
_LEFT_CUE_RE = {
    kind: re.compile(rf"(?:{_alternation(words)})$", re.I) for kind, words in _LEFT_CUES.items()
}
_RIGHT_CUE_RE = re.compile(
    "|".join(rf"(?P<{kind}>{_alternation(words)})" for kind, words in _RIGHT_CUES.items())
    + r"|(?P<max_inner>[内內](?![存置容衣裤胆核]))|(?P<min_plus>\+(?![0-9]))"
)
_LEFT_FILLER_RE = re.compile(
    r"(?:[\s:,]|在|是|为|有|就|只有|也就|也|要|得|能|可以|花|的话|呢|吧)+$"
)
_LEFT_CURRENCY_RE = re.compile(r"(?:¥|rmb|cny|人民币)\s*$", re.I)
_RIGHT_CURRENCY_RE = re.compile(r"\s*(?:块钱|元钱|元|块|rmb|cny|人民币)", re.I)
_CONNECTOR_RE = re.compile(r"\s*(?:到|至|-|~|～)\s*(?:¥|rmb)?\s*", re.I)
_BETWEEN_CONNECTOR_RE = re.compile(r"\s*(?:和|与|跟)\s*(?:¥|rmb)?\s*", re.I)
_BETWEEN_RE = re.compile(r"\s*之间")
_APPROX_SUFFIX_RE = re.compile(r"多(?!少)|来(?=块|元)")

# Units that make a number a spec, a count, a date or an id rather than a price.
_CN_SPEC_UNITS = [
    "英寸", "寸", "码", "毫升", "升", "千克", "公斤", "毫克", "克", "斤", "万像素", "亿像素",
    "像素", "毫安时", "毫安", "毫米", "厘米", "公分", "公里", "千米", "平米", "平方", "米",
    "瓦", "伏", "赫兹", "帧", "转", "度", "核", "线程", "代", "系列", "系", "款", "版", "号",
    "个", "件", "台", "部", "只", "双", "对", "套", "条", "张", "支", "片", "粒", "包", "盒",
    "瓶", "罐", "袋", "箱", "份", "本", "杯", "颗", "枚", "把", "位", "名", "人", "次", "遍",
    "回", "天", "日", "月", "年", "周", "星期", "小时", "分钟", "分", "秒", "岁", "倍", "折",
    "期", "层", "楼", "页", "集", "色", "种", "样", "级", "成", "步", "卡", "大卡",
    "千卡", "匹", "块", "毛", "角", "%", "屏", "分辨率", "积分", "字",
]  # fmt: skip
_LATIN_SPEC_UNITS = [
    "gb", "g", "mb", "tb", "t", "mah", "wh", "w", "kw", "ml", "l", "cm", "mm", "m", "km",
    "hz", "khz", "nits", "nit", "fps", "p", "k", "mp", "px", "dpi", "ppi", "kg", "oz",
    "inch", "in", "v", "ma", "a", "pro", "max", "ultra", "plus", "mini", "lite", "se", "s",
    "gen", "th", "nd", "rd", "x",
]  # fmt: skip
_CN_SPEC_RE = re.compile(rf"\s*(?:{_alternation(_CN_SPEC_UNITS)})")
_LATIN_SPEC_AFTER_SPACE_RE = re.compile(
    rf"\s+(?:{_alternation(_LATIN_SPEC_UNITS)})(?![A-Za-z])", re.I
)
_JOINED_NUMBER_RE = re.compile(r"\s*[+/×*xX:]\s*[0-9]")
_RANGE_LIKE_RE = re.compile(r"\s*[-~/.]\s*[0-9]")
# Numbers right after these words are ids, chip models or promotions, never a price wish:
# "尾号1234", "骁龙888", "天玑9300", "满300减50", "运费10元".
_NOT_A_PRICE_BEFORE_RE = re.compile(
    r"(?:尾号|单号|订单|编号|型号|电话|手机号|号码|货号|工号|卡号|房间|邮编|验证码|快递|No\.?|#"
    r"|骁龙|天玑|麒麟|锐龙|酷睿|猎户座|联发科|英伟达|满|减|立减|省|优惠|返现|返|券|红包|运费"
    r"|邮费|定金|订金|rtx|gtx|rx|ryzen|core|snapdragon|dimensity|kirin|helio|exynos)"
    r"[\s:是为]*$",
    re.I,
)
# "两块手表", "20块巧克力": 块 counts things before these nouns.
_BLOCK_NOUN_RE = re.compile(
    r"(?:手表|表|屏|电池|巧克力|蛋糕|饼干|糖|肥皂|香皂|面包|布|玻璃|石|地|板|砖|牌|硬盘|内存"
    r"|显卡|手帕|毛巾|磁铁|镜片|贴膜|膜|肉|冰)"
)
# Brands and series whose model numbers follow the name: "小米14", "荣耀400", "vivo X200".
_CN_MODEL_PREFIXES = [
    "小米", "红米", "华为", "荣耀", "一加", "魅族", "三星", "苹果", "真我", "努比亚", "中兴",
    "联想", "索尼", "坚果", "酷派", "诺基亚", "摩托罗拉", "红魔", "黑鲨", "畅享", "麦芒",
    "小新", "拯救者", "天选", "无畏", "小天才", "米家", "大疆",
]  # fmt: skip
_CN_MODEL_PREFIX_RE = re.compile(rf"(?:{_alternation(_CN_MODEL_PREFIXES)})\s?$")
# Latin words that are brands, not model names: "vivo 3000左右" is a price wish.
_LATIN_BRANDS = {
    "vivo", "oppo", "iqoo", "realme", "apple", "huawei", "xiaomi", "redmi", "honor", "oneplus",
    "samsung", "sony", "nike", "adidas", "lenovo", "dell", "hp", "asus", "acer", "msi",
    "iphone", "ipad", "macbook", "airpods", "meizu", "anta", "lining",
}  # fmt: skip
# After a space, these words still name a model line: "Mate 60", "Reno 13", "Pixel 9"
# (chips such as "RTX 4060" are refused by _NOT_A_PRICE_BEFORE_RE). Other spaced words
# ("Mate60 Pro 6000左右") let an explicitly cued number through.
_LATIN_MODEL_WORDS = {
    "mate", "pura", "nova", "reno", "find", "note", "galaxy", "pixel", "series", "gen",
    "model", "no", "v", "x", "k", "p", "s",
}  # fmt: skip
_LATIN_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z0-9.\-]*) ?$")
_NUMBER_JOINED_BEFORE_RE = re.compile(r"[0-9]\s*[-~/:+×*]\s*$")
_STORAGE_SIZES = {Decimal(n) for n in (64, 128, 256, 512, 1024, 2048)}
_MAX_PRICE = Decimal(100_000_000)
_APPROX_RANGE_RE = re.compile(r"^([一二两三四五六七八九])([二两三四五六七八九])([十百千万萬])$")


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
    if last in _SMALL_UNITS:
        return _SMALL_UNITS[last]
    if last in _BIG_UNITS:
        return _BIG_UNITS[last]
    return _LATIN_MULTIPLIERS.get(last)


def _approx_range(run: str) -> tuple[Decimal, Decimal] | None:
    """ "两三千" → (2000, 3000): two neighbouring digits before one unit."""
    match = _APPROX_RANGE_RE.match(run)
    if not match:
        return None
    first, second = _CN_DIGITS[match.group(1)], _CN_DIGITS[match.group(2)]
    if second != first + 1:
        return None
    unit = _SMALL_UNITS.get(match.group(3)) or _BIG_UNITS[match.group(3)]
    return Decimal(first * unit), Decimal(second * unit)


def _latin_multiplier_end(norm: str, run_end: int, value: Decimal) -> int | None:
    """End of "2k" / "1.5w" if the run is followed by a k or w suffix that multiplies it."""
    if run_end >= len(norm) or norm[run_end].lower() not in _LATIN_MULTIPLIERS:
        return None
    if not norm[run_end - 1].isdigit():
        return None
    if run_end + 1 < len(norm) and norm[run_end + 1].isascii() and norm[run_end + 1].isalpha():
        return None  # "2kg", "3wh" are units; "2k到3k" and "3w左右" are money
    if value >= _LATIN_MULTIPLIER_BASE_LIMIT[norm[run_end].lower()]:
        return None
    if re.match(r"[0-9](?![0-9.])", norm[run_end + 1 : run_end + 3]):
        return run_end + 2  # "1w2" = 12000, "2k5" = 2500
    return run_end + 1


def _number_from_run(norm: str, start: int, end: int) -> _Number | None:
    run = norm[start:end]
    value = _parse_decimal(run)
    if value is not None:
        multiplied_end = _latin_multiplier_end(norm, end, value)
        if multiplied_end is not None:
            written = norm[start:multiplied_end]
            full = _parse_decimal(written)
            if full is not None:
                unit = _trailing_unit(written)
                return _Number(
                    start, multiplied_end, full, trailing_unit=unit, latin_multiplier=True
                )
        plain = all(char.isdigit() or char in ".," or char in _CN_DIGITS for char in run)
        return _Number(start, end, value, trailing_unit=_trailing_unit(run), plain=plain)
    approx = _approx_range(run)
    if approx is not None:
        return _Number(start, end, approx[0], low=approx[0], high=approx[1])
    return _bare_unit_number(norm, start, end)


def _bare_unit_number(norm: str, start: int, end: int) -> _Number | None:
    """ "千元机", "万元以内", "千把块": a lone 百/千/万 counts as one of it before money words."""
    run = norm[start:end]
    unit = _SMALL_UNITS.get(run) or _BIG_UNITS.get(run)
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
    for match in _RUN_RE.finditer(norm):
        number = _number_from_run(norm, match.start(), match.end())
        if number is None:
            number = _number_from_suffix(norm, match.start(), match.end())
        if number is not None:
            numbers.append(number)
    return numbers


def _number_from_suffix(norm: str, start: int, end: int) -> _Number | None:
    """The longest readable tail of an unreadable run: "万一三千" → "三千"."""
    for cut in range(start + 1, end):
        if norm[cut] in _SMALL_UNITS or norm[cut] in _BIG_UNITS:
            continue
        number = _number_from_run(norm, cut, end)
        if number is not None:
            return number
    return None


def _left_context(norm: str, number: _Number) -> _Context:
    position = number.start
    context = _Context(start=position, end=number.end, kinds=set())
    currency = _LEFT_CURRENCY_RE.search(norm, 0, position)
    if currency:
        context.currency = True
        position = context.start = currency.start()
    else:
        _check_left_attachment(norm, number, context)
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


def _check_left_attachment(norm: str, number: _Number, context: _Context) -> None:
    before = norm[: number.start]
    previous = before[-1:] if before else ""
    if previous in ("第", "+", "/", "×", "*", ".") or previous.isdigit():
        context.rejected = True  # ordinals and the second half of "12+256"
    elif _NOT_A_PRICE_BEFORE_RE.search(before) or _NUMBER_JOINED_BEFORE_RE.search(before):
        context.rejected = True  # ids, chips, promotions, the tail of "2024-11-05", "10:30"
    else:
        latin = _LATIN_WORD_BEFORE_RE.search(before)
        if latin and _latin_word_counts(norm, number, latin):
            if _latin_word_is_model(latin.group(1), spaced=latin.group().endswith(" ")):
                context.rejected = True  # "iPhone15", "mate60", "RTX 4060", "DG2026..."
            else:
                context.attached_brand = True  # "vivo3000左右": a price only with a cue
        elif _CN_MODEL_PREFIX_RE.search(before):
            context.attached_brand = True


def _latin_word_counts(norm: str, number: _Number, latin: re.Match[str]) -> bool:
    """Only Arabic digits form model names, and "512G" before a number is a spec, not a name."""
    if not norm[number.start].isdigit():
        return False
    return not (latin.start() > 0 and norm[latin.start() - 1].isdigit())


def _latin_word_is_model(word: str, spaced: bool) -> bool:
    lowered = word.lower()
    if lowered in _LATIN_BRANDS:
        return False
    if not spaced:
        return True
    return lowered in _LATIN_MODEL_WORDS or any(char.isdigit() for char in lowered)


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
    if kind == "max":
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
    text: str, norm: str, first: _Number, second: _Number
) -> PriceConstraint | None:
    bounds = _range_bounds(first, second)
    if bounds is None:
        return None
    left = _left_context(norm, first)
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


def extract_prices(text: str) -> list[PriceConstraint]:
    """Every price wish in a shopper's message, in text order.

    "三千以内的华为手机" → [PriceConstraint(min=None, max=3000.0, around=None, 0, 4, "三千以内")].
    """
    norm = _normalize_chars(text)
    numbers = _find_numbers(norm)
    found: list[PriceConstraint] = []
    index = 0
    while index < len(numbers):
        number = numbers[index]
        partner = _range_partner(norm, number, numbers, index)
        if partner is not None:
            ranged = _range_constraint(text, norm, number, numbers[partner])
            if ranged is not None:
                found.append(ranged)
                index = partner + 1
                continue
            if _RANGE_LIKE_RE.match(norm, number.end):
                index = partner + 1  # "2024-11-05", "16-12": neither side is a price
                continue
        single = _single_price(text, norm, number)
        if single is not None:
            found.append(single)
        index += 1
    merged = _merge_adjacent_bounds(norm, found)
    return [
        PriceConstraint(c.min, c.max, c.around, c.start, c.end, text[c.start : c.end])
        for c in merged
    ]


def _single_price(text: str, norm: str, number: _Number) -> PriceConstraint | None:
    position, suffix_kind = _approx_suffix(norm, number)
    left = _left_context(norm, number)
    right = _right_context(norm, number, position)
    if suffix_kind:
        right.kinds.add(suffix_kind)
    if not _is_price(number, left, right):
        return None
    return _single_constraint(text, number, left, right)

"""Personal data in shopper text masked before staff, NLU exports or logs see it.

"我的手机号是13800138000" becomes "我的手机号是138****8000": enough for staff to recognise a
number the shopper gave before, not enough to call it. ``find_pii`` gives the spans (indices
into the original text) so a caller can highlight them or log an unmask.

Decisions worth knowing (tests/unit/test_pii.py pins each of them):

- Full-width digits, letters, "＋" and dashes count as their ASCII forms ("１３８…" is a phone);
  masks are written in ASCII.
- A number never starts or ends inside a run of digits or Latin letters, nor next to a letter
  or digit joined by "-" or "_": "DG20261204000123", "RTX4090", "PH-XM-14-256" and a longer
  order number that merely contains 11 phone-like digits are left alone.
- Phone: a mainland mobile number ``1[3-9]`` + 9 digits, as one run or grouped 3-4-4 with
  spaces or hyphens, optionally after +86 / 86 / 0086 → "+86 139****5678" (the country prefix
  is kept, the separators dropped). Landlines are not masked.
- ID: 18 characters (17 digits and a digit or X) with a real birth date (1900-2099) and a
  right ISO 7064 MOD 11-2 check character, optionally grouped 6-8-4 → "110105********002X":
  the region and the last four stay, the birth date goes. A checksum alone would let one
  random 18-digit order number in 11 through; with the date check it is one in about 20,000.
  15-digit first-generation IDs are NOT masked: they carry no check digit, have been invalid
  since 2013, and 15 digits is also the length of courier tracking numbers staff must see.
- Bank card: 16-19 digits starting 2-6 or 9 (the card networks; 95xx for old domestic cards,
  so an order number starting 1 is never a card), as one run or grouped in fours with one
  kind of separator, passing the Luhn check → "6222 **** **** 0128" whatever the length.
  Luhn still passes one random number in ten (about 6% of random 18-digit numbers with the
  network digit), so some order numbers are masked: the price of never showing a card number.
- Address: a road (…路 / 街 / 大街 / 大道 / 巷 / 胡同) followed by a house number (…号 / 号院 / 弄),
  or an estate (…小区 / 花园 / 大厦 / 村 …) followed by a building (…号楼 / 栋 / 幢 / 座 / 单元).
  The town (…镇 / 乡 / 街道) before it and the building, unit, floor and room after it
  (including a bare "301" or "3-2-501" at the end) are masked too; the province, city and
  district before it stay so staff see the region: "北京市朝阳区建国路88号院3号楼2单元501室"
  → "北京市朝阳区****". Without both a road (or estate) and a number nothing is masked, so
  "朝阳区有货吗", "送到公司", "12号能到吗" and "万达广场3楼" stay. The price of that:
  an address given without a road ("朝阳区88号"), Tianjin's "…道12号" roads (a bare 道 is too
  often "知道" / "渠道") and one-character road names are missed, and a road name swallows up
  to a dozen Chinese characters before it unless an administrative suffix (省市区县旗镇乡) or a
  function word (的 / 在 / 到 / 送 …) stops it, so masking may start a few characters early.
  Every address mask is the same "****", so its length tells nothing either.
- Overlaps: ID before bank card before phone before address, then the longer span; an address
  whose tail runs into a number ("建国路88号 6222 0212 …") is cut short before it, not dropped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = ["PiiKind", "PiiMatch", "find_pii", "mask_pii"]

PiiKind = Literal["phone", "id_number", "bank_card", "address"]


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One piece of personal data; ``start``/``end`` index the original text."""

    kind: PiiKind
    start: int
    end: int
    text: str


# One character for one character, so indices into the folded text index the original too.
# Only what the patterns read: full-width "，" and "？" are in nearly every message.
_FOLD_CHARS = "０-９Ａ-Ｚａ-ｚ＋－\u3000\u00a0‐‑‒–—―−﹣"
_FOLD = {code: chr(code - 0xFEE0) for code in range(0xFF10, 0xFF5B) if chr(code).isalnum()}
_FOLD.update({ord("＋"): "+", ord("－"): "-"})
_FOLD.update(dict.fromkeys(map(ord, "\u3000\u00a0"), " "))
_FOLD.update(dict.fromkeys(map(ord, "‐‑‒–—―−﹣"), "-"))
_NEEDS_FOLD_RE = re.compile(f"[{_FOLD_CHARS}]")

# Not inside (or joined by - / _ to) a run of digits and Latin letters: SKUs, models, order ids.
_LEFT = r"(?<![0-9A-Za-z])(?<![0-9A-Za-z][-_])"
_RIGHT = r"(?![0-9A-Za-z])(?![-_][0-9A-Za-z])"

_PHONE_RE = re.compile(
    _LEFT
    + r"(?P<prefix>(?:\+|00)?86[ -]?)?(?P<head>1[3-9][0-9])[ -]?(?P<mid>[0-9]{4})[ -]?"
    + r"(?P<tail>[0-9]{4})"
    + _RIGHT
)
_ID_RE = re.compile(
    _LEFT
    + r"(?P<region>[1-9][0-9]{5})(?P<sep>[ -]?)(?P<birth>(?:19|20)[0-9]{2}[01][0-9][0-3][0-9])"
    + r"(?P=sep)(?P<rest>[0-9]{3}[0-9Xx])"
    + _RIGHT
)
_CARD_RE = re.compile(
    _LEFT
    + r"(?P<first16>[2-69][0-9]{3}(?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)[0-9]{4})"
    + r"(?:(?P=sep)[0-9]{1,3})?"
    + _RIGHT
)
# Cheap test run first: every number above has at least 11 digits, at most one separator apart.
_LONG_NUMBER_HINT_RE = re.compile(r"[0-9](?:[ -]?[0-9]){10}")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _cjk_except(excluded: str) -> str:
    """A character class of the common CJK block without ``excluded``, as ranges (no
    lookahead per character: a road name is tried at every position of every message)."""
    parts, start = [], 0x4E00
    for code in sorted(map(ord, set(excluded))):
        if code > start:
            parts.append(f"{chr(start)}-{chr(code - 1)}")
        start = code + 1
    parts.append(f"{chr(start)}-\u9fff")
    return "[" + "".join(parts) + "]"


# Administrative suffixes end a name (what is before them stays visible); function words keep
# "送到" / "我住在" out of the masked road name.
_STOP = "省市区县旗镇乡的了是在到往送寄住址我你您他她们这那哪请帮把给从"
_NAME = _cjk_except(_STOP) + "{2,12}"
_NUM = r"(?:[0-9]{1,5}|[零〇一二三四五六七八九十百千两]{1,4}|[Xx×]{1,3})"
_TOWN = rf"(?:{_cjk_except(_STOP + '街道路')}{{2,12}}(?:街道|镇|乡))?"
_ROAD = rf"{_NAME}(?:大道|大街|路|街|巷|胡同)(?:{_NUM}段)?"
_ESTATE = rf"{_NAME}(?:小区|社区|花园|家园|公寓|大厦|新村|村|苑|广场|园)"
_HOUSE = rf" *{_NUM} *(?:号院|号楼|号|弄)"
_BUILDING = rf" *{_NUM} *(?:号楼|号院|栋|幢|座|单元)"
_UNIT = rf" *-? *(?:{_NUM}|[A-Za-z]) *(?:号院|号楼|号|弄|栋|幢|座|楼|单元|室|层|户|门)"
_ROOM = r" *[0-9]{1,5}(?:-[0-9]{1,5})*(?![0-9A-Za-z\u4e00-\u9fff])"
_ADDRESS_RE = re.compile(
    rf"{_TOWN}(?:{_ROAD}{_HOUSE}|{_ESTATE}{_BUILDING})(?:{_UNIT})*(?:{_ROOM})?"
)
# Cheap test run first: a road or estate word followed by a number.
_ADDRESS_HINT_RE = re.compile(
    r"(?:路|街|巷|胡同|大道|段|区|园|花园|村|苑|场|厦|寓) *[0-9零〇一二三四五六七八九十百千两Xx×]"
)

_RANK: dict[PiiKind, int] = {"id_number": 0, "bank_card": 1, "phone": 2, "address": 3}


def _id_is_valid(digits: str) -> bool:
    """MOD 11-2 check character and a real birth date."""
    try:
        date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == digits[17].upper()


def _luhn_is_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask(kind: PiiKind, folded: str) -> str:
    """The masked form of one match, from its folded (ASCII) text."""
    if kind == "phone":
        match = _PHONE_RE.fullmatch(folded)
        assert match is not None
        prefix = f"{match['prefix'].rstrip(' -')} " if match["prefix"] else ""
        return f"{prefix}{match['head']}****{match['tail']}"
    digits = re.sub(r"[ -]", "", folded)
    if kind == "id_number":
        return f"{digits[:6]}********{digits[-4:].upper()}"
    if kind == "bank_card":
        return f"{digits[:4]} **** **** {digits[-4:]}"
    return "****"


def _candidates(folded: str) -> list[tuple[PiiKind, int, int]]:
    found: list[tuple[PiiKind, int, int]] = []
    if _LONG_NUMBER_HINT_RE.search(folded):
        for m in _ID_RE.finditer(folded):
            if _id_is_valid(m["region"] + m["birth"] + m["rest"]):
                found.append(("id_number", m.start(), m.end()))
        for m in _CARD_RE.finditer(folded):
            if _luhn_is_valid(re.sub(r"[ -]", "", m[0])):
                found.append(("bank_card", m.start(), m.end()))
            elif m["sep"] == " " and _luhn_is_valid(m["first16"].replace(" ", "")):
                # "6222 0212 3456 7890 3张": the 16-digit card, then a count.
                found.append(("bank_card", m.start(), m.end("first16")))
        found.extend(("phone", m.start(), m.end()) for m in _PHONE_RE.finditer(folded))
    if _ADDRESS_HINT_RE.search(folded):
        found.extend(("address", m.start(), m.end()) for m in _ADDRESS_RE.finditer(folded))
    return found


def _find(text: str) -> tuple[str, list[PiiMatch]]:
    folded = text.translate(_FOLD) if _NEEDS_FOLD_RE.search(text) else text
    candidates = _candidates(folded)
    if len(candidates) > 1:
        candidates.sort(key=lambda c: (_RANK[c[0]], c[1] - c[2], c[1]))
    kept: list[tuple[PiiKind, int, int]] = []
    for kind, start, end in candidates:
        clashes = [s for _, s, e in kept if s < end and start < e]
        if clashes and kind == "address" and min(clashes) > start:
            # A number after the house number ("…88号 6222 0212 …") is cut off, not lost.
            shorter = _ADDRESS_RE.match(folded, start, min(clashes))
            clashes, end = ([], shorter.end()) if shorter else (clashes, end)
        if not clashes:
            kept.append((kind, start, end))
    kept.sort(key=lambda c: c[1])
    return folded, [PiiMatch(kind, s, e, text[s:e]) for kind, s, e in kept]


def find_pii(text: str) -> list[PiiMatch]:
    """Phones, ID numbers, bank cards and addresses in ``text``, in order, never overlapping."""
    return _find(text)[1] if text else []


def mask_pii(text: str) -> str:
    """``text`` with every ``find_pii`` match replaced by its mask; other text untouched."""
    if not text:
        return text
    folded, matches = _find(text)
    if not matches:
        return text
    out, last = [], 0
    for match in matches:
        out.append(text[last : match.start])
        out.append(_mask(match.kind, folded[match.start : match.end]))
        last = match.end
    out.append(text[last:])
    return "".join(out)


# -- logs ------------------------------------------------------------------------------------------
def mask_log_records() -> None:
    """From now on every log record of this process carries its message masked, whatever logger
    or handler writes it (Rasa's, Sanic's, uvicorn's, ours): the record factory formats and masks
    each message once, when a logger has decided to emit it. Call once at start-up."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_pii", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit: left for logging to report
            return record
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    factory.masks_pii = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)

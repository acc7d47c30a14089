"""The shop's sensitive words: refused in what merchants and staff write for shoppers (product
texts, staff messages, canned replies) and in what shoppers type to the chat (the channels answer
politely and the bot never sees the message: bot/channels/guard.py).

The list is a data file the shop edits (``data/moderation/sensitive_words.txt``: categories,
plain words, ``re:`` patterns); `SensitiveWordsFile` reads it again when it changes. A check
costs tens of microseconds (`SensitiveWords`). Standard library only: the Rasa channels and the
web app share it.

A plain word is also found when it is written
- in another case or width: ＳＢ客服, Sb客服 = sb客服 (NFKC, ignoring case);
- with spaces, punctuation, symbols or emoji between its characters: 刷 单, 刷。单, 刷-单,
  加*微*信*转*账, 傻😀逼 (and zero-width characters, which the channels drop anyway).
It is not found (add the variant to the list, or a ``re:`` pattern, if the shop sees it):
- with letters, digits or other Chinese characters between its characters (傻x逼, 刷个单);
- spelt otherwise: homophones and near-homophones (煞笔 is found only because it is listed),
  pinyin or initials (shabi), traditional characters (傻逼 vs 儍逼), characters split into
  their parts (口十 for 叶), look-alike letters from other scripts (Cyrillic а for a);
- spread over several messages, or in a picture.
The price of skipping gaps: a word is also found across punctuation that separated two words
(「别催了滚，蛋糕到了吗」 has 滚蛋); keep such words specific. ``re:`` patterns are matched as
written (ignoring case and width), with no gaps allowed beyond what they say.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# What people put between the characters of a word to dodge a list: spaces and zero-width
# characters, ASCII, Latin-1, general, CJK and full-width punctuation, symbols and emoji.
_GAP_CHARS = (
    r"\s\u200b-\u200d\u2060\ufeff!-/:-@\[-`{-~\u00a1-\u00bf\u00d7\u00f7\u2010-\u205e"
    r"\u2190-\u2bff\u3000-\u303f\u30fb\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    r"\U0001f000-\U0001faff"
)
_GAPS = re.compile(f"[{_GAP_CHARS}]+")
_NOT_GAP = re.compile(f"[^{_GAP_CHARS}]")


@dataclass(frozen=True)
class Hit:
    category: str
    start: int
    end: int
    text: str


class SensitiveWords:
    """Plain words are looked for in the message's skeleton: folded (`_fold`) and with every
    gap character taken out, by one alternation of literals, so a check costs microseconds and
    the list compiles in milliseconds (a gap class between every two characters of every word
    took 0.4 s to compile and 400 microseconds a message). A hit is mapped back to its place in
    the message as typed, gaps included."""

    def __init__(
        self,
        words: Iterable[tuple[str, str]] = (),
        patterns: Iterable[tuple[str, str]] = (),
    ) -> None:
        """`words`: (category, word) pairs; `patterns`: (category, regular expression) pairs,
        matched as written, ignoring case; see `parse` for the file format."""
        self._category_of: dict[str, str] = {}
        self.categories: list[str] = []
        for category, word in words:
            self._category_of.setdefault(_skeleton(_fold(word)), category)
            self.categories.append(category)
        self._category_of.pop("", None)
        # Longest first, so that at one place the longest listed word is the hit (sb客服, not sb).
        ordered = sorted(self._category_of, key=len, reverse=True)
        self._words = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._patterns = [(c, re.compile(source, re.IGNORECASE)) for c, source in patterns]
        self.categories = list(dict.fromkeys([*self.categories, *(c for c, _ in self._patterns)]))

    @classmethod
    def load(cls, path: Path) -> SensitiveWords:
        return cls.parse(path.read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> SensitiveWords:
        words: list[tuple[str, str]] = []
        patterns: list[tuple[str, str]] = []
        category = "other"
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                category = line[1:-1].strip() or "other"
            elif line.startswith("re:"):
                source = line[3:].strip()
                try:
                    re.compile(source)
                except re.error as error:
                    raise ValueError(f"line {number}: not a valid pattern ({error})") from None
                patterns.append((category, source))
            else:
                words.append((category, line))
        return cls(words, patterns)

    def find(self, text: str) -> list[Hit]:
        """Every hit, with its place in `text` as given; where hits overlap, the first."""
        if not text:
            return []
        folded = _fold(text)
        hits = self._word_hits(text, folded)
        for category, pattern in self._patterns:
            hits.extend(
                Hit(category, m.start(), m.end(), m.group())
                for m in pattern.finditer(folded)
                if m.end() > m.start()
            )
        hits.sort(key=lambda hit: (hit.start, -hit.end))
        kept: list[Hit] = []
        for hit in hits:
            if not kept or hit.start >= kept[-1].end:
                kept.append(hit)
        return [Hit(h.category, h.start, h.end, text[h.start : h.end]) for h in kept]

    def _word_hits(self, text: str, folded: str) -> list[Hit]:
        if self._words is None:
            return []
        skeleton = _skeleton(folded)
        found = list(self._words.finditer(skeleton))
        if not found:
            return []
        places = [m.start() for m in _NOT_GAP.finditer(folded)]  # skeleton index -> text index
        return [
            Hit(self._category_of[m.group()], places[m.start()], places[m.end() - 1] + 1, "")
            for m in found
        ]

    def mask(self, text: str) -> str:
        """Each hit replaced by as many ＊ as it had characters."""
        for hit in reversed(self.find(text)):
            text = text[: hit.start] + "＊" * (hit.end - hit.start) + text[hit.end :]
        return text


def _skeleton(folded: str) -> str:
    return _GAPS.sub("", folded)


def _fold(text: str) -> str:
    """`text` in NFKC (full-width letters and punctuation as ASCII) and lower case, one character
    for one, so that a hit's place is its place in `text`: a character whose folded form is
    longer (…, ㈱, İ) is kept as it is."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) == len(text):
        return folded
    return "".join(f if len(f := _fold_one(ch)) == 1 else ch for ch in text)


def _fold_one(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()


class SensitiveWordsFile:
    """The list in the file the shop edits, read again when its modification time changes
    (looked at no more than once every `check_seconds`), so an edit needs no restart.

    An edit that does not parse (a broken ``re:`` line) keeps the list in use and is logged
    once; a missing file is an empty list (logged once), so the chat keeps running either way.
    """

    def __init__(
        self, path: Path, check_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = Path(path)
        self.check_seconds = check_seconds
        self.clock = clock
        self._words = SensitiveWords([])
        self._mtime: float | None = None
        self._checked = -math.inf

    def current(self) -> SensitiveWords:
        now = self.clock()
        if now - self._checked >= self.check_seconds:
            self._checked = now
            self._reload_if_changed()
        return self._words

    def _reload_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            if self._mtime != -1.0:
                logger.warning(
                    "sensitive words: %s cannot be read; no words are checked", self.path
                )
                self._words, self._mtime = SensitiveWords([]), -1.0
            return
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            self._words = SensitiveWords.load(self.path)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            logger.error(
                "sensitive words: %s not reloaded, the previous list stays (%s)", self.path, error
            )

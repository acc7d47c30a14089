"""The shop's sensitive words: found in text merchants and staff write for shoppers (refused
there) and masked in what shoppers type before it is stored or shown.

The list is a data file the shop edits (``data/moderation/sensitive_words.txt``: categories,
plain words, ``re:`` patterns). Matching ignores case, width (ＳＢ = sb) and spaces inside a
word (「刷 单」), so the common dodges are caught; one compiled alternation, so a check costs
microseconds. Standard library only: the Rasa channels and the web app share it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

_GAP = r"[\s\u200b·._\-*]*"  # what people put between the characters of a word to dodge a list


@dataclass(frozen=True)
class Hit:
    category: str
    start: int
    end: int
    text: str


class SensitiveWords:
    def __init__(self, entries: list[tuple[str, str]]) -> None:
        """`entries`: (category, pattern source) pairs; see `load` for the file format."""
        self.categories: list[str] = []
        parts = []
        for category, source in entries:
            parts.append(f"(?P<g{len(self.categories)}>{source})")
            self.categories.append(category)
        self._pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    @classmethod
    def load(cls, path: Path) -> SensitiveWords:
        return cls.parse(path.read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> SensitiveWords:
        entries: list[tuple[str, str]] = []
        category = "other"
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                category = line[1:-1].strip() or "other"
                continue
            if line.startswith("re:"):
                source = line[3:].strip()
                try:
                    re.compile(source)
                except re.error as error:
                    raise ValueError(f"line {number}: not a valid pattern ({error})") from None
            else:
                word = unicodedata.normalize("NFKC", line)
                source = _GAP.join(re.escape(ch) for ch in word if not ch.isspace())
            entries.append((category, source))
        return cls(entries)

    def find(self, text: str) -> list[Hit]:
        """Every hit, positions in `text` as given (NFKC keeps the length of CJK and
        full-width text, which is what shoppers type)."""
        if self._pattern is None or not text:
            return []
        folded = unicodedata.normalize("NFKC", text)
        if len(folded) != len(text):  # ligatures and the like: match on the text as given
            folded = text
        return [
            Hit(
                self.categories[int(m.lastgroup[1:])], m.start(), m.end(), text[m.start() : m.end()]
            )
            for m in self._pattern.finditer(folded)
            if m.lastgroup is not None
        ]

    def mask(self, text: str) -> str:
        """Each hit replaced by as many ＊ as it had characters."""
        for hit in reversed(self.find(text)):
            text = text[: hit.start] + "＊" * (hit.end - hit.start) + text[hit.end :]
        return text

"""Catalog words for the text rules, in files that both Pythons read without the catalog.

knowledge_graph/export.py writes them beside the NLU's jieba dictionary and lookup tables
(`daogou bot prepare`, which `make train` and `daogou run` call: var/bot/lexicon/); the Rasa
components, which may not import the catalog's packages, read them here from the path their
configuration names. A lexicon file holds one ``kind<TAB>word`` line per word, sorted; lines
starting with ``#`` are comments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

DIRECTORY = "lexicon"  # inside the NLU export folder, var/bot/
NAMES = "names.tsv"  # brand and model-line names: cn_text.prices.NameWords


def format_lexicon(entries: Mapping[str, Iterable[str]], header: str = "") -> str:
    """The file text: ``header`` as comment lines, then the words by kind, sorted and unique.
    Words with a tab or a line break cannot be written and are left out."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for kind in sorted(entries):
        words = {word.strip() for word in entries[kind]}
        lines += [
            f"{kind}\t{word}" for word in sorted(words) if word and not set(word) & set("\t\r\n")
        ]
    return "\n".join(lines) + "\n"


def parse_lexicon(text: str) -> dict[str, list[str]]:
    """Kind -> words, in file order. Comment, blank and malformed lines are skipped."""
    entries: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        kind, word = line.split("\t", 1)
        if word.strip():
            entries.setdefault(kind.strip(), []).append(word.strip())
    return entries


def read_lexicon(path: str | Path) -> dict[str, list[str]] | None:
    """The lexicon at ``path``, or None when there is no such file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return parse_lexicon(text)

"""Exports from the graph for the NLU: a jieba user dictionary, Rasa lookup tables and synonyms,
and the brand and model-line names the price rules need (cn_text/lexicon.py reads them)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from cn_text import lexicon
from cn_text.numbers import BIG_UNITS, CN_DIGITS, SMALL_UNITS
from knowledge_graph.graph import ProductGraph

# jieba frequencies: high enough that "Mate60"、"小米14" stay one word.
_WORD_FREQ = 2000


def _product_names(graph: ProductGraph) -> set[str]:
    names: set[str] = set()
    for p in graph.products.values():
        if p.model:
            names.add(p.model)
        names.update(p.aliases)
    return names


def _colours(graph: ProductGraph) -> set[str]:
    found: set[str] = set()
    for p in graph.products.values():
        value = p.attributes.get("颜色")
        if isinstance(value, list):
            found.update(str(v) for v in value)
        elif value:
            found.add(str(value))
    return found


def lookup_values(graph: ProductGraph) -> dict[str, list[str]]:
    brands = {alias for b in graph.brands.values() for alias in [b["name"], *b.get("aliases", [])]}
    categories = {
        alias for c in graph.categories.values() for alias in [c["name"], *c.get("aliases", [])]
    }
    attributes = {
        alias
        for specs in graph.schema.values()
        for spec in specs.values()
        for alias in [spec.key, *spec.aliases]
    }
    return {
        "product": sorted(_product_names(graph)),
        "brand": sorted(brands),
        "category": sorted(categories),
        "attribute": sorted(attributes),
        "color": sorted(_colours(graph)),
    }


def synonyms(graph: ProductGraph) -> dict[str, list[str]]:
    """Canonical name -> other spellings (Rasa's EntitySynonymMapper maps them back).

    An alias claimed by two names (e.g. 内存 for two attributes) is left out: mapping it
    either way would be wrong half the time; the actions resolve it with the product's category.
    """
    claims: dict[str, set[str]] = {}

    def claim(canonical: str, aliases: list[str] | tuple[str, ...]) -> None:
        for alias in aliases:
            if alias != canonical:
                claims.setdefault(alias, set()).add(canonical)

    for b in graph.brands.values():
        claim(b["name"], b.get("aliases", []))
    for c in graph.categories.values():
        claim(c["name"], c.get("aliases", []))
    for specs in graph.schema.values():
        for spec in specs.values():
            claim(spec.key, spec.aliases)
    canonical_names = (
        set(graph.brands)
        | set(graph.categories)
        | {k for specs in graph.schema.values() for k in specs}
    )
    result: dict[str, list[str]] = {}
    for alias, owners in sorted(claims.items()):
        if len(owners) == 1 and alias not in canonical_names:
            result.setdefault(next(iter(owners)), []).append(alias)
    return {k: sorted(v) for k, v in sorted(result.items())}


# Shoppers' question phrases ("屏幕多大", "支持5G") must not become single jieba words, or entity
# annotations such as [屏幕](attribute)多大 no longer fall on token boundaries.
_QUESTION_PHRASE = re.compile(r"多[大重少久长宽高]|吗|不|么|怎|啥|几|支持|能否|是否")


def jieba_dictionary(graph: ProductGraph) -> str:
    words: set[str] = set()
    for kind, values in lookup_values(graph).items():
        words.update(v for v in values if kind != "attribute" or not _QUESTION_PHRASE.search(v))
    lines = []
    for word in sorted(words):
        if word.strip() and " " not in word:
            lines.append(f"{word} {_WORD_FREQ} nz")
        elif word.strip():
            # jieba user dictionaries are space-separated; keep the spaced form out, the
            # joined form ("Mate 60" -> "Mate60") is what people type anyway.
            lines.append(f"{word.replace(' ', '')} {_WORD_FREQ} nz")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def rasa_nlu_yaml(graph: ProductGraph) -> str:
    """Lookup tables and synonyms as a Rasa 3 NLU training-data file."""
    nlu: list[dict[str, str]] = []
    for name, values in lookup_values(graph).items():
        if values:
            nlu.append({"lookup": name, "examples": "".join(f"- {v}\n" for v in values)})
    for canonical, others in synonyms(graph).items():
        nlu.append({"synonym": canonical, "examples": "".join(f"- {o}\n" for o in others)})
    return yaml.safe_dump(
        {"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False, width=1000
    )


# The first word of a model name when a model number follows it: "iPhone 15", "Reno12", "天选5",
# "光影精灵10". Shorter Latin words are model codes ("WF-1000XM5", "HD9252"), not line names.
_LINE_BEFORE_NUMBER = re.compile(r"^(?:([A-Za-z]{3,})|([\u4e00-\u9fff]{2,}))\s?[0-9]")
_CN_NUMERALS = frozenset(CN_DIGITS) | frozenset(SMALL_UNITS) | frozenset(BIG_UNITS)


def price_names(graph: ProductGraph) -> dict[str, list[str]]:
    """Names after which a number is a model number, not a price (cn_text.prices.NameWords):
    "brand", every spelling of every brand ("vivo3000左右" needs a cue to be a price), and
    "line", the model lines whose model names are the line and a number ("荣耀400" is a phone).

    Spellings with a space are left out: the price rules read one word before a number.
    A line named with a numeral ("二千公里") or like a category ("手环") is no line name.
    """
    brands = {
        alias
        for b in graph.brands.values()
        for alias in [b["name"], *b.get("aliases", [])]
        if alias.strip() and not any(char.isspace() for char in alias.strip())
    }
    categories = {
        alias for c in graph.categories.values() for alias in [c["name"], *c.get("aliases", [])]
    }
    lines: set[str] = set()
    for p in graph.products.values():
        match = _LINE_BEFORE_NUMBER.match(p.model or "")
        if match:
            word = match.group(1) or match.group(2)
            if word not in categories and not _CN_NUMERALS & set(word):
                lines.add(word)
    return {"brand": sorted(brands), "line": sorted(lines - brands)}


def write_nlu_exports(graph: ProductGraph, out_dir: Path) -> str:
    """Writes jieba/userdict.txt, data/catalog_lookups.yml and lexicon/names.tsv; returns the
    dictionary's hash. The Rasa price extractor reads the names when it starts (`names_path`
    in the training configuration); the action side takes them from the live catalog
    (`CatalogView.price_names`)."""
    dictionary = jieba_dictionary(graph)
    (out_dir / "jieba").mkdir(parents=True, exist_ok=True)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    (out_dir / lexicon.DIRECTORY).mkdir(parents=True, exist_ok=True)
    (out_dir / "jieba" / "userdict.txt").write_text(dictionary, encoding="utf-8")
    (out_dir / "data" / "catalog_lookups.yml").write_text(rasa_nlu_yaml(graph), encoding="utf-8")
    names = lexicon.format_lexicon(
        price_names(graph),
        header="Brand and model-line names for the price rules (cn_text/prices.py).\n"
        "Written by knowledge_graph/export.py from the catalog: do not edit.",
    )
    (out_dir / lexicon.DIRECTORY / lexicon.NAMES).write_text(names, encoding="utf-8")
    return hashlib.sha256(dictionary.encode("utf-8")).hexdigest()[:16]

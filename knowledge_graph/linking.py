"""Links mentions in raw shopper text to graph nodes: products, brands, categories, attributes, colours.

Works on the current graph, so a product a merchant added a second ago is found before the
NLU model is retrained. Matching is done on a normalised form of the text (full-width to
half-width, traditional to simplified, lower case, spaces and dashes dropped) so that
"Mate 60"、"mate60"、"ＭＡＴＥ６０" and "華為" all match; misspelt Latin model names match by
edit distance with the digits kept exact (mate50 is not mate60); Chinese typos that sound
the same (华维, 小迷) match by pinyin.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import jieba
from opencc import OpenCC
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from knowledge_graph.graph import ProductGraph
from knowledge_graph.resolve import ProductResolver

MAX_TEXT = 500  # characters of a message considered for linking; longer text is noise
RECENT_TEXTS = 256  # linked texts remembered per catalog version
KIND_KEYS = ("品类", "类型", "款式")  # the catalog's "what kind of product" attributes
_DROPPED = set(" \t\r\n-_·・/\\'\"")
_LATIN_CHUNK = re.compile(r"[a-z][a-z0-9+]{2,}|[0-9]+[a-z][a-z0-9+]*")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LETTER_SIZE = re.compile(r"[2-6]?x{1,3}l|xs|s|m|l")
_t2s = OpenCC("t2s")

# Hue words shoppers use whatever the catalog calls the shade (雪域白, 曜石黑).
BASIC_COLOURS = (
    "白色",
    "黑色",
    "红色",
    "蓝色",
    "绿色",
    "紫色",
    "粉色",
    "金色",
    "银色",
    "灰色",
    "黄色",
    "橙色",
    "棕色",
)
KIND_PRIORITY = {"product": 0, "brand": 1, "category": 2, "attribute": 3, "color": 4}


@dataclass(frozen=True)
class Target:
    kind: str
    value: str
    skus: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    kind: str  # product | brand | category | attribute | color
    value: str  # canonical name: model, brand, category, attribute key or colour
    text: str  # the words as the shopper typed them
    start: int
    end: int
    skus: tuple[str, ...] = ()
    score: float = 1.0
    method: str = "alias"  # title | alias | fuzzy | pinyin
    named: tuple[str, ...] = ()  # the SKUs the alias itself names, before the words around it

    @property
    def exact(self) -> bool:
        """A whole catalog title: that very SKU, and none of its words mean anything else."""
        return self.method == "title"


@lru_cache(maxsize=8192)
def _normalise_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).lower()
    return _t2s.convert(folded) if _CJK.search(folded) or ord(ch) > 0x2E80 else folded


def normalise(text: str) -> tuple[str, list[int]]:
    """The matching form of `text` and, for each of its characters, the index in `text`."""
    chars: list[str] = []
    positions: list[int] = []
    for i, ch in enumerate(text[:MAX_TEXT]):
        for out in _normalise_char(ch):
            if out in _DROPPED:
                continue
            chars.append(out)
            positions.append(i)
    return "".join(chars), positions


# 「15pm」「苹果15pm」: Pro Max as shoppers type it.
_PRO_MAX = re.compile(r"pro\s*max", re.I)


def normalise_key(text: str) -> str:
    return normalise(text)[0]


def _pinyin_key(text: str) -> str:
    return "".join(lazy_pinyin(text))


# A word this common in jieba's general dictionary is meant as itself, not as a sound-alike typo
# of a name (一家 ≈ 一加, 三星 is a name, 一家三口 is a family).
_EVERYDAY_FREQUENCY = 50


def _word_edges(text: str) -> set[int]:
    return {edge for _, start, end in jieba.tokenize(text) for edge in (start, end)}


def is_everyday_word(text: str) -> bool:
    jieba.dt.check_initialized()
    return (jieba.dt.FREQ.get(text) or 0) >= _EVERYDAY_FREQUENCY


def _alnum_class(ch: str) -> str:
    if ch.isdigit():
        return "digit"
    if ch.isascii() and ch.isalpha():
        return "latin"
    return ""


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class EntityLinker:
    def __init__(self, graph: ProductGraph) -> None:
        self.graph = graph
        self._recent: dict[str, tuple[Mention, ...]] = {}
        self._recent_lock = threading.Lock()
        self.resolver = ProductResolver(graph, normalise_key)
        self.table: dict[str, list[Target]] = defaultdict(list)
        self._generic_keys = self._descriptive_keys()
        self._build_table()
        self.max_len = max((len(k) for k in self.table), default=1)
        self.latin_keys = [k for k in self.table if re.fullmatch(r"[a-z0-9+]+", k) and len(k) >= 4]
        self.pinyin_table: dict[str, str] = {}
        # Sound-alike typos (华维, 小迷) are looked for in names only: among common words they
        # find homophones that are not typos (视频 → 食品, 五百 → 雾白).
        for key, targets in self.table.items():
            # Two-character product names sound like everyday words (画眉 ≈ 话梅): three or more.
            shortest = 2 if targets[0].kind == "brand" else 3
            named = targets[0].kind in ("product", "brand")
            if named and len(key) >= shortest and all(_CJK.match(ch) for ch in key):
                self.pinyin_table.setdefault(_pinyin_key(key), key)

    # -- table --------------------------------------------------------------------
    def _add(self, alias: str | None, target: Target) -> None:
        if not alias:
            return
        key = normalise_key(alias)
        if len(key) < 2 and not _CJK.match(key or "x"):
            return
        if len(key) < 1:
            return
        entries = self.table[key]
        for i, existing in enumerate(entries):
            if existing.kind == target.kind and existing.value == target.value:
                entries[i] = Target(
                    target.kind, target.value, tuple(sorted({*existing.skus, *target.skus}))
                )
                return
        entries.append(target)

    def _descriptive_keys(self) -> set[str]:
        """Brand and category words, alone or together (「华为平板」「苹果电脑」「徕芬」): they
        describe a search, they do not name one product, whatever a product's aliases say."""
        g = self.graph
        brands = {
            normalise_key(a) for b in g.brands.values() for a in {b["name"], *b.get("aliases", [])}
        }
        categories = {
            normalise_key(a)
            for c in g.categories.values()
            for a in {c["name"], *c.get("aliases", [])}
        }
        # Kinds two or more products share (空气炸锅, 坚果礼盒, 口红) describe a search too.
        kind_counts: dict[str, int] = {}
        for product in g.products.values():
            attributes = product.attributes
            kind = next((attributes[k] for k in KIND_KEYS if attributes.get(k)), None)
            if isinstance(kind, str):
                kind_counts[normalise_key(kind)] = kind_counts.get(normalise_key(kind), 0) + 1
        kinds = {k for k, n in kind_counts.items() if n >= 2 and len(k) >= 2}
        self._category_keys = categories
        described = categories | kinds
        # 「小米充电宝」 describes a search among Xiaomi's power banks, but 「玉泽面霜」 names the
        # one cream 玉泽 makes: brand and kind together are generic only where they fit 2+ models.
        models = self._models_by_brand_and_kind()
        return (
            brands
            | described
            | {b + c for b in brands for c in described if len(models.get(b + c, ())) != 1}
        )

    def _models_by_brand_and_kind(self) -> dict[str, set[str]]:
        g = self.graph
        found: dict[str, set[str]] = defaultdict(set)
        for product in g.products.values():
            brand = g.brands.get(product.brand, {"name": product.brand})
            category = g.categories.get(product.category, {"name": product.category})
            attributes = product.attributes
            kind = next((attributes[k] for k in KIND_KEYS if attributes.get(k)), None)
            words = {category["name"], *category.get("aliases", []), *([kind] if kind else [])}
            for b in {brand["name"], *brand.get("aliases", [])}:
                for word in words:
                    key = normalise_key(b) + normalise_key(str(word))
                    found[key].add(product.model or product.title)
        return found

    def _brand_with_category(self, key: str, brand_keys: set[str]) -> bool:
        return any(
            key.startswith(b) and key[len(b) :] in self._category_keys
            for b in brand_keys
            if len(b) < len(key)
        )

    def _add_product(self, alias: str | None, target: Target) -> None:
        key = normalise_key(alias or "")
        # A bare number (「1080」) is a price, a size or a year far more often than a name.
        if key and key not in self._generic_keys and not key.replace(".", "").isdigit():
            self._add(alias, target)

    def _build_table(self) -> None:
        g = self.graph
        by_model: dict[tuple[str, str], list[str]] = defaultdict(list)
        for sku, p in g.products.items():
            by_model[(p.brand, p.model or p.title)].append(sku)
        for (_, model), skus in by_model.items():
            sample = g.products[skus[0]]
            target = Target("product", model, tuple(sorted(skus)))
            brand = g.brands.get(sample.brand, {"name": sample.brand, "aliases": []})
            names = {
                model,
                *(alias for sku in skus for alias in g.products[sku].aliases),
            }
            names |= {_PRO_MAX.sub("pm", name) for name in names if _PRO_MAX.search(name)}
            for name in names:
                self._add_product(name, target)
                # "华为Mate60"、"HUAWEI mate60": brand words in front of a model name.
                for brand_word in {brand["name"], *brand.get("aliases", [])}:
                    if not normalise_key(name).startswith(normalise_key(brand_word)):
                        self._add_product(f"{brand_word}{name}", target)
            for sku in skus:
                self._add(sku, Target("product", model, (sku,)))
        for name, brand in g.brands.items():
            words = {name, *brand.get("aliases", [])}
            plain = {normalise_key(w) for w in words}
            for alias in words:
                # 「小米手机」 is the brand and a category: both are linked, each on its own.
                if not self._brand_with_category(normalise_key(alias), plain):
                    self._add(alias, Target("brand", name))
        for name, category in g.categories.items():
            for alias in {name, *category.get("aliases", [])}:
                self._add(alias, Target("category", name))
        for specs in g.schema.values():
            for key, spec in specs.items():
                for alias in {key, *spec.aliases}:
                    self._add(alias, Target("attribute", key))
        for colour in BASIC_COLOURS:
            self._add(colour, Target("color", colour))
        for p in g.products.values():
            colours = p.attributes.get("颜色") or []
            for colour in colours if isinstance(colours, list) else [colours]:
                self._add(str(colour), Target("color", str(colour)))
        for entries in self.table.values():
            entries.sort(key=lambda t: KIND_PRIORITY[t.kind])

    # -- linking ------------------------------------------------------------------
    def link(self, text: str) -> list[Mention]:
        """All mentions in `text`, left to right, longest match first, no overlaps."""
        # One turn links its message several times (product, filters, fields, colour): the
        # linker belongs to one catalog version, so the answer for a text never changes.
        cached = self._recent.get(text)
        if cached is None:
            cached = self._link(text)
            with self._recent_lock:  # the web app links from several threads
                if len(self._recent) >= RECENT_TEXTS:
                    self._recent.pop(next(iter(self._recent)))
                self._recent[text] = cached
        return list(cached)

    def _link(self, text: str) -> tuple[Mention, ...]:
        norm, positions = normalise(text)
        covered = [False] * len(norm)
        # Pasted titles first: their words (2024, 白/粉, 适用…) are part of the name, nothing else.
        mentions = self._titles(text, norm, positions, covered)
        # Misspelt Latin names next, so "mate60por" is not cut down to an exact "mate60".
        mentions += self._fuzzy_latin(text, norm, positions, covered)
        mentions += self._exact(text, norm, positions, covered)
        mentions += self._pinyin(text, norm, positions, covered)
        mentions.sort(key=lambda m: m.start)
        return tuple(self._absorb_named_categories(self._resolve_variants(text, mentions)))

    def _titles(
        self, text: str, norm: str, positions: list[int], covered: list[bool]
    ) -> list[Mention]:
        found = []
        for i, j, sku in self.resolver.titles_in(norm, positions):
            product = self.graph.products[sku]
            target = Target("product", product.model or product.title, (sku,))
            found.append(self._mention(target, text, positions, i, j, 1.0, "title"))
            covered[i:j] = [True] * (j - i)
        return found

    def _resolve_variants(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """Each named product narrowed to the SKUs its surrounding words fit best (see resolve.py).

        The words around a mention reach from the previous product mention to the next one, so
        「mate60和mate60pro」 keeps two products."""
        products = [i for i, m in enumerate(mentions) if m.kind == "product" and not m.exact]
        if not products:
            return mentions
        bounds = [m.start for m in mentions if m.kind == "product"] + [len(text)]
        starts = [0] + [m.end for m in mentions if m.kind == "product"]
        product_order = [i for i, m in enumerate(mentions) if m.kind == "product"]
        resolved = list(mentions)
        for index in products:
            mention = mentions[index]
            k = product_order.index(index)
            context = text[starts[k] : bounds[k + 1]]
            skus = self.resolver.best(mention.skus, mention.text, context)
            if not skus:
                continue
            first = self.graph.products[skus[0]]
            value = first.model or first.title
            resolved[index] = Mention(
                "product", value, mention.text, mention.start, mention.end, skus,
                mention.score, mention.method, mention.skus,
            )  # fmt: skip
        return resolved

    def _absorb_named_categories(self, mentions: list[Mention]) -> list[Mention]:
        """「小米14 Pro 钢化膜」「Mate60 Pro手机」: a category word that the named product's own
        title carries is part of naming it, not a second, wider request."""
        named = [m for m in mentions if m.kind == "product"]
        if not named:
            return mentions
        kept = []
        for mention in mentions:
            if mention.kind == "category" and any(self._title_has(p.skus, mention) for p in named):
                continue
            if mention.kind == "attribute" and any(self._value_is(p.skus, mention) for p in named):
                continue  # 「飞马41女款」: 女款 picks the variant, it does not ask about 适用人群
            kept.append(mention)
        return kept

    def _value_is(self, skus: tuple[str, ...], mention: Mention) -> bool:
        key = normalise_key(mention.text)
        values = [self.graph.products[s].attributes.get(mention.value) for s in skus]
        return bool(values) and all(isinstance(v, str) and normalise_key(v) == key for v in values)

    def _title_has(self, skus: tuple[str, ...], mention: Mention) -> bool:
        products = [self.graph.products[s] for s in skus if s in self.graph.products]
        key = normalise_key(mention.text)
        return bool(products) and all(
            p.category == mention.value and key in normalise_key(p.title) for p in products
        )

    def _mention(
        self,
        target: Target,
        text: str,
        positions: list[int],
        i: int,
        j: int,
        score: float,
        method: str,
    ) -> Mention:
        start, end = positions[i], positions[j - 1] + 1
        return Mention(
            target.kind, target.value, text[start:end], start, end, target.skus, score, method
        )

    def _exact(
        self, text: str, norm: str, positions: list[int], covered: list[bool]
    ) -> list[Mention]:
        found: list[Mention] = []
        i = 0
        while i < len(norm):
            if covered[i]:
                i += 1
                continue
            for length in range(min(self.max_len, len(norm) - i), 0, -1):
                key = norm[i : i + length]
                if any(covered[i : i + length]):
                    continue
                if key in self.table and self._on_boundary(norm, i, i + length, positions):
                    target = self._target(key)
                    if length == 1 and target.kind not in ("category", "attribute"):
                        continue
                    found.append(
                        self._mention(target, text, positions, i, i + length, 1.0, "alias")
                    )
                    for k in range(i, i + length):
                        covered[k] = True
                    i += length
                    break
            else:
                i += 1
        return found

    def _target(self, key: str) -> Target:
        """The key's first target; an alias several product lines share names all their SKUs
        (the resolver then picks among them by the words around it)."""
        targets = self.table[key]
        first = targets[0]
        if first.kind != "product" or len(targets) == 1:
            return first
        skus = {s for t in targets if t.kind == "product" for s in t.skus}
        return Target("product", first.value, tuple(sorted(skus)))

    @staticmethod
    def _on_boundary(norm: str, i: int, j: int, positions: list[int] | None = None) -> bool:
        """Rejects "mate6" inside "mate60": no match may cut a run of digits or of Latin letters.
        A space the shopper typed is a boundary too: 「Magic6 12GB」 is Magic6, then 12GB."""

        def joined(a: int, b: int) -> bool:
            same = _alnum_class(norm[a]) and _alnum_class(norm[a]) == _alnum_class(norm[b])
            return bool(same) and (positions is None or positions[b] == positions[a] + 1)

        return not ((i > 0 and joined(i - 1, i)) or (j < len(norm) and joined(j - 1, j)))

    def _exactly_named(self, norm: str, i: int, j: int, positions: list[int]) -> bool:
        """Whether an alias covers norm[i:j] whole: 「赤兔7pro」 is exact, not a typo of 「gt7pro」."""
        for start in range(max(0, i - self.max_len), i + 1):
            for end in range(j, min(len(norm), start + self.max_len) + 1):
                if norm[start:end] in self.table and self._on_boundary(norm, start, end, positions):
                    return True
        return False

    def _fuzzy_latin(
        self, text: str, norm: str, positions: list[int], covered: list[bool]
    ) -> list[Mention]:
        found = []
        for chunk in _LATIN_CHUNK.finditer(norm):
            i, j = chunk.span()
            gap = next(
                (
                    k
                    for k in range(i + 1, j)
                    if positions[k] != positions[k - 1] + 1
                    and (norm[k].isdigit() or _LETTER_SIZE.fullmatch(norm[k:j]))
                ),
                None,
            )
            if gap is not None:
                # 「mate60pro+ 512G」「Run Dry M码」: a number or a letter size after a space is
                # not part of the name (「mate60 por」 still is).
                j = gap
                if j - i < 3:
                    continue
            word = norm[i:j]
            if any(covered[i:j]) or self._exactly_named(norm, i, j, positions):
                continue
            digits = _digits(word)
            candidates = [
                k for k in self.latin_keys if _digits(k) == digits and abs(len(k) - (j - i)) <= 2
            ]
            best = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=80)
            if best is None:
                continue
            target = self._target(best[0])
            found.append(self._mention(target, text, positions, i, j, best[1] / 100, "fuzzy"))
            for k in range(i, j):
                covered[k] = True
        return found

    def _pinyin(
        self, text: str, norm: str, positions: list[int], covered: list[bool]
    ) -> list[Mention]:
        found = []
        syllables = [(_pinyin_key(ch) if _CJK.match(ch) else None) for ch in norm]
        word_edges: set[int] | None = None  # jieba's word boundaries, cut only when needed
        i = 0
        while i < len(norm):
            matched = False
            for length in range(min(6, len(norm) - i), 1, -1):
                span = syllables[i : i + length]
                if any(s is None for s in span) or any(covered[i : i + length]):
                    continue
                key = self.pinyin_table.get("".join(span))  # type: ignore[arg-type]
                if key is None or is_everyday_word(norm[i : i + length]):
                    continue
                if word_edges is None:
                    word_edges = _word_edges(norm)
                if i not in word_edges or i + length not in word_edges:
                    continue  # 「买个礼物」 holds 个礼 ≈ 格力 across two words: not a name
                target = self._target(key)
                found.append(self._mention(target, text, positions, i, i + length, 0.85, "pinyin"))
                for k in range(i, i + length):
                    covered[k] = True
                i += length
                matched = True
                break
            if not matched:
                i += 1
        return found

    # -- helpers for callers ------------------------------------------------------
    def products_in(self, text: str) -> list[Mention]:
        return [m for m in self.link(text) if m.kind == "product"]

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Model names that look like `text` (for "did you mean" answers to unknown products)."""
        key = normalise_key(text)
        if not key:
            return []
        names = {t.value: None for ts in self.table.values() for t in ts if t.kind == "product"}
        keyed = {normalise_key(n): n for n in names}
        hits = process.extract(key, list(keyed), scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
        return [keyed[h[0]] for h in hits]

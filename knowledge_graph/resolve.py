"""Which SKU a shopper means: pasted titles, variant words and names shared by product lines.

The alias table finds *that* a product is named (「mate60pro」「飞马41」「兰蔻菁纯」). This module
decides *which* SKU: every candidate's own title and variant attributes are compared with the
words around the mention, so the most specific match wins.

- A pasted title (normalised: spaces, case and full-width folded) is that SKU, full stop.
- Candidates are the SKUs the alias names, the other products of the same brand (an alias such
  as 「徕芬」 or 「兰蔻菁纯」 can stand for several lines of the brand) and the accessories made
  for the named device (「小米14 Pro 钢化膜」 is the film, not the phone).
- Each candidate scores the idf-weighted words of the message it explains: Latin words and
  numbers of its title (「m2」, 「512」, 「2024」), Chinese character pairs (「唇膏」), its gender
  line (男子/女款 → 男/女) and colour hues; the alias's own words count for the SKUs it names.
  Ties go to the candidate with fewer name words the shopper did not write (「mate60」 is the
  Mate 60, not the Mate 60 Pro). Several SKUs of one model still tied is the model itself
  (「Mate 60 Pro」 without storage): the answer speaks for the model and offers the variants.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from knowledge_graph.graph import ProductGraph
from knowledge_graph.product import Product

Normaliser = Callable[[str], str]
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[\u4e00-\u9fff]+")
# Unit letters after a number say nothing about which product it is (256GB, 5G, 3.4g, 60Hz).
_UNITS = {"gb", "g", "tb", "t", "mb", "ml", "l", "mah", "w", "hz", "kg", "mm", "cm", "m", "k"}
_MALE = re.compile(r"男(?!女)")
_FEMALE = re.compile(r"(?<!男)女")
HUES = "白黑红蓝绿紫粉金银灰黄橙棕青"
TITLE_PREFIX = 3  # characters of a normalised title used to find pasted titles quickly
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
KIND_WORD_MIN, KIND_WORD_MAX = 3, 5  # two-character endings (手机, 面霜) are category aliases
KIND_WORD_SHARE = 0.9


_UNIT_AFTER = re.compile(r"(gb|g|tb|t|英寸|寸|ml|l|mah|w|hz|kg|码)")
_CANONICAL_UNIT = {"g": "gb", "t": "tb", "寸": "英寸"}
_MEMORY_PAIR = re.compile(r"(?<![\d.])(\d{1,2})(?:gb|g)?\+(\d{1,4})(gb|g|tb|t)?(?![\d.])")
_MODIFIER = re.compile(
    r"(?:至尊版|青春版|冠军版|典藏版|高配版|增强版|探索版|竞速版|活力版|尊享版|旗舰版|"
    r"promax|pro\+|pro|max|plus|ultra|mini|lite|se)(?![a-z])"
)
_SEPARATORS = re.compile(r"[\s\-_/·・\\]+")


def words_key(text: str, normalise_key: Normaliser) -> str:
    """Normalised text with the shopper's word breaks kept: 「M3 256GB」 is m3 and 256gb, not 3256."""
    return " ".join(k for k in (normalise_key(w) for w in _SEPARATORS.split(text)) if k)


def features(norm: str) -> set[str]:
    """Matching words of normalised text: Latin words, numbers (alone and with their unit:
    「16GB」 is not 「16英寸」), Chinese character pairs."""
    found: set[str] = set()
    # 「12+256」「16+1T」: memory and storage, whatever units the shopper left out.
    for memory in _MEMORY_PAIR.finditer(norm):
        found.add(memory.group(1) + "gb")
        found.add(memory.group(2) + ("tb" if memory.group(3) in ("t", "tb") else "gb"))
    previous_was_number = False
    for match in _TOKEN.finditer(norm):
        token = match.group()
        if token[0].isdigit():
            number = token[:-2] if token.endswith(".0") else token
            found.add(number)
            unit = _UNIT_AFTER.match(norm, match.end())
            if unit:
                found.add(number + _CANONICAL_UNIT.get(unit.group(), unit.group()))
            previous_was_number = True
            continue
        if token.isascii():
            if not (previous_was_number and token in _UNITS and match.start() > 0):
                found.add(token)
        elif len(token) == 1:
            found.add(token)
        else:
            found.update(token[i : i + 2] for i in range(len(token) - 1))
        previous_was_number = False
    return found


def gender_of(text: str) -> str | None:
    male, female = bool(_MALE.search(text)), bool(_FEMALE.search(text))
    if male == female:
        return None
    return "<男>" if male else "<女>"


def message_features(norm: str) -> set[str]:
    found = features(norm)
    gender = gender_of(norm)
    if gender:
        found.add(gender)
    found.update(f"<{hue}>" for hue in HUES if f"{hue}色" in norm)
    return found


@dataclass(frozen=True)
class _Product:
    sku: str
    model: str
    brand: str
    words: frozenset[str]  # everything that can explain a shopper's word
    name_words: frozenset[str]  # words of its name a shopper who means it would usually write


class ProductResolver:
    def __init__(self, graph: ProductGraph, normalise_key: Normaliser) -> None:
        """`normalise_key` is the linker's own folding (passed in: linking imports this module)."""
        self.graph = graph
        self._key = normalise_key
        self.titles: dict[str, str] = {}
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        self._by_brand: dict[str, list[str]] = defaultdict(list)
        self._products: dict[str, _Product] = {}
        for sku, product in graph.products.items():
            title = normalise_key(product.title)
            self.titles[title] = sku
            self._by_prefix[title[:TITLE_PREFIX]].append(title)
            self._by_brand[product.brand].append(sku)
            self._products[sku] = self._describe(product)
        for titles in self._by_prefix.values():
            titles.sort(key=len, reverse=True)
        self._kind_words = self._words_of_kinds(graph, normalise_key)
        counts: dict[str, int] = defaultdict(int)
        for described in self._products.values():
            for word in described.words:
                counts[word] += 1
        total = max(1, len(self._products))
        self.idf = {word: math.log(1 + total / n) for word, n in counts.items()}

    def _describe(self, product: Product) -> _Product:
        key = self._key
        attributes = product.attributes
        words = features(words_key(product.title, key))
        gender = gender_of(f"{product.title}{attributes.get('适用人群') or ''}")
        if gender:
            words.add(gender)
        colours = attributes.get("颜色") or []
        for colour in colours if isinstance(colours, list) else [colours]:
            words.update(f"<{hue}>" for hue in HUES if hue in str(colour))
        # Only a model has a name a shopper is expected to write out; a product without one
        # (a case, a snack) is named by whatever words of its title the shopper picked.
        model = product.model
        name_words = (
            features(words_key(model, key)) - features(words_key(product.brand, key))
            if model
            else set()
        )
        return _Product(
            product.sku,
            product.model or product.sku,
            product.brand,
            frozenset(words),
            frozenset(name_words),
        )

    @staticmethod
    def _words_of_kinds(graph: ProductGraph, key: Normaliser) -> dict[str, str]:
        """Words that end a Chinese run of titles (吹风机, 剃须刀, 巧克力, 空气炸锅), mapped to the
        one category nearly all products carrying them belong to: product kinds the category
        aliases do not list."""
        seen: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for product in graph.products.values():
            for run in _CJK_RUN.findall(words_key(product.title, key)):
                for n in range(KIND_WORD_MIN, min(len(run), KIND_WORD_MAX) + 1):
                    seen[run[-n:]][product.category] += 1
        kinds = {}
        for word, by_category in seen.items():
            category, count = max(by_category.items(), key=lambda item: item[1])
            if count >= 2 and count >= KIND_WORD_SHARE * sum(by_category.values()):
                kinds[word] = category
        return kinds

    def category_of_kind_words(self, norm: str) -> str | None:
        """The category of the last product-kind word in normalised text (the head noun comes
        last in Chinese), preferring the longest word at each place."""
        found: tuple[int, int, str] | None = None
        for i in range(len(norm)):
            for n in range(min(KIND_WORD_MAX, len(norm) - i), KIND_WORD_MIN - 1, -1):
                category = self._kind_words.get(norm[i : i + n])
                if category is not None:
                    if found is None or i + n > found[0] or (i + n == found[0] and n > found[1]):
                        found = (i + n, n, category)
                    break
        return found[2] if found else None

    # -- pasted titles --------------------------------------------------------------
    def titles_in(
        self, norm: str, positions: list[int] | None = None
    ) -> list[tuple[int, int, str]]:
        """(start, end, sku) of whole catalog titles in normalised text, longest first, no
        overlaps. `positions` (each character's index in the raw text) tell where the shopper
        typed a space: 「…Run Dry M的有吗」 is the title, then a size."""
        found: list[tuple[int, int, str]] = []
        i = 0
        while i < len(norm):
            for title in self._by_prefix.get(norm[i : i + TITLE_PREFIX], ()):
                j = i + len(title)
                if norm.startswith(title, i) and not _cuts_alnum(norm, i, j, positions):
                    found.append((i, j, self.titles[title]))
                    i = j
                    break
            else:
                i += 1
        return found

    # -- which SKU among candidates ---------------------------------------------------
    def candidates(self, named: Iterable[str]) -> set[str]:
        named = [s for s in named if s in self._products]
        found = set(named)
        for brand in {self._products[s].brand for s in named}:
            found.update(self._by_brand[brand])
        for sku in named:
            for other, _ in self.graph.related(sku, ("COMPATIBLE_WITH", "ACCESSORY_OF")):
                found.add(other)
        return found

    def best(
        self, named: Iterable[str], alias_text: str, context_text: str, expand: bool = True
    ) -> tuple[str, ...]:
        """The SKUs that explain the shopper's words best, for an alias naming `named`, given
        as typed: the alias and the words around it. `expand=False` chooses among `named` only
        (the variants of the product in focus)."""
        named = tuple(s for s in named if s in self._products)
        if not named:
            return ()
        wanted = message_features(words_key(context_text, self._key))
        alias_words = features(words_key(alias_text, self._key))
        named_set = set(named)
        brands = {self._products[s].brand for s in named}
        device_words = set().union(*(self._products[s].words for s in named)) | alias_words

        def rank(sku: str) -> tuple[float, float]:
            product = self._products[sku]
            explained = wanted & product.words
            if sku not in named_set and product.brand not in brands and explained <= device_words:
                # 「AirPods Pro 2多少钱」 is the earbuds: an accessory made for them wins only on
                # a word of its own (保护套, 壳), never on the device's name it carries.
                return (-1.0, 0.0)
            if sku not in named_set:
                # Gender and colour pick between the variants named, never another line:
                # 「小米14有蓝色吗」 is about the 小米14, even if the 14 Ultra comes in blue.
                explained = {w for w in explained if not w.startswith("<")}
            if sku in named_set:
                explained |= wanted & alias_words
            missing = product.name_words - wanted - (alias_words if sku in named_set else set())
            return (
                round(sum(self.idf.get(w, 1.0) for w in explained), 6),
                -round(sum(self.idf.get(w, 1.0) for w in missing), 6),
            )

        pool = self.candidates(named) if expand else set(named)
        scored = {sku: rank(sku) for sku in pool}
        top = max(scored.values())
        winners = sorted(sku for sku, score in scored.items() if score == top)
        models = {self._products[s].model for s in winners}
        if len(models) > 1 and named_set & set(winners):
            # Tied across product lines: the line the alias names is what the shopper wrote.
            winners = [s for s in winners if s in named_set]
        return tuple(winners)

    def unmatched_modifier(self, skus: Iterable[str], after: str) -> str | None:
        """A model modifier written right after the name (「至尊版」「Pro」「Ultra」) that none
        of `skus` has: the shop does not carry what was asked, so the answer must say so."""
        match = _MODIFIER.match(self._key(after.lstrip()))
        if not match:
            return None
        word = match.group()
        names = [self._key(self.graph.products[s].title) for s in skus if s in self.graph.products]
        return None if any(word in name for name in names) else word

    def variant_words(self, sku: str) -> str:
        """What sets a variant apart from its siblings in their titles (「12GB+512GB」, 「女子」)."""
        siblings = [s for s in self.graph.variants(sku) if s != sku]
        own = self.graph.products[sku].title.split()
        if not siblings:
            return ""
        others = {w for s in siblings for w in self.graph.products[s].title.split()}
        return " ".join(w for w in own if w not in others)


def _cuts_alnum(norm: str, i: int, j: int, positions: list[int] | None = None) -> bool:
    """A title ending in 「Pro」 must not match the start of 「Pro+」's or 「Pro Max」's; a space
    the shopper typed between the two is a boundary."""

    def joined(a: int, b: int) -> bool:
        both = norm[a].isascii() and norm[a].isalnum() and norm[b].isascii() and norm[b].isalnum()
        return both and (positions is None or positions[b] == positions[a] + 1)

    return (j < len(norm) and joined(j - 1, j)) or (i > 0 and joined(i - 1, i))

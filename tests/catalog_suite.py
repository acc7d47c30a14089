"""The catalog-wide regression suite ("the right product every time").

Every case is generated from the catalog, never hand-picked, so a product added by a merchant is
tested like the seed products. Generation is deterministic: choices that vary per product
(phrasing, attribute, size, colour) are made by a hash of the sku, and cases come in a fixed
order, so two runs on the same catalog send exactly the same messages.

A case is one question (or a short series of messages) with what must come back: the products
shown (the `products` payload (README, JSON API), first card first) and the exact fact in the text,
rendered the way the actions render it (`actions.formatting.yuan`, `knowledge_graph.graph.
format_value`). A reply that leads with a different product than the one asked about is counted
separately as a wrong product: answering confidently about the wrong thing is worse than
failing to answer.

Used by `tests/e2e/test_catalog_suite.py` (a small stratified sample inside `make test`) and
`benchmarks/catalog_suite.py` (every case, with a table per class).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from actions.formatting import yuan
from daogou.container import build_services
from daogou.settings import Settings
from knowledge_graph.graph import ProductGraph, format_value
from tests.e2e.conversations import reply_products, reply_texts

SEED = 13

TITLE_CLASSES = ("title_price", "title_attribute", "title_stock")
CLASSES = (
    *TITLE_CLASSES,
    "variant_stock",
    "size_in",
    "size_out",
    "colour_has",
    "colour_lacks",
    "budget_chat",
    "budget_empty",
    "budget_search",
    "category_request",
)

# Sub-flags of exact-title cases: title words that must never turn into budgets
# (「256GB」, 「2024」), filters (a colour in the title) or compatibility questions (「适用」).
FLAGS = {
    "number>=100": "title has a number >= 100",
    "year": "title has a 4-digit year",
    "colour": "title has a colour word",
    "适用": "title has 适用",
}

PRICE_TEMPLATES = ("{title}多少钱", "请问{title}现在卖多少钱？", "{title} 价格")
NUMBER_ATTRIBUTE_TEMPLATES = ("{title}的{attr}是多少", "{title} {attr}多少")
TEXT_ATTRIBUTE_TEMPLATES = ("{title}的{attr}是什么", "{title} {attr}是啥")
STOCK_TEMPLATES = ("{title}有货吗", "{title} 还有库存吗")
SHOE_SIZE_TEMPLATES = ("{title}{size}码有吗",)
CLOTHES_SIZE_TEMPLATES = ("{title}有{size}码吗", "{title} {size}的有吗")
COLOUR_TEMPLATE = "{title}有{colour}吗"
BUDGET_TEMPLATE = "有没有{budget}元以内的{brand}{category}"
CATEGORY_TEMPLATE = "推荐几款{category}"

# Attributes asked about by name. Colour and size have their own classes; yes/no attributes
# are left out because 「…的5G是多少」 is not a question shoppers ask.
SKIPPED_ATTRIBUTES = {"颜色", "尺码"}
ASKABLE_TYPES = {"number", "text", "list"}

# Basic hue words for "a colour it lacks", each with the characters that name the same hue in
# colour names (「藏青」 is a blue, 「钛金属」 a gold or silver), so that a near shade of one of
# the product's colours is never asked about as missing.
HUES = {
    "白色": "白奶象牙米",
    "黑色": "黑墨",
    "红色": "红酒豆沙",
    "蓝色": "蓝青藏",
    "绿色": "绿青",
    "紫色": "紫",
    "粉色": "粉豆沙",
    "金色": "金香槟",
    "银色": "银钛",
    "灰色": "灰",
    "黄色": "黄卡其",
    "橙色": "橙橘",
    "棕色": "棕咖褐卡其燕麦",
}

LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL", "5XL")
SHOE_CATEGORY = "跑步鞋"


# -- cases and verdicts -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    wrong_product: bool
    detail: str


@dataclass(frozen=True)
class Reply:
    """What came back: the joined reply texts and the products shown (search: its items)."""

    text: str
    items: list[dict[str, Any]]
    body: Any


Check = Callable[[Reply], Verdict]


@dataclass(frozen=True)
class Case:
    cls: str
    messages: tuple[str, ...]
    expected: str  # the sku, or the constraints, in words for failure messages
    check: Check = field(compare=False)
    flags: frozenset[str] = frozenset()
    channel: Literal["chat", "search"] = "chat"


@dataclass(frozen=True)
class Outcome:
    case: Case
    verdict: Verdict
    sender: str
    shown: str = ""  # the reply in short (first cards, text), to audit passes as well

    def describe(self) -> str:
        sent = " / ".join(f"「{m}」" for m in self.case.messages)
        return f"[{self.case.cls}] {sent} expected {self.case.expected}: {self.verdict.detail}"


# -- reading replies ----------------------------------------------------------------------


def _short(text: str, limit: int = 160) -> str:
    text = text.replace("\n", " / ")
    return text if len(text) <= limit else text[:limit] + "…"


def _card(item: dict[str, Any]) -> str:
    return f"{item.get('sku')} {item.get('title')} ({item.get('brand')}/{item.get('category')}, {item.get('price')})"


def _without(text: str, phrases: Iterable[str]) -> str:
    """The text with the product's own names removed: a title echoed back contains numbers,
    colours and sizes that must not count as the answer."""
    for phrase in sorted({p for p in phrases if p}, key=len, reverse=True):
        text = text.replace(phrase, " ")
    return text


def _has_number(text: str, number: str) -> bool:
    """`number` on its own: not part of a longer number, a version (5G) or a model (X100)."""
    return re.search(rf"(?<![0-9A-Za-z.+]){re.escape(number)}(?![0-9A-Za-z.%+])", text) is not None


def _has_amount(text: str, amount: str) -> bool:
    """An amount such as "6499元", not the tail of a larger one ("16499元")."""
    return re.search(rf"(?<![0-9.,]){re.escape(amount)}", text) is not None


def _first_card_problem(reply: Reply, sku: str) -> Verdict | None:
    if not reply.items:
        return Verdict(False, False, f"no product cards; text: {_short(reply.text)}")
    first = reply.items[0]
    if first.get("sku") != sku:
        return Verdict(
            False, True, f"first card is {_card(first)}, not {sku}; text: {_short(reply.text)}"
        )
    return None


# -- checks (bound to their case with functools.partial) ----------------------------------


def check_fact(reply: Reply, *, sku: str, fact: str, names: tuple[str, ...]) -> Verdict:
    """That product first, and the fact (a price "6499元", a value "5000mAh") in the text."""
    problem = _first_card_problem(reply, sku)
    if problem:
        return problem
    if _has_amount(_without(reply.text, names), fact):
        return Verdict(True, False, "")
    return Verdict(False, False, f"text lacks 「{fact}」: {_short(reply.text)}")


def check_stock(reply: Reply, *, sku: str, stock: int, names: tuple[str, ...]) -> Verdict:
    """That product first, and its own stock (not its model's total) or 缺货 when it has none."""
    problem = _first_card_problem(reply, sku)
    if problem:
        return problem
    text = _without(reply.text, names)
    found = "缺货" in text if stock == 0 else _has_number(text, str(stock))
    if found:
        return Verdict(True, False, "")
    want = "缺货" if stock == 0 else f"stock {stock}"
    return Verdict(False, False, f"text lacks {want}: {_short(reply.text)}")


def check_has(reply: Reply, *, sku: str, value: str, names: tuple[str, ...]) -> Verdict:
    """That product first, and a yes: 「有」 and the size or colour, never 「没有<it>」."""
    problem = _first_card_problem(reply, sku)
    if problem:
        return problem
    text = _without(reply.text, names)
    if "有" in text and value in text and f"没有{value}" not in text:
        return Verdict(True, False, "")
    return Verdict(False, False, f"no clear yes for 「{value}」: {_short(reply.text)}")


def check_lacks(
    reply: Reply, *, sku: str, value: str | None, listed: str | None, names: tuple[str, ...]
) -> Verdict:
    """That product first, and a no (「没有」); for sizes also the size asked about and the
    largest size it does come in, so the shopper learns what exists."""
    problem = _first_card_problem(reply, sku)
    if problem:
        return problem
    text = _without(reply.text, names)
    missing = [w for w in ("没有", value, listed) if w and w not in text]
    if not missing:
        return Verdict(True, False, "")
    return Verdict(False, False, f"text lacks {missing}: {_short(reply.text)}")


def _constraint_violations(
    items: Sequence[dict[str, Any]], brand: str, category: str, budget: float
) -> list[str]:
    return [
        _card(p)
        for p in items
        if p.get("brand") != brand or p.get("category") != category or p.get("price", 0) > budget
    ]


def check_budget(reply: Reply, *, brand: str, category: str, budget: int) -> Verdict:
    """Products shown, and every one of them within brand, category and budget."""
    if not reply.items:
        return Verdict(False, False, f"no product cards; text: {_short(reply.text)}")
    bad = _constraint_violations(reply.items, brand, category, budget)
    if bad:
        return Verdict(False, False, f"{len(bad)}/{len(reply.items)} cards break it: {bad[:3]}")
    return Verdict(True, False, "")


def check_budget_empty(reply: Reply, *, brand: str, budget: int) -> Verdict:
    """Nothing fits: the nearest products are still shown, and the text says which
    constraint could not be met (the brand or the budget)."""
    if not reply.items:
        return Verdict(False, False, f"no alternatives shown; text: {_short(reply.text)}")
    if brand in reply.text or _has_number(reply.text, str(budget)):
        return Verdict(True, False, "")
    return Verdict(False, False, f"text names neither {brand} nor {budget}: {_short(reply.text)}")


def check_search(reply: Reply, *, brand: str, category: str, budget: int) -> Verdict:
    """/api/search: items within the constraints written in q, and what it understood."""
    body = reply.body if isinstance(reply.body, dict) else {}
    understood = body.get("understood")
    problems = []
    if not isinstance(understood, dict):
        problems.append("no `understood` object")
    else:
        if understood.get("category") != category:
            problems.append(f"understood category {understood.get('category')!r}")
        if not _same_amount(understood.get("max_price"), budget):
            problems.append(f"understood max_price {understood.get('max_price')!r}")
    if not reply.items:
        problems.append("no items")
    bad = _constraint_violations(reply.items, brand, category, budget)
    if bad:
        problems.append(f"{len(bad)}/{len(reply.items)} items break it: {bad[:3]}")
    if problems:
        return Verdict(False, False, "; ".join(problems))
    return Verdict(True, False, "")


def _same_amount(value: Any, budget: int) -> bool:
    try:
        return float(value) == budget
    except (TypeError, ValueError):
        return False


def check_category(reply: Reply, *, category: str, at_least: int = 3) -> Verdict:
    """At least three cards, every one of the category asked for."""
    if len(reply.items) < at_least:
        return Verdict(False, False, f"{len(reply.items)} cards; text: {_short(reply.text)}")
    bad = [_card(p) for p in reply.items if p.get("category") != category]
    if bad:
        return Verdict(False, False, f"{len(bad)}/{len(reply.items)} cards elsewhere: {bad[:3]}")
    return Verdict(True, False, "")


# -- deterministic choices ----------------------------------------------------------------


def _rank(key: str) -> int:
    """A stable pseudo-random number for a key (Python's hash() changes between runs)."""
    return int(hashlib.sha1(f"{SEED}:{key}".encode()).hexdigest()[:12], 16)


def _pick(options: Sequence[Any], key: str) -> Any:
    return options[_rank(key) % len(options)]


def _names(product: dict[str, Any]) -> tuple[str, ...]:
    return tuple(n for n in (product.title, product.model) if n)


def title_flags(product: dict[str, Any]) -> frozenset[str]:
    title = product.title
    flags = set()
    if any(float(n) >= 100 for n in re.findall(r"\d+(?:\.\d+)?", title)):
        flags.add("number>=100")
    if re.search(r"(?<!\d)(?:19|20)\d\d(?!\d)", title):
        flags.add("year")
    colours = _colours(product)
    if any(c in title for c in colours) or any(h in title for h in HUES):
        flags.add("colour")
    if "适用" in title:
        flags.add("适用")
    return frozenset(flags)


def _colours(product: dict[str, Any]) -> list[str]:
    value = product.attributes.get("颜色")
    return [str(c) for c in value] if isinstance(value, list) else []


def _sizes(product: dict[str, Any]) -> list[str]:
    value = product.attributes.get("尺码")
    return [str(s) for s in value] if isinstance(value, list) else []


def _products(graph: ProductGraph) -> list[dict[str, Any]]:
    return [graph.products[sku] for sku in sorted(graph.products)]


# -- exact titles -------------------------------------------------------------------------


def title_price_cases(graph: ProductGraph) -> list[Case]:
    cases = []
    for i, p in enumerate(_products(graph)):
        message = PRICE_TEMPLATES[i % len(PRICE_TEMPLATES)].format(title=p.title)
        fact = yuan(p.price)
        check = partial(check_fact, sku=p.sku, fact=fact, names=_names(p))
        flags = title_flags(p)
        cases.append(Case("title_price", (message,), f"{p.sku} {fact}", check, flags))
    return cases


def askable_attribute(graph: ProductGraph, product: dict[str, Any]) -> tuple[str, str] | None:
    """One attribute of the product (chosen by sku) and its value as the bot must render it."""
    keys = []
    for key, value in sorted(product.attributes.items()):
        spec = graph.attribute_spec(product.category, key)
        if key in SKIPPED_ATTRIBUTES or value in (None, "", []) or spec is None:
            continue
        if spec.type in ASKABLE_TYPES and not isinstance(value, bool):
            keys.append(key)
    if not keys:
        return None
    key = _pick(keys, product.sku + ":attribute")
    spec = graph.attribute_spec(product.category, key)
    return key, format_value(product.attributes[key], spec.unit if spec else None)


def title_attribute_cases(graph: ProductGraph) -> list[Case]:
    cases = []
    for i, p in enumerate(_products(graph)):
        chosen = askable_attribute(graph, p)
        if chosen is None:
            continue
        key, fact = chosen
        spec = graph.attribute_spec(p.category, key)
        numeric = spec is not None and spec.type == "number"
        templates = NUMBER_ATTRIBUTE_TEMPLATES if numeric else TEXT_ATTRIBUTE_TEMPLATES
        message = templates[i % len(templates)].format(title=p.title, attr=key)
        check = partial(check_fact, sku=p.sku, fact=fact, names=_names(p))
        expected = f"{p.sku} {key}={fact}"
        cases.append(Case("title_attribute", (message,), expected, check, title_flags(p)))
    return cases


def title_stock_cases(graph: ProductGraph) -> list[Case]:
    cases = []
    for i, p in enumerate(_products(graph)):
        message = STOCK_TEMPLATES[i % len(STOCK_TEMPLATES)].format(title=p.title)
        check = partial(check_stock, sku=p.sku, stock=int(p.stock), names=_names(p))
        expected = f"{p.sku} stock {p.stock}"
        cases.append(Case("title_stock", (message,), expected, check, title_flags(p)))
    return cases


# -- variants of one model ----------------------------------------------------------------


def variant_tokens(product: dict[str, Any], siblings: Sequence[dict[str, Any]]) -> list[str]:
    """The words of its title that no sibling's title has, colours last resort: 「512GB」,
    「女子」 say which variant is meant; a colour often names a default look, not the variant."""
    others = {w for s in siblings for w in s.title.split()}
    unique = [w for w in product.title.split() if w not in others]
    colours = {c for s in (product, *siblings) for c in _colours(s)}
    plain = [w for w in unique if w not in colours]
    return plain or unique


def _colloquial(token: str, storage_is_unique: bool) -> str:
    """How shoppers type a variant word: 「512G」, 「1T」, 「12+256」, 「女款」."""
    memory = re.fullmatch(r"(\d+)GB\+(\d+)([GT])B", token)
    if memory:
        ram, storage, unit = memory.groups()
        return f"{storage}{unit}" if storage_is_unique else f"{ram}+{storage}"
    single = re.fullmatch(r"(\d+)([GT])B", token)
    if single:
        return "".join(single.groups())
    for word, spoken in (("男子", "男款"), ("女子", "女款")):
        if token.startswith(word):  # 「女子跑步鞋」: the category word adds nothing
            return spoken
    return token


def _storage(token: str) -> str | None:
    memory = re.fullmatch(r"\d+GB\+(\d+[GT]B)", token)
    return memory.group(1) if memory else None


def _model_prefix(product: dict[str, Any], compact: bool) -> str:
    """Brand and model as shoppers write them: 「华为Mate 60 Pro」 or 「华为mate60pro」."""
    model = product.model
    if compact:
        model = model.replace(" ", "").lower()
    brand = product.brand
    if brand.lower() in model.lower():
        return model
    joiner = "" if re.search(r"[\u4e00-\u9fff]$", brand) else " "
    return f"{brand}{joiner}{model}"


def variant_stock_cases(graph: ProductGraph) -> list[Case]:
    # Keyed by brand too: two brands' products that share a nickname (大红瓶) are not variants.
    by_model: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for p in _products(graph):
        if p.model:
            by_model[(p.model, p.brand)].append(p)
    cases = []
    for key in sorted(by_model):
        if len(by_model[key]) >= 2:
            cases.extend(_model_cases(by_model[key]))
    return cases


def _model_cases(variants: list[dict[str, Any]]) -> list[Case]:
    """Per variant: its exact variant words, and the way shoppers type them when that still
    names this variant alone (「男子跑步短裤」 and 「男子跑步速干T恤」 both become 「男款」)."""
    words = [_variant_words(p, [s for s in variants if s is not p]) for p in variants]
    spoken_counts = Counter(spoken for _, spoken in words)
    cases = []
    for product, (exact, spoken) in zip(variants, words, strict=True):
        if not exact:
            continue  # identical titles: nothing tells the variants apart
        messages = [f"{_model_prefix(product, compact=False)} {exact} 有货吗"]
        if spoken != exact and spoken_counts[spoken] == 1:
            messages.append(f"{_model_prefix(product, compact=True)} {spoken}有货吗")
        names = _names(product)
        check = partial(check_stock, sku=product.sku, stock=int(product.stock), names=names)
        expected = f"{product.sku} stock {product.stock}"
        cases.extend(Case("variant_stock", (m,), expected, check) for m in messages)
    return cases


def _variant_words(product: dict[str, Any], siblings: list[dict[str, Any]]) -> tuple[str, str]:
    """(its variant words as in its title, the same as typed), e.g. ("12GB+1TB", "1T")."""
    tokens = variant_tokens(product, siblings)
    storages = [_storage(w) for s in siblings for w in s.title.split()]
    spoken = [_colloquial(t, _storage(t) not in storages) for t in tokens]
    return " ".join(tokens), " ".join(spoken)


# -- sizes and colours --------------------------------------------------------------------


def plain_size(size: str) -> str:
    """「M（39-42）」 is asked for as 「M」."""
    return re.sub(r"[（(].*?[）)]", "", size).strip()


def size_above(sizes: Sequence[str]) -> tuple[str, str] | None:
    """(a size just above the range, the largest size it has), e.g. ("46", "45")."""
    plain = [plain_size(s) for s in sizes]
    if all(s in LETTER_SIZES for s in plain):
        largest = max(plain, key=LETTER_SIZES.index)
        index = LETTER_SIZES.index(largest) + 1
        return (LETTER_SIZES[index], largest) if index < len(LETTER_SIZES) else None
    try:
        values = sorted(float(s) for s in plain)
    except ValueError:
        return None
    largest = max(plain, key=float)
    steps = {b - a for a, b in zip(values, values[1:], strict=False)}
    above = values[-1] + 2 if steps == {2.0} else math.floor(values[-1]) + 1  # US sizes 2..12
    return f"{above:g}", largest


def _size_message(product: dict[str, Any], size: str, index: int) -> str:
    shoes = product.category == SHOE_CATEGORY
    templates = SHOE_SIZE_TEMPLATES if shoes else CLOTHES_SIZE_TEMPLATES
    return templates[index % len(templates)].format(title=product.title, size=size)


def size_cases(graph: ProductGraph) -> list[Case]:
    inside, outside = [], []
    for i, p in enumerate(_products(graph)):
        sizes = _sizes(p)
        if not sizes:
            continue
        names = _names(p)
        size = plain_size(_pick(sizes, p.sku + ":size"))
        check = partial(check_has, sku=p.sku, value=size, names=names)
        expected = f"{p.sku} has size {size}"
        inside.append(Case("size_in", (_size_message(p, size, i),), expected, check))
        above = size_above(sizes)
        if above is None:
            continue
        missing, largest = above
        check = partial(check_lacks, sku=p.sku, value=missing, listed=largest, names=names)
        expected = f"{p.sku} lacks size {missing} (largest {largest})"
        outside.append(Case("size_out", (_size_message(p, missing, i),), expected, check))
    return inside + outside


def lacking_hue(product: dict[str, Any]) -> str | None:
    """A basic hue none of its colour names comes near (chosen by sku), or None."""
    colours = "".join(_colours(product))
    candidates = [hue for hue, chars in HUES.items() if not any(c in colours for c in chars)]
    return _pick(candidates, product.sku + ":hue") if candidates else None


def colour_cases(graph: ProductGraph) -> list[Case]:
    has, lacks = [], []
    for p in _products(graph):
        colours = _colours(p)
        if not colours:
            continue
        names = _names(p)
        # A colour other than the one its title names, where it has one: 「…雅川青 5G手机有雅川青吗」
        # answers itself and reads to the bot like a search for that colour.
        untitled = [c for c in colours if c not in p.title] or colours
        colour = _pick(untitled, p.sku + ":colour")
        message = COLOUR_TEMPLATE.format(title=p.title, colour=colour)
        check = partial(check_has, sku=p.sku, value=colour, names=names)
        has.append(Case("colour_has", (message,), f"{p.sku} has {colour}", check))
        hue = lacking_hue(p)
        if hue is None:
            continue
        message = COLOUR_TEMPLATE.format(title=p.title, colour=hue)
        check = partial(check_lacks, sku=p.sku, value=None, listed=None, names=names)
        lacks.append(Case("colour_lacks", (message,), f"{p.sku} lacks {hue}", check))
    return has + lacks


# -- budgets and categories ---------------------------------------------------------------


@dataclass(frozen=True)
class BudgetPair:
    brand: str
    category: str
    median: int  # of its in-stock prices: about half of them fit
    below_all: int  # half its cheapest price: nothing fits


def budget_pairs(graph: ProductGraph, min_in_stock: int = 3) -> list[BudgetPair]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for p in _products(graph):
        groups[(p.brand, p.category)].append(p)
    pairs = []
    for (brand, category), products in sorted(groups.items()):
        in_stock = [p.price for p in products if p.stock > 0]
        if len(in_stock) < min_in_stock:
            continue
        cheapest = min(p.price for p in products)
        median = round(statistics.median(in_stock))
        pairs.append(BudgetPair(brand, category, median, math.floor(cheapest * 0.5)))
    return pairs


def _budget_message(pair: BudgetPair, budget: int) -> str:
    return BUDGET_TEMPLATE.format(budget=budget, brand=pair.brand, category=pair.category)


def budget_cases(graph: ProductGraph) -> list[Case]:
    chat, empty, search = [], [], []
    for pair in budget_pairs(graph):
        message = _budget_message(pair, pair.median)
        expected = f"{pair.brand} {pair.category} <= {pair.median}元"
        fits = {"brand": pair.brand, "category": pair.category, "budget": pair.median}
        chat.append(Case("budget_chat", (message,), expected, partial(check_budget, **fits)))
        check = partial(check_search, **fits)
        search.append(Case("budget_search", (message,), expected, check, channel="search"))
        if pair.below_all >= 1:
            message = _budget_message(pair, pair.below_all)
            check = partial(check_budget_empty, brand=pair.brand, budget=pair.below_all)
            expected = f"nearest {pair.brand} {pair.category}, naming the unmet constraint"
            empty.append(Case("budget_empty", (message,), expected, check))
    return chat + empty + search


def category_cases(graph: ProductGraph) -> list[Case]:
    categories = sorted({p.category for p in graph.products.values()})
    return [
        Case(
            "category_request",
            (CATEGORY_TEMPLATE.format(category=c),),
            f">= 3 cards, all {c}",
            partial(check_category, category=c),
        )
        for c in categories
    ]


GENERATORS: tuple[Callable[[ProductGraph], list[Case]], ...] = (
    title_price_cases,
    title_attribute_cases,
    title_stock_cases,
    variant_stock_cases,
    size_cases,
    colour_cases,
    budget_cases,
    category_cases,
)


def generate_cases(graph: ProductGraph) -> list[Case]:
    """Every case, in CLASSES order, within a class in sku (or brand, category) order."""
    cases = [case for generate in GENERATORS for case in generate(graph)]
    return sorted(cases, key=lambda c: CLASSES.index(c.cls))  # stable: keeps the inner order


def load_graph(settings: Settings) -> ProductGraph:
    return build_services(settings).view().graph


def stratified_sample(cases: Sequence[Case], per_class: int, seed: int = SEED) -> list[Case]:
    """`per_class` cases of each class (all of a smaller class), the same ones every run."""
    rng = random.Random(seed)
    sample = []
    for cls in CLASSES:
        group = [c for c in cases if c.cls == cls]
        chosen = sorted(rng.sample(range(len(group)), min(per_class, len(group))))
        sample.extend(group[i] for i in chosen)
    return sample


# -- running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transport:
    """How cases reach the system: `chat(sender, text)` returns the REST channel's messages,
    `search(q)` the JSON body of `GET /api/search?q=` (None: search cases are not run)."""

    chat: Callable[[str, str], list[dict[str, Any]]]
    search: Callable[[str], dict[str, Any]] | None = None


class _Getter(Protocol):
    def get(self, url: str, *, params: dict[str, Any]) -> Any: ...


def search_with(client: _Getter) -> Callable[[str], dict[str, Any]]:
    """`Transport.search` through a client of the web app (FastAPI's TestClient, or an
    httpx.Client with the app's base_url): a non-200 answer is a failed case with its body."""

    def search(query: str) -> dict[str, Any]:
        response = client.get("/api/search", params={"q": query})
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text}")
        return response.json()

    return search


def run_case(case: Case, transport: Transport, sender: str) -> Outcome:
    try:
        reply = _ask(case, transport, sender)
    except Exception as exc:  # a failed turn is a failed case, never a stopped run
        error = Verdict(False, False, f"error: {type(exc).__name__}: {_short(str(exc))}")
        return Outcome(case, error, sender)
    return Outcome(case, case.check(reply), sender, _summary(reply))


def _summary(reply: Reply) -> str:
    cards = ", ".join(str(p.get("sku")) for p in reply.items[:3])
    return f"[{cards}{', …' if len(reply.items) > 3 else ''}] {_short(reply.text, 200)}"


def _ask(case: Case, transport: Transport, sender: str) -> Reply:
    if case.channel == "search":
        if transport.search is None:
            raise RuntimeError("no search transport")
        body = transport.search(case.messages[-1])
        return Reply("", list(body.get("items") or []), body)
    replies: list[dict[str, Any]] = []
    for text in case.messages:
        replies = transport.chat(sender, text)
    return Reply(reply_texts(replies), reply_products(replies) or [], replies)


def run_cases(
    cases: Sequence[Case], transport: Transport, run_id: str, threads: int = 1
) -> list[Outcome]:
    """Outcomes in case order. Each case talks on its own sender id, so no conversation state
    (a product in focus, a budget) carries from one case to the next, even across threads."""
    senders = [f"catalog-{run_id}-{i}" for i in range(len(cases))]
    if threads <= 1:
        return [run_case(c, transport, s) for c, s in zip(cases, senders, strict=True)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run_case, cases, [transport] * len(cases), senders))


# -- reporting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    cases: int
    passed: int
    wrong: int

    @property
    def rate(self) -> float:
        return self.passed / self.cases if self.cases else 0.0


def _row(name: str, outcomes: Sequence[Outcome]) -> Row:
    return Row(
        name,
        len(outcomes),
        sum(o.verdict.ok for o in outcomes),
        sum(o.verdict.wrong_product for o in outcomes),
    )


def summarize(outcomes: Sequence[Outcome]) -> list[Row]:
    """One row per class, then the exact-title cases together and per sub-flag."""
    rows = [_row(cls, [o for o in outcomes if o.case.cls == cls]) for cls in CLASSES]
    rows = [r for r in rows if r.cases]
    titles = [o for o in outcomes if o.case.cls in TITLE_CLASSES]
    if titles:
        rows.append(_row("title_* (all)", titles))
        for flag, label in FLAGS.items():
            subset = [o for o in titles if flag in o.case.flags]
            if subset:
                rows.append(_row(f"title_* | {label}", subset))
    rows.append(_row("all", outcomes))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    width = max(len(r.name) for r in rows) + 2
    lines = [f"{'class':{width}}{'cases':>7}{'passed':>8}{'rate':>8}{'wrong product':>15}"]
    for r in rows:
        lines.append(f"{r.name:{width}}{r.cases:>7}{r.passed:>8}{r.rate:>8.1%}{r.wrong:>15}")
    return "\n".join(lines)


def failures(outcomes: Sequence[Outcome], per_class: int) -> list[str]:
    """The first few failures of each class, readable."""
    lines = []
    for cls in CLASSES:
        failed = [o for o in outcomes if o.case.cls == cls and not o.verdict.ok]
        lines.extend(o.describe() for o in failed[:per_class])
    return lines

"""The shopper conversation suite: multi-turn conversations written from the
shopper's side, checked turn by turn against the catalog.

The conversations live in `tests/shopper_suite/<class>.yml`, one file per class (CLASSES): a list
of `{name, turns: [{user, expect}]}`; the class is the file's. They say what a good human shop
assistant would do, not what the bot does today. Every expectation is checked against the
catalog graph: SKUs must exist, prices and totals are the catalog's, rendered the way the actions
render them (`actions.formatting.yuan`, `knowledge_graph.graph.format_value`).

Used by `tests/unit/test_shopper_suite_data.py` (the files, offline, against the seed catalog),
`tests/e2e/test_shopper_suite.py` (a fixed stratified sample against the live bot) and
`benchmarks/shopper_suite.py` (every conversation, a table per class).

Product references (REF): wherever an expectation names a product it takes
  "PH-XM-XIAOMI14-256"        that SKU exactly;
  {brand: 小米, model: 小米14}  any SKU of that model line (a brand's own model name, as
                              `ProductGraph` keys variants);
  "@focus"                    the product in focus: the first card of the latest earlier turn
                              that showed cards;
  "@list[3]"                  the 3rd card of the latest earlier list (a turn with >= 2 cards);
  "@list.cheapest", "@list.dearest", "@list.max:续航", "@list.min:重量"
                              the card(s) of that list with the lowest/highest price or value
                              (ties: any of them; 「续航」 is read per category, as
                              `ProductGraph.attribute_key` does: 电池容量 on a phone).
A reference to the previous list fails the turn when no list was shown before.

Expectation keys (all optional) of a turn's `expect`:
  cards shown (the `products` payloads of the turn, concatenated)
    min_cards / max_cards    how many cards; no_cards: true  no product payload at all
    skus: [REF]              each appears among the cards
    first_sku: REF           the first card
    first_model: {brand, model}  the first card is of that model line
    shows_any_of: [REF]      at least one of them is shown
    shows_none_of: [REF]     none of them is shown
    shows_kinds: [kind]      for each kind (类型/品类/款式 attribute, e.g. 手机壳, 贴膜), a card
    picks: REF               the reply picks that product: it leads the cards or, with no cards,
                             the text names it (title, model or alias)
    cards: {...}             constraints every card meets (CARD_KEYS):
        category, brand, not_brand (a value or a list), max_price, min_price, in_stock,
        gender (男/女: 适用人群 is that or 男女同款), colour (a 颜色 value contains it),
        size (in 尺码), skin (适用肤质 has it or 所有肤质), kind (类型/品类/款式), tag,
        model (a {brand, model} or a list of them), not_sku ([REF]),
        related_to (REF: the card is that model, or COMPATIBLE_WITH/ACCESSORY_OF it),
        attrs ({key: value}: equal, or in a list value), attr_in ({key: [values]}),
        attr_min / attr_max ({key: number})
  facts in the text
    says_price: REF | [REF]  its catalog price, as `yuan` renders it ("3999元")
    says_stock: REF          its stock ("缺货" when 0)
    says_total: [REF]        the sum of their prices
    says_cards_total: true   the sum of the prices of the cards shown (a bundle's total)
    says_difference: [REF, REF]  the absolute price difference
    says_attribute: {sku: REF, key} | [..]  the value, rendered by `format_value` with its unit
    verdict: REF             a line with a conclusion word (VERDICT_MARKERS) names that product
    concludes: true          the text has a conclusion word (a comparison ends with a verdict)
    text: [s]                each substring appears; text_none: [s] none of them
    text_any: [s]            one of them appears; or [[s], [s]]: one of each group
    buttons: true            quick replies offered
  others
    fallback_ok: true        a generic fallback is acceptable on this turn
    note: "..."              why, for the reader; not checked

Implicit on every turn: a non-empty reply; no generic fallback (GENERIC_FALLBACKS) unless
`fallback_ok`; no SKU twice in one product list.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.formatting import yuan
from daogou.settings import Settings
from knowledge_graph.graph import ProductGraph, format_value, numeric_value
from knowledge_graph.product import Product
from knowledge_graph.store import CatalogSnapshot

SUITE_DIR = Path(__file__).resolve().parent / "shopper_suite"
SEED = 14

CLASSES = (
    "follow_up",
    "accessory",
    "refinement",
    "detailed_request",
    "short_answer",
    "after_sales",
    "comparison",
    "never_silent",
)

GENERIC_FALLBACKS = ("不太确定您的意思", "没太理解", "这个我暂时帮不上忙")
VERDICT_MARKERS = ("结论", "总结", "总的来说", "综合", "建议", "更推荐", "推荐", "更适合", "选")

TURN_KEYS = frozenset(
    {
        "min_cards",
        "max_cards",
        "no_cards",
        "skus",
        "first_sku",
        "first_model",
        "shows_any_of",
        "shows_none_of",
        "shows_kinds",
        "picks",
        "cards",
        "says_price",
        "says_stock",
        "says_total",
        "says_cards_total",
        "says_difference",
        "says_attribute",
        "verdict",
        "concludes",
        "text",
        "text_any",
        "text_none",
        "buttons",
        "fallback_ok",
        "note",
    }
)
CARD_KEYS = frozenset(
    {
        "category",
        "brand",
        "not_brand",
        "max_price",
        "min_price",
        "in_stock",
        "gender",
        "colour",
        "size",
        "skin",
        "kind",
        "tag",
        "model",
        "not_sku",
        "related_to",
        "attrs",
        "attr_in",
        "attr_min",
        "attr_max",
    }
)
KIND_KEYS = ("类型", "品类", "款式")
FIT_RELATIONS = ("COMPATIBLE_WITH", "ACCESSORY_OF")
_LIST_REF = re.compile(r"^@list(?:\[(\d+)\]|\.(cheapest|dearest)|\.(max|min):(.+))$")


# -- the suite ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    user: str
    expect: dict[str, Any]


@dataclass(frozen=True)
class Conversation:
    name: str
    cls: str
    turns: tuple[Turn, ...]
    file: str = ""


def load_suite(directory: Path = SUITE_DIR) -> list[Conversation]:
    """Every conversation, in CLASSES order, then file order. A file's stem is its class."""
    conversations = []
    for cls in CLASSES:
        path = directory / f"{cls}.yml"
        if not path.exists():
            continue
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            turns = tuple(
                Turn(str(t.get("user", "")), dict(t.get("expect") or {}))
                for t in item.get("turns") or []
            )
            conversations.append(Conversation(str(item.get("name", "")), cls, turns, path.name))
    return conversations


def stratified_sample(
    conversations: Sequence[Conversation], per_class: int, seed: int = SEED
) -> list[Conversation]:
    """`per_class` conversations of each class, the same ones every run (by name)."""
    rng = random.Random(seed)
    sample = []
    for cls in CLASSES:
        group = sorted((c for c in conversations if c.cls == cls), key=lambda c: c.name)
        chosen = sorted(rng.sample(range(len(group)), min(per_class, len(group))))
        sample.extend(group[i] for i in chosen)
    return sample


# -- the catalog --------------------------------------------------------------------------


def graph_from_catalog(catalog: dict[str, Any]) -> ProductGraph:
    """The graph of a catalog document (data/generate_catalog.py's shape), without a database."""
    products = [Product.from_dict(p) for p in catalog["products"]]
    attribute_defs = [
        {
            "category": category,
            "key": key,
            "type": spec.get("type", "text"),
            "unit": spec.get("unit"),
            "better": spec.get("better"),
            "aliases": spec.get("aliases", []),
        }
        for category, specs in catalog["attribute_schema"].items()
        for key, spec in specs.items()
    ]
    snapshot = CatalogSnapshot(
        version=int(catalog.get("version", 1)),
        products=products,
        brands=[dict(b) for b in catalog["brands"]],
        categories=[dict(c) for c in catalog["categories"]],
        attribute_defs=attribute_defs,
        relations=[(r["source"], r["target"], r["type"]) for r in catalog["relations"]],
        merchants={m["id"]: m["name"] for m in catalog["merchants"]},
    )
    return ProductGraph(snapshot)


def seed_graph() -> ProductGraph:
    """The seed catalog's graph, built in memory (no database)."""
    from data.generate_catalog import build_catalog

    return graph_from_catalog(build_catalog())


def load_graph(settings: Settings) -> ProductGraph:
    from tests.catalog_suite import load_graph as load

    return load(settings)


# -- reading replies ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    text: str
    lists: tuple[tuple[dict[str, Any], ...], ...]  # each `products` payload's items
    buttons: bool
    empty: bool

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [item for items in self.lists for item in items]

    @property
    def skus(self) -> list[str]:
        return [str(c.get("sku")) for c in self.cards]


def read_reply(replies: Sequence[dict[str, Any]]) -> Reply:
    texts, lists, buttons = [], [], False
    for message in replies or ():
        if message.get("text"):
            texts.append(str(message["text"]))
        custom = message.get("custom") or {}
        if isinstance(custom, dict) and custom.get("type") == "products":
            lists.append(tuple(custom.get("items") or ()))
        if message.get("buttons"):
            buttons = True
    text = "\n".join(texts)
    empty = not text.strip() and not any(lists)
    return Reply(text, tuple(lists), buttons, empty)


def _short(text: str, limit: int = 160) -> str:
    text = text.replace("\n", " / ")
    return text if len(text) <= limit else text[:limit] + "…"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _has_amount(text: str, amount: str) -> bool:
    """ "6499元" on its own, not the tail of "16499元"."""
    return re.search(rf"(?<![0-9.,]){re.escape(amount)}", text) is not None


def _has_number(text: str, number: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z.]){re.escape(number)}(?![0-9A-Za-z.%])", text) is not None


def is_generic_fallback(text: str) -> bool:
    return any(phrase in text for phrase in GENERIC_FALLBACKS)


# -- references ---------------------------------------------------------------------------


class RefError(Exception):
    """A reference that cannot be resolved (unknown SKU, no list shown before)."""


@dataclass
class History:
    """What earlier turns showed: the product in focus and the latest list."""

    focus: str | None = None
    shown_list: list[str] = field(default_factory=list)

    def update(self, reply: Reply) -> None:
        skus = reply.skus
        if skus:
            self.focus = skus[0]
        if len(skus) >= 2:
            self.shown_list = skus


def model_skus(graph: ProductGraph, ref: dict[str, Any]) -> set[str]:
    return {
        sku
        for sku, p in graph.products.items()
        if p.brand == ref.get("brand") and p.model == ref.get("model")
    }


def resolve(graph: ProductGraph, ref: Any, history: History | None) -> set[str]:
    """The SKUs a reference accepts (several for a model line or a tie)."""
    if isinstance(ref, dict):
        found = model_skus(graph, ref)
        if not found:
            raise RefError(f"no model {ref.get('brand')}/{ref.get('model')} in the catalog")
        return found
    if not isinstance(ref, str):
        raise RefError(f"not a product reference: {ref!r}")
    if ref == "@focus":
        if history is None or history.focus is None:
            raise RefError("@focus: no product shown before")
        return {history.focus}
    match = _LIST_REF.match(ref)
    if match:
        if history is None or not history.shown_list:
            raise RefError(f"{ref}: no list shown before")
        return _from_list(graph, history.shown_list, match)
    if ref.startswith("@"):
        raise RefError(f"unknown reference {ref!r}")
    if ref not in graph.products:
        raise RefError(f"unknown sku {ref}")
    return {ref}


def _from_list(graph: ProductGraph, shown: list[str], match: re.Match) -> set[str]:
    index, extreme, direction, key = match.groups()
    if index:
        n = int(index)
        if n > len(shown):
            raise RefError(f"@list[{n}]: the list had {len(shown)} cards")
        return {shown[n - 1]}
    known = [s for s in shown if s in graph.products]
    if extreme:
        values = {s: graph.products[s].price for s in known}
        best = min if extreme == "cheapest" else max
    else:
        values = {}
        for s in known:
            value = _attribute(graph, s, key)
            if value is not None:
                values[s] = value
        best = max if direction == "max" else min
    if not values:
        raise RefError(f"{match.group(0)}: no card of the list has that value")
    target = best(values.values())
    return {s for s, v in values.items() if v == target}


def _attribute(graph: ProductGraph, sku: str, key: str) -> float | None:
    product = graph.products[sku]
    if key in ("price", "价格"):
        return float(product.price)
    own = graph.attribute_key(product.category, key) or key
    return numeric_value(product.attributes.get(own))


def _names(graph: ProductGraph, sku: str) -> list[str]:
    p = graph.products[sku]
    names = [p.title, p.model or "", *p.aliases]
    return [_compact(n) for n in names if n and len(_compact(n)) >= 2]


def _named(graph: ProductGraph, skus: Iterable[str], text: str) -> bool:
    compact = _compact(text)
    return any(name in compact for sku in skus for name in _names(graph, sku))


# -- checking a turn ----------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _groups(value: Any) -> list[list[str]]:
    """`text_any` as groups: ["a", "b"] is one group, [["a"], ["b", "c"]] two."""
    items = _as_list(value)
    if items and all(isinstance(i, list) for i in items):
        return [list(i) for i in items]
    return [items] if items else []


def _kind(product: Product | None) -> set[str]:
    attributes = product.attributes if product else {}
    return {str(attributes[k]) for k in KIND_KEYS if attributes.get(k)}


def _fits(graph: ProductGraph, sku: str, targets: set[str]) -> bool:
    """`sku` is one of the target models' variants, or fits one of them."""
    lines = set()
    for target in targets:
        lines.update(graph.variants(target))
    return sku in lines or any(
        sku in {s for s, _ in graph.related(target, FIT_RELATIONS)} for target in targets
    )


def _matches_value(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):
        return any(str(a) == str(wanted) for a in actual)
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return actual is wanted
    return str(actual) == str(wanted)


def card_problem(
    graph: ProductGraph, sku: str, spec: dict[str, Any], history: History | None
) -> str | None:
    """Why the card breaks one of `spec`'s constraints, or None."""
    product = graph.products.get(sku)
    if product is None:
        return f"{sku} is not in the catalog"
    attributes = product.attributes
    label = f"{sku} {product.title}"
    if "category" in spec and product.category not in _as_list(spec["category"]):
        return f"{label}: category {product.category}"
    if "brand" in spec and product.brand not in _as_list(spec["brand"]):
        return f"{label}: brand {product.brand}"
    if "not_brand" in spec and product.brand in _as_list(spec["not_brand"]):
        return f"{label}: brand {product.brand} was excluded"
    if "max_price" in spec and product.price > float(spec["max_price"]):
        return f"{label}: {yuan(product.price)} > {spec['max_price']}"
    if "min_price" in spec and product.price < float(spec["min_price"]):
        return f"{label}: {yuan(product.price)} < {spec['min_price']}"
    if spec.get("in_stock") and product.stock <= 0:
        return f"{label}: out of stock"
    if "gender" in spec:
        wanted = {"男": "男款", "女": "女款"}.get(spec["gender"], spec["gender"])
        if attributes.get("适用人群") not in (wanted, "男女同款"):
            return f"{label}: 适用人群 {attributes.get('适用人群')}"
    if "colour" in spec and not any(spec["colour"] in str(c) for c in attributes.get("颜色") or ()):
        return f"{label}: no {spec['colour']} in {attributes.get('颜色')}"
    if "size" in spec and str(spec["size"]) not in [str(s) for s in attributes.get("尺码") or ()]:
        return f"{label}: no size {spec['size']}"
    if "skin" in spec:
        skins = attributes.get("适用肤质") or []
        if spec["skin"] not in skins and "所有肤质" not in skins:
            return f"{label}: 适用肤质 {skins}"
    if "kind" in spec and not _kind(product) & set(_as_list(spec["kind"])):
        return f"{label}: kind {sorted(_kind(product))}"
    if "tag" in spec and spec["tag"] not in product.tags:
        return f"{label}: no tag {spec['tag']}"
    if "model" in spec and not any(sku in model_skus(graph, m) for m in _as_list(spec["model"])):
        return f"{label}: model {product.model}"
    if "not_sku" in spec:
        excluded = set().union(*(resolve(graph, r, history) for r in _as_list(spec["not_sku"])))
        if sku in excluded:
            return f"{label} was excluded"
    if "related_to" in spec and not _fits(graph, sku, resolve(graph, spec["related_to"], history)):
        return f"{label}: does not fit {spec['related_to']}"
    for key, wanted in (spec.get("attrs") or {}).items():
        if not _matches_value(attributes.get(key), wanted):
            return f"{label}: {key}={attributes.get(key)!r}, wanted {wanted!r}"
    for key, options in (spec.get("attr_in") or {}).items():
        if not any(_matches_value(attributes.get(key), o) for o in options):
            return f"{label}: {key}={attributes.get(key)!r} not in {options}"
    for key, low in (spec.get("attr_min") or {}).items():
        value = _attribute(graph, sku, key)
        if value is None or value < float(low):
            return f"{label}: {key}={value} < {low}"
    for key, high in (spec.get("attr_max") or {}).items():
        value = _attribute(graph, sku, key)
        if value is None or value > float(high):
            return f"{label}: {key}={value} > {high}"
    return None


def _prices(graph: ProductGraph, skus: set[str]) -> set[float]:
    return {float(graph.products[s].price) for s in skus}


def _says_any_amount(text: str, amounts: Iterable[float]) -> bool:
    return any(_has_amount(text, yuan(a)) for a in amounts)


def _sums(graph: ProductGraph, groups: list[set[str]]) -> set[float]:
    totals = {0.0}
    for group in groups:
        totals = {round(t + p, 2) for t in totals for p in _prices(graph, group)}
    return totals


def check_turn(
    graph: ProductGraph, expect: dict[str, Any], reply: Reply, history: History | None = None
) -> list[str]:
    """Problems with a reply, judged against the catalog; empty when the turn passed."""
    problems: list[str] = []
    try:
        _check(graph, expect, reply, history, problems)
    except RefError as exc:
        problems.append(str(exc))
    return problems


def _check(
    graph: ProductGraph,
    expect: dict[str, Any],
    reply: Reply,
    history: History | None,
    problems: list[str],
) -> None:
    text, skus = reply.text, reply.skus
    shown = f"cards {skus[:5]}{'…' if len(skus) > 5 else ''}; text: {_short(text)}"
    if reply.empty:
        problems.append("empty reply")
    if not expect.get("fallback_ok") and is_generic_fallback(text):
        problems.append(f"generic fallback: {_short(text)}")
    for items in reply.lists:
        listed = [str(i.get("sku")) for i in items]
        twice = sorted({s for s in listed if listed.count(s) > 1})
        if twice:
            problems.append(f"the same product twice in one list: {twice}")

    def ref(r: Any) -> set[str]:
        return resolve(graph, r, history)

    if "min_cards" in expect and len(skus) < int(expect["min_cards"]):
        problems.append(f"{len(skus)} cards < {expect['min_cards']}; {shown}")
    if "max_cards" in expect and len(skus) > int(expect["max_cards"]):
        problems.append(f"{len(skus)} cards > {expect['max_cards']}; {shown}")
    if expect.get("no_cards") and skus:
        problems.append(f"unexpected cards {skus[:5]}")
    for r in _as_list(expect.get("skus")):
        if not ref(r) & set(skus):
            problems.append(f"{r} not shown; {shown}")
    if "first_sku" in expect and (not skus or skus[0] not in ref(expect["first_sku"])):
        problems.append(f"first card is not {expect['first_sku']}; {shown}")
    if "first_model" in expect and (not skus or skus[0] not in ref(expect["first_model"])):
        problems.append(f"first card is not of {expect['first_model']}; {shown}")
    if "shows_any_of" in expect:
        wanted = set().union(*(ref(r) for r in _as_list(expect["shows_any_of"])))
        if not wanted & set(skus):
            problems.append(f"none of {expect['shows_any_of']} shown; {shown}")
    for r in _as_list(expect.get("shows_none_of")):
        if ref(r) & set(skus):
            problems.append(f"{r} shown, it should not be; {shown}")
    for kind in _as_list(expect.get("shows_kinds")):
        if not any(kind in _kind(graph.products.get(s)) for s in skus):
            problems.append(f"no {kind} card; {shown}")
    if "picks" in expect:
        wanted = ref(expect["picks"])
        if skus:
            if skus[0] not in wanted:
                problems.append(f"first card is not {expect['picks']} {sorted(wanted)}; {shown}")
        elif not _named(graph, wanted, text):
            problems.append(f"{expect['picks']} {sorted(wanted)} neither shown nor named; {shown}")
    if "cards" in expect:
        spec = expect["cards"] or {}
        if not skus:
            problems.append(f"no cards to check {sorted(spec)}; text: {_short(text)}")
        bad = [p for p in (card_problem(graph, s, spec, history) for s in skus) if p]
        if bad:
            problems.append(f"{len(bad)}/{len(skus)} cards break it: {bad[:3]}")
    for r in _as_list(expect.get("says_price")):
        found = ref(r)
        if not _says_any_amount(text, _prices(graph, found)):
            amounts = sorted(yuan(p) for p in _prices(graph, found))
            problems.append(f"text lacks the price of {r} {amounts}: {_short(text)}")
    if "says_stock" in expect:
        stocks = {graph.products[s].stock for s in ref(expect["says_stock"])}
        if not any(("缺货" in text) if n <= 0 else _has_number(text, str(n)) for n in stocks):
            problems.append(f"text lacks the stock {sorted(stocks)}: {_short(text)}")
    if "says_total" in expect:
        totals = _sums(graph, [ref(r) for r in _as_list(expect["says_total"])])
        if not _says_any_amount(text, totals):
            problems.append(f"text lacks the total {sorted(map(yuan, totals))}: {_short(text)}")
    if expect.get("says_cards_total"):
        known = [s for s in skus if s in graph.products]
        if not known:
            problems.append(f"no cards to total; text: {_short(text)}")
        else:
            total = sum(float(graph.products[s].price) for s in known)
            if not _has_amount(text, yuan(total)):
                problems.append(f"text lacks the cards' total {yuan(total)}: {_short(text)}")
    if "says_difference" in expect:
        a, b = (ref(r) for r in _as_list(expect["says_difference"])[:2])
        gaps = {abs(pa - pb) for pa in _prices(graph, a) for pb in _prices(graph, b)}
        if not _says_any_amount(text, gaps):
            problems.append(f"text lacks the difference {sorted(map(yuan, gaps))}: {_short(text)}")
    for item in _as_list(expect.get("says_attribute")):
        facts = set()
        for sku in ref(item["sku"]):
            p = graph.products[sku]
            key = graph.attribute_key(p.category, item["key"]) or item["key"]
            value = p.attributes.get(key)
            if value is None:
                continue
            spec = graph.attribute_spec(p.category, key)
            facts.add(format_value(value, spec.unit if spec else None))
        if not facts:
            problems.append(f"{item['sku']} has no {item['key']}")
        elif not any(_has_amount(text, f) for f in facts):
            problems.append(f"text lacks {item['key']} {sorted(facts)}: {_short(text)}")
    if "verdict" in expect:
        wanted = ref(expect["verdict"])
        lines = [
            line for line in re.split(r"[\n。！!]", text) if any(m in line for m in VERDICT_MARKERS)
        ]
        if not any(_named(graph, wanted, line) for line in lines):
            problems.append(f"no conclusion naming {expect['verdict']}: {_short(text)}")
    for needle in _as_list(expect.get("text")):
        if needle not in text:
            problems.append(f"text lacks 「{needle}」: {_short(text)}")
    if expect.get("concludes") and not any(m in text for m in VERDICT_MARKERS):
        problems.append(f"no conclusion: {_short(text)}")
    for group in _groups(expect.get("text_any")):
        if not any(n in text for n in group):
            problems.append(f"text has none of {group}: {_short(text)}")
    for needle in _as_list(expect.get("text_none")):
        if needle in text:
            problems.append(f"text has 「{needle}」: {_short(text)}")
    if expect.get("buttons") and not reply.buttons:
        problems.append("no quick replies")


# -- validating the files offline ---------------------------------------------------------


def _refs_in(expect: dict[str, Any]) -> Iterable[Any]:
    for key in ("skus", "shows_any_of", "shows_none_of", "says_price", "says_total"):
        yield from _as_list(expect.get(key))
    for key in ("first_sku", "first_model", "picks", "says_stock", "verdict"):
        if key in expect:
            yield expect[key]
    yield from _as_list(expect.get("says_difference"))
    for item in _as_list(expect.get("says_attribute")):
        if isinstance(item, dict):
            yield item.get("sku")
    spec = expect.get("cards") or {}
    yield from _as_list(spec.get("model"))
    yield from _as_list(spec.get("not_sku"))
    if "related_to" in spec:
        yield spec["related_to"]


def _is_dynamic(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("@")
    if isinstance(value, dict):
        return any(_is_dynamic(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_is_dynamic(v) for v in value)
    return False


def _consistency(graph: ProductGraph, expect: dict[str, Any]) -> list[str]:
    """The expectations of one turn can all hold at once in this catalog: products that must be
    shown meet the `cards` constraints, and enough products meet them."""
    spec = expect.get("cards")
    if not isinstance(spec, dict) or _is_dynamic(spec):
        return []
    problems = []
    try:
        fitting = [s for s in sorted(graph.products) if card_problem(graph, s, spec, None) is None]
    except RefError as exc:
        return [str(exc)]
    wanted = max(int(expect.get("min_cards", 1)), 1)
    if len(fitting) < wanted:
        problems.append(f"only {len(fitting)} catalog products meet cards {spec}")
    must = list(_as_list(expect.get("skus")))
    must += [expect[k] for k in ("first_sku", "first_model", "picks") if k in expect]
    for r in must:
        if _is_dynamic(r):
            continue
        try:
            found = resolve(graph, r, None)
        except RefError:
            continue  # reported by validate
        if not found & set(fitting):
            problems.append(f"{r} must be shown but breaks cards {spec}")
    options = [r for r in _as_list(expect.get("shows_any_of")) if not _is_dynamic(r)]
    if options:
        found = set()
        for r in options:
            try:
                found |= resolve(graph, r, None)
            except RefError:
                continue
        if not found & set(fitting):
            problems.append(f"none of {options} meets cards {spec}")
    for kind in _as_list(expect.get("shows_kinds")):
        if not any(kind in _kind(graph.products[s]) for s in fitting):
            problems.append(f"no {kind} in the catalog meets cards {spec}")
    return problems


def validate(conversations: Sequence[Conversation], graph: ProductGraph) -> list[str]:
    """Problems with the suite itself: unknown keys, SKUs, models, categories, brands."""
    problems = []
    names: set[tuple[str, str]] = set()
    categories = set(graph.categories) | {p.category for p in graph.products.values()}
    brands = set(graph.brands) | {p.brand for p in graph.products.values()}
    for conv in conversations:
        where = f"{conv.file}: {conv.name or '<no name>'}"
        if not conv.name:
            problems.append(f"{where}: no name")
        if (conv.cls, conv.name) in names:
            problems.append(f"{where}: duplicate name")
        names.add((conv.cls, conv.name))
        if not conv.turns:
            problems.append(f"{where}: no turns")
        for n, turn in enumerate(conv.turns, start=1):
            at = f"{where} turn {n}"
            if not turn.user.strip():
                problems.append(f"{at}: no user message")
            unknown = set(turn.expect) - TURN_KEYS
            if unknown:
                problems.append(f"{at}: unknown keys {sorted(unknown)}")
            spec = turn.expect.get("cards") or {}
            if not isinstance(spec, dict):
                problems.append(f"{at}: cards must be a mapping")
                spec = {}
            unknown = set(spec) - CARD_KEYS
            if unknown:
                problems.append(f"{at}: unknown card keys {sorted(unknown)}")
            for c in _as_list(spec.get("category")):
                if c not in categories:
                    problems.append(f"{at}: unknown category {c}")
            for b in _as_list(spec.get("brand")) + _as_list(spec.get("not_brand")):
                if b not in brands:
                    problems.append(f"{at}: unknown brand {b}")
            for r in _refs_in(turn.expect):
                if isinstance(r, str) and (r == "@focus" or _LIST_REF.match(r)):
                    if n == 1:
                        problems.append(f"{at}: {r} on the first turn")
                    continue
                try:
                    resolve(graph, r, None)
                except RefError as exc:
                    problems.append(f"{at}: {exc}")
            problems.extend(f"{at}: {p}" for p in _consistency(graph, turn.expect))
            for key in ("text", "text_none", "shows_kinds"):
                if key in turn.expect and not all(
                    isinstance(s, str) and s for s in _as_list(turn.expect[key])
                ):
                    problems.append(f"{at}: {key} must be non-empty strings")
            groups = _groups(turn.expect.get("text_any"))
            if "text_any" in turn.expect and not (
                groups and all(g and all(isinstance(s, str) and s for s in g) for g in groups)
            ):
                problems.append(f"{at}: text_any must be strings or groups of strings")
    return problems


# -- running ------------------------------------------------------------------------------


Chat = Callable[[str, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class TurnOutcome:
    user: str
    ok: bool
    problems: tuple[str, ...]
    empty: bool
    fallback: bool  # a generic fallback where none was acceptable
    shown: str


@dataclass(frozen=True)
class Outcome:
    conversation: Conversation
    sender: str
    turns: tuple[TurnOutcome, ...]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.turns)

    def failures(self) -> list[str]:
        head = f"[{self.conversation.cls}] {self.conversation.name}"
        return [
            f"{head} turn {n} 「{t.user}」: {'; '.join(t.problems)}"
            for n, t in enumerate(self.turns, start=1)
            if not t.ok
        ]


def run_conversation(
    conversation: Conversation, chat: Chat, sender: str, graph: ProductGraph
) -> Outcome:
    """Every turn on one sender; a failed request fails that turn and the conversation goes on."""
    history = History()
    turns = []
    for turn in conversation.turns:
        try:
            reply = read_reply(chat(sender, turn.user))
        except Exception as exc:  # a failed request is a failed turn, never a stopped run
            problem = f"error: {type(exc).__name__}: {_short(str(exc))}"
            turns.append(TurnOutcome(turn.user, False, (problem,), True, False, ""))
            continue
        problems = tuple(check_turn(graph, turn.expect, reply, history))
        fallback = not turn.expect.get("fallback_ok") and is_generic_fallback(reply.text)
        summary = f"[{', '.join(reply.skus[:3])}{', …' if len(reply.skus) > 3 else ''}] "
        turns.append(
            TurnOutcome(
                turn.user,
                not problems,
                problems,
                reply.empty,
                fallback,
                summary + _short(reply.text),
            )
        )
        history.update(reply)
    return Outcome(conversation, sender, tuple(turns))


def run_all(
    conversations: Sequence[Conversation],
    chat: Chat,
    graph: ProductGraph,
    run_id: str,
    threads: int = 1,
) -> list[Outcome]:
    """Outcomes in suite order; each conversation on its own sender, so nothing carries over."""
    senders = [f"shopper-{run_id}-{i}" for i in range(len(conversations))]

    def one(conversation: Conversation, sender: str) -> Outcome:
        return run_conversation(conversation, chat, sender, graph)

    if threads <= 1:
        return [one(c, s) for c, s in zip(conversations, senders, strict=True)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, conversations, senders))


# -- reporting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    conversations: int
    conversations_passed: int
    turns: int
    turns_passed: int
    empty: int
    fallbacks: int

    @property
    def rate(self) -> float:
        return self.turns_passed / self.turns if self.turns else 0.0


def _row(name: str, outcomes: Sequence[Outcome]) -> Row:
    turns = [t for o in outcomes for t in o.turns]
    return Row(
        name,
        len(outcomes),
        sum(o.ok for o in outcomes),
        len(turns),
        sum(t.ok for t in turns),
        sum(t.empty for t in turns),
        sum(t.fallback for t in turns),
    )


def summarize(outcomes: Sequence[Outcome]) -> list[Row]:
    """One row per class (turn-level pass rate), then all."""
    rows = [_row(cls, [o for o in outcomes if o.conversation.cls == cls]) for cls in CLASSES]
    rows = [r for r in rows if r.conversations]
    rows.append(_row("all", outcomes))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    width = max(len(r.name) for r in rows) + 2
    header = (
        f"{'class':{width}}{'convs':>6}{'conv ok':>8}{'turns':>7}{'passed':>8}{'rate':>8}"
        f"{'empty':>7}{'fallbacks':>10}"
    )
    lines = [header]
    for r in rows:
        lines.append(
            f"{r.name:{width}}{r.conversations:>6}{r.conversations_passed:>8}{r.turns:>7}"
            f"{r.turns_passed:>8}{r.rate:>8.1%}{r.empty:>7}{r.fallbacks:>10}"
        )
    return "\n".join(lines)


def failures(outcomes: Sequence[Outcome], per_class: int) -> list[str]:
    """The first few failed turns of each class, with what the bot said."""
    lines = []
    for cls in CLASSES:
        shown = 0
        for o in outcomes:
            if o.conversation.cls != cls:
                continue
            for n, t in enumerate(o.turns, start=1):
                if t.ok or shown >= per_class:
                    continue
                shown += 1
                lines.append(
                    f"[{cls}] {o.conversation.name} turn {n} 「{t.user}」: "
                    f"{'; '.join(t.problems)}\n    reply: {t.shown}"
                )
    return lines

"""Deterministic seed catalog for Daogou: products, relations, users, orders and behaviour.

    python -m data.generate_catalog --out var/seed/catalog.json

Everything comes from the data files in `data/catalog/` (checked by
`data/catalog_schema.py`, rows expanded by `data/catalog_builder.py`) plus seeded
randomness (base seed 42), so every run writes the same bytes. Per-product
randomness (stock, rating, description wording) is seeded by the product's sku,
so adding a product does not reshuffle the others.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from data.catalog_builder import Builder, Draft, holds
from data.catalog_schema import CatalogData, Description, People, load_catalog

SEED = 42
CST = timezone(timedelta(hours=8))
# The catalog's fixed "now": behaviour runs up to it, order states are judged against it.
SNAPSHOT = datetime(2026, 11, 6, 12, 0, tzinfo=CST)
HISTORY_START = datetime(2026, 9, 1, tzinfo=CST)
RELATION_TYPES = ("ACCESSORY_OF", "COMPATIBLE_WITH", "SAME_SERIES", "ALTERNATIVE_TO", "BUNDLE_WITH")
EVENT_TYPES = ("view", "click", "add_to_cart", "purchase")
ORDER_STATUSES = (
    "pending_payment",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunding",
    "refunded",
)
N_USERS = 240
MAX_ALIASES = 12
# Accessories fitting this many model lines or more link to base variants only.
WIDE_COMPAT = 25

Product = dict[str, Any]


def _rng(*parts: object) -> random.Random:
    """A private, reproducible stream: str seeds are hashed with SHA-512, not hash()."""
    return random.Random(":".join(str(p) for p in (SEED, *parts)))


def _brand_aliases(brand: dict[str, Any]) -> list[str]:
    """The names shoppers type for a brand, its own name included."""
    names = list(brand["aliases"])
    return names if brand["name"] in names else [*names, brand["name"]]


class Catalog:
    """The loaded data files, their builder and the lookups the generator needs."""

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        self.builder = Builder(data)
        self.people: People = data.people
        self.brands = [{**b, "aliases": _brand_aliases(b)} for b in data.brands]
        self.brand = {b["name"]: b for b in self.brands}
        self.tags = list(data.taxonomy.tags)
        self.merchant = {c.info.name: c.info.merchant for c in data.categories}
        self.routine = self.data.category("护肤品").spec.routine_order or []


# -- products ----------------------------------------------------------------------------


def _sku(cat: Catalog, prefix: str, brand: str, key: str, variant: str | None) -> str:
    parts = [prefix, cat.brand[brand]["code"], key] + ([variant] if variant else [])
    sku = "-".join(parts)
    if not sku.isascii() or " " in sku:
        raise ValueError(f"sku must be ASCII without spaces: {sku!r}")
    return sku


def product_aliases(
    cat: Catalog, brand: str, model: str | None, extra: Iterable[str], title: str
) -> list[str]:
    """How shoppers type a product: spaced, no-space, lower-case, brand-prefixed, nicknames."""
    forms: list[str] = []
    if model:
        forms.append(model)
        model = re.sub(r"\s20\d\d$", "", model)  # 'Redmi Book 14 2024' is typed without its year
        compact = model.replace(" ", "")
        forms += [model, model.lower(), compact, compact.lower()]
        names = [brand, *cat.brand[brand]["aliases"]]
        if not any(model.lower().startswith(n.lower()) for n in names):
            forms.append(f"{brand}{compact}")
            latin = next(
                (a for a in cat.brand[brand]["aliases"] if a.isascii() and a.isalpha()), None
            )
            if latin and any(ch.isascii() and ch.isalpha() for ch in model):
                forms.append(f"{latin.lower()} {model.lower()}")
    forms += list(extra)
    seen: set[str] = set()
    aliases = []
    for form in forms:
        if form and form != title and form not in seen:
            seen.add(form)
            aliases.append(form)
    # Hand-written nicknames come last in `forms`; keep them when trimming.
    if len(aliases) > MAX_ALIASES:
        tail = [a for a in extra if a in seen][: MAX_ALIASES // 2]
        head = [a for a in aliases if a not in tail][: MAX_ALIASES - len(tail)]
        aliases = head + tail
    return aliases


def _tags(cat: Catalog, category: str, draft: Draft, entry_price: float) -> list[str]:
    """Hand tags plus derived ones; price tags use the model's entry price so variants agree."""
    derived = cat.builder.derived_tags(category, draft, entry_price)
    tags = list(dict.fromkeys(draft["tags"] + derived))
    return sorted(tags[:8], key=cat.tags.index)


def _stock_and_rating(sku: str, price: float) -> tuple[int, float]:
    rng = _rng("stock", sku)
    if rng.random() < 0.05:
        stock = 0
    elif price < 100:
        stock = rng.randint(80, 600)
    elif price < 1000:
        stock = rng.randint(20, 300)
    elif price < 5000:
        stock = rng.randint(5, 120)
    else:
        stock = rng.randint(1, 40)
    rating = round(min(5.0, max(3.3, rng.gauss(4.62, 0.2))), 1)
    return stock, rating


# -- descriptions ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """4.0 -> 4 so that sentences read '4L', not '4.0L'."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def description_context(cat: Catalog, product: Product) -> dict[str, Any]:
    ctx: dict[str, Any] = {k: _plain(v) for k, v in product["attributes"].items()}
    for key, value in product["attributes"].items():
        if isinstance(value, list) and value:
            ctx.update(
                {
                    f"{key}首": value[0],
                    f"{key}末": value[-1],
                    f"{key}数": len(value),
                    f"{key}文本": "、".join(value[:4]),
                }
            )
    model = product["model"]
    ctx.update(
        name=cat.builder.display_name(product["brand"], model) if model else product["title"],
        brand=product["brand"],
        model=model,
        price=_plain(product["price"]),
        tags=set(product["tags"]),
    )
    cat.builder.description_fields(product["category"], ctx)
    return ctx


def _render(templates: list[str], ctx: dict[str, Any], rng: random.Random) -> str | None:
    for template in rng.sample(templates, len(templates)):
        try:
            return template.format_map(ctx)
        except (KeyError, IndexError, ValueError):
            continue
    return None


def describe(spec: Description, ctx: dict[str, Any], rng: random.Random) -> str:
    """2-4 sentences: an opener, one or two attribute-driven features, a tag-driven closer."""
    sentences = [_render(spec.openers, ctx, rng)]
    eligible = [feature.say for feature in spec.features if holds(feature.when, ctx)]
    picked = sorted(rng.sample(range(len(eligible)), min(len(eligible), rng.choice((1, 2, 2)))))
    sentences += [_render(eligible[i], ctx, rng) for i in picked]
    closers = spec.closers
    tagged = [t for t in closers if t != "_" and t in ctx["tags"]]
    key = rng.choice(tagged) if tagged and rng.random() < 0.7 else "_"
    sentences.append(_render(closers[key], ctx, rng) or _render(closers["_"], ctx, rng))
    return "".join(s for s in sentences if s)


# -- assembling products -----------------------------------------------------------------


def build_products(cat: Catalog) -> tuple[list[Product], dict[str, list[str]], dict[str, Draft]]:
    """Products in table order, the skus of each model key, and each sku's draft."""
    products: list[Product] = []
    skus_by_key: dict[str, list[str]] = defaultdict(list)
    draft_by_sku: dict[str, Draft] = {}
    for table in cat.data.categories:
        category = table.info.name
        drafts = cat.builder.drafts(table)
        entry_price: dict[str, float] = {}
        for draft in drafts:
            entry_price[draft["key"]] = min(draft["price"], entry_price.get(draft["key"], math.inf))
        for draft in drafts:
            sku = _sku(cat, table.spec.sku_prefix, draft["brand"], draft["key"], draft["variant"])
            if sku in draft_by_sku:
                raise ValueError(f"duplicate sku {sku}")
            products.append(_product(cat, category, sku, draft, entry_price[draft["key"]]))
            skus_by_key[draft["key"]].append(sku)
            draft_by_sku[sku] = draft
    return products, dict(skus_by_key), draft_by_sku


def _product(cat: Catalog, category: str, sku: str, draft: Draft, entry_price: float) -> Product:
    stock, rating = _stock_and_rating(sku, draft["price"])
    product: Product = {
        "sku": sku,
        "title": draft["title"],
        "brand": draft["brand"],
        "category": category,
        "series": draft["series"],
        "model": draft["model"],
        "aliases": product_aliases(
            cat, draft["brand"], draft["model"], draft["aliases"], draft["title"]
        ),
        "price": draft["price"],
        "attributes": draft["attributes"],
        "tags": _tags(cat, category, draft, entry_price),
        "description": "",
        "stock": stock,
        "rating": rating,
        "merchant_id": cat.merchant[category],
        "image": None,
    }
    ctx = description_context(cat, product)
    spec = cat.data.category(category).spec.description
    product["description"] = describe(spec, ctx, _rng("desc", sku))
    return product


# -- relations ---------------------------------------------------------------------------


class RelationSet:
    """Relations without duplicates; symmetric kinds are stored once per unordered pair."""

    SYMMETRIC = {"SAME_SERIES", "ALTERNATIVE_TO", "BUNDLE_WITH"}

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str]] = set()
        self.items: list[dict[str, str]] = []

    def add(self, source: str, target: str, kind: str) -> None:
        if source == target:
            return
        if kind in self.SYMMETRIC:
            source, target = sorted((source, target))
        if (source, target, kind) not in self._seen:
            self._seen.add((source, target, kind))
            self.items.append({"source": source, "target": target, "type": kind})


def build_relations(
    cat: Catalog,
    products: list[Product],
    skus_by_key: dict[str, list[str]],
    draft_by_sku: dict[str, Draft],
) -> list[dict[str, str]]:
    by_sku = {p["sku"]: p for p in products}
    base = {key: skus[0] for key, skus in skus_by_key.items()}
    rel = RelationSet()
    _accessory_relations(rel, draft_by_sku, skus_by_key, base)
    _series_relations(rel, products)
    _alternative_relations(cat, rel, products, draft_by_sku, base)
    _bundle_relations(cat, rel, products, draft_by_sku, base, by_sku)
    return sorted(
        rel.items, key=lambda r: (RELATION_TYPES.index(r["type"]), r["source"], r["target"])
    )


def _accessory_relations(
    rel: RelationSet,
    draft_by_sku: dict[str, Draft],
    skus_by_key: dict[str, list[str]],
    base: dict[str, str],
) -> None:
    for sku, draft in draft_by_sku.items():
        compat = draft["compatible_with"]
        wide = len(compat) >= WIDE_COMPAT

        def targets(keys: list[str], wide: bool = wide) -> list[str]:
            return [base[k] for k in keys] if wide else [s for k in keys for s in skus_by_key[k]]

        for target in targets(compat):
            rel.add(sku, target, "COMPATIBLE_WITH")
        for target in targets(draft["accessory_of"]):
            rel.add(sku, target, "ACCESSORY_OF")


def _series_relations(rel: RelationSet, products: list[Product]) -> None:
    """Every pair within a small series, a chain through a large one."""
    groups: dict[str, list[str]] = defaultdict(list)
    for p in products:
        if p["series"]:
            groups[p["series"]].append(p["sku"])
    for skus in groups.values():
        skus = sorted(skus)
        if len(skus) <= 6:
            pairs = [(a, b) for i, a in enumerate(skus) for b in skus[i + 1 :]]
        else:
            pairs = list(zip(skus, skus[1:], strict=False))
        for a, b in pairs:
            rel.add(a, b, "SAME_SERIES")


def _tag_distance(p: Product, q: Product) -> float:
    """1 - Jaccard similarity of the two tag sets."""
    a, b = set(p["tags"]), set(q["tags"])
    return 1.0 - len(a & b) / len(a | b) if a | b else 1.0


def _alternative_relations(
    cat: Catalog,
    rel: RelationSet,
    products: list[Product],
    draft_by_sku: dict[str, Draft],
    base: dict[str, str],
) -> None:
    """Cross-brand alternatives within a price band (0.8x-1.25x): the two closest ones.

    Closeness is the price gap plus how different the tags are, so a camera phone is
    matched with camera phones before gaming phones of the same price.
    """
    bases = set(base.values())
    groups: dict[tuple[Any, ...], list[Product]] = defaultdict(list)
    for p in products:
        if p["sku"] in bases:
            groups[cat.builder.substitute_group(p, draft_by_sku[p["sku"]])].append(p)
    for members in groups.values():
        for p in members:
            near = [
                (abs(math.log(q["price"] / p["price"])) + 0.2 * _tag_distance(p, q), q["sku"])
                for q in members
                if q["brand"] != p["brand"] and 0.8 <= q["price"] / p["price"] <= 1.25
            ]
            for _, other in sorted(near)[:2]:
                rel.add(p["sku"], other, "ALTERNATIVE_TO")
    for kind, a, b in cat.data.relations:
        if kind == "ALTERNATIVE_TO":
            rel.add(base[a], base[b], kind)


def _bundle_relations(
    cat: Catalog,
    rel: RelationSet,
    products: list[Product],
    draft_by_sku: dict[str, Draft],
    base: dict[str, str],
    by_sku: dict[str, Product],
) -> None:
    bases = [by_sku[s] for s in base.values()]
    # Device + its model-specific accessory (case, film, strap) and its brand's official charger.
    for sku, draft in draft_by_sku.items():
        kind = draft["attributes"].get("类型") if draft["accessory_of"] else None
        if kind in {"手机壳", "贴膜", "表带", "耳机保护套"} and not draft["key"].startswith(
            "CASE2"
        ):
            for key in draft["accessory_of"][:3]:
                rel.add(base[key], sku, "BUNDLE_WITH")
        if kind == "充电器" and draft["model"]:
            for key in draft["accessory_of"]:
                rel.add(base[key], sku, "BUNDLE_WITH")
    _shoe_bundles(rel, bases)
    _routine_bundles(rel, bases, cat.routine)
    for kind, a, b in cat.data.relations:
        if kind == "BUNDLE_WITH":
            rel.add(base[a], base[b], kind)


def _shoe_bundles(rel: RelationSet, bases: list[Product]) -> None:
    """Running shoes + socks (same brand when it sells them) + a running top of the same brand."""
    wear = [p for p in bases if p["category"] == "运动服饰"]
    socks = [p for p in wear if p["attributes"]["款式"] == "袜子"]
    tops = [
        p
        for p in wear
        if p["attributes"]["款式"] in {"短袖T恤", "短裤"} and "跑步" in p["attributes"]["适用场景"]
    ]
    shoes = [p for p in bases if p["category"] == "跑步鞋"]
    for i, shoe in enumerate(shoes):
        own = [s for s in socks if s["brand"] == shoe["brand"]]
        rel.add(shoe["sku"], (own or socks)[0 if own else i % len(socks)]["sku"], "BUNDLE_WITH")
        same_brand_tops = [t for t in tops if t["brand"] == shoe["brand"]]
        if same_brand_tops:
            rel.add(shoe["sku"], same_brand_tops[i % len(same_brand_tops)]["sku"], "BUNDLE_WITH")


def _routine_bundles(rel: RelationSet, bases: list[Product], steps: list[str]) -> None:
    """Skin-care steps of one brand (cleanser -> toner -> serum -> cream); base + powder make-up."""
    by_brand: dict[str, list[Product]] = defaultdict(list)
    for p in bases:
        if p["category"] == "护肤品":
            by_brand[p["brand"]].append(p)
    for items in by_brand.values():
        items.sort(key=lambda p: (steps.index(p["attributes"]["品类"]), p["sku"]))
        for a, b in zip(items, items[1:], strict=False):
            if a["attributes"]["品类"] != b["attributes"]["品类"]:
                rel.add(a["sku"], b["sku"], "BUNDLE_WITH")
    makeup = [p for p in bases if p["category"] == "彩妆"]
    pairs = [
        ({"粉底液", "气垫"}, {"散粉", "粉饼"}),
        ({"眼影", "眉笔"}, {"睫毛膏"}),
        ({"遮瑕"}, {"粉底液", "气垫"}),
    ]
    for first, second in pairs:
        partners = [p for p in makeup if p["attributes"]["品类"] in second]
        for p in (p for p in makeup if p["attributes"]["品类"] in first):
            own = [q for q in partners if q["brand"] == p["brand"]]
            match = own or sorted(
                partners, key=lambda q: (abs(math.log(q["price"] / p["price"])), q["sku"])
            )
            rel.add(p["sku"], match[0]["sku"], "BUNDLE_WITH")


# -- users, behaviour and orders ---------------------------------------------------------


def _weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def nickname(people: People, segment: str, rng: random.Random) -> str:
    """A believable Chinese shop nickname such as 「考研的橘子」 or 「豆豆妈」."""
    prefix = rng.choice(people.segments[segment].nicknames)
    whole = people.whole_nickname
    if prefix.endswith(tuple(whole.endings)) or prefix.startswith(tuple(whole.beginnings)):
        return prefix if rng.random() < 0.6 else f"{prefix}{rng.randint(1, 99)}"
    return f"{prefix}{rng.choice(people.nickname_cores)}"


def build_users(people: People, rng: random.Random) -> list[dict[str, str]]:
    segments = list(people.segments)
    shares = [people.segments[s].share for s in segments]
    cities, city_weights = list(people.cities), list(people.cities.values())
    users = []
    for i in range(1, N_USERS + 1):
        segment = _weighted(rng, segments, shares)
        users.append(
            {
                "user_id": f"u{i:04d}",
                "nickname": nickname(people, segment, rng),
                "city": _weighted(rng, cities, city_weights),
                "segment": segment,
            }
        )
    return users


class Shop:
    """Read-only views of the catalog the behaviour simulation needs."""

    def __init__(
        self,
        people: People,
        products: list[Product],
        rels: list[dict[str, str]],
        rng: random.Random,
    ) -> None:
        self.people = people
        self.by_category: dict[str, list[Product]] = defaultdict(list)
        for p in products:
            self.by_category[p["category"]].append(p)
        self.median = {
            c: sorted(p["price"] for p in ps)[len(ps) // 2] for c, ps in self.by_category.items()
        }
        self.popularity = self._long_tail(rng)
        self.related: dict[str, list[str]] = defaultdict(list)
        self.add_ons: dict[str, list[str]] = defaultdict(list)
        for r in rels:
            if r["type"] in {"SAME_SERIES", "ALTERNATIVE_TO"}:
                self.related[r["source"]].append(r["target"])
                self.related[r["target"]].append(r["source"])
            elif r["type"] in {"ACCESSORY_OF", "BUNDLE_WITH"}:
                self.add_ons[r["target"]].append(r["source"])
                if r["type"] == "BUNDLE_WITH":
                    self.add_ons[r["source"]].append(r["target"])
        self.by_sku = {p["sku"]: p for p in products}

    def _long_tail(self, rng: random.Random) -> dict[str, float]:
        """Zipf-like popularity: a few hits per category, a long tail of rarely seen items."""
        popularity = {}
        for items in self.by_category.values():
            order = sorted(
                items,
                key=lambda p: (
                    rng.random()
                    * (p["rating"] - 3.0) ** 2
                    * self.people.brand_pull.get(p["brand"], 1.0)
                ),
                reverse=True,
            )
            for rank, p in enumerate(order):
                popularity[p["sku"]] = 1.0 / (rank + 1) ** 0.9
        return popularity


class Shopper:
    """One user's tastes: category mix, price level, favourite brands, segment tags."""

    def __init__(self, user: dict[str, str], shop: Shop, rng: random.Random) -> None:
        seg = shop.people.segments[user["segment"]]
        self.user, self.shop, self.rng = user, shop, rng
        self.categories = list(seg.weights)
        self.category_weights = [w * rng.lognormvariate(0, 0.5) for w in seg.weights.values()]
        self.price_bias = seg.price_bias + rng.gauss(0, 0.35)
        self.tags = set(seg.tags)
        self.sessions = max(3, min(60, round(rng.lognormvariate(math.log(seg.sessions), 0.55))))
        hits = [p for c in self.categories for p in shop.by_category[c]]
        weights = [shop.popularity[p["sku"]] for p in hits]
        self.brands = {_weighted(rng, hits, weights)["brand"] for _ in range(3)}
        self._cache: dict[str, list[float]] = {}

    def affinity(self, p: Product) -> float:
        fit = math.log(p["price"] / self.shop.median[p["category"]]) - self.price_bias
        score = self.shop.popularity[p["sku"]] * math.exp(-(fit**2) / (2 * 0.7**2))
        score *= 1 + 0.6 * len(self.tags.intersection(p["tags"]))
        return score * (2.5 if p["brand"] in self.brands else 1.0)

    def pick(self, category: str) -> Product:
        items = self.shop.by_category[category]
        if category not in self._cache:
            self._cache[category] = [self.affinity(p) for p in items]
        return _weighted(self.rng, items, self._cache[category])


def _session_starts(rng: random.Random, count: int) -> list[datetime]:
    span = (SNAPSHOT - HISTORY_START).days
    starts = []
    for _ in range(count):
        day = HISTORY_START + timedelta(days=rng.randrange(span))
        hour = _weighted(rng, list(range(8, 24)), [1, 2, 3, 2, 3, 2, 2, 2, 2, 2, 3, 4, 5, 5, 4, 2])
        starts.append(
            day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
        )
    return sorted(starts)


def simulate_user(shopper: Shopper) -> list[dict[str, Any]]:
    """Time-ordered events of one user: browse sessions, a few carts and purchases, add-ons."""
    rng, shop = shopper.rng, shopper.shop
    events: list[dict[str, Any]] = []
    clock = HISTORY_START
    sources, source_weights = zip(*shop.people.event_sources.items(), strict=True)
    for n, start in enumerate(_session_starts(rng, shopper.sessions)):
        clock = max(start, clock + timedelta(minutes=20))
        if clock > SNAPSHOT - timedelta(hours=2):
            break
        source = _weighted(rng, list(sources), list(source_weights))
        session = (shopper.user["user_id"], n)

        def emit(
            sku: str,
            kind: str,
            gap: tuple[int, int],
            source: str = source,
            session: tuple[str, int] = session,
        ) -> None:
            nonlocal clock
            clock += timedelta(seconds=rng.randint(*gap))
            events.append(
                {
                    "user_id": shopper.user["user_id"],
                    "sku": sku,
                    "type": kind,
                    "ts": clock,
                    "source": source,
                    "_session": session,
                }
            )

        category = _weighted(rng, shopper.categories, shopper.category_weights)
        anchor = shopper.pick(category)
        browsed = [anchor]
        for _ in range(rng.randint(1, 5)):
            near = shop.related.get(browsed[-1]["sku"])
            candidate = (
                shop.by_sku[rng.choice(near)]
                if near and rng.random() < 0.45
                else shopper.pick(category)
            )
            if candidate not in browsed:
                browsed.append(candidate)
        clicked = []
        for i, p in enumerate(browsed):
            emit(p["sku"], "view", (20, 240))
            if rng.random() < (0.5 if i == 0 else 0.22):
                emit(p["sku"], "click", (3, 40))
                clicked.append(p)
        if clicked and rng.random() < 0.3:
            chosen = max(clicked, key=shopper.affinity)
            emit(chosen["sku"], "add_to_cart", (20, 300))
            if chosen["stock"] > 0 and rng.random() < 0.55:
                emit(chosen["sku"], "purchase", (30, 600))
                _follow_up(shopper, chosen, emit)
    return events


def _follow_up(shopper: Shopper, bought: Product, emit: Callable[..., None]) -> None:
    """After a purchase shoppers look at its case, charger, socks or matching products."""
    rng, shop = shopper.rng, shopper.shop
    add_ons = sorted(set(shop.add_ons.get(bought["sku"], [])))
    if not add_ons or rng.random() > 0.6:
        return
    for sku in rng.sample(add_ons, min(len(add_ons), rng.randint(1, 3))):
        emit(sku, "view", (30, 400))
        if rng.random() < 0.5:
            emit(sku, "click", (3, 30))
            if rng.random() < 0.45:
                emit(sku, "add_to_cart", (10, 120))
                if shop.by_sku[sku]["stock"] > 0 and rng.random() < 0.7:
                    emit(sku, "purchase", (20, 200))


def build_interactions(
    users: list[dict[str, str]], shop: Shop, rng: random.Random
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for user in users:
        shopper = Shopper(user, shop, random.Random(rng.getrandbits(64)))
        events += simulate_user(shopper)
    return events


def _tracking(people: People, rng: random.Random, price: float) -> tuple[str, str]:
    carriers = people.carriers
    weights = [
        c.weight * (3 if price >= 3000 and c.name in {"顺丰速运", "京东物流"} else 1)
        for c in carriers
    ]
    carrier = _weighted(rng, carriers, weights)
    return carrier.name, carrier.prefix + "".join(
        str(rng.randrange(10)) for _ in range(carrier.digits)
    )


def _status(rng: random.Random, age_days: float) -> str:
    if age_days < 1.5:
        return _weighted(rng, ["pending_payment", "paid"], [4, 6])
    if age_days < 3:
        return _weighted(rng, ["paid", "shipped"], [3, 7])
    if age_days < 6:
        return _weighted(rng, ["shipped", "delivered"], [6, 4])
    return _weighted(rng, ["delivered", "cancelled", "refunding", "refunded"], [85, 5, 3, 7])


def build_orders(
    events: list[dict[str, Any]], users: list[dict[str, str]], shop: Shop, rng: random.Random
) -> list[dict[str, Any]]:
    """One order per session with purchases; its state follows its age at the snapshot."""
    city = {u["user_id"]: u["city"] for u in users}
    sessions: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e["type"] == "purchase":
            sessions[e["_session"]].append(e)
    orders, used_ids = [], set()
    for _, purchases in sorted(sessions.items()):
        created = purchases[0]["ts"]
        items = []
        for e in purchases:
            price = shop.by_sku[e["sku"]]["price"]
            qty = rng.choice((1, 1, 2, 3)) if price < 60 else 1
            items.append({"sku": e["sku"], "qty": qty, "price": price})
        order_id = ""
        while not order_id or order_id in used_ids:
            order_id = f"DG{created:%Y%m%d}{rng.randrange(10**6):06d}"
        used_ids.add(order_id)
        orders.append(
            {
                "order_id": order_id,
                "user_id": purchases[0]["user_id"],
                "items": items,
                "status": _status(rng, (SNAPSHOT - created).total_seconds() / 86400),
                "created_at": created,
                "address_city": city[purchases[0]["user_id"]],
            }
        )
    _ensure_every_status(orders)
    for order in orders:
        _ship(shop.people, order, rng)
    return sorted(orders, key=lambda o: (o["created_at"], o["order_id"]))


def _ensure_every_status(orders: list[dict[str, Any]]) -> None:
    """Seed data should show every state the order-status dialogue can meet."""
    present = Counter(o["status"] for o in orders)
    newest_first = sorted(orders, key=lambda o: o["created_at"], reverse=True)
    for status in ORDER_STATUSES:
        if present[status]:
            continue
        donors = (
            newest_first if status in {"pending_payment", "paid", "shipped"} else newest_first[::-1]
        )
        donor = next(o for o in donors if present[o["status"]] > 1)
        present[donor["status"]] -= 1
        donor["status"] = status
        present[status] += 1


def _ship(people: People, order: dict[str, Any], rng: random.Random) -> None:
    status, created = order["status"], order["created_at"]
    total = sum(i["price"] * i["qty"] for i in order["items"])
    carrier = tracking = eta = None
    if status in {"shipped", "delivered", "refunding", "refunded"}:
        carrier, tracking = _tracking(people, rng, total)
        arrival = (created + timedelta(days=rng.randint(1, 4))).date()
        if status == "shipped":
            arrival = max(arrival, SNAPSHOT.date() + timedelta(days=1))
        eta = arrival.isoformat()
    elif status == "paid":
        eta = (created + timedelta(days=rng.randint(2, 4))).date().isoformat()
    order.update(carrier=carrier, tracking_no=tracking, eta=eta)


def _finish_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [{k: v for k, v in e.items() if k != "_session"} for e in events]
    out.sort(key=lambda e: (e["user_id"], e["ts"]))
    for e in out:
        e["ts"] = e["ts"].isoformat()
    return out


# -- the catalog -------------------------------------------------------------------------


def build_catalog(root: Path | None = None) -> dict[str, Any]:
    """The whole seed document (see the module docstring); same result on every call.

    `root` is the data directory (default data/catalog/); CatalogError names a bad file.
    """
    cat = Catalog(load_catalog(root))
    products, skus_by_key, draft_by_sku = build_products(cat)
    rels = build_relations(cat, products, skus_by_key, draft_by_sku)
    rng = random.Random(SEED)
    users = build_users(cat.people, rng)
    shop = Shop(cat.people, products, rels, rng)
    events = build_interactions(users, shop, rng)
    orders = build_orders(events, users, shop, rng)
    for order in orders:
        order["created_at"] = order["created_at"].isoformat()
    used_brands = {p["brand"] for p in products}
    taxonomy = cat.data.taxonomy
    return {
        "version": 1,
        "merchants": [{"id": m.id, "name": m.name} for m in taxonomy.merchants],
        "categories": [
            {"name": c.name, "parent": c.parent, "aliases": list(c.aliases)}
            for c in taxonomy.categories
        ],
        "attribute_schema": {
            c.info.name: {
                name: {
                    "type": a.type,
                    "unit": a.unit,
                    "better": a.better,
                    "aliases": list(a.aliases),
                }
                for name, a in c.spec.attributes.items()
            }
            for c in cat.data.categories
        },
        "brands": [
            {"name": b["name"], "aliases": b["aliases"], "origin": b["origin"]}
            for b in cat.brands
            if b["name"] in used_brands
        ],
        "products": products,
        "relations": rels,
        "orders": [
            {
                k: o[k]
                for k in (
                    "order_id",
                    "user_id",
                    "items",
                    "status",
                    "created_at",
                    "carrier",
                    "tracking_no",
                    "eta",
                    "address_city",
                )
            }
            for o in orders
        ],
        "users": users,
        "interactions": _finish_events(events),
    }


def catalog_json(catalog: dict[str, Any]) -> str:
    """The document as `main` writes it: these are the bytes that must not drift."""
    return json.dumps(catalog, ensure_ascii=False, indent=1) + "\n"


def summary(catalog: dict[str, Any], seconds: float) -> str:
    per_category = Counter(p["category"] for p in catalog["products"])
    lines = [f"products: {len(catalog['products'])}"]
    lines += [f"  {c['name']}: {per_category[c['name']]}" for c in catalog["categories"]]
    lines.append(f"brands: {len(catalog['brands'])}, merchants: {len(catalog['merchants'])}")
    rel = Counter(r["type"] for r in catalog["relations"])
    lines.append(
        f"relations: {len(catalog['relations'])} "
        + ", ".join(f"{t}={rel[t]}" for t in RELATION_TYPES)
    )
    ev = Counter(e["type"] for e in catalog["interactions"])
    lines.append(
        f"interactions: {len(catalog['interactions'])} "
        + ", ".join(f"{t}={ev[t]}" for t in EVENT_TYPES)
    )
    st = Counter(o["status"] for o in catalog["orders"])
    lines.append(
        f"orders: {len(catalog['orders'])} " + ", ".join(f"{s}={st[s]}" for s in ORDER_STATUSES)
    )
    lines.append(f"users: {len(catalog['users'])}; generated in {seconds:.2f}s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/seed/catalog.json"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    catalog = build_catalog()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(catalog_json(catalog), encoding="utf-8")
    tmp.replace(args.out)
    print(summary(catalog, time.perf_counter() - started), file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

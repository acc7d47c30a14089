"""Personalised recommendations for the shop, each with a true Chinese reason.

A collaborative model (EASE over decay-weighted events) scores items against the shopper's
*current* history read from the events table, so a click counts on the next request without
retraining. EASE is fitted on browsing sessions, not on whole users: a shopper's lifetime mixes
lipsticks, phones and snacks, so user rows taught "hair dryer viewers also view T-shirts"
(issue 14; benchmarks/rec_relevance.py: EASE alone, unconstrained, found the held-out next
view 4.6% of the time with user rows, 10.5% with session rows). The current visit (events no more than SESSION_GAP apart) sets
the intent: its category (or categories), plus accessories that fit the products in it and, at
most one in ten, products bought together with them. Inside that, EASE, graph relations of the
latest items, price band and kind rank the candidates. Products the shopper has already seen
or bought, and other variants of those model lines, are never suggested again; out-of-stock
items never appear; one model line appears once. Each reason states something true of the
product and what this shopper looked at (a graph relation, a co-view that happened, the same
kind or price band), or else a plain fact about the product.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from knowledge_graph.service import CatalogService, CatalogView
from recommender.cf.ease import EASE
from recommender.events import EventStore, Interaction, decay

RECENT_ITEMS = 3
SESSION_WEIGHT = 0.6  # share of the score from neighbours of the latest items
# The current visit: a shopper's events at most this far apart (the usual web-analytics gap).
SESSION_GAP = timedelta(minutes=30)
HISTORY_WEIGHT = 0.2  # earlier visits' share of the collaborative query (this visit: 1)
POPULARITY_WEIGHT = 0.1
PRICE_WEIGHT = 0.1  # closeness to the prices the shopper is looking at, inside the intent
KIND_WEIGHT = 0.1  # the same kind (品类/类型/款式) as a product of this visit
PRICE_BAND = 1.5  # "similar price": within a factor 1.5 either way
KIND_KEYS = ("品类", "类型", "款式")
ACCESSORY_CATEGORY = "手机配件"
ACCESSORY_RELATIONS = ("COMPATIBLE_WITH", "ACCESSORY_OF")
MAX_ACCESSORY_SHARE = 0.3  # of a list for a shopper looking at devices, not accessories
MAX_COMPLEMENT_SHARE = 0.1  # products bought together with this visit's, from other categories
MAX_PER_BRAND = 2
NAMED_HISTORY = 10  # reasons name at most the latest this many products the shopper saw
RELATION_REASONS = {
    "SAME_SERIES": "和你看过的{name}同系列",
    "ACCESSORY_OF": "{name}的配件",
    "COMPATIBLE_WITH": "适配你看过的{name}",
    "BUNDLE_WITH": "常和{name}一起买",
    "ALTERNATIVE_TO": "{name}的同级替代款",
}
RELATION_ORDER = ("SAME_SERIES", "ACCESSORY_OF", "COMPATIBLE_WITH", "BUNDLE_WITH", "ALTERNATIVE_TO")
CO_VIEW_REASON = "看过{name}的人也看了"
KIND_AND_PRICE_REASON = "和你看过的{name}同类，价位相近"
PRICE_REASON = "和你看过的{name}价位相近"
KIND_REASON = "和你看过的{name}同类"


def default_model_path(var_dir: Path) -> Path:
    return var_dir / "recs" / "model.npz"


@dataclass
class Recommendation:
    product: dict[str, Any]
    score: float
    reason: str


@dataclass
class _Model:
    version: int
    skus: list[str]
    index: dict[str, int]
    model: EASE
    popularity: np.ndarray
    trained_events: int = 0
    neighbours: dict[int, list[int]] = field(default_factory=dict)
    # together[i, j] > 0: some browsing session held both items (backs 「看过X的人也看了」).
    together: sp.csr_matrix | None = None
    items: _Items | None = None  # filled on first use; the model is tied to one catalog version

    def item_arrays(self, view: CatalogView) -> _Items:
        if self.items is None:
            self.items = _Items.of(view, self.skus)
        return self.items


@dataclass(frozen=True)
class _Items:
    """Per-item facts of one catalog version in the model's order, so a request scores every
    item with array operations (a Python loop over the items cost ~5 ms a request at 838)."""

    category: np.ndarray
    kind: np.ndarray  # 品类/类型/款式, "" where the category has none
    log_price: np.ndarray
    rating: np.ndarray

    @classmethod
    def of(cls, view: CatalogView, skus: list[str]) -> _Items:
        products = [view.graph.products[s] for s in skus]
        return cls(
            category=np.array([p["category"] for p in products], dtype=object),
            kind=np.array([_kind(p) or "" for p in products], dtype=object),
            log_price=np.log(np.maximum([float(p["price"]) for p in products], 0.01)),
            rating=np.array([p["rating"] for p in products], dtype=np.float32),
        )


@dataclass
class _Intent:
    """What the shopper is after on this visit."""

    anchors: list[str]  # this visit's products, latest first (a context product leads)
    categories: set[str]
    accessories: set[str]  # 手机配件 fitting an anchor
    complements: set[str]  # bundled with an anchor, outside `categories`

    def allows(self, product: dict[str, Any]) -> bool:
        return product["category"] in self.categories or product["sku"] in self.accessories


@dataclass
class _Shopper:
    """What reasons may refer to: the products this shopper saw, latest first."""

    seen: list[str]
    row: np.ndarray | None  # the collaborative query, one weight per item
    relations: dict[str, dict[str, set[str]]] = field(default_factory=dict)


class RecommendationService:
    """`model_path` (var/recs/model.npz): `daogou recs train` writes it; every process serving
    recommendations picks a newer file up on its next request (one stat per request)."""

    def __init__(
        self,
        catalog: CatalogService,
        events: EventStore,
        regularization: float = 50.0,
        model_path: Path | None = None,
    ) -> None:
        self.catalog = catalog
        self.events = events
        self.regularization = regularization
        self.model_path = model_path
        self._model: _Model | None = None
        self._loaded_mtime = 0.0
        self._lock = threading.Lock()

    # -- training ------------------------------------------------------------------
    def train(self) -> _Model:
        """Fits on every event so far (`daogou recs train`, or lazily on first use)."""
        view = self.catalog.current()
        skus = sorted(view.graph.products)
        index = {s: i for i, s in enumerate(skus)}
        matrix, popularity = self._matrix(self.events.all_interactions(), index)
        model = EASE(regularization=self.regularization).fit(matrix)
        trained = _Model(
            view.version, skus, index, model, popularity, matrix.nnz, together=_together(matrix)
        )
        with self._lock:
            self._model = trained
        return trained

    def save(self) -> Path:
        """Trains on all events and writes the model for every serving process to pick up."""
        assert self.model_path is not None
        model = self.train()
        together = model.together if model.together is not None else sp.csr_matrix((0, 0))
        self.model_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.model_path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            version=model.version,
            skus=np.array(model.skus),
            weights=model.model.weights,
            popularity=model.popularity,
            events=model.trained_events,
            together_data=together.data,
            together_indices=together.indices,
            together_indptr=together.indptr,
        )
        tmp.replace(self.model_path)
        return self.model_path

    def _load_saved(self, view: CatalogView) -> None:
        path = self.model_path
        if path is None or not path.exists() or path.stat().st_mtime <= self._loaded_mtime:
            return
        self._loaded_mtime = path.stat().st_mtime
        with np.load(path) as saved:
            if int(saved["version"]) != view.version:
                return  # trained on another catalog version; the version check below refits
            skus = [str(s) for s in saved["skus"]]
            index = {s: i for i, s in enumerate(skus)}
            model = EASE(regularization=self.regularization)
            model.weights, model.n_items = saved["weights"], len(skus)
            if "together_indptr" in saved.files:
                parts = (saved["together_data"], saved["together_indices"],
                         saved["together_indptr"])  # fmt: skip
                together = sp.csr_matrix(parts, shape=(len(skus), len(skus)))
                together.sort_indices()
            else:  # a file written before co-views were saved
                together = _together(self._matrix(self.events.all_interactions(), index)[0])
            loaded = _Model(view.version, skus, index, model, saved["popularity"],
                            int(saved["events"]), together=together)  # fmt: skip
        with self._lock:
            self._model = loaded

    def _current_model(self, view: CatalogView) -> _Model:
        self._load_saved(view)
        model = self._model
        if model is None or model.version != view.version:
            # Catalog changed (new or removed products): refit; cheap at shop scale (~1 s per
            # thousand items). Large catalogs train offline with `daogou recs train`.
            model = self.train()
        return model

    @staticmethod
    def _matrix(
        interactions: list[Interaction], index: dict[str, int]
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """One row per browsing session (a shopper's events at most SESSION_GAP apart), and
        each item's popularity: how many shoppers interacted with it."""
        now = datetime.now(UTC)
        sessions: dict[tuple[str, int], int] = {}
        last: dict[str, tuple[datetime, int]] = {}
        shoppers: set[tuple[str, int]] = set()
        rows, cols, data = [], [], []
        for event in interactions:  # all_interactions(): by shopper, then time
            if event.sku not in index:
                continue
            ts = _aware(event.ts)
            previous = last.get(event.user_id)
            number = previous[1] if previous else 0
            if previous and ts - previous[0] > SESSION_GAP:
                number += 1
            last[event.user_id] = (ts, number)
            rows.append(sessions.setdefault((event.user_id, number), len(sessions)))
            cols.append(index[event.sku])
            data.append(event.weight * decay(event.ts, now))
            shoppers.add((event.user_id, index[event.sku]))
        matrix = sp.csr_matrix(
            (data, (rows, cols)), shape=(max(1, len(sessions)), len(index)), dtype=np.float32
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()  # impressions and the like weigh nothing
        popularity = np.zeros(len(index), dtype=np.float32)
        np.add.at(popularity, np.array([c for _, c in shoppers], dtype=np.int64), 1.0)
        return matrix, popularity

    # -- serving -------------------------------------------------------------------
    def recommend(
        self, user_id: str | None, k: int = 10, context_sku: str | None = None
    ) -> list[Recommendation]:
        view = self.catalog.current()
        model = self._current_model(view)
        history = self.events.history(user_id) if user_id else []
        history = [e for e in history if e.sku in model.index]
        if context_sku not in model.index:
            context_sku = None
        intent = _intent(view, history, context_sku)
        scores, shopper = self._scores(view, model, history, context_sku, intent)
        return self._pick(view, model, scores, shopper, history, context_sku, k, intent)

    def rerank(
        self, user_id: str | None, products: list[dict[str, Any]], weight: float = 0.3
    ) -> list[Recommendation]:
        """Search results reordered by what this shopper likes; the search order stays the prior.

        Items keep a reason only where the shopper's history explains them.
        """
        if not products:
            return []
        view = self.catalog.current()
        model = self._current_model(view)
        history = [
            e for e in (self.events.history(user_id) if user_id else []) if e.sku in model.index
        ]
        if not history:
            return [Recommendation(p, 1 - i / len(products), "") for i, p in enumerate(products)]
        scores, shopper = self._scores(view, model, history, None, None)
        indices = [model.index.get(p["sku"]) for p in products]
        personal = np.array(
            [scores[i] if i is not None else 0.0 for i in indices], dtype=np.float32
        )
        personal = _normalise(personal - personal.min())
        blended = [
            Recommendation(p, (1 - weight) * (1 - rank / len(products)) + weight * float(personal[rank]),
                           _explain(view, model, p["sku"], shopper) or "" if indices[rank] is not None else "")
            for rank, p in enumerate(products)
        ]  # fmt: skip
        return sorted(blended, key=lambda r: -r.score)

    def _scores(
        self,
        view: CatalogView,
        model: _Model,
        history: list[Interaction],
        context_sku: str | None,
        intent: _Intent | None,
    ) -> tuple[np.ndarray, _Shopper]:
        n = len(model.skus)
        items = model.item_arrays(view)
        popularity = model.popularity / max(1.0, float(model.popularity.max()))
        scores = POPULARITY_WEIGHT * popularity + 0.01 * items.rating / 5  # the cold-start prior
        allowed = None
        if intent is not None:
            allowed = np.isin(items.category, list(intent.categories))
            allowed[[model.index[s] for s in intent.accessories if s in model.index]] = True
        now = datetime.now(UTC)
        seen = list(dict.fromkeys(e.sku for e in reversed(history)))
        # Reasons may name the product in view (the page, or 「有没有类似的」) first.
        shopper = _Shopper(list(dict.fromkeys([context_sku, *seen])) if context_sku else seen, None)
        if history:
            visit = {id(e) for e in _current_visit(history)}
            row = np.zeros(n, dtype=np.float32)
            for e in history:
                share = 1.0 if id(e) in visit else HISTORY_WEIGHT
                row[model.index[e.sku]] += share * e.weight * decay(e.ts, now)
            shopper.row = row
            cf = model.model.score(sp.csr_matrix(row[None, :]))[0]
            scores = scores + _normalise(cf, allowed)
            recent = intent.anchors if intent is not None else seen
            for rank, sku in enumerate(recent[:RECENT_ITEMS]):
                if sku != context_sku:
                    self._boost_neighbours(view, model, sku, scores, SESSION_WEIGHT / (rank + 1))
        if context_sku:
            self._boost_neighbours(view, model, context_sku, scores, 1.0)
        if intent is not None:
            scores = scores + _fit_to_visit(view, items, intent)
        return scores, shopper

    def _boost_neighbours(
        self, view: CatalogView, model: _Model, sku: str, scores: np.ndarray, weight: float
    ) -> None:
        """Graph relations first, then the model's strongest neighbours."""
        for other, _ in view.graph.related(sku):
            if other in model.index:
                scores[model.index[other]] += weight * 0.8
        ids, sims = model.model.similar_items(np.array([model.index[sku]]), n=20)
        for i, sim in zip(ids[0], sims[0], strict=True):
            if i >= 0 and np.isfinite(sim) and sim > 0:
                scores[i] += weight * 0.5 * float(sim) / max(1e-6, float(sims[0][0]))

    def _pick(
        self,
        view: CatalogView,
        model: _Model,
        scores: np.ndarray,
        shopper: _Shopper,
        history: list[Interaction],
        context_sku: str | None,
        k: int,
        intent: _Intent | None,
    ) -> list[Recommendation]:
        """Best first inside the intent (accessories and complements capped), then, only if the
        intent runs out, the best of the rest. Never a product or model line already seen."""
        products = view.graph.products
        shown = [e.sku for e in history] + ([context_sku] if context_sku else [])
        excluded = set(shown)
        seen_models = {_model_key(products[s]) for s in shown}
        order = [model.skus[i] for i in np.argsort(-scores, kind="stable")]
        order = [s for s in order if s not in excluded and products[s]["stock"] > 0]
        passes: list[tuple[Callable[[dict[str, Any]], bool], bool]] = []
        limits: dict[str, int] = {}
        if intent is not None:
            if ACCESSORY_CATEGORY not in intent.categories:
                limits["accessory"] = max(1, math.floor(k * MAX_ACCESSORY_SHARE))
            limits["complement"] = math.floor(k * MAX_COMPLEMENT_SHARE)

            def within(p: dict[str, Any]) -> bool:
                return intent.allows(p) or p["sku"] in intent.complements

            passes += [(within, True), (intent.allows, False)]
        passes += [(lambda p: True, True), (lambda p: True, False)]

        per_brand: dict[tuple[str, str], int] = defaultdict(int)
        used: dict[str, int] = defaultdict(int)
        picked: list[Recommendation] = []
        for accept, brand_cap in passes:
            for sku in order:
                if len(picked) >= k:
                    break
                product = products[sku]
                key = _model_key(product)
                brand_key = (product["brand"], product["category"])
                if key in seen_models or not accept(product):
                    continue
                if brand_cap and per_brand[brand_key] >= MAX_PER_BRAND:
                    continue
                slot = _slot(product, intent)
                if slot in limits and used[slot] >= limits[slot]:
                    continue
                seen_models.add(key)
                per_brand[brand_key] += 1
                used[slot] += 1
                reason = _explain(view, model, sku, shopper) or _default_reason(product)
                picked.append(Recommendation(product, float(scores[model.index[sku]]), reason))
        return picked


# -- intent ------------------------------------------------------------------------------


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _current_visit(history: list[Interaction]) -> list[Interaction]:
    """The latest events no more than SESSION_GAP apart (history is oldest first)."""
    start = len(history)
    while start > 0 and (
        start == len(history)
        or _aware(history[start].ts) - _aware(history[start - 1].ts) <= SESSION_GAP
    ):
        start -= 1
    return history[start:]


def _intent(
    view: CatalogView, history: list[Interaction], context_sku: str | None
) -> _Intent | None:
    """The categories of this visit: those of the product in view or, without one, every
    category holding at least half the (recency-weighted) attention of the leading one."""
    products = view.graph.products
    visit = list(dict.fromkeys(e.sku for e in reversed(_current_visit(history))))
    if context_sku:
        category = products[context_sku]["category"]
        anchors = [context_sku, *(s for s in visit if products[s]["category"] == category)]
        categories = {category}
    elif visit:
        anchors = visit
        weight: dict[str, float] = defaultdict(float)
        for rank, sku in enumerate(anchors):
            weight[products[sku]["category"]] += 0.8**rank
        top = max(weight.values())
        categories = {c for c, w in weight.items() if w >= 0.5 * top}
    else:
        return None
    accessories: set[str] = set()
    complements: set[str] = set()
    for sku in anchors:
        for other, relation in view.graph.related(sku):
            category = products[other]["category"]
            if relation in ACCESSORY_RELATIONS and category == ACCESSORY_CATEGORY:
                accessories.add(other)
            elif relation == "BUNDLE_WITH" and category not in categories:
                complements.add(other)
    return _Intent(anchors, categories, accessories, complements - accessories)


def _slot(product: dict[str, Any], intent: _Intent | None) -> str:
    if intent is None or product["category"] in intent.categories:
        return "intent"
    if product["sku"] in intent.accessories:
        return "accessory"
    if product["sku"] in intent.complements:
        return "complement"
    return "other"


def _fit_to_visit(view: CatalogView, items: _Items, intent: _Intent) -> np.ndarray:
    """Small boosts for the price level and the kinds of this visit's products."""
    products = view.graph.products
    prices: dict[str, list[float]] = defaultdict(list)
    kinds: dict[str, set[str]] = defaultdict(set)
    for sku in intent.anchors:
        p = products[sku]
        prices[p["category"]].append(max(float(p["price"]), 0.01))
        if _kind(p):
            kinds[p["category"]].add(_kind(p))
    boost = np.zeros(len(items.category), dtype=np.float32)
    for category, seen in prices.items():
        here = items.category == category
        distance = (items.log_price[here] - math.log(float(np.median(seen)))) / math.log(PRICE_BAND)
        boost[here] += PRICE_WEIGHT * np.exp(-(distance**2) / 2)
        if kinds[category]:
            boost[here & np.isin(items.kind, list(kinds[category]))] += KIND_WEIGHT
    return boost


# -- reasons -----------------------------------------------------------------------------


def _explain(view: CatalogView, model: _Model, sku: str, shopper: _Shopper) -> str | None:
    """The truest thing to say about `sku` for this shopper, or None.

    In order: a graph relation to a product they saw (same series, fits it, bought together,
    an alternative), the same kind and price band, the co-view behind the collaborative score
    (only within the category of the product named, or for its accessories), then the same
    price band or the same kind alone."""
    products = view.graph.products
    p = products[sku]
    named = [s for s in shopper.seen[:NAMED_HISTORY] if s != sku]
    for anchor in named:
        relations = shopper.relations.get(anchor)
        if relations is None:
            relations = defaultdict(set)
            for other, relation in view.graph.related(anchor):
                relations[other].add(relation)
            shopper.relations[anchor] = relations
        found = relations.get(sku, set())
        if p["category"] != ACCESSORY_CATEGORY:
            found = found - set(ACCESSORY_RELATIONS)  # the device is not its case's accessory
        for relation in RELATION_ORDER:
            if relation in found:
                return RELATION_REASONS[relation].format(name=_name(products[anchor]))
    for anchor in named:
        if _same_kind(products[anchor], p) and _in_band(products[anchor], p):
            return KIND_AND_PRICE_REASON.format(name=_name(products[anchor]))
    j = model.index.get(sku)
    if j is not None and shopper.row is not None and model.together is not None:
        best, anchor_of_best = 0.0, None
        for anchor in named:
            i = model.index[anchor]
            same = products[anchor]["category"] == p["category"]
            fits = p["category"] == ACCESSORY_CATEGORY and any(
                r in ACCESSORY_RELATIONS for r in shopper.relations[anchor].get(sku, ())
            )
            if not (same or fits) or not _co_viewed(model.together, i, j):
                continue
            contribution = float(shopper.row[i]) * float(model.model.weights[i, j])
            if contribution > best:
                best, anchor_of_best = contribution, anchor
        if anchor_of_best is not None:
            return CO_VIEW_REASON.format(name=_name(products[anchor_of_best]))
    for template, test in (
        (PRICE_REASON, lambda a: a["category"] == p["category"] and _in_band(a, p)),
        (KIND_REASON, lambda a: _same_kind(a, p)),
    ):
        for anchor in named:
            if test(products[anchor]):
                return template.format(name=_name(products[anchor]))
    return None


def _together(matrix: sp.csr_matrix) -> sp.csr_matrix:
    seen = sp.csr_matrix(matrix > 0, dtype=np.float32)
    together = sp.csr_matrix(seen.T @ seen)
    together.sort_indices()
    return together


def _co_viewed(together: sp.csr_matrix, i: int, j: int) -> bool:
    """together[i, j] > 0 by a binary search of row i (scipy's indexing costs ~40 us a call)."""
    row = together.indices[together.indptr[i] : together.indptr[i + 1]]
    at = int(np.searchsorted(row, j))
    return at < len(row) and row[at] == j


def _kind(p: dict[str, Any]) -> Any:
    attributes = p.get("attributes") or {}
    value = next((attributes[k] for k in KIND_KEYS if attributes.get(k)), None)
    return value if isinstance(value, str) else None


def _same_kind(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["category"] == b["category"] and _kind(a) is not None and _kind(a) == _kind(b)


def _in_band(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["price"] / PRICE_BAND <= b["price"] <= a["price"] * PRICE_BAND


def _name(p: dict[str, Any]) -> str:
    """How a reason names a product: brand and model (「徕芬 SE」, not a bare 「SE」), or the title."""
    model = p.get("model")
    if not model:
        return p["title"]
    return model if model.lower().startswith(p["brand"].lower()) else f"{p['brand']} {model}"


def _model_key(p: dict[str, Any]) -> tuple[str, str]:
    return (p["brand"], p.get("model") or p["title"])


def _normalise(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    pool = values[mask] if mask is not None and mask.any() else values
    top = float(np.max(pool)) if len(pool) else 0.0
    return values / top if top > 0 else values


def _default_reason(product: dict[str, Any]) -> str:
    if product["rating"] >= 4.8:
        return f"{product['category']}里好评率很高（{product['rating']}分）"
    return f"近期热销的{product['category']}"

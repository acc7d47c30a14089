"""ServedRanker: the ranker the shop serves, the one whose numbers are published.

``RecommendationService`` (``recommender/recommendations.py``) only translates: catalog
products to :class:`ItemFacts`, events to item ids with weights and times, picks back to
products with reason texts. Everything that decides what a shopper sees is here:

- **Collaborative part.** EASE (``regularization`` 50) fitted on browsing *sessions*, not
  whole users: a shopper's lifetime mixes lipsticks, phones and snacks, so user rows taught
  "hair dryer viewers also view T-shirts" (issue 14; ``benchmarks/rec_relevance.py``: EASE
  alone, unconstrained, found the held-out next view 4.6% of the time with user rows, 10.5%
  with session rows). A session is a run of events at most ``session_gap`` seconds apart
  (30 minutes, the usual web-analytics gap). The query is the shopper's *current* history,
  this visit at full weight, earlier visits at ``HISTORY_WEIGHT``, so a click counts on the
  next request without a refit.
- **Intent.** The current visit sets it: the category of the product in view, or every
  category holding at least half the (recency-weighted) attention of the leading one; plus
  accessories that fit the products of the visit and, at most one in ten, products bundled
  with them. The collaborative scores are scaled inside the intent.
- **Boosts.** A cold-start prior (shoppers per item, a whisper of rating); graph relations
  and EASE neighbours of the latest ``RECENT_ITEMS`` products of the visit (and, fully, of
  the product in view); closeness to the visit's price level and the same kind
  (品类/类型/款式) inside its categories.
- **Picking.** Best first inside the intent (accessories and complements capped, at most
  ``MAX_PER_BRAND`` of a brand per category), then, only if the intent runs out, the best
  of the rest. Products already seen or bought, and other variants of those model lines,
  never come back; out-of-stock items never appear; a model line appears once.
- **Reasons.** Each pick comes with the truest thing to say about it for this shopper
  (:class:`Reason`): a graph relation to a product they saw, the same kind and price band,
  the co-view behind the collaborative score, or the same price band or kind alone; the
  service words it in Chinese.

Without a catalog (the public data sets of ``benchmarks/recsys.py``), ``ItemFacts.anonymous``
describes every item as its own model line and brand in one category, with no relations,
price or rating: the ranker is then the session EASE with its popularity prior, neighbour
boosts and visit weighting, which is what the published figure measures. Everything else (the
constants below, ``regularization``, ``session_gap``) is exactly what the shop runs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.cf.base import (
    Histories,
    Recommender,
    StateValue,
    check_item_ids,
    rows_for,
    sub_state,
)
from recommender.cf.ease import EASE

REGULARIZATION = 50.0
SESSION_GAP = 1800.0  # seconds: one browsing session / the current visit
RECENT_ITEMS = 3
SESSION_WEIGHT = 0.6  # share of the score from neighbours of the latest items
CONTEXT_WEIGHT = 1.0  # neighbours of the product in view
RELATION_BOOST = 0.8  # a graph relation, times the weight above
NEIGHBOUR_BOOST = 0.5  # the strongest EASE neighbour, times the weight above
NEIGHBOURS = 20
HISTORY_WEIGHT = 0.2  # earlier visits' share of the collaborative query (this visit: 1)
POPULARITY_WEIGHT = 0.1
RATING_WEIGHT = 0.01  # ratings only break ties of the cold-start prior
PRICE_WEIGHT = 0.1  # closeness to the prices the shopper is looking at, inside the intent
KIND_WEIGHT = 0.1  # the same kind (品类/类型/款式) as a product of this visit
PRICE_BAND = 1.5  # "similar price": within a factor 1.5 either way
CATEGORY_DECAY = 0.8  # attention to a visit's categories, per step back
CATEGORY_SHARE = 0.5  # categories with at least this share of the leading one's attention
ACCESSORY_RELATIONS = ("COMPATIBLE_WITH", "ACCESSORY_OF")
BUNDLE_RELATION = "BUNDLE_WITH"
MAX_ACCESSORY_SHARE = 0.3  # of a list for a shopper looking at devices, not accessories
MAX_COMPLEMENT_SHARE = 0.1  # products bought together with this visit's, from other categories
MAX_PER_BRAND = 2
NAMED_HISTORY = 10  # reasons name at most the latest this many products the shopper saw
RELATION_ORDER = ("SAME_SERIES", "ACCESSORY_OF", "COMPATIBLE_WITH", "BUNDLE_WITH", "ALTERNATIVE_TO")
RERANK_WEIGHT = 0.3  # share of the personal score when reordering search results


@dataclass(frozen=True)
class ItemFacts:
    """What the ranker knows about each item besides behaviour, aligned with item ids.

    ``keys`` are the items' external ids (SKUs) and ``version`` the catalog version the facts
    describe; both travel with a saved model. Categories, kinds, model lines and brands are
    integer codes (kind ``-1``: none). ``relation_*`` hold each item's graph relations in CSR
    layout, in the catalog graph's order: ``relation_items[relation_indptr[i]:
    relation_indptr[i + 1]]`` with their types.
    """

    keys: np.ndarray
    version: int
    category: np.ndarray
    kind: np.ndarray
    price: np.ndarray
    rating: np.ndarray
    in_stock: np.ndarray
    line: np.ndarray  # model line (brand + model): one per list, never a seen one again
    brand: np.ndarray  # brand within its category: at most MAX_PER_BRAND per list
    relation_indptr: np.ndarray
    relation_items: np.ndarray
    relation_types: np.ndarray
    accessory_category: int = -1  # the code of 手机配件, -1 when no item has it

    FIELDS = (
        "keys", "version", "category", "kind", "price", "rating", "in_stock", "line", "brand",
        "relation_indptr", "relation_items", "relation_types", "accessory_category",
    )  # fmt: skip

    @property
    def n_items(self) -> int:
        return len(self.category)

    @classmethod
    def build(
        cls,
        keys: Sequence[str],
        version: int,
        category: Sequence[str],
        kind: Sequence[str | None],
        price: Sequence[float],
        rating: Sequence[float],
        in_stock: Sequence[bool],
        line: Sequence[Hashable],
        brand: Sequence[Hashable],
        relations: Sequence[Sequence[tuple[int, str]]],
        accessory_category: str,
    ) -> ItemFacts:
        """Facts from plain per-item values (codes are assigned here)."""
        categories, lines, brands = _codes(category), _codes(line), _codes(brand)
        lengths = [len(r) for r in relations]
        return cls(
            keys=np.array(list(keys), dtype=str),
            version=int(version),
            category=np.array([categories[c] for c in category], dtype=np.int64),
            kind=np.array(_encode_optional(kind), dtype=np.int64),
            price=np.array(price, dtype=np.float64),
            rating=np.array(rating, dtype=np.float32),
            in_stock=np.array(in_stock, dtype=bool),
            line=np.array([lines[v] for v in line], dtype=np.int64),
            brand=np.array([brands[v] for v in brand], dtype=np.int64),
            relation_indptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            relation_items=np.array([i for r in relations for i, _ in r], dtype=np.int64),
            relation_types=np.array([t for r in relations for _, t in r], dtype=str),
            accessory_category=categories.get(accessory_category, -1),
        )

    @classmethod
    def anonymous(cls, n_items: int) -> ItemFacts:
        """No catalog: one category, each item its own model line and brand, no relations."""
        ids = np.arange(n_items, dtype=np.int64)
        return cls(
            keys=ids.astype(str),
            version=0,
            category=np.zeros(n_items, dtype=np.int64),
            kind=np.full(n_items, -1, dtype=np.int64),
            price=np.ones(n_items, dtype=np.float64),
            rating=np.zeros(n_items, dtype=np.float32),
            in_stock=np.ones(n_items, dtype=bool),
            line=ids,
            brand=ids.copy(),
            relation_indptr=np.zeros(n_items + 1, dtype=np.int64),
            relation_items=np.zeros(0, dtype=np.int64),
            relation_types=np.zeros(0, dtype=str),
        )

    def arrays(self) -> dict[str, StateValue]:
        return {name: np.asarray(getattr(self, name)) for name in self.FIELDS}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, StateValue]) -> ItemFacts:
        values = {name: np.asarray(arrays[name]) for name in cls.FIELDS}
        values["version"] = int(values["version"])
        values["accessory_category"] = int(values["accessory_category"])
        return cls(**values)

    # Plain-Python views for the per-request loops (numpy scalars are slow there).
    @cached_property
    def log_price(self) -> np.ndarray:
        return np.log(np.maximum(self.price, 0.01))

    @cached_property
    def category_list(self) -> list[int]:
        return self.category.tolist()

    @cached_property
    def kind_list(self) -> list[int]:
        return self.kind.tolist()

    @cached_property
    def price_list(self) -> list[float]:
        return self.price.tolist()

    @cached_property
    def line_list(self) -> list[int]:
        return self.line.tolist()

    @cached_property
    def brand_list(self) -> list[int]:
        return self.brand.tolist()

    def related(self, item: int) -> list[tuple[int, str]]:
        """(item, relation) pairs next to ``item``, in the catalog graph's order."""
        start, end = self.relation_indptr[item], self.relation_indptr[item + 1]
        return list(
            zip(
                self.relation_items[start:end].tolist(),
                self.relation_types[start:end].tolist(),
                strict=True,
            )
        )

    def same_kind(self, a: int, b: int) -> bool:
        kind = self.kind_list
        return (
            self.category_list[a] == self.category_list[b] and kind[a] >= 0 and kind[a] == kind[b]
        )

    def in_band(self, a: int, b: int) -> bool:
        """``b``'s price within PRICE_BAND of ``a``'s."""
        price = self.price_list
        return price[a] / PRICE_BAND <= price[b] <= price[a] * PRICE_BAND


def _codes(values: Sequence[Hashable]) -> dict[Hashable, int]:
    return {v: i for i, v in enumerate(dict.fromkeys(values))}


def _encode_optional(values: Sequence[str | None]) -> list[int]:
    codes = _codes([v for v in values if v is not None])
    return [-1 if v is None else codes[v] for v in values]


@dataclass(frozen=True)
class Reason:
    """Why an item was picked, in terms of one product the shopper saw (``anchor``).

    ``kind``: a graph relation (``SAME_SERIES``, ``ACCESSORY_OF``, ``COMPATIBLE_WITH``,
    ``BUNDLE_WITH``, ``ALTERNATIVE_TO``), ``KIND_AND_PRICE``, ``CO_VIEW``, ``PRICE`` or
    ``KIND``.
    """

    kind: str
    anchor: int


@dataclass
class Intent:
    """What the shopper is after on this visit (item ids)."""

    anchors: list[int]  # this visit's items, latest first (a context item leads)
    categories: set[int]
    accessories: set[int]  # accessories fitting an anchor
    complements: set[int]  # bundled with an anchor, outside `categories`


@dataclass
class Request:
    """One shopper's request: the history (oldest first) and what is derived from it."""

    history: list[int]
    weights: list[float]
    visit_start: int  # history[visit_start:] is the current visit
    context: int  # the item in view, -1 for none
    intent: Intent | None = None
    seen: list[int] = field(default_factory=list)  # what reasons may name, latest first
    row: np.ndarray | None = None  # the collaborative query
    relations: dict[int, dict[int, set[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Ranked:
    """Picks best first with their scores and (when asked for) reasons."""

    items: list[int]
    scores: list[float]
    reasons: list[Reason | None]


@dataclass(frozen=True)
class Reranked:
    """A reordered list: ``positions`` into the list given, with scores and reasons."""

    positions: list[int]
    scores: list[float]
    reasons: list[Reason | None]


class ServedRanker(Recommender):
    """The shop's ranker (see module doc). ``items`` describe the catalog; without them
    :meth:`fit` uses :meth:`ItemFacts.anonymous`.

    ``fit_sequences`` takes each shopper's history with interaction weights (the shop: event
    weight times time decay) and timestamps in seconds, cuts sessions at ``session_gap`` and
    fits EASE on session rows. ``fit`` takes the session rows directly.
    """

    name = "served"
    unsaved_params = ("items",)
    # Its weights are interaction strengths (event weight x decay). Star ratings are not: the
    # shop has none, so on rated data every rated item counts once, like a view.
    reads_ratings = False

    def __init__(
        self,
        regularization: float = REGULARIZATION,
        session_gap: float = SESSION_GAP,
        items: ItemFacts | None = None,
    ) -> None:
        self.regularization = regularization
        self.session_gap = session_gap
        self.items = items
        self.ease = EASE(regularization=regularization)
        self.popularity = np.zeros(0, dtype=np.float32)  # shoppers per item
        # together[i, j] > 0: some session held both items (backs the CO_VIEW reason).
        self.together = sp.csr_matrix((0, 0), dtype=np.float32)
        self.n_interactions = 0  # non-zero session-item pairs trained on

    # ------------------------------------------------------------- fitting

    def fit(self, user_items: sp.csr_matrix, popularity: np.ndarray | None = None) -> Self:
        """Fit on session rows; ``popularity`` (shoppers per item) defaults to rows per item."""
        user_items = sp.csr_matrix(user_items, dtype=np.float32)
        self.n_items = user_items.shape[1]
        if self.items is None:
            self.items = ItemFacts.anonymous(self.n_items)
        if self.items.n_items != self.n_items:
            raise ValueError(f"facts for {self.items.n_items} items, data for {self.n_items}")
        self.ease = EASE(regularization=self.regularization).fit(user_items)
        if popularity is None:
            popularity = np.bincount(user_items.indices, minlength=self.n_items)
        self.popularity = np.asarray(popularity, dtype=np.float32)
        self.together = co_occurrence(user_items)
        self.n_interactions = int(user_items.nnz)
        return self

    def fit_sequences(
        self,
        histories: Histories,
        n_items: int,
        weights: Histories | None = None,
        timestamps: Histories | None = None,
    ) -> Self:
        """One row per session of each history; popularity counts shoppers, not sessions."""
        matrix, popularity = self.session_matrix(histories, n_items, weights, timestamps)
        return self.fit(matrix, popularity)

    def session_matrix(
        self,
        histories: Histories,
        n_items: int,
        weights: Histories | None = None,
        timestamps: Histories | None = None,
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """Session rows (weights summed per session and item) and shoppers per item."""
        rows, cols, data = [], [], []
        popularity = np.zeros(n_items, dtype=np.float32)
        n_rows = 0
        for user, items in enumerate(histories):
            items = np.asarray(items, dtype=np.int64)
            if not len(items):
                continue
            session = np.zeros(len(items), dtype=np.int64)
            if timestamps is not None:
                gaps = np.diff(np.asarray(timestamps[user], dtype=np.float64)) > self.session_gap
                session[1:] = np.cumsum(gaps)
            rows.append(n_rows + session)
            n_rows += int(session[-1]) + 1
            cols.append(items)
            data.append(
                np.ones(len(items)) if weights is None else np.asarray(weights[user], np.float64)
            )
            popularity[np.unique(items)] += 1.0
        if rows:
            triplets = (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols)))
        else:
            triplets = (np.zeros(0), (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        matrix = sp.csr_matrix(triplets, shape=(max(1, n_rows), n_items), dtype=np.float32)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()  # interactions that weigh nothing
        return matrix, popularity

    # --------------------------------------------------------- persistence

    def state(self) -> dict[str, StateValue]:
        assert self.items is not None, "fit first"
        return {
            "popularity": self.popularity,
            "together": self.together,
            "n_interactions": self.n_interactions,
            **{f"ease.{k}": v for k, v in self.ease.state().items()},
            **{f"items.{k}": v for k, v in self.items.arrays().items()},
        }

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        super().restore(n_items, state)
        self.popularity = np.asarray(state["popularity"], dtype=np.float32)
        self.together = sp.csr_matrix(state["together"], dtype=np.float32)
        self.together.sort_indices()
        self.n_interactions = int(state["n_interactions"])  # type: ignore[arg-type]
        self.ease = EASE(regularization=self.regularization)
        self.ease.restore(n_items, sub_state(state, "ease."))
        self.items = ItemFacts.from_arrays(sub_state(state, "items."))

    # ------------------------------------------------------- one shopper

    def request(
        self,
        history: Sequence[int] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        context: int | None = None,
        with_intent: bool = True,
    ) -> Request:
        """A shopper's request: items oldest first with their weights and times (seconds)."""
        history = [int(i) for i in history]
        weights_list = [1.0] * len(history) if weights is None else [float(w) for w in weights]
        start = len(history)
        if timestamps is None:
            start = 0  # no times: the whole history is this visit
        else:
            times = [float(t) for t in timestamps]
            while start > 0 and (
                start == len(history) or times[start] - times[start - 1] <= self.session_gap
            ):
                start -= 1
        context = -1 if context is None or context < 0 else int(context)
        req = Request(history, weights_list, start, context)
        if with_intent:
            req.intent = self._intent(req)
        return req

    def scores(self, req: Request) -> np.ndarray:
        """Every item's score for this request (before picking); fills ``req.seen``/``row``."""
        assert self.items is not None
        items = self.items
        popularity = self.popularity / max(1.0, float(self.popularity.max(initial=0.0)))
        scores = POPULARITY_WEIGHT * popularity + RATING_WEIGHT * items.rating / 5  # the prior
        intent = req.intent
        allowed = None
        if intent is not None:
            allowed = np.isin(items.category, list(intent.categories))
            allowed[list(intent.accessories)] = True
        seen = list(dict.fromkeys(reversed(req.history)))
        # Reasons may name the product in view (the page, or 「有没有类似的」) first.
        context = req.context
        req.seen = list(dict.fromkeys([context, *seen])) if context >= 0 else seen
        if req.history:
            row = np.zeros(self.n_items, dtype=np.float32)
            for position, (item, weight) in enumerate(zip(req.history, req.weights, strict=True)):
                share = 1.0 if position >= req.visit_start else HISTORY_WEIGHT
                row[item] += share * weight
            req.row = row
            cf = self.ease.score(sp.csr_matrix(row[None, :]))[0]
            scores = scores + _normalise(cf, allowed)
            recent = intent.anchors if intent is not None else seen
            for rank, item in enumerate(recent[:RECENT_ITEMS]):
                if item != context:
                    self._boost_neighbours(item, scores, SESSION_WEIGHT / (rank + 1))
        if context >= 0:
            self._boost_neighbours(context, scores, CONTEXT_WEIGHT)
        if intent is not None:
            scores = scores + self._fit_to_visit(intent)
        return scores

    def rank(
        self,
        req: Request,
        n: int = 10,
        filter_already_liked: bool = True,
        item_filter: np.ndarray | None = None,
        candidates: np.ndarray | None = None,
        explain: bool = False,
    ) -> Ranked:
        """Best first inside the intent (accessories and complements capped), then, only if
        the intent runs out, the best of the rest. Never an item or model line already seen
        (unless ``filter_already_liked`` is off: the item in view is still left out)."""
        assert self.items is not None
        scores = self.scores(req)
        items, intent = self.items, req.intent
        shown = (req.history if filter_already_liked else []) + (
            [req.context] if req.context >= 0 else []
        )
        drop = np.zeros(self.n_items, dtype=bool)
        drop[shown] = True
        if item_filter is not None and len(item_filter):
            drop[np.asarray(item_filter, dtype=np.int64)] = True
        if candidates is not None:
            allowed = np.zeros(self.n_items, dtype=bool)
            allowed[np.asarray(candidates, dtype=np.int64)] = True
            drop |= ~allowed
        seen_lines = {items.line_list[i] for i in shown}
        order = np.argsort(-scores, kind="stable")
        order = order[items.in_stock[order] & ~drop[order]].tolist()
        passes: list[tuple[Callable[[int], bool], bool]] = []
        limits: dict[str, int] = {}
        if intent is not None:
            if items.accessory_category not in intent.categories:
                limits["accessory"] = max(1, math.floor(n * MAX_ACCESSORY_SHARE))
            limits["complement"] = math.floor(n * MAX_COMPLEMENT_SHARE)
            category = items.category_list

            def allows(i: int) -> bool:
                return category[i] in intent.categories or i in intent.accessories

            def within(i: int) -> bool:
                return allows(i) or i in intent.complements

            passes += [(within, True), (allows, False)]
        passes += [(lambda i: True, True), (lambda i: True, False)]

        per_brand: dict[int, int] = defaultdict(int)
        used: dict[str, int] = defaultdict(int)
        picked: list[int] = []
        for accept, brand_cap in passes:
            for i in order:
                if len(picked) >= n:
                    break
                line, brand = items.line_list[i], items.brand_list[i]
                if line in seen_lines or not accept(i):
                    continue
                if brand_cap and per_brand[brand] >= MAX_PER_BRAND:
                    continue
                slot = self._slot(i, intent)
                if slot in limits and used[slot] >= limits[slot]:
                    continue
                seen_lines.add(line)
                per_brand[brand] += 1
                used[slot] += 1
                picked.append(i)
        reasons = [self.reason(req, i) for i in picked] if explain else [None] * len(picked)
        return Ranked(picked, [float(scores[i]) for i in picked], reasons)

    def rerank(
        self, req: Request, item_ids: Sequence[int], weight: float = RERANK_WEIGHT
    ) -> Reranked:
        """A list (search results, best first; ``-1`` for items the model does not know)
        reordered by what this shopper likes, the given order staying the prior. Only items the
        history explains keep a reason. ``req`` should be built ``with_intent=False``."""
        count = len(item_ids)
        if not req.history:
            return Reranked(
                list(range(count)), [1 - i / count for i in range(count)], [None] * count
            )
        scores = self.scores(req)
        known = [int(i) >= 0 for i in item_ids]
        personal = np.array(
            [scores[i] if ok else 0.0 for i, ok in zip(item_ids, known, strict=True)],
            dtype=np.float32,
        )
        personal = _normalise(personal - personal.min())
        blended = [
            (1 - weight) * (1 - rank / count) + weight * float(personal[rank])
            for rank in range(count)
        ]
        reasons = [
            self.reason(req, int(i)) if ok else None for i, ok in zip(item_ids, known, strict=True)
        ]
        order = sorted(range(count), key=lambda rank: -blended[rank])
        return Reranked(order, [blended[r] for r in order], [reasons[r] for r in order])

    def reason(self, req: Request, item: int) -> Reason | None:
        """The truest thing to say about ``item`` for this shopper, or None.

        In order: a graph relation to a product they saw (same series, fits it, bought
        together, an alternative), the same kind and price band, the co-view behind the
        collaborative score (only within the category of the product named, or for its
        accessories), then the same price band or the same kind alone."""
        assert self.items is not None
        items = self.items
        category = items.category_list
        accessory = items.accessory_category
        named = [s for s in req.seen[:NAMED_HISTORY] if s != item]
        for anchor in named:
            relations = req.relations.get(anchor)
            if relations is None:
                relations = defaultdict(set)
                for other, relation in items.related(anchor):
                    relations[other].add(relation)
                req.relations[anchor] = relations
            found = relations.get(item, set())
            if category[item] != accessory:
                found = found - set(ACCESSORY_RELATIONS)  # the device is not its case's accessory
            for relation in RELATION_ORDER:
                if relation in found:
                    return Reason(relation, anchor)
        for anchor in named:
            if items.same_kind(anchor, item) and items.in_band(anchor, item):
                return Reason("KIND_AND_PRICE", anchor)
        if req.row is not None:
            best, anchor_of_best = 0.0, None
            for anchor in named:
                same = category[anchor] == category[item]
                fits = category[item] == accessory and any(
                    r in ACCESSORY_RELATIONS for r in req.relations[anchor].get(item, ())
                )
                if not (same or fits) or not _co_viewed(self.together, anchor, item):
                    continue
                contribution = float(req.row[anchor]) * float(self.ease.weights[anchor, item])
                if contribution > best:
                    best, anchor_of_best = contribution, anchor
            if anchor_of_best is not None:
                return Reason("CO_VIEW", anchor_of_best)
        for kind, test in (
            ("PRICE", lambda a: category[a] == category[item] and items.in_band(a, item)),
            ("KIND", lambda a: items.same_kind(a, item)),
        ):
            for anchor in named:
                if test(anchor):
                    return Reason(kind, anchor)
        return None

    # ----------------------------------------------------- implicit's shape

    def score(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Order-free: each row's items in column order, all in this visit."""
        rows = sp.csr_matrix(user_items, dtype=np.float32)
        out = np.zeros((rows.shape[0], self.n_items), dtype=np.float32)
        for r in range(rows.shape[0]):
            span = slice(rows.indptr[r], rows.indptr[r + 1])
            out[r] = self.scores(self.request(rows.indices[span], rows.data[span]))
        return out

    def recommend(
        self,
        user_ids: np.ndarray,
        user_items: sp.csr_matrix,
        n: int = 10,
        filter_already_liked: bool = True,
        item_filter: np.ndarray | None = None,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = rows_for(user_ids, user_items)
        requests = [
            self.request(rows.indices[rows.indptr[r] : rows.indptr[r + 1]],
                         rows.data[rows.indptr[r] : rows.indptr[r + 1]])
            for r in range(rows.shape[0])
        ]  # fmt: skip
        return self._ranked_arrays(requests, n, filter_already_liked, item_filter, candidates)

    def recommend_sequences(
        self,
        histories: Histories,
        n: int = 10,
        filter_already_liked: bool = True,
        item_filter: np.ndarray | None = None,
        candidates: np.ndarray | None = None,
        weights: Histories | None = None,
        timestamps: Histories | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` for ordered histories (latest last): the last visit sets the intent."""
        requests = [
            self.request(
                history,
                None if weights is None else weights[u],
                None if timestamps is None else timestamps[u],
            )
            for u, history in enumerate(histories)
        ]
        return self._ranked_arrays(requests, n, filter_already_liked, item_filter, candidates)

    def similar_items(self, item_ids: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """What the shop shows beside a product for a shopper with no history (the product in
        view as context): its relations and EASE neighbours, in its category first."""
        item_ids = check_item_ids(item_ids, self.n_items)
        requests = [self.request([], context=int(i)) for i in item_ids]
        return self._ranked_arrays(requests, n, True, None, None)

    def _ranked_arrays(
        self,
        requests: list[Request],
        n: int,
        filter_already_liked: bool,
        item_filter: np.ndarray | None,
        candidates: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        ids = np.full((len(requests), n), -1, dtype=np.int64)
        best = np.full((len(requests), n), -np.inf, dtype=np.float32)
        for row, req in enumerate(requests):
            ranked = self.rank(req, n, filter_already_liked, item_filter, candidates)
            ids[row, : len(ranked.items)] = ranked.items
            best[row, : len(ranked.scores)] = ranked.scores
        return ids, best

    # ------------------------------------------------------------ helpers

    def _intent(self, req: Request) -> Intent | None:
        """The categories of this visit: those of the item in view or, without one, every
        category holding at least CATEGORY_SHARE of the (recency-weighted) attention of the
        leading one."""
        assert self.items is not None
        items = self.items
        category = items.category_list
        visit = list(dict.fromkeys(reversed(req.history[req.visit_start :])))
        if req.context >= 0:
            wanted = category[req.context]
            anchors = [req.context, *(s for s in visit if category[s] == wanted)]
            categories = {wanted}
        elif visit:
            anchors = visit
            weight: dict[int, float] = defaultdict(float)
            for rank, item in enumerate(anchors):
                weight[category[item]] += CATEGORY_DECAY**rank
            top = max(weight.values())
            categories = {c for c, w in weight.items() if w >= CATEGORY_SHARE * top}
        else:
            return None
        accessories: set[int] = set()
        complements: set[int] = set()
        for item in anchors:
            for other, relation in items.related(item):
                other_category = category[other]
                if relation in ACCESSORY_RELATIONS and other_category == items.accessory_category:
                    accessories.add(other)
                elif relation == BUNDLE_RELATION and other_category not in categories:
                    complements.add(other)
        return Intent(anchors, categories, accessories, complements - accessories)

    def _boost_neighbours(self, item: int, scores: np.ndarray, weight: float) -> None:
        """Graph relations first, then EASE's strongest neighbours."""
        assert self.items is not None
        for other, _ in self.items.related(item):
            scores[other] += weight * RELATION_BOOST
        ids, sims = self.ease.similar_items(np.array([item]), n=NEIGHBOURS)
        for i, sim in zip(ids[0], sims[0], strict=True):
            if i >= 0 and np.isfinite(sim) and sim > 0:
                scores[i] += weight * NEIGHBOUR_BOOST * float(sim) / max(1e-6, float(sims[0][0]))

    def _fit_to_visit(self, intent: Intent) -> np.ndarray:
        """Small boosts for the price level and the kinds of this visit's products."""
        assert self.items is not None
        items = self.items
        category, kind = items.category_list, items.kind_list
        prices: dict[int, list[float]] = defaultdict(list)
        kinds: dict[int, set[int]] = defaultdict(set)
        for item in intent.anchors:
            prices[category[item]].append(max(items.price_list[item], 0.01))
            if kind[item] >= 0:
                kinds[category[item]].add(kind[item])
        boost = np.zeros(self.n_items, dtype=np.float32)
        for wanted, seen in prices.items():
            here = items.category == wanted
            distance = (items.log_price[here] - math.log(float(np.median(seen)))) / math.log(
                PRICE_BAND
            )
            boost[here] += PRICE_WEIGHT * np.exp(-(distance**2) / 2)
            if kinds[wanted]:
                boost[here & np.isin(items.kind, list(kinds[wanted]))] += KIND_WEIGHT
        return boost

    def _slot(self, item: int, intent: Intent | None) -> str:
        assert self.items is not None
        if intent is None or self.items.category_list[item] in intent.categories:
            return "intent"
        if item in intent.accessories:
            return "accessory"
        if item in intent.complements:
            return "complement"
        return "other"


def co_occurrence(user_items: sp.csr_matrix) -> sp.csr_matrix:
    """Binary item x item co-occurrence of the rows, indices sorted."""
    seen = sp.csr_matrix(user_items > 0, dtype=np.float32)
    together = sp.csr_matrix(seen.T @ seen)
    together.sort_indices()
    return together


def _co_viewed(together: sp.csr_matrix, i: int, j: int) -> bool:
    """together[i, j] > 0 by a binary search of row i (scipy's indexing costs ~40 us a call)."""
    row = together.indices[together.indptr[i] : together.indptr[i + 1]]
    at = int(np.searchsorted(row, j))
    return at < len(row) and row[at] == j


def _normalise(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    pool = values[mask] if mask is not None and mask.any() else values
    top = float(np.max(pool)) if len(pool) else 0.0
    return values / top if top > 0 else values

"""ServedRanker: the ranker the shop serves, the one whose numbers are published.

``RecommendationService`` (``recommender/recommendations.py``) only translates: catalog
products to :class:`ItemFacts`, events to item ids with weights and times, picks back to
products with reason texts. Everything that decides what a shopper sees is here, in two
layers:

- **Collaborative part** (:class:`~recommender.cf.session_blend.SessionBlend`, held as
  ``cf``): recency-weighted EASE with session co-occurrence, SLIT next-item transitions, ALS
  and popularity, blended with weights tuned on held-out data, never on test items. ``fit``
  tunes them on the training histories themselves when no blend is set (each shopper's
  newest product held out: :func:`~recommender.cf.blend_tuning.newest_item_fold`; with
  fewer than ``MIN_TUNING_SHOPPERS`` such shoppers, the default blend instead); the
  evaluation tunes them on its protocol's validation folds through :meth:`tune` instead, as
  it does for every model. Either way each held-out item is ranked among the items the
  shop would show first for that history (its intent, below): on the seed shop
  (``benchmarks/rec_relevance.py``, HR@10 of the held-out next view) a blend tuned over all
  items was the best collaborative ranking alone (0.32) but lost inside the intent (0.378,
  the session EASE served before reached 0.433); tuned within it, 0.441. The tuned blend
  is saved with the model. The blend's recency and next-item signals replace the boosts
  the session EASE gave the neighbours of the latest products. Shop events come in
  as the shopper's products in time order, a run of events on one product (view, click,
  cart) being one step whose weight is the sum of theirs (event weight times time decay).
  The query is the shopper's *current* history, so a click counts on the next request
  without a refit. The service asks at the current time (``now``), so the ``late`` signal,
  if the tuning picks it, can only push down products nobody has looked at yet.
- **Shop layer** (the catalog; nothing here moves a ranking without one):
  - *Intent.* The current visit (events at most ``session_gap`` seconds apart: 30 minutes,
    the usual web-analytics gap) sets it: the category of the product in view, or every
    category holding at least half the (recency-weighted) attention of the leading one;
    plus accessories that fit the products of the visit and, at most one in ten, products
    bundled with them. The collaborative scores are scaled to 1 inside the intent; without
    a history they are popularity alone and weigh ``POPULARITY_WEIGHT``, a prior beneath
    the boosts.
  - *Boosts.* A whisper of rating; graph relations of the latest ``RECENT_ITEMS`` products
    of the visit; the relations and collaborative neighbours of the product in view;
    closeness to the visit's price level and the same kind (品类/类型/款式) inside its
    categories.
  - *Picking.* Best first inside the intent (accessories and complements capped, at most
    ``MAX_PER_BRAND`` of a brand per category), then, only if the intent runs out, the best
    of the rest. Products already seen or bought, and other variants of those model lines,
    never come back; out-of-stock items never appear; a model line appears once.
  - *Reasons.* Each pick comes with the truest thing to say about it for this shopper
    (:class:`Reason`): a graph relation to a product they saw, the same kind and price band,
    the co-view behind the collaborative score, or the same price band or kind alone; the
    service words it in Chinese.

Without a catalog (the public data sets of ``benchmarks/recsys.py``), ``ItemFacts.anonymous``
describes every item as its own model line and brand in one category, with no relations,
rating, kind or price differences: the shop layer then leaves the collaborative ranking as it
is (``tests/unit/test_cf_models.py`` checks it against a plain ``SessionBlend``), so the
published figure is this class's, with the constants below; only the folds its blend is
tuned on come from the evaluation's protocol.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from recommender.cf.base import (
    Fold,
    Histories,
    Recommender,
    StateValue,
    check_item_ids,
    rows_for,
    sub_state,
)
from recommender.cf.blend_tuning import newest_item_fold
from recommender.cf.session_blend import SCORE_BATCH, SessionBlend

SESSION_GAP = 1800.0  # seconds: one browsing session / the current visit
RECENT_ITEMS = 3
SESSION_WEIGHT = 0.6  # weight of the relations of the latest item of the visit (then / rank)
CONTEXT_WEIGHT = 1.0  # relations and neighbours of the product in view
RELATION_BOOST = 0.8  # a graph relation, times the weight above
NEIGHBOUR_BOOST = 0.5  # the strongest collaborative neighbour, times the weight above
NEIGHBOURS = 20
POPULARITY_WEIGHT = 0.1  # the collaborative part without a history: a prior beneath the boosts
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
# fit tunes the blend only when at least this many shoppers have a product to hold out;
# fewer (a new shop, the tests' mini catalog) keep SessionBlend's default blend.
MIN_TUNING_SHOPPERS = 50


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
    times: list[float] | None = None  # seconds, aligned with history
    now: float | None = None  # when it is asked (seconds); None: at the latest event
    intent: Intent | None = None
    seen: list[int] = field(default_factory=list)  # what reasons may name, latest first
    row: np.ndarray | None = None  # the history's weight per item (backs CO_VIEW)
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

    ``blend``: the collaborative part's blend weights; ``None`` (the default) tunes them inside
    :meth:`fit_sequences` on the training histories, :meth:`tune` on given folds.
    ``collaborative``: further arguments of :class:`SessionBlend` (its defaults otherwise).
    ``fit_sequences`` takes each shopper's history with interaction weights (the shop: event
    weight times time decay; rated data: the ratings) and timestamps in seconds.
    ``als_engine``: ``"inprocess"`` (``implicit``) or ``"spark"`` (Spark MLlib, the optional
    extra) fits the collaborative part's ALS signal; the saved model is the same either way.
    """

    name = "served"
    # als_engine: who fits the ALS signal (see SessionBlend); not needed to load a model.
    unsaved_params = ("items", "als_engine")

    def __init__(
        self,
        session_gap: float = SESSION_GAP,
        blend: Mapping[str, float] | None = None,
        collaborative: Mapping[str, Any] | None = None,
        seed: int = 42,
        items: ItemFacts | None = None,
        als_engine: str = "inprocess",
    ) -> None:
        self.session_gap = session_gap
        self.blend = None if blend is None else dict(blend)
        self.collaborative = dict(collaborative or {})
        self.seed = seed
        self.items = items
        self.als_engine = als_engine
        self.cf = self._collaborative_model()
        # together[i, j] > 0: some session held both items (backs the CO_VIEW reason).
        self.together = sp.csr_matrix((0, 0), dtype=np.float32)
        self.n_interactions = 0  # non-zero session-item pairs trained on

    def _collaborative_model(self) -> SessionBlend:
        return SessionBlend(
            blend=self.blend, seed=self.seed, als_engine=self.als_engine, **self.collaborative
        )

    @property
    def popularity(self) -> np.ndarray:
        """Log popularity per item, scaled to a maximum of 1 (the collaborative part's)."""
        return self.cf.popularity

    # ------------------------------------------------------------- fitting

    def fit(self, user_items: sp.csr_matrix) -> Self:
        """Order-free fit on rows as sessions; the blend as set (untuned: the default)."""
        user_items = sp.csr_matrix(user_items, dtype=np.float32)
        self._check_items(user_items.shape[1])
        self.cf.fit(user_items)
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
        """Tune the blend on the histories if none is set, then fit the collaborative part;
        the co-views behind reasons come from sessions (``session_gap``)."""
        self._check_items(n_items)
        histories, weights, timestamps = collapse_runs(histories, weights, timestamps)
        if self.blend is None:
            fold = newest_item_fold(histories, n_items, weights, timestamps)
            if sum(len(t) > 0 for t in fold.targets) >= MIN_TUNING_SHOPPERS:
                self.tune([fold])
            else:
                self.blend = dict(self.cf.blend)  # too few to tune on: the default blend
        self.cf.fit_sequences(histories, n_items, weights, timestamps)
        matrix = self.session_matrix(histories, n_items, timestamps)
        self.together = co_occurrence(matrix)
        self.n_interactions = int(matrix.nnz)
        return self

    def tune(self, folds: Sequence[Fold], k: int = 10) -> dict[str, object]:
        """Tune the collaborative part's blend on validation ``folds`` and keep it. Each
        held-out item is ranked among what the shop would show first for that history: the
        items of its intent (with a catalog of one category, every item)."""
        folds = [self._within_intent(_collapsed(fold)) for fold in folds]
        params = self.cf.tune(folds, k=k)
        self.blend = dict(self.cf.blend)
        return params or {"blend": dict(self.blend)}

    def _within_intent(self, fold: Fold) -> Fold:
        self._check_items(fold.n_items)
        assert self.items is not None
        if len(np.unique(self.items.category)) <= 1:
            return fold  # one category: the intent allows every item
        allowed: list[np.ndarray | None] = []
        for user, history in enumerate(fold.histories):
            req = self.request(
                history,
                None if fold.weights is None else fold.weights[user],
                None if fold.timestamps is None else fold.timestamps[user],
            )
            mask = self._allowed(req.intent)
            allowed.append(None if mask is None else np.flatnonzero(mask))
        return dataclasses.replace(fold, allowed=allowed)

    def _check_items(self, n_items: int) -> None:
        self.n_items = n_items
        if self.items is None:
            self.items = ItemFacts.anonymous(n_items)
        if self.items.n_items != n_items:
            raise ValueError(f"facts for {self.items.n_items} items, data for {n_items}")

    def session_matrix(
        self, histories: Histories, n_items: int, timestamps: Histories | None = None
    ) -> sp.csr_matrix:
        """One binary row per session (events at most ``session_gap`` apart) of each history."""
        rows, cols = [], []
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
        row_ids = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        col_ids = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        matrix = sp.csr_matrix(
            (np.ones(len(row_ids), np.float32), (row_ids, col_ids)),
            shape=(max(1, n_rows), n_items),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

    # --------------------------------------------------------- persistence

    def state(self) -> dict[str, StateValue]:
        assert self.items is not None, "fit first"
        return {
            "together": self.together,
            "n_interactions": self.n_interactions,
            **{f"cf.{k}": v for k, v in self.cf.state().items()},
            **{f"items.{k}": v for k, v in self.items.arrays().items()},
        }

    def restore(self, n_items: int, state: Mapping[str, StateValue]) -> None:
        super().restore(n_items, state)
        self.together = sp.csr_matrix(state["together"], dtype=np.float32)
        self.together.sort_indices()
        self.n_interactions = int(state["n_interactions"])  # type: ignore[arg-type]
        self.cf = self._collaborative_model()
        self.cf.restore(n_items, sub_state(state, "cf."))
        self.items = ItemFacts.from_arrays(sub_state(state, "items."))

    # ------------------------------------------------------- one shopper

    def request(
        self,
        history: Sequence[int] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        context: int | None = None,
        with_intent: bool = True,
        now: float | None = None,
    ) -> Request:
        """A shopper's request: items oldest first with their weights and times (seconds);
        ``now`` (seconds): when it is asked, by default the latest event's time."""
        items = np.asarray(history, dtype=np.int64)
        item_weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        times = None if timestamps is None else np.asarray(timestamps, dtype=np.float64)
        runs, run_weights, run_times = collapse_runs(
            [items],
            None if item_weights is None else [item_weights],
            None if times is None else [times],
        )
        history_list = runs[0].tolist()
        weights_list = [1.0] * len(history_list) if run_weights is None else run_weights[0].tolist()
        times_list = None if run_times is None else run_times[0].tolist()
        start = len(history_list)
        if times_list is None:
            start = 0  # no times: the whole history is this visit
        else:
            while start > 0 and (
                start == len(history_list)
                or times_list[start] - times_list[start - 1] <= self.session_gap
            ):
                start -= 1
        context = -1 if context is None or context < 0 else int(context)
        req = Request(history_list, weights_list, start, context, times_list, now)
        if with_intent:
            req.intent = self._intent(req)
        return req

    def collaborative_scores(self, requests: Sequence[Request]) -> np.ndarray:
        """The collaborative part's scores, ``[len(requests), n_items]``, in one batch."""
        timed = all(r.times is not None for r in requests)
        return self.cf.blended_scores(
            [np.asarray(r.history, dtype=np.int64) for r in requests],
            [np.asarray(r.weights, dtype=np.float32) for r in requests],
            [np.asarray(r.times, dtype=np.float64) for r in requests] if timed else None,
            [r.now for r in requests],
        )

    def scores(self, req: Request, collaborative: np.ndarray | None = None) -> np.ndarray:
        """Every item's score for this request (before picking); fills ``req.seen``/``row``.
        ``collaborative``: this request's row of :meth:`collaborative_scores`, if at hand."""
        assert self.items is not None
        items = self.items
        if collaborative is None:
            collaborative = self.collaborative_scores([req])[0]
        intent = req.intent
        cf = _normalise(np.asarray(collaborative, dtype=np.float32), self._allowed(intent))
        scores = (1.0 if req.history else POPULARITY_WEIGHT) * cf
        scores = scores + RATING_WEIGHT * items.rating / 5
        seen = list(dict.fromkeys(reversed(req.history)))
        # Reasons may name the product in view (the page, or 「有没有类似的」) first.
        context = req.context
        req.seen = list(dict.fromkeys([context, *seen])) if context >= 0 else seen
        if req.history:
            row = np.zeros(self.n_items, dtype=np.float32)
            np.add.at(row, req.history, np.asarray(req.weights, dtype=np.float32))
            req.row = row
            recent = intent.anchors if intent is not None else seen
            for rank, item in enumerate(recent[:RECENT_ITEMS]):
                if item != context:
                    self._boost_related(item, scores, SESSION_WEIGHT / (rank + 1))
        if context >= 0:
            self._boost_related(context, scores, CONTEXT_WEIGHT)
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
        collaborative: np.ndarray | None = None,
    ) -> Ranked:
        """Best first inside the intent (accessories and complements capped), then, only if
        the intent runs out, the best of the rest. Never an item or model line already seen
        (unless ``filter_already_liked`` is off: the item in view is still left out)."""
        assert self.items is not None
        scores = self.scores(req, collaborative)
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
                contribution = float(req.row[anchor]) * float(self.cf.ease[anchor, item])
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
        requests = self._row_requests(sp.csr_matrix(user_items, dtype=np.float32))
        out = np.zeros((len(requests), self.n_items), dtype=np.float32)
        for start in range(0, len(requests), SCORE_BATCH):
            batch = requests[start : start + SCORE_BATCH]
            collaborative = self.collaborative_scores(batch)
            for offset, req in enumerate(batch):
                out[start + offset] = self.scores(req, collaborative[offset])
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
        requests = self._row_requests(rows_for(user_ids, user_items))
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
        view as context): its relations and collaborative neighbours, in its category first."""
        item_ids = check_item_ids(item_ids, self.n_items)
        requests = [self.request([], context=int(i)) for i in item_ids]
        return self._ranked_arrays(requests, n, True, None, None)

    def _row_requests(self, rows: sp.csr_matrix) -> list[Request]:
        return [
            self.request(rows.indices[rows.indptr[r] : rows.indptr[r + 1]],
                         rows.data[rows.indptr[r] : rows.indptr[r + 1]])
            for r in range(rows.shape[0])
        ]  # fmt: skip

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
        for start in range(0, len(requests), SCORE_BATCH):
            batch = requests[start : start + SCORE_BATCH]
            collaborative = self.collaborative_scores(batch)
            for offset, req in enumerate(batch):
                ranked = self.rank(
                    req,
                    n,
                    filter_already_liked,
                    item_filter,
                    candidates,
                    collaborative=collaborative[offset],
                )
                row = start + offset
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

    def _allowed(self, intent: Intent | None) -> np.ndarray | None:
        """Items of the intent's categories and the accessories that fit (None: no intent)."""
        assert self.items is not None
        if intent is None:
            return None
        allowed = np.isin(self.items.category, list(intent.categories))
        allowed[list(intent.accessories)] = True
        return allowed

    def _boost_related(self, item: int, scores: np.ndarray, weight: float) -> None:
        """The item's graph relations."""
        assert self.items is not None
        for other, _ in self.items.related(item):
            scores[other] += weight * RELATION_BOOST

    def _boost_neighbours(self, item: int, scores: np.ndarray, weight: float) -> None:
        """The item's strongest collaborative neighbours, the best at ``NEIGHBOUR_BOOST``."""
        ids, sims = self.cf.similar_items(np.array([item]), n=NEIGHBOURS)
        top = float(sims[0][0]) if len(sims[0]) else 0.0
        for i, sim in zip(ids[0], sims[0], strict=True):
            if i >= 0 and np.isfinite(sim) and sim > 0:
                scores[i] += weight * NEIGHBOUR_BOOST * float(sim) / max(1e-6, top)

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


def collapse_runs(
    histories: Histories, weights: Histories | None = None, timestamps: Histories | None = None
) -> tuple[list[np.ndarray], list[np.ndarray] | None, list[np.ndarray] | None]:
    """Each run of events on one item (a view, a click, a cart of the same product) as one
    step: weights summed, the time of its last event. Histories without repeats stay as
    they are."""
    runs, run_weights, run_times = [], [], []
    for user, history in enumerate(histories):
        items = np.asarray(history, dtype=np.int64)
        starts = np.flatnonzero(np.concatenate([[True], items[1:] != items[:-1]]))
        if len(items) == 0:
            starts = np.zeros(0, dtype=np.int64)
        runs.append(items[starts])
        if weights is not None:
            values = np.asarray(weights[user], dtype=np.float64)
            run_weights.append(np.add.reduceat(values, starts) if len(starts) else values[:0])
        if timestamps is not None:
            times = np.asarray(timestamps[user], dtype=np.float64)
            ends = np.concatenate([starts[1:], [len(items)]]) - 1 if len(starts) else starts
            run_times.append(times[ends])
    return (
        runs,
        run_weights if weights is not None else None,
        run_times if timestamps is not None else None,
    )


def _collapsed(fold: Fold) -> Fold:
    histories, weights, timestamps = collapse_runs(fold.histories, fold.weights, fold.timestamps)
    return Fold(histories, list(fold.targets), fold.n_items, weights, timestamps)

"""Personalised recommendations for the shop, each with a true Chinese reason.

The ranking is :class:`recommender.cf.served.ServedRanker`, a model class like the others in
``recommender/cf/`` and the one ``benchmarks/recsys.py`` and ``daogou recs eval`` publish: a
session-aware collaborative blend (recency-weighted EASE, next-item transitions, ALS,
popularity; blend weights tuned on held-out events when it is trained) under the shop's layer:
the current visit's intent (its categories, accessories that fit, a few complements), relation
and price/kind boosts, exclusions of what the shopper already saw or bought, and the reason
behind each pick (see its module doc). This service only translates:
the catalog into :class:`~recommender.cf.served.ItemFacts`, a shopper's events (read from the
events table on every request, so a click counts on the next one without retraining) into item
ids with weights (event weight times a 30-day half-life) and times, and the ranker's picks back
into products with the reason worded in Chinese, or else a plain fact about the product.

A shopper's history is used only with their consent (issue #19): ``consented(user_id)`` says
whether they agreed (the composition root passes knowledge_graph.consent's cached lookup;
simulated shoppers in tests and benchmarks pass :func:`everyone`). Without it the service
answers exactly as for an anonymous visitor: popularity, the product in view and its graph
neighbours, with nothing of the shopper's own events.
"""

from __future__ import annotations

import inspect
import json
import logging
import secrets
import threading
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from knowledge_graph.product import Product
from knowledge_graph.service import CatalogService, CatalogView
from recommender.cf.served import ItemFacts, Reason, Request, ServedRanker
from recommender.cf.session_blend import SessionBlend
from recommender.events import EventStore, Interaction, decay

log = logging.getLogger(__name__)

KIND_KEYS = ("品类", "类型", "款式")
ACCESSORY_CATEGORY = "手机配件"
RELATION_REASONS = {
    "SAME_SERIES": "和你看过的{name}同系列",
    "ACCESSORY_OF": "{name}的配件",
    "COMPATIBLE_WITH": "适配你看过的{name}",
    "BUNDLE_WITH": "常和{name}一起买",
    "ALTERNATIVE_TO": "{name}的同级替代款",
}
CO_VIEW_REASON = "看过{name}的人也看了"
KIND_AND_PRICE_REASON = "和你看过的{name}同类，价位相近"
PRICE_REASON = "和你看过的{name}价位相近"
KIND_REASON = "和你看过的{name}同类"
REASON_TEXTS = {
    **RELATION_REASONS,
    "KIND_AND_PRICE": KIND_AND_PRICE_REASON,
    "CO_VIEW": CO_VIEW_REASON,
    "PRICE": PRICE_REASON,
    "KIND": KIND_REASON,
}


def nobody(_user_id: str) -> bool:
    """No shopper agreed: the default, so a service built without a consent check is never
    personal by accident."""
    return False


def everyone(_user_id: str) -> bool:
    """Every shopper agreed: simulated shoppers (tests, benchmarks, the seed's histories)."""
    return True


def default_model_path(var_dir: Path) -> Path:
    return var_dir / "recs" / "model.npz"


DEFAULT_ALS_ENGINE = "inprocess"
SAVED_MODEL_ERRORS = (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile)


def engine_option(als_engine: str = DEFAULT_ALS_ENGINE) -> dict[str, str]:
    """The ServedRanker argument choosing where ALS trains, when this build's ranker has one.

    Older rankers (no ``als_engine`` parameter) train ALS in-process only: asking them for
    another engine is an error rather than a silent in-process fit."""
    if "als_engine" in inspect.signature(ServedRanker).parameters:
        return {"als_engine": als_engine}
    if als_engine != DEFAULT_ALS_ENGINE:
        raise ValueError(f"this ServedRanker trains ALS in-process only, not with {als_engine!r}")
    return {}


@dataclass
class Recommendation:
    product: Product
    score: float
    reason: str


@dataclass
class TrainedModel:
    """A fitted ranker and the catalog version (and item order) it was fitted on."""

    version: int
    skus: list[str]
    index: dict[str, int]
    ranker: ServedRanker

    @property
    def collaborative(self) -> SessionBlend:
        """The collaborative part alone (benchmarks compare the ranker with it)."""
        return self.ranker.cf

    @property
    def popularity(self) -> np.ndarray:
        return self.ranker.popularity

    @property
    def together(self) -> sp.csr_matrix:
        return self.ranker.together

    @property
    def trained_events(self) -> int:
        return self.ranker.n_interactions

    @property
    def config(self) -> dict[str, Any]:
        """The ranker's constructor arguments (tuned blend included): refits it elsewhere."""
        return self.ranker.get_params()

    @classmethod
    def of(cls, ranker: ServedRanker) -> TrainedModel:
        assert ranker.items is not None
        skus = [str(s) for s in ranker.items.keys]
        return cls(ranker.items.version, skus, {s: i for i, s in enumerate(skus)}, ranker)


class RecommendationService:
    """`model_path` (var/recs/model.npz): `daogou recs train` writes it (through the gate of
    recommender/gate.py, which publishes a new model only if it is not worse than the served
    one); every process serving recommendations picks a newer file up on its next request
    (one stat per request).
    `consented(user_id)`: whether the shopper agreed to personal recommendations."""

    def __init__(
        self,
        catalog: CatalogService,
        events: EventStore,
        model_path: Path | None = None,
        *,
        consented: Callable[[str], bool] = nobody,
    ) -> None:
        self.catalog = catalog
        self.events = events
        self.model_path = model_path
        self.consented = consented
        self._model: TrainedModel | None = None
        self._loaded_mtime = 0.0
        self._lock = threading.Lock()

    # -- training ------------------------------------------------------------------
    def train(
        self, blend: dict[str, float] | None = None, *, als_engine: str = DEFAULT_ALS_ENGINE
    ) -> TrainedModel:
        """Fits on every event so far (`daogou recs train`, or lazily on first use) and serves it.

        Without a ``blend`` the ranker tunes its blend weights on held-out events first (an
        extra fit of every collaborative signal); a refit after a catalog change, which runs
        inside a shopper's request, keeps the blend it had instead of tuning again."""
        trained = self.fit_ranker({"blend": blend, **engine_option(als_engine)})
        with self._lock:
            self._model = trained
        return trained

    def fit_ranker(
        self,
        config: Mapping[str, Any],
        interactions: Sequence[Interaction] | None = None,
        *,
        now: datetime | None = None,
        view: CatalogView | None = None,
    ) -> TrainedModel:
        """A ``ServedRanker(**config)`` for the catalog (``view``, by default the current one)
        fitted on ``interactions`` (by default every event so far), their weights decayed to
        ``now`` (by default the present). Not served: :meth:`publish` does that.
        recommender/gate.py fits the models it compares on the events before its window."""
        view = view or self.catalog.current()
        skus = sorted(view.graph.products)
        index = {s: i for i, s in enumerate(skus)}
        events = self.events.all_interactions() if interactions is None else interactions
        sequences = shopper_sequences(events, index, now)
        ranker = ServedRanker(**{**config, "items": _item_facts(view, skus)})
        ranker.fit_sequences(sequences.items, len(skus), sequences.weights, sequences.times)
        return TrainedModel.of(ranker)

    def publish(self, model: TrainedModel) -> Path:
        """Writes ``model`` atomically for every serving process to pick up, and serves it here."""
        assert self.model_path is not None
        self.model_path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own (an erasure's refit may publish while the gate does), created with
        # the usual permissions (the action server may run as another user).
        tmp = self.model_path.with_name(f".{self.model_path.stem}.{secrets.token_hex(4)}.npz")
        try:
            model.ranker.save(tmp)
            tmp.replace(self.model_path)
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._model = model
        return self.model_path

    def save(self, *, als_engine: str = DEFAULT_ALS_ENGINE) -> Path:
        """Trains on all events and writes the model for every serving process to pick up."""
        assert self.model_path is not None
        return self.publish(self.train(als_engine=als_engine))

    def saved_config(self) -> dict[str, Any] | None:
        """The constructor arguments of the saved ranker (its tuned blend among them), read
        without loading its arrays; None when no readable ServedRanker is saved."""
        path = self.model_path
        if path is None or not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as saved:
                if str(saved["model"]) != ServedRanker.name:
                    return None
                config = json.loads(str(saved["params"]))
        except (*SAVED_MODEL_ERRORS, json.JSONDecodeError):
            return None
        return config if isinstance(config, dict) else None

    def _load_saved(self, view: CatalogView) -> None:
        path = self.model_path
        if path is None or not path.exists() or path.stat().st_mtime <= self._loaded_mtime:
            return
        self._loaded_mtime = path.stat().st_mtime
        try:
            ranker = ServedRanker.load(path)
        except SAVED_MODEL_ERRORS:
            log.warning("%s: not a saved ServedRanker (an older format?); refitting", path)
            return
        loaded = TrainedModel.of(ranker)
        if loaded.version != view.version or loaded.skus != sorted(view.graph.products):
            return  # trained on another catalog version; the version check below refits
        with self._lock:
            self._model = loaded

    def _current_model(self, view: CatalogView) -> TrainedModel:
        self._load_saved(view)
        model = self._model
        if model is None or model.version != view.version:
            # Catalog changed (new or removed products): refit with the blend tuned before;
            # cheap at shop scale (~1 s per thousand items). Large catalogs train offline with
            # `daogou recs train`.
            model = self.train(model.ranker.blend if model is not None else None)
        return model

    # -- serving -------------------------------------------------------------------
    def recommend(
        self, user_id: str | None, k: int = 10, context_sku: str | None = None
    ) -> list[Recommendation]:
        view = self.catalog.current()
        model = self._current_model(view)
        history = self._history(user_id, model)
        context = model.index.get(context_sku) if context_sku else None
        request = self._request(model, history, context, with_intent=True)
        ranked = model.ranker.rank(request, k, explain=True)
        products = view.graph.products
        picked = []
        for item, score, reason in zip(ranked.items, ranked.scores, ranked.reasons, strict=True):
            product = products[model.skus[item]]
            text = _reason_text(view, model, reason) or _default_reason(product)
            picked.append(Recommendation(product, score, text))
        return picked

    def rerank(
        self, user_id: str | None, products: list[Product], weight: float = 0.3
    ) -> list[Recommendation]:
        """Search results reordered by what this shopper likes; the search order stays the prior.

        Items keep a reason only where the shopper's history explains them.
        """
        if not products:
            return []
        view = self.catalog.current()
        model = self._current_model(view)
        history = self._history(user_id, model)
        request = self._request(model, history, None, with_intent=False)
        item_ids = [model.index.get(p.sku, -1) for p in products]
        reranked = model.ranker.rerank(request, item_ids, weight)
        return [
            Recommendation(products[position], score, _reason_text(view, model, reason) or "")
            for position, score, reason in zip(
                reranked.positions, reranked.scores, reranked.reasons, strict=True
            )
        ]

    def _history(self, user_id: str | None, model: TrainedModel) -> list[Interaction]:
        """The shopper's events the model knows, only if they agreed to personal
        recommendations; otherwise none, as for an anonymous visitor."""
        if not user_id or not self.consented(user_id):
            return []
        return [e for e in self.events.history(user_id) if e.sku in model.index]

    @staticmethod
    def _request(
        model: TrainedModel, history: list[Interaction], context: int | None, with_intent: bool
    ) -> Request:
        """The shopper's events as the ranker reads them: ids, decayed weights, seconds."""
        now = datetime.now(UTC)
        return model.ranker.request(
            [model.index[e.sku] for e in history],
            [e.weight * decay(e.ts, now) for e in history],
            [_aware(e.ts).timestamp() for e in history],
            context=context,
            with_intent=with_intent,
            now=now.timestamp(),
        )


@dataclass(frozen=True)
class ShopperSequences:
    """Each shopper's known events as ServedRanker.fit_sequences reads them, aligned lists:
    item ids, weights (event weight times decay) and seconds, one entry per shopper."""

    shoppers: list[str]
    items: list[np.ndarray]
    weights: list[np.ndarray]
    times: list[np.ndarray]


def shopper_sequences(
    interactions: Sequence[Interaction], index: Mapping[str, int], now: datetime | None = None
) -> ShopperSequences:
    """The events (all_interactions(): by shopper, then time) of products in ``index``, their
    weights decayed to ``now`` (by default the present)."""
    now = now or datetime.now(UTC)
    items: dict[str, list[int]] = {}
    weights: dict[str, list[float]] = {}
    times: dict[str, list[float]] = {}
    for event in interactions:
        if event.sku not in index:
            continue
        items.setdefault(event.user_id, []).append(index[event.sku])
        weights.setdefault(event.user_id, []).append(event.weight * decay(event.ts, now))
        times.setdefault(event.user_id, []).append(_aware(event.ts).timestamp())
    return ShopperSequences(
        shoppers=list(items),
        items=[np.array(v, dtype=np.int64) for v in items.values()],
        weights=[np.array(v, dtype=np.float64) for v in weights.values()],
        times=[np.array(v, dtype=np.float64) for v in times.values()],
    )


def _item_facts(view: CatalogView, skus: list[str]) -> ItemFacts:
    """The catalog as the ranker sees it, in the model's item order."""
    products = [view.graph.products[s] for s in skus]
    index = {s: i for i, s in enumerate(skus)}
    return ItemFacts.build(
        keys=skus,
        version=view.version,
        category=[p.category for p in products],
        kind=[_kind(p) for p in products],
        price=[float(p.price) for p in products],
        rating=[p.rating for p in products],
        in_stock=[p.stock > 0 for p in products],
        line=[_model_key(p) for p in products],
        brand=[(p.brand, p.category) for p in products],
        relations=[
            [
                (index[other], relation)
                for other, relation in view.graph.related(s)
                if other in index
            ]
            for s in skus
        ],
        accessory_category=ACCESSORY_CATEGORY,
    )


# -- catalog facts and reason texts ------------------------------------------------------


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _kind(p: Product) -> str | None:
    """The product's kind (品类/类型/款式), or None."""
    attributes = p.attributes
    value = next((attributes[k] for k in KIND_KEYS if attributes.get(k)), None)
    return value if isinstance(value, str) else None


def _model_key(p: Product) -> tuple[str, str]:
    return (p.brand, p.model or p.title)


def _name(p: Product) -> str:
    """How a reason names a product: brand and model (「徕芬 SE」, not a bare 「SE」), or the title."""
    model = p.model
    if not model:
        return p.title
    return model if model.lower().startswith(p.brand.lower()) else f"{p.brand} {model}"


def _reason_text(view: CatalogView, model: TrainedModel, reason: Reason | None) -> str | None:
    if reason is None:
        return None
    anchor = view.graph.products[model.skus[reason.anchor]]
    return REASON_TEXTS[reason.kind].format(name=_name(anchor))


def _default_reason(product: Product) -> str:
    if product.rating >= 4.8:
        return f"{product.category}里好评率很高（{product.rating}分）"
    return f"近期热销的{product.category}"

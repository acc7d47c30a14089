"""Personalised recommendations for the shop, each with a Chinese reason.

A collaborative model (EASE over decay-weighted events) scores items against the shopper's
*current* history read from the events table, so a click counts on the next request without
retraining. The latest items weigh more (session-aware), graph relations and content
neighbours fill in for new shoppers and new products, out-of-stock items never appear, and
one model line appears once.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from knowledge_graph.service import CatalogService, CatalogView
from recommender.cf.ease import EASE
from recommender.events import EventStore, Interaction, decay

RECENT_ITEMS = 3
SESSION_WEIGHT = 0.6  # share of the score from neighbours of the latest items
MAX_PER_BRAND = 2
RELATION_REASONS = {
    "SAME_SERIES": "和你看过的{name}同系列",
    "ACCESSORY_OF": "{name}的配件",
    "COMPATIBLE_WITH": "适配你看过的{name}",
    "BUNDLE_WITH": "常和{name}一起买",
    "ALTERNATIVE_TO": "{name}的同级替代款",
}


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
        trained = _Model(view.version, skus, index, model, popularity, matrix.nnz)
        with self._lock:
            self._model = trained
        return trained

    def save(self) -> Path:
        """Trains on all events and writes the model for every serving process to pick up."""
        assert self.model_path is not None
        model = self.train()
        self.model_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.model_path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            version=model.version,
            skus=np.array(model.skus),
            weights=model.model.weights,
            popularity=model.popularity,
            events=model.trained_events,
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
            model = EASE(regularization=self.regularization)
            model.weights, model.n_items = saved["weights"], len(skus)
            loaded = _Model(view.version, skus, {s: i for i, s in enumerate(skus)}, model,
                            saved["popularity"], int(saved["events"]))  # fmt: skip
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
        now = datetime.now(UTC)
        users: dict[str, int] = {}
        rows, cols, data = [], [], []
        for event in interactions:
            if event.sku not in index:
                continue
            rows.append(users.setdefault(event.user_id, len(users)))
            cols.append(index[event.sku])
            data.append(event.weight * decay(event.ts, now))
        matrix = sp.csr_matrix(
            (data, (rows, cols)), shape=(max(1, len(users)), len(index)), dtype=np.float32
        )
        matrix.sum_duplicates()
        popularity = np.asarray((matrix > 0).sum(axis=0)).ravel().astype(np.float32)
        return matrix, popularity

    # -- serving -------------------------------------------------------------------
    def recommend(
        self, user_id: str | None, k: int = 10, context_sku: str | None = None
    ) -> list[Recommendation]:
        view = self.catalog.current()
        model = self._current_model(view)
        history = self.events.history(user_id) if user_id else []
        history = [e for e in history if e.sku in model.index]
        scores, reasons = self._scores(view, model, history, context_sku)
        return self._pick(view, model, scores, reasons, history, context_sku, k)

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
        scores, reasons = self._scores(view, model, history, None)
        indices = [model.index.get(p["sku"]) for p in products]
        personal = np.array(
            [scores[i] if i is not None else 0.0 for i in indices], dtype=np.float32
        )
        personal = _normalise(personal - personal.min())
        blended = [
            Recommendation(p, (1 - weight) * (1 - rank / len(products)) + weight * float(personal[rank]),
                           reasons.get(indices[rank], "") if indices[rank] is not None else "")
            for rank, p in enumerate(products)
        ]  # fmt: skip
        return sorted(blended, key=lambda r: -r.score)

    def _scores(
        self, view: CatalogView, model: _Model, history: list[Interaction], context_sku: str | None
    ) -> tuple[np.ndarray, dict[int, str]]:
        n = len(model.skus)
        reasons: dict[int, str] = {}
        popularity = model.popularity / max(1.0, float(model.popularity.max()))
        ratings = (
            np.array([view.graph.products[s]["rating"] for s in model.skus], dtype=np.float32) / 5
        )
        scores = 0.05 * popularity + 0.01 * ratings  # the cold-start prior
        now = datetime.now(UTC)
        if history:
            row = np.zeros((1, n), dtype=np.float32)
            for e in history:
                row[0, model.index[e.sku]] += e.weight * decay(e.ts, now)
            cf = model.model.score(sp.csr_matrix(row))[0]
            scores = scores + _normalise(cf)
            self._cf_reasons(view, model, history, reasons)
            recent = list(dict.fromkeys(e.sku for e in reversed(history)))[:RECENT_ITEMS]
            for rank, sku in enumerate(recent):
                self._boost_neighbours(
                    view, model, sku, scores, reasons, SESSION_WEIGHT / (rank + 1)
                )
        if context_sku and context_sku in model.index:
            self._boost_neighbours(view, model, context_sku, scores, reasons, 1.0)
        return scores, reasons

    def _boost_neighbours(
        self,
        view: CatalogView,
        model: _Model,
        sku: str,
        scores: np.ndarray,
        reasons: dict[int, str],
        weight: float,
    ) -> None:
        """Graph relations first (they carry the best reasons), then co-occurrence neighbours."""
        anchor = view.graph.products[sku]
        name = anchor.get("model") or anchor["title"]
        for other, relation in view.graph.related(sku):
            if other in model.index:
                i = model.index[other]
                scores[i] += weight * 0.8
                reasons.setdefault(
                    i, RELATION_REASONS.get(relation, "和{name}相关").format(name=name)
                )
        ids, sims = model.model.similar_items(np.array([model.index[sku]]), n=20)
        for i, sim in zip(ids[0], sims[0], strict=True):
            if i >= 0 and np.isfinite(sim) and sim > 0:
                scores[i] += weight * 0.5 * float(sim) / max(1e-6, float(sims[0][0]))
                reasons.setdefault(int(i), f"看过{name}的人也看了")

    @staticmethod
    def _cf_reasons(
        view: CatalogView, model: _Model, history: list[Interaction], reasons: dict[int, str]
    ) -> None:
        bought = [e for e in history if e.type == "purchase"]
        if bought:
            anchor = view.graph.products[bought[-1].sku]
            name = anchor.get("model") or anchor["title"]
            ids, _ = model.model.similar_items(np.array([model.index[anchor["sku"]]]), n=10)
            for i in ids[0]:
                if i >= 0:
                    reasons.setdefault(int(i), f"买了{name}的人也买了")

    def _pick(
        self,
        view: CatalogView,
        model: _Model,
        scores: np.ndarray,
        reasons: dict[int, str],
        history: list[Interaction],
        context_sku: str | None,
        k: int,
    ) -> list[Recommendation]:
        products = view.graph.products
        seen_models = {products[e.sku].get("model") for e in history if e.type == "purchase"}
        if context_sku in products:
            seen_models.add(products[context_sku].get("model"))
        excluded = {e.sku for e in history if e.type in ("purchase", "add_to_cart")} | {context_sku}
        per_brand: dict[tuple[str, str], int] = defaultdict(int)
        picked: list[Recommendation] = []
        for i in np.argsort(-scores, kind="stable"):
            sku = model.skus[i]
            product = products[sku]
            model_name = product.get("model") or product["title"]
            brand_key = (product["brand"], product["category"])
            if sku in excluded or product["stock"] <= 0 or model_name in seen_models:
                continue
            if per_brand[brand_key] >= MAX_PER_BRAND:
                continue
            seen_models.add(model_name)
            per_brand[brand_key] += 1
            reason = reasons.get(int(i)) or _default_reason(view, product)
            picked.append(Recommendation(product, float(scores[i]), reason))
            if len(picked) >= k:
                break
        return picked


def _normalise(values: np.ndarray) -> np.ndarray:
    top = float(np.max(values)) if len(values) else 0.0
    return values / top if top > 0 else values


def _default_reason(view: CatalogView, product: dict[str, Any]) -> str:
    if product["rating"] >= 4.8:
        return f"{product['category']}里好评率很高（{product['rating']}分）"
    return f"近期热销的{product['category']}"

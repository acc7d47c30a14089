"""Collaborative-filtering models, one class per algorithm (benfred/implicit style).

All share :class:`Recommender`: ``fit(user_items)``, ``recommend(user_ids,
user_items, n, filter_already_liked, item_filter)``, ``similar_items``, plus
``fit_sequences`` / ``recommend_sequences`` for ordered histories, which the
evaluation runner uses for every model.
"""

from __future__ import annotations

from recommender.cf.als import ALS
from recommender.cf.base import Fold, Histories, Recommender, to_user_items, top_n
from recommender.cf.ease import EASE
from recommender.cf.itemknn import ItemKNN
from recommender.cf.popularity import Popularity
from recommender.cf.session_blend import SessionBlend

MODELS: dict[str, type[Recommender]] = {
    "pop": Popularity,
    "itemknn": ItemKNN,
    "als": ALS,
    "ease": EASE,
    "best": SessionBlend,
}
MODEL_NAMES = tuple(MODELS)


def build_model(name: str, seed: int = 42) -> Recommender:
    """A fresh model by its CLI name (``pop``, ``itemknn``, ``als``, ``ease``, ``best``)."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    model_class = MODELS[name]
    return model_class(seed=seed) if model_class in (ALS, SessionBlend) else model_class()


__all__ = [
    "ALS",
    "EASE",
    "Fold",
    "MODEL_NAMES",
    "MODELS",
    "Histories",
    "ItemKNN",
    "Popularity",
    "Recommender",
    "SessionBlend",
    "build_model",
    "to_user_items",
    "top_n",
]

"""Collaborative-filtering models, one class per algorithm (benfred/implicit style).

All share :class:`Recommender`: ``fit(user_items)``, ``recommend(user_ids,
user_items, n, filter_already_liked, item_filter)``, ``similar_items``,
``save(path)`` / ``load(path)``, plus ``fit_sequences`` /
``recommend_sequences`` for ordered histories, which the evaluation runner
uses for every model. ``served`` (:class:`ServedRanker`) is what the shop
serves and what the benchmark publishes: a :class:`SessionBlend` (its
collaborative part, also measured alone) under the shop's catalog layer. The
others are baselines; ``spark_als`` is ``als`` fitted by Spark MLlib (the
optional extra ``spark``), for logs too large for one process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recommender.cf.als import ALS
from recommender.cf.base import Fold, Histories, Recommender, npz_path, to_user_items, top_n
from recommender.cf.ease import EASE
from recommender.cf.itemknn import ItemKNN
from recommender.cf.popularity import Popularity
from recommender.cf.served import ItemFacts, ServedRanker
from recommender.cf.session_blend import SessionBlend
from recommender.cf.spark_als import SparkALS

MODELS: dict[str, type[Recommender]] = {
    "pop": Popularity,
    "itemknn": ItemKNN,
    "als": ALS,
    "spark_als": SparkALS,
    "ease": EASE,
    "session_blend": SessionBlend,
    "served": ServedRanker,
}
MODEL_NAMES = tuple(MODELS)
SERVED_MODEL = ServedRanker.name


def build_model(name: str, seed: int = 42) -> Recommender:
    """A fresh model by its CLI name (one of ``MODEL_NAMES``)."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    model_class = MODELS[name]
    seeded = model_class in (ALS, SparkALS, SessionBlend, ServedRanker)
    return model_class(seed=seed) if seeded else model_class()


def load_model(path: str | Path) -> Recommender:
    """Whatever model ``save`` wrote to ``path``."""
    with np.load(npz_path(path), allow_pickle=False) as saved:
        name = str(saved["model"]) if "model" in saved.files else ""
    if name not in MODELS:
        raise ValueError(f"{path}: not a saved model of {', '.join(MODEL_NAMES)}")
    return MODELS[name].load(path)


__all__ = [
    "ALS",
    "EASE",
    "Fold",
    "MODEL_NAMES",
    "MODELS",
    "SERVED_MODEL",
    "Histories",
    "ItemFacts",
    "ItemKNN",
    "Popularity",
    "Recommender",
    "ServedRanker",
    "SessionBlend",
    "SparkALS",
    "build_model",
    "load_model",
    "to_user_items",
    "top_n",
]

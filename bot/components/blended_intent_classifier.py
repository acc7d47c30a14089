"""Rasa 3.6 intent classifier that blends DIET's intent ranking with a lexical + semantic model
(char n-grams and a multilingual-E5 sentence vector, see lexical_semantic_model.py).

Place it after DIETClassifier and the entity extractors and before FallbackClassifier: it trains
its own model on the intent examples, and at run time replaces `intent` and `intent_ranking`
with the weighted average of its probabilities and DIET's ranking, so the fallback sees the
blended confidence. A confident DIET answer to a question about a named or pointed-at product or
order (`trusted_intents`, `trust_diet_above`, `anchor_entities`) stands as it is: the E5 vector,
most of this component's cost, is skipped for it.
Reference it as `bot.components.blended_intent_classifier.BlendedIntentClassifier`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.e5_encoder import (
    TEXT_EMBEDDING,
    encode_queries,
    encode_with_cache,
    load_encoder,
    pack,
)
from bot.components.lexical_semantic_model import LexicalSemanticModel, blend, diet_suffices

log = logging.getLogger(__name__)
CONFIDENCE = "confidence"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class BlendedIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression on n-grams + E5, averaged with DIET's intent ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "diet_weight": 0.2,
            "e5_weight": 2.0,
            "C": 30.0,
            "num_threads": 1,
            "trusted_intents": [],  # none: every message is blended
            "trust_diet_above": 1.0,
            "anchor_entities": ["product", "mention", "order_id"],
            # the training texts' E5 vectors computed beside DIET's training (daogou/prewarm.py)
            "query_cache": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LexicalSemanticModel | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        if not 0.0 <= float(self._config["diet_weight"]) <= 1.0:
            raise ValueError("diet_weight must be between 0 and 1")
        self._storage = model_storage
        self._resource = resource
        self._model = model
        self._encoder = load_encoder(int(self._config["num_threads"]))
        self._trusted_intents = frozenset(self._config["trusted_intents"])
        self._anchor_entities = frozenset(self._config["anchor_entities"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BlendedIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BlendedIntentClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                model = LexicalSemanticModel.load(folder)
        except (ValueError, FileNotFoundError):
            log.warning("no trained blended intent model; DIET's intents are used as they are")
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        texts = [e.get(TEXT) for e in examples]
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            return self._resource
        self._model = LexicalSemanticModel.fit(
            texts,
            labels,
            self._encoder,
            e5_weight=float(self._config["e5_weight"]),
            c=float(self._config["C"]),
            embeddings=encode_with_cache(self._encoder, texts, self._config["query_cache"]),
        )
        with self._storage.write_to(self._resource) as folder:
            self._model.save(folder)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        featurizable = [m for m in messages if m.get(TEXT) and not self._diet_suffices(m)]
        if not featurizable:
            return messages
        texts = [m.get(TEXT) for m in featurizable]
        embeddings = encode_queries(self._encoder, texts)
        probabilities = self._model.predict_proba(texts, self._encoder, embeddings)
        for message, row, vector in zip(featurizable, probabilities, embeddings, strict=True):
            message.set(TEXT_EMBEDDING, pack(vector), add_to_output=True)  # reused by search
            ours = dict(zip(self._model.labels, map(float, row), strict=True))
            diet = {
                item[INTENT_NAME_KEY]: float(item[CONFIDENCE])
                for item in message.get(INTENT_RANKING_KEY) or []
                if item.get(INTENT_NAME_KEY)
            }
            ranking = blend(ours, diet, float(self._config["diet_weight"]))[:LABEL_RANKING_LENGTH]
            name, confidence = ranking[0]
            message.set(INTENT, {INTENT_NAME_KEY: name, CONFIDENCE: confidence}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: n, CONFIDENCE: c} for n, c in ranking],
                add_to_output=True,
            )
        return messages

    def _diet_suffices(self, message: Message) -> bool:
        return diet_suffices(
            message.get(INTENT_RANKING_KEY) or [],
            message.get(ENTITIES) or [],
            self._trusted_intents,
            self._anchor_entities,
            float(self._config["trust_diet_above"]),
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

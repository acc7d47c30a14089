"""Rasa's ResponseSelector, run only for messages whose answer could come from it.

See response_selection_rule.py for the rule. Trained, stored and scored exactly like ResponseSelector;
reference it as `bot.components.gated_response_selector.GatedResponseSelector`, after the intent
classifiers (it reads their ranking) and before the FallbackClassifier.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.components.response_selection_rule import needs_response_selection


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class GatedResponseSelector(ResponseSelector):
    """ResponseSelector that skips messages confidently of a non-retrieval intent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Never below the FallbackClassifier's threshold (0.4) and ambiguity_threshold (0.08).
        return {**ResponseSelector.get_default_config(), "sure": 0.5, "margin": 0.1}

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval = set(getattr(self, "all_retrieval_intents", None) or [])
        selected = [
            message
            for message in messages
            if needs_response_selection(
                message.get(INTENT_RANKING_KEY) or [],
                retrieval,
                float(self.component_config["sure"]),
                float(self.component_config["margin"]),
            )
        ]
        if selected:
            super().process(selected)
        return messages

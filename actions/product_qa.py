"""Questions about products: price, stock, any attribute, comparisons and compatibility.

The actions only: their logic, and where they hand a turn to another skill, is in
actions/shopping.py (the texts in actions/facts.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import shopping
from actions.turn import Reply


class ActionAnswerAttribute(Action):
    def name(self) -> str:
        return "action_answer_attribute"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return shopping.answer_attribute(Reply(dispatcher, self.name()), tracker)


class ActionCompareProducts(Action):
    def name(self) -> str:
        return "action_compare_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return shopping.compare_products(Reply(dispatcher, self.name()), tracker)


class ActionCheckCompatibility(Action):
    def name(self) -> str:
        return "action_check_compatibility"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return shopping.check_compatibility(Reply(dispatcher, self.name()), tracker)

"""Finding products: search with hard filters, refinement of the last search, similar products.

The actions only: their logic, and where they hand a turn to another skill, is in
actions/shopping.py, whose answer functions name the skill that answered in every message.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import shopping
from actions.turn import Reply


class ActionSearchProducts(Action):
    def name(self) -> str:
        return "action_search_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return shopping.search_products(Reply(dispatcher, self.name()), tracker)


class ActionRefineSearch(Action):
    """「有没有便宜点的」「换个牌子」「要白色的」: changes the last search instead of starting over."""

    def name(self) -> str:
        return "action_refine_search"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return shopping.refine_search(Reply(dispatcher, self.name()), tracker)


class ActionShowSimilar(Action):
    """「有没有类似的」: same series and alternatives from the graph, then nearest by meaning."""

    def name(self) -> str:
        return "action_show_similar"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return shopping.show_similar(Reply(dispatcher, self.name()), tracker)

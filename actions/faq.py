"""Shop-policy answers (faq/...), made specific to the product the shopper is asking about.

The action only: what it says is in actions/policy_answers.py. A policy topic that is really a
request for products (「想要个能带上飞机的充电宝」) is handed to the search.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import policy_answers, runtime, shopping
from actions.turn import Reply


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        if policy_answers.asks_for_products(runtime.view(), tracker):
            return shopping.search_products(reply, tracker)
        return policy_answers.answer_faq(reply, tracker)

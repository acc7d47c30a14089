"""The first stage of the two-stage fallback, in Chinese: "您是想……吗？" with buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime, state
from knowledge_graph import qa

INTENT_DESCRIPTIONS = {
    "search_product": "找商品",
    "ask_attribute": "问商品的价格或参数",
    "compare_products": "对比两款商品",
    "ask_recommendation": "让我帮您挑选推荐",
    "ask_similar": "看看类似的商品",
    "ask_stock": "问有没有货",
    "refine_search": "调整刚才的筛选条件",
    "ask_compatibility": "问配件适不适配",
    "order_status": "查订单",
    "request_human": "转人工客服",
    "faq": "问售后政策（运费、退换货、保修、发票）",
    "feedback": "给我们提意见",
}
SKIPPED = {
    "nlu_fallback",
    "out_of_scope",
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "chitchat",
    "inform",
}


class ActionDefaultAskAffirmation(Action):
    def name(self) -> str:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if names_a_product_and_asks(tracker):
            # 「OPPO findn3 512G有货吗」 with a model the NLU has not seen: the graph knows the
            # product and the question, so answer it, and leave the fallback loop.
            from actions.product_qa import ActionAnswerAttribute

            events = ActionAnswerAttribute().run(dispatcher, tracker, domain)
            return [*events, ActiveLoop(None)]
        ranking = tracker.latest_message.get("intent_ranking") or []
        guesses = [
            r["name"]
            for r in ranking
            if r.get("name") in INTENT_DESCRIPTIONS and r["name"] not in SKIPPED
        ][:2]
        if not guesses:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        buttons = [{"title": INTENT_DESCRIPTIONS[name], "payload": f"/{name}"} for name in guesses]
        buttons.append({"title": "都不是", "payload": "/out_of_scope"})
        dispatcher.utter_message(text="不好意思，我不太确定您的意思，您是想：", buttons=buttons)
        return []


def names_a_product_and_asks(tracker: Tracker) -> bool:
    """A message that names a catalog product and asks one of the questions the graph answers
    (price, stock, an attribute, a size or a colour), whatever the NLU made of it."""
    view = runtime.view()
    text = state.text_of(tracker)
    mentions = view.linker.link(text)
    if not any(m.kind == "product" for m in mentions):
        return False
    plain = qa.masked(text, mentions)
    return bool(qa.asked_fields(view, text) or qa.asked_size(plain) or qa.asked_colour(view, plain))

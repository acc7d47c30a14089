"""Unclear messages (nlu_fallback) and the talk around shopping: what the graph can still read
in the message is answered; otherwise the likeliest next steps for this conversation, or
"您是想……吗？" with buttons. Greetings, small talk and thanks mid-choice lead back to it."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime, shopping, state
from actions.context import answer_followup
from actions.guidance import budget_buttons, next_steps, where_we_are
from actions.listing import asks_cheaper
from actions.turn import Reply
from knowledge_graph import qa
from search import query

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
        reply = Reply(dispatcher, self.name())
        followed = answer_followup(reply, tracker, runtime.view())
        if followed is None:
            followed = answer_what_it_says(reply, tracker)
        if followed is not None:
            return followed  # answered after all: the turn's slots stay (bot/data/rules.yml)
        view = runtime.view()
        steps = next_steps(view, tracker)
        hint = where_we_are(view, tracker)
        if steps or hint:
            # Unclear, but the conversation has a thread: back to it, with the likeliest steps.
            text = state.text_of(tracker)[:20]
            reply.utter_message(
                text=f"不好意思，我没太明白「{text}」的意思。"
                + (hint or "您是想接着刚才的继续吗？可以点下面的选项，或者换个说法告诉我："),
                buttons=[{"title": t, "payload": p} for t, p in steps],
            )
            return []
        ranking = tracker.latest_message.get("intent_ranking") or []
        guesses = [
            r["name"]
            for r in ranking
            if r.get("name") in INTENT_DESCRIPTIONS and r["name"] not in SKIPPED
        ][:2]
        if not guesses:
            reply.utter_message(response="utter_ask_rephrase")
            return []
        buttons = [{"title": INTENT_DESCRIPTIONS[name], "payload": f"/{name}"} for name in guesses]
        buttons.append({"title": "都不是", "payload": "/out_of_scope"})
        reply.utter_message(text="不好意思，我不太确定您的意思，您是想：", buttons=buttons)
        return []


class ActionOutOfScope(Action):
    """「特仑苏多少钱一箱」 judged out of scope by the NLU still names a product: answer it. Only a
    message with nothing the shop can act on gets the polite 「帮不上忙」."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        answered = answer_what_it_says(reply, tracker)
        if answered is not None:
            return answered
        view = runtime.view()
        steps = next_steps(view, tracker)
        hint = where_we_are(view, tracker)
        if steps or hint:
            # 「？」 in the middle of choosing: back to the products on the table
            reply.utter_message(
                text="这个我可能帮不上～"
                + (hint or "要不接着看看刚才的？也可以直接告诉我预算或用途："),
                buttons=[{"title": t, "payload": p} for t, p in steps],
            )
            return []
        reply.utter_message(response="utter_out_of_scope")
        return []


def answer_what_it_says(reply: Reply, tracker: Tracker) -> list[dict[str, Any]] | None:
    """What the graph can answer whatever the NLU made of the message: a product and a question
    about it, a request with a category or kind (「电饭煲 300以内」), or, after a list, a
    constraint on it (「要速干的」「华为的有吗」). None when the message has none of these."""
    if shopping.names_a_product_and_asks(tracker):
        # 「OPPO findn3 512G有货吗」 with a model the NLU has not seen
        return shopping.answer_attribute(reply, tracker)
    view = runtime.view()
    text = state.text_of(tracker)
    filters = query.filters_from(view, text, state.entities(tracker))
    if qa.product_refs(view, text):
        return shopping.answer_attribute(reply, tracker)
    base = state.last_filters(tracker)
    if shopping.constrains_last_search(view, tracker, filters, []):
        return shopping.refine_search(reply, tracker)  # 「要头戴式的」 on the list
    if base is not None and base.category and not filters.category:
        wanted = query.requirements_in(view, text, base.category)
        if (
            wanted
            or filters.brands
            or filters.colour
            or filters.size
            or filters.gender
            or (filters.min_price or filters.max_price)
            or asks_cheaper(text)  # 「就想要个好看的 别太贵」
        ):
            return shopping.refine_search(reply, tracker)
    if filters.category or filters.kind:
        return shopping.search_products(reply, tracker)
    return None


class ActionGreet(Action):
    """「你好」 opens a conversation; 「哈哈哈」 in the middle of one goes back to it."""

    def name(self) -> str:
        return "action_greet"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        hint = where_we_are(runtime.view(), tracker)
        if hint:
            reply.utter_message(text=f"😊 我在呢～{hint}")
        else:
            reply.utter_message(response="utter_greet")
        return []


class ActionWhereWeAre(Action):
    """After small talk (weather, a joke), one line back to the shopping, when there is one."""

    def name(self) -> str:
        return "action_where_we_are"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        hint = where_we_are(runtime.view(), tracker)
        if hint:
            reply.utter_message(text=hint)
        return []


_EXCLUDE = re.compile(r"不要|除了|别要|不考虑|排除|不喜欢|去掉")
_VAGUE = re.compile(r"那个|那种|就是|啥来着|叫什么|怎么说")


class ActionAcknowledge(Action):
    """「嗯」「好的」「不要」 answer whatever was just said: the next step for this conversation
    (its budget, a pick from the list), or 「不要红魔」 as a refinement, not a stock phrase."""

    def name(self) -> str:
        return "action_acknowledge"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        view = runtime.view()
        text = state.text_of(tracker)
        last = state.last_filters(tracker)
        brands = [m.value for m in view.linker.link(text) if m.kind == "brand"]
        if brands and last is not None and _EXCLUDE.search(text):
            return shopping.refine_search(reply, tracker)  # 「不要红魔」
        denied = state.intent_of(tracker) == "deny"
        steps = next_steps(view, tracker)
        if last is not None and last.category and not denied and last.max_price is None:
            buttons = budget_buttons(view, last.category)
            reply.utter_message(
                text=f"好的～{last.category}的预算大概多少呢？告诉我价位和用途，我帮您挑得更准。",
                buttons=[{"title": t, "payload": p} for t, p in buttons],
            )
        elif steps and denied:
            reply.utter_message(
                text="好的，那换一批看看？告诉我更看重的地方（预算、品牌、用途），我重新帮您找。",
                buttons=[
                    {"title": t, "payload": t} for t in ("有没有便宜点的", "换个牌子", "转人工")
                ],
            )
        elif steps:
            reply.utter_message(
                text="好的～您看中哪一款了吗？可以接着问，也可以告诉我预算或用途帮您再缩小范围：",
                buttons=[{"title": t, "payload": p} for t, p in steps],
            )
        elif _VAGUE.search(text) and len(text) > 4:
            # 「有没有那种 就是 可以 嗯 放在桌上的 那个」: they are looking for words; help them
            reply.utter_message(
                text="没关系，慢慢说～您想找的是哪一类东西呢？说说它是干什么用的、大概什么样子，"
                "或者在哪儿用，我帮您找。",
                buttons=[{"title": c, "payload": f"看看{c}"} for c in _BROWSE],
            )
        else:
            reply.utter_message(response="utter_deny" if denied else "utter_affirm")
        return []


_BROWSE = ("小家电", "手机", "耳机", "护肤品")

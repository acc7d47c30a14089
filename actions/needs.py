"""The needs dialogue for undecided shoppers: category, budget and use, asked only when missing."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime, shopping, state
from actions.context import answer_followup
from actions.guidance import budget_buttons
from actions.listing import (
    BROWSING,
    accessories_of_focus,
    describe,
    implied_category,
    ranked,
    show_popular,
    show_results,
)
from actions.turn import Reply
from knowledge_graph import qa
from knowledge_graph.scenes import SCENES, hobby_of, is_gift, scene_of
from search import query

ANY = "不限"
# Intents whose words can answer the dialogue's questions (not 「今天天气怎么样」 or 「哈哈」).
ANSWERS = frozenset({"inform", "search_product", "ask_recommendation", "refine_search"})
NUDGES = {
    "need_category": "还没看出您想买哪一类商品～",
    "need_budget": "还没看到预算哦，说个大概的价位就行，没想好也可以选「都行」。",
    "need_scene": "还没看出主要用途～",
}
_WORDS = re.compile(r"[\u4e00-\u9fffA-Za-z]{2,}")
_ANYTHING = re.compile(r"随便|都行|都可以|无所谓|不限|没要求|不挑|看着办|你定|没想好|不知道")


def budget_of(tracker: Tracker) -> str | None:
    """ "min-max" in yuan (either side may be empty) from the NLU's price entities."""
    view = runtime.view()
    filters = query.filters_from(view, state.text_of(tracker), state.entities(tracker))
    if filters.min_price is None and filters.max_price is None:
        return None
    low = "" if filters.min_price is None else str(int(filters.min_price))
    high = "" if filters.max_price is None else str(int(filters.max_price))
    return f"{low}-{high}"


class ValidateNeedsForm(FormValidationAction):
    def name(self) -> str:
        return "validate_needs_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        requested = tracker.get_slot("requested_slot")
        filled = {e["name"] for e in events if e.get("event") == "slot" and e.get("value")}
        if requested and requested not in filled and state.text_of(tracker):
            # Nothing for the question asked: say so (the form then asks again) instead of
            # letting Rasa reject the form, which left the shopper without any reply.
            Reply(dispatcher, self.name()).utter_message(text=NUDGES[requested])
            events.append(SlotSet(requested, None))
        return events

    async def extract_need_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        view = runtime.view()
        text = state.text_of(tracker)
        filters = query.filters_from(view, text, [])
        if filters.category:
            return {"need_category": filters.category}
        if (
            tracker.get_slot("requested_slot") == "need_category"
            # what someone likes answers the question whatever the classifier made of it
            and (state.intent_of(tracker) in ANSWERS or hobby_of(text))
            and not _ANYTHING.search(text)
        ):
            # 「她喜欢化妆」: the category most of the best matches share (彩妆)
            wanted = " ".join([hobby_of(text) or text, *SCENES.get(scene_of(text) or "", ())])
            implied = implied_category(ranked(view, wanted, filters, k=20), filters)
            if implied:
                # What they like is also what it is for; picks come now, the budget as buttons.
                found = {"need_category": implied}
                if not tracker.get_slot("need_scene"):
                    found["need_scene"] = text[:30]
                if not tracker.get_slot("need_budget"):
                    found["need_budget"] = ANY
                return found
        return {}

    async def extract_need_budget(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        budget = budget_of(tracker)
        if budget:
            return {"need_budget": budget}
        if tracker.get_slot("requested_slot") == "need_budget" and _ANYTHING.search(
            state.text_of(tracker)
        ):
            return {"need_budget": ANY}
        return {}

    async def extract_need_scene(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = state.text_of(tracker)
        scene = scene_of(text) or next(iter(state.entity_values(tracker, "scene")), None)
        if scene:
            return {"need_scene": scene}
        tags = query.tags_in(runtime.view(), text)
        if tags:
            return {"need_scene": "、".join(tags[:2])}
        if tracker.get_slot("requested_slot") == "need_scene":
            if _ANYTHING.search(text):
                return {"need_scene": ANY}
            terms = [m.text for m in runtime.view().linker.link(text) if m.kind == "attribute"]
            if terms:
                return {"need_scene": "、".join(terms)}
            if _WORDS.search(text) and state.intent_of(tracker) in ANSWERS:
                return {"need_scene": text[:30]}  # what they said about the use is the query
        return {}


class ActionRecommend(Action):
    """「推荐几款华为手机 三千左右」 says enough to show products; 「帮我挑个手机」 starts the needs
    dialogue, which then asks only for what is missing."""

    def name(self) -> str:
        return "action_recommend"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        view = runtime.view()
        followed = answer_followup(reply, tracker, view)
        if followed is not None:
            return followed
        text = state.text_of(tracker)
        filters = query.filters_from(view, text, state.entities(tracker))
        if shopping.constrains_last_search(view, tracker, filters, qa.product_refs(view, text)):
            return shopping.refine_search(reply, tracker)  # 「华为的有吗」
        wishes = [scene_of(text) or "", *query.tags_in(view, text)]
        has_budget = filters.min_price is not None or filters.max_price is not None
        has_wish = has_budget or filters.colour or filters.brands or filters.attributes
        enough_in_category = filters.category and (has_budget or filters.brands or any(wishes))
        # 「送女朋友的礼物 她喜欢粉色 300以内」: enough to show gifts now, across categories
        enough_for_a_gift = (
            not filters.category and has_wish and (any(wishes) or is_gift(scene_of(text)))
        )
        if enough_in_category or enough_for_a_gift:
            wanted = " ".join([text, *SCENES.get(wishes[0], ()), *wishes[1:]])
            verb = "推荐" if filters.category else "先挑了"
            lead = f"按您说的要求（{describe(filters)}），{verb}这几款："
            return show_results(reply, tracker, view, filters, wanted, lead=lead)
        accessories_of_focus(view, tracker, filters)
        if filters.is_empty() and BROWSING.search(text):
            return show_popular(reply, tracker)  # 「来点好玩的推荐呗」: no need to interrogate
        if filters.category:
            # 「推荐几款耳机」: show good picks now; budget and use become quick replies.
            return show_results(
                reply,
                tracker,
                view,
                filters,
                text,
                lead=f"先给您推荐几款口碑好的{filters.category}，也可以告诉我预算和用途帮您缩小范围：",
                buttons=budget_buttons(view, filters.category),
            )
        return [FollowupAction("needs_form")]


class ActionNeedsResults(Action):
    """Ends the needs dialogue with ranked products, then clears it for the next time."""

    def name(self) -> str:
        return "action_needs_results"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = Reply(dispatcher, self.name())
        view = runtime.view()
        category = tracker.get_slot("need_category")
        budget = tracker.get_slot("need_budget") or ANY
        scene = tracker.get_slot("need_scene") or ANY
        filters = qa.SearchFilters(category=category)
        if budget != ANY and "-" in budget:
            low, high = budget.split("-", 1)
            filters.min_price = float(low) if low else None
            filters.max_price = float(high) if high else None
        tags = SCENES.get(scene, ()) if scene != ANY else ()
        wanted = " ".join([category or "", scene if scene != ANY else "", *tags]).strip()
        lead = f"根据您的需求（{category or '商品'}，预算{_budget_text(budget)}，{_scene_text(scene)}），为您挑了这几款："
        buttons = None
        if budget == ANY and category:
            lead = (
                f"按{_scene_text(scene)}，先挑了这几款口碑好的{category}；说个预算，我再帮您调整："
            )
            buttons = budget_buttons(view, category)
        events = show_results(reply, tracker, view, filters, wanted, lead=lead, buttons=buttons)
        return [
            *events,
            SlotSet("need_category", None),
            SlotSet("need_budget", None),
            SlotSet("need_scene", None),
        ]


def _budget_text(budget: str) -> str:
    if budget == ANY or "-" not in budget:
        return "不限"
    low, high = budget.split("-", 1)
    if low and high:
        return f"{low}到{high}元"
    return f"{high}元以内" if high else f"{low}元以上"


def _scene_text(scene: str) -> str:
    return "用途不限" if scene == ANY else f"用途：{scene}"

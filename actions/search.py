"""Product search with hard filters from the text: category, brand, price range, colour."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.formatting import quick_replies, send_products, yuan
from knowledge_graph import qa

SHOWN = 5


def describe(filters: qa.SearchFilters) -> str:
    parts = []
    if filters.brands:
        parts.append("、".join(filters.brands))
    if filters.colour:
        parts.append(filters.colour)
    if filters.min_price is not None and filters.max_price is not None:
        parts.append(f"{yuan(filters.min_price)}到{yuan(filters.max_price)}")
    elif filters.max_price is not None:
        parts.append(f"{yuan(filters.max_price)}以内")
    elif filters.min_price is not None:
        parts.append(f"{yuan(filters.min_price)}以上")
    parts.append(filters.category or "商品")
    return "的".join(parts[:-1]) + ("的" if len(parts) > 1 else "") + parts[-1]


class ActionSearchProducts(Action):
    def name(self) -> str:
        return "action_search_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        text = tracker.latest_message.get("text") or ""
        filters = qa.filters_from(view, text, tracker.latest_message.get("entities", []))
        if filters.is_empty() and not filters.terms:
            dispatcher.utter_message(
                text="想看看哪一类商品呢？告诉我品类和预算，我帮您挑。",
                buttons=[
                    {"title": c, "payload": f"看看{c}"}
                    for c in ("手机", "笔记本电脑", "耳机", "护肤品")
                ],
            )
            return []
        found = qa.one_per_model(
            qa.rank_by_quality(qa.filter_products(view, filters), filters.terms)
        )
        if not found:
            dispatcher.utter_message(
                text=f"抱歉，暂时没有符合条件的{describe(filters)}。可以放宽一下预算或换个品牌试试。",
                buttons=[{"title": t, "payload": t} for t in ("预算高一点", "换个牌子", "转人工")],
            )
            return []
        shown = found[:SHOWN]
        send_products(
            dispatcher,
            f"为您找到 {len(found)} 款{describe(filters)}，先看看这几款：",
            shown,
            quick_replies("第一个怎么样", "有没有便宜点的", "对比一下前两个"),
        )
        return [SlotSet("shown_products", [p["sku"] for p in shown])]

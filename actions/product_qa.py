"""Answers questions about one product: price, stock, rating and any attribute in the graph."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.formatting import quick_replies, send_products, yuan
from knowledge_graph import qa
from knowledge_graph.graph import format_value
from knowledge_graph.service import CatalogView

SUMMARY_KEYS = 4  # attributes listed when the shopper asks about a product without saying what


def entity_values(tracker: Tracker, name: str) -> list[str]:
    return [
        str(e.get("value"))
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == name
    ]


def describe_field(
    view: CatalogView, product: dict[str, Any], variants: list[dict[str, Any]], field: str
) -> str:
    if field == "price":
        prices = sorted({v["price"] for v in variants})
        if len(prices) > 1:
            return f"{product['model'] or product['title']} 售价 {yuan(prices[0])} 起，最高配 {yuan(prices[-1])}"
        return f"{product['title']} 售价 {yuan(product['price'])}"
    if field == "stock":
        in_stock = [v for v in variants if v["stock"] > 0]
        if not in_stock:
            return f"{product['title']} 暂时缺货"
        return f"{product['title']} 有货（库存 {sum(v['stock'] for v in in_stock)} 件）"
    if field == "rating":
        return f"{product['title']} 的评分是 {product['rating']} 分（满分 5 分）"
    value = product["attributes"].get(field)
    if value is None:
        return f"{product['title']} 没有「{field}」这项参数"
    spec = view.graph.attribute_spec(product["category"], field)
    return f"{product['title']} 的{field}：{format_value(value, spec.unit if spec else None)}"


def summary(view: CatalogView, product: dict[str, Any]) -> str:
    parts = []
    for key, value in list(product["attributes"].items())[:SUMMARY_KEYS]:
        spec = view.graph.attribute_spec(product["category"], key)
        parts.append(f"{key} {format_value(value, spec.unit if spec else None)}")
    details = "，".join(parts)
    return f"{product['title']} 售价 {yuan(product['price'])}，{details}。"


class ActionAnswerAttribute(Action):
    def name(self) -> str:
        return "action_answer_attribute"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        text = tracker.latest_message.get("text") or ""
        refs = qa.product_refs(view, text, entity_values(tracker, "product"))
        focus = tracker.get_slot("product_focus")
        if refs:
            skus = list(refs[0].skus)
        elif focus and focus in view.graph.products:
            skus = [focus]
        else:
            return self._unknown_product(dispatcher, view, text, entity_values(tracker, "product"))
        variants = [view.graph.products[s] for s in skus if s in view.graph.products]
        product = qa.representative(view, skus)
        fields = qa.asked_fields(view, text)
        if fields:
            answer = "；".join(describe_field(view, product, variants, f) for f in fields) + "。"
        else:
            answer = summary(view, product)
        send_products(
            dispatcher,
            answer,
            [product],
            quick_replies("还有货吗", "有没有类似的", "推荐个配件"),
        )
        return [
            SlotSet("product_focus", product["sku"]),
            SlotSet("shown_products", [product["sku"]]),
        ]

    @staticmethod
    def _unknown_product(
        dispatcher: CollectingDispatcher, view: CatalogView, text: str, named: list[str]
    ) -> list[dict[str, Any]]:
        guess = named[0] if named else text
        suggestions = view.linker.suggest(guess)
        if suggestions:
            dispatcher.utter_message(
                text=f"抱歉，没有找到您说的这款商品。您是不是想问：{'、'.join(suggestions)}？",
                buttons=[{"title": s, "payload": f"{s}多少钱"} for s in suggestions],
            )
        else:
            dispatcher.utter_message(
                text="抱歉，没有找到您说的这款商品。可以告诉我品牌和型号吗？比如「华为Mate60 Pro多少钱」。"
            )
        return []

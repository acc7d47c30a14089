"""Questions about products: price, stock, any attribute, comparisons and compatibility."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime, state
from actions.formatting import quick_replies, send_products, yuan
from knowledge_graph import qa
from knowledge_graph.graph import Comparison, format_value
from knowledge_graph.service import CatalogView

SUMMARY_KEYS = 4  # attributes listed when the shopper names a product without a question


def targets(view: CatalogView, tracker: Tracker) -> list[list[str]]:
    """Products the message is about, each as its variant SKUs: named ones, then 「第二个」「这款」."""
    text = state.text_of(tracker)
    groups = [
        list(r.skus) for r in qa.product_refs(view, text, state.entity_values(tracker, "product"))
    ]
    referenced = qa.resolve_references(
        text, state.shown(tracker), state.focus(tracker), state.previous_focus(tracker)
    )
    groups += [
        [sku]
        for sku in referenced
        if sku in view.graph.products and not any(sku in g for g in groups)
    ]
    if not groups and state.focus(tracker) in view.graph.products:
        groups = [[state.focus(tracker)]]
    return groups


def describe_field(
    view: CatalogView, product: dict[str, Any], variants: list[dict[str, Any]], field: str
) -> str:
    name = product["title"]
    if field == "price":
        prices = sorted({v["price"] for v in variants})
        if len(prices) > 1:
            return f"{product.get('model') or name} 售价 {yuan(prices[0])} 起，最高配 {yuan(prices[-1])}"
        return f"{name} 售价 {yuan(product['price'])}"
    if field == "stock":
        in_stock = [v for v in variants if v["stock"] > 0]
        if not in_stock:
            return f"{name} 暂时缺货，到货后可以第一时间通知您"
        return f"{name} 有货，库存 {sum(v['stock'] for v in in_stock)} 件"
    if field == "rating":
        return f"{name} 的评分是 {product['rating']} 分（满分 5 分）"
    value = product["attributes"].get(field)
    if value is None:
        return f"{name} 没有「{field}」这项参数"
    spec = view.graph.attribute_spec(product["category"], field)
    return f"{name} 的{field}是 {format_value(value, spec.unit if spec else None)}"


def summary(view: CatalogView, product: dict[str, Any]) -> str:
    parts = []
    for key, value in list(product["attributes"].items())[:SUMMARY_KEYS]:
        spec = view.graph.attribute_spec(product["category"], key)
        parts.append(f"{key} {format_value(value, spec.unit if spec else None)}")
    return f"{product['title']} 售价 {yuan(product['price'])}，{'，'.join(parts)}。"


def search_instead(
    dispatcher: CollectingDispatcher, tracker: Tracker, view: CatalogView
) -> list[dict[str, Any]] | None:
    """No product named but a category or brand is (「适合油皮的护肤品」): answer with a search."""
    from actions.search import show_results

    text = state.text_of(tracker)
    filters = qa.filters_from(view, text, state.entities(tracker))
    if not (filters.category or filters.brands):
        return None
    return show_results(dispatcher, tracker, view, filters, text)


def not_found(
    dispatcher: CollectingDispatcher, view: CatalogView, tracker: Tracker
) -> list[dict[str, Any]]:
    named = state.entity_values(tracker, "product")
    suggestions = view.linker.suggest(named[0] if named else state.text_of(tracker))
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


class ActionAnswerAttribute(Action):
    def name(self) -> str:
        return "action_answer_attribute"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        groups = targets(view, tracker)
        if not groups:
            return search_instead(dispatcher, tracker, view) or not_found(dispatcher, view, tracker)
        fields = qa.asked_fields(view, state.text_of(tracker)) or self.default_fields(tracker)
        answers, shown = [], []
        for skus in groups[:3]:
            variants = [view.graph.products[s] for s in skus if s in view.graph.products]
            product = qa.representative(view, skus)
            shown.append(product)
            if fields:
                answers.append(
                    "；".join(describe_field(view, product, variants, f) for f in fields) + "。"
                )
            else:
                answers.append(summary(view, product))
        send_products(
            dispatcher,
            "\n".join(answers),
            shown,
            quick_replies("还有货吗", "有没有类似的", "推荐个配件"),
        )
        return state.showing([p["sku"] for p in shown], tracker, focus_sku=shown[0]["sku"])

    @staticmethod
    def default_fields(tracker: Tracker) -> list[str]:
        return (
            ["stock"] if tracker.latest_message.get("intent", {}).get("name") == "ask_stock" else []
        )


class ActionCompareProducts(Action):
    def name(self) -> str:
        return "action_compare_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        groups = targets(view, tracker)
        if len(groups) == 1 and state.focus(tracker) and state.focus(tracker) not in groups[0]:
            groups.insert(0, [state.focus(tracker)])
        if len(groups) < 2:
            dispatcher.utter_message(
                text="想对比哪两款呢？可以说「Mate60和小米14哪个续航好」，或者「对比一下前两个」。"
            )
            return []
        a, b = (qa.representative(view, g) for g in groups[:2])
        asked = [
            f for f in qa.asked_fields(view, state.text_of(tracker)) if f not in ("stock", "rating")
        ]
        comparison = view.graph.compare(a["sku"], b["sku"])
        text = compare_text(view, a, b, comparison, asked)
        send_products(
            dispatcher, text, [a, b], quick_replies("第一个有货吗", "第二个多重", "有没有更便宜的")
        )
        return state.showing([a["sku"], b["sku"]], tracker)


def compare_text(
    view: CatalogView,
    a: dict[str, Any],
    b: dict[str, Any],
    comparison: Comparison,
    asked: list[str],
) -> str:
    name_a, name_b = a.get("model") or a["title"], b.get("model") or b["title"]
    rows = {r.key: r for r in comparison.rows}
    asked_rows = [
        rows["价格" if f == "price" else f]
        for f in asked
        if ("价格" if f == "price" else f) in rows
    ]
    lines = []
    for row in asked_rows or [r for r in comparison.rows if r.better in ("a", "b")][:5]:
        spec = view.graph.attribute_spec(a["category"], row.key)
        unit = spec.unit if spec else ("元" if row.key == "价格" else None)
        lines.append(
            f"{row.key}：{name_a} {format_value(row.value_a, unit) if row.value_a is not None else '无'}，"
            f"{name_b} {format_value(row.value_b, unit) if row.value_b is not None else '无'}"
        )
    verdict = _verdict(name_a, name_b, asked_rows, comparison)
    return "\n".join([f"{name_a} 和 {name_b} 对比：", *lines, verdict])


def _verdict(name_a: str, name_b: str, asked_rows: list, comparison: Comparison) -> str:
    if asked_rows:
        row = asked_rows[0]
        if row.better == "a":
            return f"结论：{row.key}方面 {name_a} 更好。"
        if row.better == "b":
            return f"结论：{row.key}方面 {name_b} 更好。"
        if row.better == "same":
            return f"结论：两款的{row.key}一样。"
        return f"结论：{row.key}没有绝对的好坏，看您的喜好。"
    a_wins, b_wins = comparison.wins()
    if a_wins == b_wins:
        return "结论：两款各有所长，看您更看重哪一点。"
    better, worse = (name_a, name_b) if a_wins > b_wins else (name_b, name_a)
    return (
        f"结论：综合参数 {better} 占优（{max(a_wins, b_wins)} 项领先），{worse} 在其他方面有优势。"
    )


class ActionCheckCompatibility(Action):
    def name(self) -> str:
        return "action_check_compatibility"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        groups = targets(view, tracker)
        if state.focus(tracker) and not any(state.focus(tracker) in g for g in groups):
            groups.append([state.focus(tracker)])
        accessories = [g for g in groups if view.graph.products[g[0]]["category"] == "手机配件"]
        devices = [g for g in groups if view.graph.products[g[0]]["category"] != "手机配件"]
        if devices and not accessories:
            # 「iPhone 15的手机壳有吗」: no accessory named yet, so list the ones that fit.
            return self.fitting_accessories(dispatcher, tracker, view, devices[0])
        if not accessories or not devices:
            dispatcher.utter_message(text="请告诉我配件和机型，比如「这个壳iPhone 15能用吗」。")
            return []
        accessory = view.graph.products[accessories[0][0]]
        device = qa.representative(view, devices[0])
        device_skus = set(devices[0])
        fits = any(view.graph.is_compatible(accessory["sku"], s) for s in device_skus)
        if fits:
            text = f"可以的，{accessory['title']} 适配 {device.get('model') or device['title']}。"
            send_products(dispatcher, text, [accessory], quick_replies("还有货吗", "多少钱"))
            return state.showing([accessory["sku"]], tracker, focus_sku=accessory["sku"])
        return self.fitting_accessories(dispatcher, tracker, view, devices[0], accessory)

    @staticmethod
    def fitting_accessories(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        view: CatalogView,
        device_skus: list[str],
        refused: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        device = qa.representative(view, device_skus)
        compatible = [
            view.graph.products[s]
            for s, rel in view.graph.related(device["sku"], ["COMPATIBLE_WITH", "ACCESSORY_OF"])
            if view.graph.products[s]["category"] == "手机配件"
            and view.graph.products[s]["stock"] > 0
        ][:4]
        name = device.get("model") or device["title"]
        text = (
            f"抱歉，{refused['title']} 不适配 {name}。"
            if refused
            else f"适配 {name} 的配件有这些："
        )
        if refused and compatible:
            text += "这几款是适配的，您可以看看："
        if not compatible:
            text = (text if refused else "") + f"暂时没有适配 {name} 的在售配件。"
        send_products(dispatcher, text, compatible, quick_replies("第一个多少钱", "有没有便宜点的"))
        return state.showing([p["sku"] for p in compatible], tracker)

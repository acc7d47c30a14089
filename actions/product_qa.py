"""Questions about products: price, stock, any attribute, comparisons and compatibility."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime, state
from actions.context import answer_followup, pair
from actions.formatting import quick_replies, send_products, yuan
from knowledge_graph import context, qa
from knowledge_graph.graph import Comparison, format_value
from knowledge_graph.service import CatalogView

_ELLIPTICAL = re.compile(r"呢|咧|嘞|一样的问题|同样的问题")
SUMMARY_KEYS = 4  # attributes listed when the shopper names a product without a question
ACCESSORY = "手机配件"


def targets(view: CatalogView, tracker: Tracker) -> list[list[str]]:
    """Products the message is about, each as the SKUs of one model that fit what was written
    (one SKU when a variant was named): named ones, then 「第二个」「这款」, then the focus."""
    text = state.text_of(tracker)
    groups: list[list[str]] = []
    for ref in qa.product_refs(view, text, state.entity_values(tracker, "product")):
        groups += by_model(view, ref.skus)
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
    if len(groups) == 1 and len(groups[0]) == 1:
        groups = [sibling_named(view, groups[0][0], text)]
    return groups


def sibling_named(view: CatalogView, sku: str, text: str) -> list[str]:
    """「1T的多少」「256的有货吗」 about the phone in focus: the variant those words name."""
    siblings = view.graph.variants(sku)
    if len(siblings) < 2:
        return [sku]
    best = view.linker.resolver.best(siblings, "", text, expand=False)
    return list(best) if len(best) == 1 else [sku]


def by_model(view: CatalogView, skus: tuple[str, ...] | list[str]) -> list[list[str]]:
    """SKUs split by the model they belong to (two fitting cases are two products)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for sku in skus:
        product = view.graph.products.get(sku)
        if product is not None:
            key = (product["brand"], product.get("model") or sku)
            groups.setdefault(key, []).append(sku)
    return list(groups.values())


def variant_label(view: CatalogView, sku: str) -> str:
    return view.linker.resolver.variant_words(sku) or view.graph.products[sku]["title"]


def describe_field(
    view: CatalogView, product: dict[str, Any], variants: list[dict[str, Any]], field: str
) -> str:
    """One fact, for the variant named (one SKU) or for the whole model (several), saying so."""
    name = product["title"] if len(variants) <= 1 else product.get("model") or product["title"]
    if field == "price":
        prices = sorted({v["price"] for v in variants})
        if len(prices) > 1:
            return f"{name} 售价 {yuan(prices[0])} 起，最高配 {yuan(prices[-1])}"
        return f"{name} 售价 {yuan(product['price'])}"
    if field == "stock":
        return stock_text(view, name, variants)
    if field == "rating":
        return f"{name} 的评分是 {product['rating']} 分（满分 5 分）"
    key = view.graph.attribute_key(product["category"], field)
    value = product["attributes"].get(key) if key else None
    if value is None:
        known = "、".join(list(product["attributes"])[:6])
        return f"{name} 没有「{key or field}」这项参数，可以问我它的{known}"
    spec = view.graph.attribute_spec(product["category"], key)
    shown_value = format_value(value, spec.unit if spec else None)
    if len(variants) > 1 and len({str(v["attributes"].get(key)) for v in variants}) > 1:
        per_variant = "，".join(
            f"{variant_label(view, v['sku'])} {format_value(v['attributes'].get(key), spec.unit if spec else None)}"
            for v in variants
        )
        return f"{name} 的{key}：{per_variant}"
    return f"{name} 的{key}是 {shown_value}"


def stock_text(view: CatalogView, name: str, variants: list[dict[str, Any]]) -> str:
    if len(variants) == 1:
        stock = variants[0]["stock"]
        if stock <= 0:
            return f"{name} 暂时缺货，到货后可以第一时间通知您"
        return f"{name} 有货，库存 {stock} 件"
    parts = [
        f"{variant_label(view, v['sku'])} "
        + (f"有货 {v['stock']} 件" if v["stock"] > 0 else "暂时缺货")
        for v in sorted(variants, key=lambda v: v["price"])
    ]
    return f"{name} 各版本：{'，'.join(parts)}"


def size_answer(product: dict[str, Any], size: str) -> str:
    sizes = product["attributes"].get("尺码")
    if not sizes:
        return f"{product['title']} 不分尺码"
    listed = "、".join(str(s) for s in sizes)
    if qa.has_size(sizes, size):
        stock = "有货" if product["stock"] > 0 else "不过暂时缺货"
        return f"{product['title']} 有 {size} 码，{stock}（在售尺码：{listed}）"
    return f"抱歉，{product['title']} 没有 {size} 码，在售尺码：{listed}"


def colour_answer(product: dict[str, Any], colour: str) -> str:
    colours = product["attributes"].get("颜色")
    if not colours:
        return f"{product['title']} 没有可选颜色"
    listed = "、".join(str(c) for c in (colours if isinstance(colours, list) else [colours]))
    fitting = qa.colours_matching(colours, colour)
    if fitting:
        return f"有的，{product['title']} 有{'、'.join(fitting)}（全部颜色：{listed}）"
    return f"抱歉，{product['title']} 没有{colour}，现有颜色：{listed}"


def variant_buttons(view: CatalogView, skus: list[str]) -> list[tuple[str, str]]:
    """When the shopper named a model with several variants, its variants as quick replies."""
    if len(skus) < 2:
        return []
    product = view.graph.products[skus[0]]
    name = product.get("model") or product["title"]
    return [
        (variant_label(view, s), f"{name} {variant_label(view, s)} 多少钱")
        for s in sorted(skus, key=lambda s: view.graph.products[s]["price"])[:4]
    ]


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


def only_model_named(view: CatalogView, tracker: Tracker) -> list[list[str]]:
    """「小米充电宝多少钱」: a brand and a product kind that only one model has name that model."""
    text = state.text_of(tracker)
    filters = qa.filters_from(view, text, state.entities(tracker))
    if not (filters.brands and filters.category):
        return []
    kinds = [
        p
        for p in qa.filter_products(view, replace(filters, min_price=None, max_price=None))
        if (qa.kind_of(p) or "\0") in text
    ]
    models = by_model(view, [p["sku"] for p in kinds])
    return models if len(models) == 1 else []


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


def swapped_target(view: CatalogView, tracker: Tracker) -> list[list[str]] | None:
    """「那13呢」 after the iPhone 15: the iPhone 13's SKUs; [] when the shop has no such model;
    None when the message is not that kind of follow-up."""
    focus = state.focus(tracker)
    name = context.swapped_model_name(
        state.text_of(tracker), view.graph.products.get(focus) if focus else None
    )
    if name is None:
        return None
    refs = qa.product_refs(view, name)
    wanted = re.sub(r"\s+", "", name).lower()
    for ref in refs:
        model = (view.graph.products[ref.sku].get("model") or "").replace(" ", "").lower()
        if model == wanted or model.endswith(wanted):
            return by_model(view, ref.skus)
    return []


def not_carried(
    dispatcher: CollectingDispatcher, tracker: Tracker, view: CatalogView
) -> list[dict[str, Any]]:
    focus = view.graph.products[state.focus(tracker)]
    name = context.swapped_model_name(state.text_of(tracker), focus)
    siblings = sorted(
        {
            p.get("model")
            for p in view.graph.products.values()
            if p["brand"] == focus["brand"]
            and p["category"] == focus["category"]
            and p.get("model")
        }
    )[:4]
    dispatcher.utter_message(
        text=f"抱歉，店里暂时没有 {name}。{focus['brand']}的{focus['category']}在售的有：{'、'.join(siblings)}。",
        buttons=[{"title": m, "payload": f"{m}多少钱"} for m in siblings],
    )
    return []


class ActionAnswerAttribute(Action):
    def name(self) -> str:
        return "action_answer_attribute"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        followed = answer_followup(dispatcher, tracker, view)
        if followed is not None:
            return followed
        text = state.text_of(tracker)
        groups = targets(view, tracker)
        swapped = swapped_target(view, tracker)
        if swapped is not None:
            if not swapped:
                return not_carried(dispatcher, tracker, view)
            groups = swapped
        if len(groups) >= 2 and context.asks_which(text):
            # 「Bondi 8和Clifton 9哪个缓震好」: two products and a 「哪个」 is a comparison
            return ActionCompareProducts().run(dispatcher, tracker, domain)
        groups = groups or only_model_named(view, tracker)
        from actions.search import ActionRefineSearch, constrains_last_search

        if not groups and constrains_last_search(
            view, tracker, qa.filters_from(view, text, []), []
        ):
            return ActionRefineSearch().run(dispatcher, tracker, domain)  # 「vivo呢」 on the list
        if (
            not groups
            and state.last_filters(tracker)
            and (qa.asked_size(text) or qa.asked_colour(view, text))
        ):
            return ActionRefineSearch().run(dispatcher, tracker, domain)  # 「38码有吗」 on the list
        if not groups:
            return search_instead(dispatcher, tracker, view) or not_found(dispatcher, view, tracker)
        mentions = view.linker.link(text)
        plain = qa.masked(text, mentions)
        missing = next((r for r in qa.product_refs(view, text) if r.missing), None)
        size, colour = qa.asked_size(plain), qa.asked_colour(view, plain)
        fields = [
            f
            for f in qa.asked_fields(view, text)
            if not ((size and f == "尺码") or (colour and f == "颜色"))
        ] or ([] if size or colour else self.default_fields(tracker))
        if not (fields or size or colour) and _ELLIPTICAL.search(text):
            # 「k70 pro呢」「第三个呢」: the question asked last, about this product
            last = tracker.get_slot("last_question") or {}
            fields = list(last.get("fields") or [])
            size, colour = last.get("size"), last.get("colour")
        answers, shown = [], []
        for skus in groups[:3]:
            variants = [view.graph.products[s] for s in skus if s in view.graph.products]
            product = qa.representative(view, skus)
            shown.append(product)
            facts = [describe_field(view, product, variants, f) for f in fields]
            facts += [size_answer(product, size)] if size else []
            facts += [colour_answer(product, colour)] if colour else []
            answers.append("；".join(facts) + "。" if facts else summary(view, product))
        follow_ups = ["还有货吗", "有没有类似的"]
        if qa.related_in_category(view, groups[0], ACCESSORY):
            follow_ups.append("推荐个配件")  # only where the product has accessories to show
        buttons = variant_buttons(view, groups[0]) or quick_replies(*follow_ups)
        if missing is not None:
            # 「红米k70至尊版」 when the shop has only the K70: say so before answering for it.
            gap = " " if missing.missing[0].isascii() else ""
            asked = f"{missing.text}{gap}{missing.missing}"
            closest = shown[0].get("model") or shown[0]["title"]
            answers.insert(0, f"抱歉，暂时没有找到「{asked}」，最接近的是 {closest}：")
        send_products(dispatcher, "\n".join(answers), shown, buttons)
        asked = {"fields": fields, "size": size, "colour": colour}
        remembered = [SlotSet("last_question", asked)] if fields or size or colour else []
        events = state.showing([p["sku"] for p in shown], tracker, focus_sku=shown[0]["sku"])
        listed = state.shown(tracker)
        if len(listed) > len(shown) and all(set(g) & set(listed) for g in groups[: len(shown)]):
            # 「第一个电池多大」 picks from the list; 「第三个呢」 next still counts on that list.
            events = [e for e in events if e.get("name") != "shown_products"]
        return [*events, *remembered]

    @staticmethod
    def default_fields(tracker: Tracker) -> list[str]:
        return (
            ["stock"] if tracker.latest_message.get("intent", {}).get("name") == "ask_stock" else []
        )


_DIFFERENCE = re.compile(r"区别|不同|差别|差异|不一样")


class ActionCompareProducts(Action):
    def name(self) -> str:
        return "action_compare_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        followed = answer_followup(dispatcher, tracker, view)
        if followed is not None:
            return followed
        groups = targets(view, tracker)
        if len(groups) == 1 and state.focus(tracker) and state.focus(tracker) not in groups[0]:
            groups.insert(0, [state.focus(tracker)])
        if len(groups) < 2:
            # 「那拍照呢」 after a comparison: the same two products, on another point
            groups = [[p["sku"]] for p in pair(view, tracker, [])] or groups
        if len(groups) < 2:
            brands = qa.filters_from(view, state.text_of(tracker), []).brands
            if len(brands) >= 2:
                return compare_brands(dispatcher, tracker, view)  # 「华为和苹果手机哪个好」
        if len(groups) < 2:
            dispatcher.utter_message(
                text="想对比哪两款呢？可以说「Mate60和小米14哪个续航好」，或者「对比一下前两个」。"
            )
            return []
        a, b = (qa.representative(view, g) for g in groups[:2])
        asked = [
            f for f in qa.asked_fields(view, state.text_of(tracker)) if f not in ("stock", "rating")
        ]
        message = state.text_of(tracker)
        use, use_keys = context.use_asked(view, message, a["category"])
        skin = context.skin_asked(message)
        asked += [k for k in use_keys if k not in asked]
        if skin and "适用肤质" not in asked:
            asked.insert(0, "适用肤质")
        comparison = view.graph.compare(a["sku"], b["sku"])
        text = compare_text(view, a, b, comparison, asked, bool(_DIFFERENCE.search(message)))
        verdict = use_verdict(a, b, comparison, use, use_keys, skin)
        if verdict:
            text = "\n".join([*text.split("\n")[:-1], verdict])
        send_products(
            dispatcher, text, [a, b], quick_replies("第一个有货吗", "差价多少", "有没有更便宜的")
        )
        return [
            *state.showing([a["sku"], b["sku"]], tracker),
            SlotSet("compare_pair", [a["sku"], b["sku"]]),
        ]


def compare_brands(
    dispatcher: CollectingDispatcher, tracker: Tracker, view: CatalogView
) -> list[dict[str, Any]]:
    """Two brands, not two products: the best of each side by side, and a search that keeps
    both brands for the next message (「预算6000」)."""
    from actions.search import describe, ranked

    text = state.text_of(tracker)
    filters = qa.filters_from(view, text, state.entities(tracker))
    picks = []
    for brand in filters.brands[:3]:
        one = replace(filters, brands=[brand])
        picks += ranked(view, text, one)[:2]
    if not picks:
        dispatcher.utter_message(text=f"抱歉，暂时没有{describe(filters)}。")
        return [state.filters_slot(filters)]
    lines = [
        f"{brand}："
        + "、".join(f"{p['title']} {yuan(p['price'])}" for p in picks if p["brand"] == brand)
        for brand in filters.brands
        if any(p["brand"] == brand for p in picks)
    ]
    send_products(
        dispatcher,
        f"{'和'.join(filters.brands)}各有所长，先看看各家口碑好的{filters.kind or filters.category or '商品'}：\n"
        + "\n".join(lines)
        + "\n告诉我预算和最看重的（拍照、续航、性能），我帮您挑一款。",
        picks,
        quick_replies("对比一下前两个", "哪个便宜", "预算5000以内"),
    )
    return [*state.showing([p["sku"] for p in picks], tracker), state.filters_slot(filters)]


def compare_text(
    view: CatalogView,
    a: dict[str, Any],
    b: dict[str, Any],
    comparison: Comparison,
    asked: list[str],
    differences: bool = False,
) -> str:
    name_a, name_b = a.get("model") or a["title"], b.get("model") or b["title"]
    rows = {r.key: r for r in comparison.rows}
    asked_rows = [
        rows["价格" if f == "price" else f]
        for f in asked
        if ("价格" if f == "price" else f) in rows
    ]
    if not asked_rows and differences:
        # 「K70和K70 Pro有啥区别」: every spec in which they differ, not only the ranked ones
        asked_rows = [
            r
            for r in comparison.rows
            if r.value_a != r.value_b and r.key not in ("颜色", "价格", "评分")
        ][:6]
    lines = []
    for row in asked_rows or [r for r in comparison.rows if r.better in ("a", "b")][:5]:
        spec = view.graph.attribute_spec(a["category"], row.key)
        unit = spec.unit if spec else ("元" if row.key == "价格" else None)
        lines.append(
            f"{row.key}：{name_a} {format_value(row.value_a, unit) if row.value_a is not None else '无'}，"
            f"{name_b} {format_value(row.value_b, unit) if row.value_b is not None else '无'}"
        )
    if not any(line.startswith("价格：") for line in lines):
        lines.append(f"价格：{name_a} {yuan(a['price'])}，{name_b} {yuan(b['price'])}")
    if a["price"] != b["price"]:
        dearer = name_a if a["price"] > b["price"] else name_b
        lines.append(f"差价：{yuan(abs(a['price'] - b['price']))}（{dearer} 贵）")
    verdict = _verdict(name_a, name_b, asked_rows, comparison)
    return "\n".join([f"{name_a} 和 {name_b} 对比：", *lines, verdict])


def use_verdict(
    a: dict[str, Any],
    b: dict[str, Any],
    comparison: Comparison,
    use: str | None,
    keys: list[str],
    skin: str | None,
) -> str | None:
    """One line for the use asked: the skin type it is made for, or the points it leads on."""
    name_a, name_b = a.get("model") or a["title"], b.get("model") or b["title"]
    if skin:
        fit_a, fit_b = context.skin_fit(a, skin), context.skin_fit(b, skin)
        if fit_a == fit_b:
            return (
                f"结论：两款对{skin}都{'合适' if fit_a else '没有特别说明'}，可以按功效和预算选。"
            )
        better, worse = (name_a, name_b) if fit_a > fit_b else (name_b, name_a)
        return f"结论：{skin}更推荐 {better}，{worse} 没有标注适合{skin}。"
    if not use:
        return None
    rows = [r for r in comparison.rows if r.key in keys and r.better in ("a", "b")]
    a_leads = [r.key for r in rows if r.better == "a"]
    b_leads = [r.key for r in rows if r.better == "b"]
    if len(a_leads) == len(b_leads):
        return f"结论：{use}方面两款各有所长，差别不大。"
    better, leads = (name_a, a_leads) if len(a_leads) > len(b_leads) else (name_b, b_leads)
    return f"结论：{use}方面 {better} 更好（{'、'.join(leads)}领先）。"


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
        followed = answer_followup(dispatcher, tracker, view)
        if followed is not None:
            return followed
        text = state.text_of(tracker)
        refs = qa.product_refs(view, text, state.entity_values(tracker, "product"))
        if len(refs) == 1 and refs[0].exact:
            # A pasted accessory title says 「适用…」: a question about that product, not a fit.
            return ActionAnswerAttribute().run(dispatcher, tracker, domain)
        groups, implied_devices, implied_accessories = [], [], []
        for ref in refs:
            named = [view.graph.products[s] for s in ref.named if s in view.graph.products]
            if (
                named
                and all(p["category"] != ACCESSORY for p in named)
                and all(view.graph.products[s]["category"] == ACCESSORY for s in ref.skus)
            ):
                implied_devices.append(list(ref.named))  # 「iPhone 15的手机壳」: the phone's
                implied_accessories += list(ref.skus)
            else:
                groups += by_model(view, ref.skus)
        groups += [g for g in targets(view, tracker) if not refs and g]
        if state.focus(tracker) and not any(state.focus(tracker) in g for g in groups):
            groups.append([state.focus(tracker)])
        accessories = [g for g in groups if view.graph.products[g[0]]["category"] == ACCESSORY]
        devices = implied_devices + [
            g for g in groups if view.graph.products[g[0]]["category"] != ACCESSORY
        ]
        if devices and not accessories:
            # 「iPhone 15的手机壳有吗」: no accessory named yet, so list the ones that fit (of the
            # kind asked, when the words named one: cases, not chargers).
            return self.fitting_accessories(
                dispatcher, tracker, view, devices[0], only=implied_accessories
            )
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
        only: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        device = qa.representative(view, device_skus)
        related = [
            s
            for s, rel in view.graph.related(device["sku"], ["COMPATIBLE_WITH", "ACCESSORY_OF"])
            if view.graph.products[s]["category"] == ACCESSORY
            and view.graph.products[s]["stock"] > 0
        ]
        related = list(
            dict.fromkeys(related)
        )  # a case can be both COMPATIBLE_WITH and ACCESSORY_OF
        if only:
            related = [s for s in related if s in set(only)] or related
        compatible = [view.graph.products[s] for s in related][:4]
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

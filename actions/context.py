"""Follow-ups answered from the conversation's state (slots), whatever intent the NLU chose:
bundles and their total, accessories of a device by shoppers' words, 「差价多少」, 「哪个便宜」
over the list shown, 「那13呢」 and 「第五个呢」 beyond the list.

`answer_followup` returns the events when the message was one of these, else None, and the
calling action goes on as usual. Only slots are read: the action server gets this turn's events
only (bot/serve.py), so nothing here may look back through the tracker. Each kind of follow-up
is a skill of its own in the transcript (``followup_bundle``, ``followup_which``...: the
``skill`` of its messages, actions/turn.py). No rasa_sdk here.
"""

from __future__ import annotations

import re
from typing import Any

from actions import policy_answers, runtime, state
from actions.formatting import quick_replies, send_products, yuan
from actions.guidance import budget_buttons
from actions.listing import price_span, show_results
from actions.turn import Reply, Turn, skill
from knowledge_graph import context, policy, qa
from knowledge_graph.graph import format_value
from knowledge_graph.product import Product
from knowledge_graph.service import CatalogView
from search import query

_ORDINAL = re.compile(r"第\s*([一二两三四五六七八九十\d]+)\s*(?:个|款|台|件|种|部|双|支|瓶)")
# 「iPhone 15的」「小米14能用的」「给Mate 60用的呢」: a device named for the accessories shown
_FOR_DEVICE = re.compile(
    r"^(?:给|那|要)?.{2,24}?(?:的|用的|能用的|适用的|可以用的)(?:呢|吗|有吗)?[?？]?$"
)
_WANTS = re.compile(
    r"推荐|配|买|有没有|有吗|有啥|有什么|要|看看|多少|适合|合适|能用|还有|别的|其他|换"
)


def answer_followup(
    dispatcher: Reply, tracker: Turn, view: CatalogView
) -> list[dict[str, Any]] | None:
    text = state.text_of(tracker)
    refs = qa.product_refs(view, text)
    handlers = (
        _policy, _bundle, _accessories, _difference, _which, _beyond_list, _brands,
        _price_guidance, _undecided,
    )  # fmt: skip
    for handler in handlers:
        events = handler(dispatcher, tracker, view, text, refs)
        if events is not None:
            return events
    return None


@skill("followup_policy")
def _policy(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """Policy questions about a product, whatever intent they came with: 「Mate60 Pro保修多久」,
    「小米20000mAh充电宝能上飞机不」, 「耳机是坏的 左耳没声音」, 「拆封了还能退吗」."""
    flight, warranty = policy.asks_flight(text), policy.asks_warranty(text)
    opened = policy.asks_about_opened(text) and re.search(r"退|换", text)
    defect = policy.reports_defect(text)
    if not (flight or warranty or opened or defect):
        return None
    product = policy_answers.product_in_question(view, tracker)
    if defect:
        policy_answers.defect(dispatcher, product)
        return []
    if product is None:
        return None
    flight_answer = policy.air_travel(product) if flight else None
    if flight_answer:
        answer = flight_answer
    elif warranty:
        answer = policy.warranty(product, runtime.shop_texts().policy)
    elif opened:
        answer = policy.opened_return(product, runtime.shop_texts().policy)
    else:
        return None
    send_products(dispatcher, answer, [product], quick_replies("还有货吗", "多少钱", "转人工"))
    runtime.record_chat_events(tracker.sender_id, [product.sku], product.sku)
    return state.slots_for_shown([product.sku], tracker, focus_sku=product.sku)


def _device(view: CatalogView, tracker: Turn, refs: list[qa.ProductRef]) -> Product | None:
    """The device the shopper means: named (the phone in 「iPhone 15的壳」), else the focus."""
    for ref in refs:
        named = [view.graph.products[s] for s in ref.named if s in view.graph.products]
        devices = [p for p in named if p.category != context.ACCESSORY_CATEGORY]
        if devices:
            return qa.representative(view, [p.sku for p in devices])
    if refs:
        return None
    focus = state.focus(tracker)
    product = view.graph.products.get(focus) if focus else None
    if product is not None and product.category != context.ACCESSORY_CATEGORY:
        return product
    return _device_of_accessory(view, product) if product is not None else None


@skill("followup_bundle")
def _bundle(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """「我想买iPhone 16，顺便配个壳和膜，一共多少钱」: the items and their total."""
    if not context.asks_total(text):
        return None
    kinds = context.accessory_kinds_in(qa.masked(text, view.linker.link(text)))
    device = _device(view, tracker, refs)
    focus = view.graph.products.get(state.focus(tracker) or "")
    if not refs and focus is not None and focus.category == context.ACCESSORY_CATEGORY:
        device = None  # 「再加个壳一共多少」 after a film: the film and a case, not the phone
    if device is not None and kinds:
        found = context.bundle(view, device, kinds)
        items = found.items
        if any(re.search(re.escape(ref.text) + r"\s*的", text) for ref in refs):
            # 「iPhone 16 Pro Max的壳和膜一起买多少钱」: the accessories, not the phone too
            items = items[1:] or items
            found = context.Bundle(items, round(sum(p.price for p in items), 2), found.missing)
    elif device is None and not refs and kinds and focus is not None:
        # 「再加个壳一共多少」 after a film: the film and a case for the same phone
        made_for = _device_of_accessory(view, focus)
        if made_for is None:
            return None
        extra = context.fitting(view, view.graph.variants(made_for.sku), kinds, per_kind=1)
        items = [focus, *(group[0] for kind, group in extra.items() if kind != qa.kind_of(focus))]
        found = context.Bundle(items, round(sum(p.price for p in items), 2), [])
        device = made_for
    elif len(refs) >= 2:
        items = [qa.representative(view, ref.skus) for ref in refs]
        found = context.Bundle(items, round(sum(p.price for p in items), 2), [])
    elif not refs and not kinds and len(state.shown(tracker)) >= 2:
        # 「这几个一共多少钱」: what was just shown
        items = [view.graph.products[s] for s in state.shown(tracker) if s in view.graph.products]
        found = context.Bundle(items, round(sum(p.price for p in items), 2), [])
    else:
        return None
    lines = "\n".join(f"· {p.title}：{yuan(p.price)}" for p in items)
    text_out = f"按您说的搭配：\n{lines}\n一共 {yuan(found.total)}。"
    if found.missing:
        text_out += f"（暂时没有适配 {device.model or device.title} 的{'、'.join(found.missing)}）"
    variants = view.graph.variants(items[0].sku)
    if len(variants) > 1:
        text_out += f"\n{items[0].title} 是最低配的价格，换其他版本总价会变。"
    send_products(dispatcher, text_out, items, quick_replies("还有别的壳吗", "还有货吗", "转人工"))
    skus = [p.sku for p in items]
    runtime.record_chat_events(tracker.sender_id, skus, items[0].sku)
    return state.slots_for_shown(skus, tracker, focus_sku=items[0].sku)


def _device_of_accessory(view: CatalogView, accessory: Product) -> Product | None:
    if accessory.category != context.ACCESSORY_CATEGORY:
        return None
    for sku, _ in view.graph.related(accessory.sku, ["COMPATIBLE_WITH", "ACCESSORY_OF"]):
        product = view.graph.products[sku]
        if product.category != context.ACCESSORY_CATEGORY:
            return product
    return None


@skill("followup_accessories")
def _accessories(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """「我是小米14 推荐个壳和膜」: that device's cases and films, not chargers."""
    mentions = view.linker.link(text)
    kinds = context.accessory_kinds_in(qa.masked(text, mentions))
    original = context.asks_original(text)
    if not kinds and original and not refs:
        return _originals_of_focus(dispatcher, tracker, view)
    last = state.last_filters(tracker)
    if (
        not kinds
        and refs
        and last is not None
        and last.category == context.ACCESSORY_CATEGORY
        and last.kind
        and _FOR_DEVICE.match(text.strip())
    ):
        kinds = [last.kind]  # 「iPhone 15的」 after cases: cases for the iPhone 15
    if not kinds:
        return None
    if any(ref.exact for ref in refs):
        return None  # a pasted accessory title is a question about that accessory
    pointed = qa.resolve_references(text, state.shown(tracker), state.focus(tracker))
    if any(
        s in view.graph.products and view.graph.products[s].category == context.ACCESSORY_CATEGORY
        for s in pointed
    ):
        return None  # 「这个壳iPhone 15能用吗」: about the case already in focus
    named_accessory = any(
        all(view.graph.products[s].category == context.ACCESSORY_CATEGORY for s in ref.skus)
        and set(ref.named) != set(ref.skus)
        for ref in refs
    )
    device = _device(view, tracker, refs)
    if device is not None and not (refs or _WANTS.search(text)):
        return None
    if device is None:
        # 「苹果手表表带 46mm的」: no model named, but the maker, kind and size leave one
        device = query.described_device(view, text, context.ACCESSORY_CATEGORY)
    if device is None:
        return None
    if named_accessory and len(kinds) == 1 and qa.asked_fields(view, text):
        return None  # 「小米手环9的腕带多少钱」: the linker found the strap; the QA answers it
    found = context.fitting(
        view, view.graph.variants(device.sku), kinds, per_kind=8 if original else 4
    )
    brands = query.filters_from(view, qa.masked(text, mentions), []).brands
    if original:
        # 「原装壳」: made by the device's own brand, nothing else passes for it
        found = {
            kind: [p for p in group if p.brand == device.brand] for kind, group in found.items()
        }
        found = {kind: group for kind, group in found.items() if group}
    elif brands:
        # 「Mate 70能用的华为充电器」: the brand asked for, where it makes one
        found = {
            kind: [p for p in group if p.brand in brands] or group for kind, group in found.items()
        }
    found = {kind: group[:2] for kind, group in found.items()}
    name = device.model or device.title
    if not found:
        made = f"{device.brand}原装" if original else "适配"
        dispatcher.utter_message(
            text=f"抱歉，暂时没有{made} {name} 的{'、'.join(kinds[:2])}。",
            buttons=[{"title": t, "payload": t} for t in (f"{name}有什么配件", "转人工")],
        )
        return []
    products = [p for group in found.values() for p in group]
    parts = [
        f"{kind}：" + "、".join(f"{p.title} {yuan(p.price)}" for p in group)
        for kind, group in found.items()
    ]
    lacking = [k for k in kinds if k not in found and not context.found_as_alias(k, found)]
    tail = f"（暂时没有适配的{'、'.join(lacking)}）" if lacking else ""
    made = f"{device.brand}原装、适配" if original else "适配"
    send_products(
        dispatcher,
        f"{made} {name} 的{'和'.join(found)}有这些：\n" + "\n".join(parts) + tail,
        products,
        quick_replies("第一个多少钱", "一共多少钱" if len(products) > 1 else "还有货吗", "转人工"),
    )
    # The first accessory is in focus (「这个多少钱」, 「再加个壳一共多少」 know the phone from it).
    skus = [p.sku for p in products]
    runtime.record_chat_events(tracker.sender_id, skus, products[0].sku)
    return state.slots_for_shown(skus, tracker, focus_sku=products[0].sku)


def _originals_of_focus(dispatcher, tracker, view) -> list[dict[str, Any]] | None:
    """「要原装的」 after accessories were shown: the same kind from the device's own brand."""
    focus = view.graph.products.get(state.focus(tracker) or "")
    device = _device_of_accessory(view, focus) if focus is not None else None
    if device is None:
        return None
    kind = qa.kind_of(focus)
    found = context.fitting(view, view.graph.variants(device.sku), [kind], per_kind=8)
    originals = [p for p in found.get(kind, []) if p.brand == device.brand][:2]
    name = device.model or device.title
    if not originals:
        others = [p for p in found.get(kind, []) if p.brand != device.brand][:2]
        dispatcher.utter_message(
            text=f"抱歉，{device.brand}暂时没有适配 {name} 的原装{kind}"
            + ("，刚才这些是适配的第三方品牌。" if others else "。"),
            buttons=[{"title": t, "payload": t} for t in (f"{name}有什么配件", "转人工")],
        )
        return []
    lines = "\n".join(f"· {p.title}：{yuan(p.price)}" for p in originals)
    send_products(
        dispatcher,
        f"{device.brand}原装、适配 {name} 的{kind}：\n{lines}",
        originals,
        quick_replies("还有货吗", "第一个多少钱", "转人工"),
    )
    skus = [p.sku for p in originals]
    runtime.record_chat_events(tracker.sender_id, skus, originals[0].sku)
    return state.slots_for_shown(skus, tracker, focus_sku=originals[0].sku)


def pair(view: CatalogView, tracker: Turn, refs: list[qa.ProductRef]) -> list[Product]:
    """The two products a 「差价多少」 or 「哪个好」 is about: named ones, the pair compared,
    the two shown, or the focus and the one before it."""
    products = view.graph.products
    named = [qa.representative(view, ref.skus) for ref in refs]
    if len(named) >= 2:
        return named[:2]
    candidates = [
        *(tracker.get_slot("compare_pair") or []),
        *(state.shown(tracker) if len(state.shown(tracker)) == 2 else []),
        *[s for s in (state.focus(tracker), state.previous_focus(tracker)) if s],
    ]
    picked = [*named]
    for sku in candidates:
        if sku in products and all(p.sku != sku for p in picked):
            picked.append(products[sku])
        if len(picked) == 2:
            return picked
    return []


@skill("followup_difference")
def _difference(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    if not context.asks_difference(text) or len(refs) > 2:
        return None
    two = pair(view, tracker, refs)
    if len(two) < 2:
        return None
    a, b = sorted(two, key=lambda p: -p.price)
    gap = context.price_difference(a, b)
    if gap == 0:
        line = f"{a.title} 和 {b.title} 价格一样，都是 {yuan(a.price)}。"
    else:
        line = (
            f"{a.title} 售价 {yuan(a.price)}，{b.title} 售价 {yuan(b.price)}，"
            f"差价 {yuan(gap)}（{a.model or a.title} 贵 {yuan(gap)}）。"
        )
    send_products(dispatcher, line, [a, b], quick_replies("对比一下这两款", "哪个性价比高"))
    runtime.record_chat_events(tracker.sender_id, [a.sku, b.sku], None)
    return [
        *state.slots_for_shown([a.sku, b.sku], tracker),
        state.slot("compare_pair", [a.sku, b.sku]),
    ]


@skill("followup_which")
def _which(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """「哪个便宜」「哪个充电快」 over the list shown (or the pair compared)."""
    if not context.asks_which(text) or refs:
        return None
    shown = [view.graph.products[s] for s in state.shown(tracker) if s in view.graph.products]
    if len(shown) < 2:
        pair_skus = tracker.get_slot("compare_pair") or []
        shown = [view.graph.products[s] for s in pair_skus if s in view.graph.products]
    if len(shown) < 2:
        return None
    filters = query.filters_from(view, text, [])
    if filters.category and filters.category != shown[0].category:
        return None  # 「哪款耳机降噪好」 after phones: a new search
    result = context.superlative(view, text, shown)
    if result is None:
        return _by_wishes(dispatcher, tracker, view, text, shown)
    listed = "，".join(
        f"{p.model or p.title} {format_value(v, result.unit) if v is not None else '无'}"
        for p, v in result.values
    )
    winner = result.winner
    if result.direction is None:
        verdict = f"{result.label}没有绝对的好坏，看您的喜好"
    else:
        word = "最低" if result.direction == "lower" else "最高"
        if result.label == "价格":
            word = "最便宜" if result.direction == "lower" else "最贵"
        verdict = f"{result.label}{word}的是 {winner.title}"
    send_products(
        dispatcher,
        f"刚才这几款的{result.label}：{listed}。\n结论：{verdict}。",
        [winner],
        quick_replies("还有货吗", "有没有类似的", "对比一下前两个"),
    )
    # The list stays what it was (「第二个呢」 still means its second), the winner is in focus.
    skus = [p.sku for p in shown]
    runtime.record_chat_events(tracker.sender_id, skus, winner.sku)
    return state.slots_for_shown(skus, tracker, focus_sku=winner.sku)


def _by_wishes(dispatcher, tracker, view, text, shown) -> list[dict[str, Any]] | None:
    """「哪个适合干皮」: the products whose tags or description name what the shopper wants."""
    wishes = query.tags_in(view, text)
    if not wishes:
        return None

    def hits(product: Product) -> float:
        values = [str(v) for v in product.attributes.values()]
        words = " ".join([*product.tags, product.description, *values])
        own = sum(w in words for w in wishes)
        # 「所有肤质」 suits a dry or oily skin too, after the products made for it
        return own if own or "所有肤质" not in words else 0.5

    fitting = [p for p in shown if hits(p)]
    if not fitting:
        dispatcher.utter_message(
            text=f"刚才这几款都没有特别标注适合「{'、'.join(wishes)}」，要不要我按这个重新找找？",
            buttons=[{"title": f"找{wishes[0]}的", "payload": f"{wishes[0]}的{shown[0].category}"}],
        )
        return []
    best = sorted(fitting, key=lambda p: (-hits(p), -p.rating))
    names = "、".join(p.title for p in best)
    send_products(
        dispatcher,
        f"刚才这几款里，适合「{'、'.join(wishes)}」的是：{names}。\n结论：首选 {best[0].title}（评分 {best[0].rating}）。",
        best,
        quick_replies("第一个多少钱", "还有货吗"),
    )
    skus = [p.sku for p in best]
    runtime.record_chat_events(tracker.sender_id, skus, best[0].sku)
    return state.slots_for_shown(skus, tracker, focus_sku=best[0].sku)


@skill("followup_beyond_list")
def _beyond_list(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """「第五个呢」 after three were shown: say how many there were instead of 「没找到」."""
    match = _ORDINAL.search(text)
    shown = state.shown(tracker)
    if not match or refs or not shown:
        return None
    index = qa._small_number(match.group(1))
    if index is None or index <= len(shown):
        return None
    names = "、".join(
        f"第{i}个 {view.graph.products[s].title}"
        for i, s in enumerate(shown, start=1)
        if s in view.graph.products
    )
    dispatcher.utter_message(
        text=f"刚才只列了 {len(shown)} 款：{names}。您想了解哪一个？",
        buttons=[
            {"title": f"第{i}个", "payload": f"第{i}个怎么样"} for i in range(1, len(shown) + 1)
        ][:4],
    )
    return []


_BRANDS_QUESTION = re.compile(r"(?:什么|啥|哪些|哪几个|几个|有啥|有什么)(?:牌子|品牌)")


@skill("followup_brands")
def _brands(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """「你们有啥牌子」: the brands of the category being talked about, with how many models."""
    if not _BRANDS_QUESTION.search(text) or refs:
        return None
    filters = query.filters_from(view, text, [])
    last = state.last_filters(tracker)
    category = (
        filters.category
        or tracker.get_slot("need_category")
        or (last.category if last is not None else None)
    )
    if not category:
        return None
    models: dict[str, set[str]] = {}
    for product in view.graph.filter(category=category, in_stock=True):
        models.setdefault(product.brand, set()).add(product.model or product.sku)
    ranked_brands = sorted(models, key=lambda b: -len(models[b]))
    listed = "、".join(f"{b}（{len(models[b])}款）" for b in ranked_brands)
    dispatcher.utter_message(
        text=f"店里在售的{category}有这些牌子：{listed}。想看哪个牌子？",
        buttons=[{"title": b, "payload": f"看看{b}的{category}"} for b in ranked_brands[:4]],
    )
    return []


_PRICE_GUIDANCE = re.compile(
    r"(?:多少钱|什么价位?|啥价位?|多少预算|预算多少|价位)(?:的)?(?:合适|比较好|够用?|差不多|好)"
    r"|不知道(?:预算|价位|买多少钱)|不清楚(?:价格|价位|行情)"
)


@skill("followup_price_guidance")
def _price_guidance(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """「不知道多少钱合适」 while choosing a category: its price band, with budgets to pick."""
    if refs or not _PRICE_GUIDANCE.search(text):
        return None  # checked first: this runs before every shopping action
    last = state.last_filters(tracker)
    category = query.filters_from(view, text, []).category or (last.category if last else None)
    if not category:
        return None
    prices = sorted(p.price for p in view.graph.filter(category=category, in_stock=True))
    if not prices:
        return None
    low, high = prices[len(prices) // 4], prices[len(prices) * 3 // 4]
    dispatcher.utter_message(
        text=f"店里的{category}从 {yuan(prices[0])} 到 {yuan(prices[-1])} 都有，一半左右在 "
        f"{yuan(low)} 到 {yuan(high)} 之间，日常用这个价位就够了；要求高一些再往上加。"
        "选个预算，我按它帮您挑：",
        buttons=[{"title": t, "payload": p} for t, p in budget_buttons(view, category)],
    )
    return []


_UNDECIDED = re.compile(
    r"^(?:嗯+|额+|呃+)?\s*(?:不知道|不清楚|没想好|随便|都行|都可以|无所谓|你定|你看着办|不懂)"
    r"(?:呀|啊|吧|哦|诶|欸|呢|耶)?[。.!！~～…]*$"
)


@skill("followup_undecided")
def _undecided(dispatcher, tracker, view, text, refs) -> list[dict[str, Any]] | None:
    """「不知道」「随便」 while choosing a category: its best-rated picks, and the price band."""
    last = state.last_filters(tracker)
    if refs or last is None or not last.category or not _UNDECIDED.match(text.strip()):
        return None
    if tracker.active_loop.get("name"):
        return None  # the needs dialogue takes 「随便」 as its own answer
    hits = qa.rank_by_quality(view.graph.filter(category=last.category, in_stock=True))
    span = price_span(hits) if hits else ""
    return show_results(
        dispatcher,
        tracker,
        view,
        last,
        " ".join([last.kind or last.category, *last.terms]),
        lead=f"没关系～先看看这几款口碑好的热门{describe_noun(last)}；店里的价位在 {span}，"
        "告诉我预算或用途，我再帮您缩小范围：",
        buttons=budget_buttons(view, last.category),
    )


def describe_noun(filters: qa.SearchFilters) -> str:
    return filters.kind or filters.category or "商品"

"""Finding and showing products, shared by every skill that lists them: hard filters and the
hybrid ranker, the list with its lead and quick replies, the nearest products when nothing
fits, browsing picks, similar products, a device's own accessories.

Plain functions over the catalog view, the filters and the turn (actions/turn.py): no
rasa_sdk here. A function that shows products returns the slot events and records the
products for the recommender itself, in one explicit ``runtime.record_chat_events`` call.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np

from actions import runtime, state
from actions.formatting import quick_replies, send_products, yuan
from actions.turn import Reply, Turn
from knowledge_graph import constraints, qa
from knowledge_graph.constraints import requirement_text
from knowledge_graph.product import Product, Suggested
from knowledge_graph.service import CatalogView

SHOWN = 5
CATEGORY_BUTTONS = ("手机", "笔记本电脑", "耳机", "护肤品")
ACCESSORY = "手机配件"


def describe(filters: qa.SearchFilters) -> str:
    parts = []
    if filters.avoided_brands and not (filters.brands and len(filters.brands) <= 3):
        parts.append("、".join(filters.avoided_brands) + "以外")  # 「华为、小米以外的手机」
    elif filters.brands:
        shown_brands = "、".join(filters.brands[:3])
        parts.append(shown_brands + ("等品牌" if len(filters.brands) > 3 else ""))
    if filters.colour:
        parts.append(filters.colour)
    if filters.avoided_colours:
        parts.append("、".join(filters.avoided_colours) + "以外")
    if filters.size:
        parts.append(f"{filters.size}码")
    if filters.gender:
        parts.append(f"{filters.gender}款")
    units = _spec_units(filters.category) if filters.attributes else {}
    parts += [
        requirement_text(key, wanted, units.get(key, ""))
        for key, wanted in filters.attributes.items()
    ]
    if filters.min_price is not None and filters.max_price is not None:
        parts.append(f"{yuan(filters.min_price)}到{yuan(filters.max_price)}")
    elif filters.max_price is not None:
        parts.append(f"{yuan(filters.max_price)}以内")
    elif filters.min_price is not None:
        parts.append(f"{yuan(filters.min_price)}以上")
    noun = filters.kind or filters.category or "商品"
    return ("的".join(parts) + "的" + noun) if parts else noun


def _spec_units(category: str | None) -> dict[str, str]:
    try:
        graph = runtime.view().graph
    except RuntimeError:  # no services installed: the wording alone (unit tests)
        return {}
    return constraints.spec_units(graph, category)


def ranked(
    view: CatalogView,
    query: str,
    filters: qa.SearchFilters,
    k: int = 50,
    query_vector: np.ndarray | None = None,
) -> list[Product]:
    """Hybrid search when the model is loaded; the graph filter ranked by rating otherwise."""
    try:
        hits = runtime.search().search(view, query, k=k, filters=filters, query_vector=query_vector)
        products = [h.product for h in hits]
    except Exception:  # search must not break the conversation; the graph still answers
        products = qa.rank_by_quality(qa.filter_products(view, filters), filters.terms)
    return qa.one_per_model(products)


IMPLIED_SHARE = 0.6


def implied_category(hits: list[Product], filters: qa.SearchFilters) -> str | None:
    """The category most of the top matches share, when the shopper named none but said enough
    to search (a use, a budget, a gender): a mixed list of blush and shoes helps nobody."""
    if filters.category or filters.within is not None or len(hits) < 3:
        return None
    top = [p.category for p in hits[: SHOWN * 2]]
    best = max(set(top), key=top.count)
    return best if top.count(best) / len(top) >= IMPLIED_SHARE else None


def by_turns(products: list[Product], brands: list[str]) -> list[Product]:
    """Ranked products taken one brand at a time, each brand keeping its own order."""
    queues = [[p for p in products if p.brand == b] for b in brands]
    others = [p for p in products if p.brand not in brands]
    mixed = []
    while any(queues):
        for queue in queues:
            if queue:
                mixed.append(queue.pop(0))
    return mixed + others


def personalised(user_id: str, products: list[Product]) -> list[Product]:
    """The shopper's history reorders the results a little; reasons go on the cards."""
    try:
        reranked = runtime.recommendations().rerank(user_id, products[:20])
    except Exception:  # recommendations are a bonus, never a reason to fail the search
        return products
    return [
        Suggested.of(r.product, r.reason) if r.reason else r.product for r in reranked
    ] + products[20:]


def show_results(
    dispatcher: Reply,
    tracker: Turn,
    view: CatalogView,
    filters: qa.SearchFilters,
    query: str,
    lead: str | None = None,
    buttons: list[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    # Rasa's vector is the message's: usable when the query is the message as typed.
    vector = state.message_vector(tracker) if query == state.text_of(tracker) else None
    hits = ranked(view, query, filters, query_vector=vector)
    implied = implied_category(hits, filters)
    if implied:
        # 「跑步新手 男 500以内」: the best matches are running shoes, so the list is too
        filters = replace(filters, category=implied)
        hits = [p for p in hits if p.category == implied]
    found = personalised(tracker.sender_id, hits)
    if len(filters.brands) >= 2:
        found = by_turns(found, filters.brands)  # 「华为和苹果」: both brands in the first cards
    if not found:
        return show_nearest(dispatcher, tracker, view, filters)
    shown = found[:SHOWN]
    text = lead or f"为您找到这些{describe(filters)}，先看看这几款（{price_span(shown)}）："
    send_products(
        dispatcher,
        text,
        shown,
        buttons or quick_replies("第一个怎么样", "有没有便宜点的", "对比一下前两个"),
    )
    skus = [p.sku for p in shown]
    runtime.record_chat_events(tracker.sender_id, skus, None)
    return [*state.slots_for_shown(skus, tracker), state.filters_slot(filters)]


def price_span(products: list[Product]) -> str:
    """「1299元到6999元」 over the cards shown: the shopper sees the price band at a glance."""
    prices = [p.price for p in products]
    low, high = min(prices), max(prices)
    return yuan(low) if low == high else f"{yuan(low)}到{yuan(high)}"


def show_nearest(
    dispatcher: Reply,
    tracker: Turn,
    view: CatalogView,
    filters: qa.SearchFilters,
) -> list[dict[str, Any]]:
    """Nothing fits: say which constraint cannot be met and show what comes closest."""
    empty = qa.explain_empty(view, filters)
    noun = filters.category or "商品"
    brands = "、".join(filters.brands)
    if empty.blocker == "price":
        owner = f"{brands}的" if brands else ""
        cheapest = empty.nearest[0] if empty.nearest else None
        text = f"抱歉，{describe(filters)}暂时没有。"
        if cheapest is not None:
            side = "最便宜" if filters.max_price is not None else "最接近"
            text += f"{owner}{noun}{side}的是 {cheapest.title}，{yuan(cheapest.price)}。"
        if empty.others:
            text += f"预算内其他品牌的{noun}也可以看看："
    elif empty.blocker == "brand":
        text = f"抱歉，{brands}暂时没有符合条件的{noun}，其他品牌的可以看看："
    elif empty.blocker == "colour":
        text = f"抱歉，没有{filters.colour}的{describe(replace(filters, colour=None))}，其他颜色的可以看看："
    elif empty.blocker == "size":
        text = f"抱歉，{describe(replace(filters, size=None))}里没有 {filters.size} 码的，这几款其他尺码的可以看看："
    else:
        text = f"抱歉，暂时没有符合条件的{describe(filters)}。这些{noun}您可以看看："
    shown = qa.one_per_model([*empty.nearest, *empty.others])[:SHOWN]
    buttons = quick_replies("预算高一点", "换个牌子", "转人工")
    if not shown:
        dispatcher.utter_message(
            text=f"抱歉，暂时没有符合条件的{describe(filters)}。",
            buttons=[{"title": t, "payload": p} for t, p in buttons],
        )
        return [state.filters_slot(filters)]
    send_products(dispatcher, text, shown, buttons)
    skus = [p.sku for p in shown]
    runtime.record_chat_events(tracker.sender_id, skus, None)
    return [*state.slots_for_shown(skus, tracker), state.filters_slot(filters)]


BROWSING = re.compile(
    r"随便看看|随便逛逛|先逛逛|逛一逛|看看有啥|有(?:什么|啥)好东西|有啥好物|好玩的|给我整点|我可能喜欢"
)


def show_popular(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
    """「随便看看」: what this shopper may like (or what sells, for a new one), with reasons,
    and the categories as quick replies."""
    try:
        picks = runtime.recommendations().recommend(tracker.sender_id, k=SHOWN)
    except Exception:  # no recommender: the categories alone still lead somewhere
        picks = []
    buttons = [(c, f"看看{c}") for c in CATEGORY_BUTTONS]
    if not picks:
        dispatcher.utter_message(
            text="想先看看哪一类呢？",
            buttons=[{"title": t, "payload": p} for t, p in buttons],
        )
        return []
    products = [Suggested.of(r.product, r.reason) if r.reason else r.product for r in picks]
    send_products(
        dispatcher, "随便逛逛也好～先看看这几样，有感兴趣的品类点一下就行：", products, buttons
    )
    skus = [p.sku for p in products]
    runtime.record_chat_events(tracker.sender_id, skus, None)
    return state.slots_for_shown(skus, tracker)


_CHEAPER = re.compile(r"便宜|实惠|预算低|价格低|少花|划算|别太贵|不要太贵|不用太贵|不太贵")


def asks_cheaper(text: str) -> bool:
    return bool(_CHEAPER.search(text))


def ask_what_in_colour(dispatcher: Reply, view: CatalogView, colour: str) -> list[dict[str, Any]]:
    """A colour and nothing else to go on: which kinds of product come in it."""
    kinds: dict[str, int] = {}
    for product in view.graph.products.values():
        if qa.colour_matches(product.attributes.get("颜色"), colour):
            noun = qa.kind_of(product) or product.category
            kinds[noun] = kinds.get(noun, 0) + 1
    common = sorted(kinds, key=lambda k: -kinds[k])[:3]
    if not common:
        dispatcher.utter_message(text=f"抱歉，店里暂时没有{colour}的商品。您想找哪类商品呢？")
        return []
    dispatcher.utter_message(
        text=f"您想找{colour}的什么呢？比如{'、'.join(common)}都有{colour}的，告诉我品类我帮您挑。",
        buttons=[{"title": f"{colour}的{k}", "payload": f"{colour}的{k}"} for k in common],
    )
    return []


def _own_vector(view: CatalogView, sku: str) -> np.ndarray | None:
    """The product's indexed vector: embedding its title and tags as a query took 15-30 ms."""
    try:
        return runtime.search().product_vector(view, sku)
    except Exception:  # no search model: ranked() falls back to the graph
        return None


def similar_products(
    view: CatalogView, anchor: Product, user_id: str | None = None, k: int = SHOWN
) -> list[Product]:
    """Same category: the recommender's neighbours for this shopper (graph relations, co-views,
    with reasons) first, then the nearest products by meaning in a similar price band."""
    same_model = anchor.model
    try:
        recs = runtime.recommendations().recommend(user_id, k=3 * k, context_sku=anchor.sku)
        from_recs = [
            Suggested.of(r.product, r.reason) for r in recs if r.product.category == anchor.category
        ]
    except Exception:  # fall back to content neighbours alone
        from_recs = []
    query = f"{anchor.title} {' '.join(anchor.tags)}"
    price = anchor.price
    filters = qa.SearchFilters(
        category=anchor.category, min_price=price * 0.6, max_price=price * 1.5
    )
    nearby = ranked(view, query, filters, k=30, query_vector=_own_vector(view, anchor.sku))
    merged = qa.one_per_model([*from_recs[:3], *nearby, *from_recs[3:]])
    return [p for p in merged if (p.model or p.title) != same_model][:k]


def accessories_of_focus(view: CatalogView, tracker: Turn, filters: qa.SearchFilters) -> None:
    """「推荐个配件」 right after a phone: its accessories, not every accessory in the shop."""
    focus = state.focus(tracker)
    if (
        filters.category != ACCESSORY
        or filters.within is not None
        or focus not in view.graph.products
    ):
        return
    if view.graph.products[focus].category == ACCESSORY:
        return
    if not qa.product_refs(view, state.text_of(tracker)):
        fitting = qa.related_in_category(view, view.graph.variants(focus), ACCESSORY)
        if fitting:
            filters.within = fitting

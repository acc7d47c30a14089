"""Finding products: search with hard filters, refinement of the last search, similar products."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np
from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime, state
from actions.context import answer_followup
from actions.formatting import quick_replies, send_products, yuan
from knowledge_graph import policy, qa
from knowledge_graph.scenes import is_gift, scene_of
from knowledge_graph.service import CatalogView

SHOWN = 5
CATEGORY_BUTTONS = ("手机", "笔记本电脑", "耳机", "护肤品")


def describe(filters: qa.SearchFilters) -> str:
    parts = []
    if filters.brands:
        shown_brands = "、".join(filters.brands[:3])
        parts.append(shown_brands + ("等品牌" if len(filters.brands) > 3 else ""))
    if filters.colour:
        parts.append(filters.colour)
    if filters.size:
        parts.append(f"{filters.size}码")
    if filters.gender:
        parts.append(f"{filters.gender}款")
    parts += [requirement_text(key, wanted) for key, wanted in filters.attributes.items()]
    if filters.min_price is not None and filters.max_price is not None:
        parts.append(f"{yuan(filters.min_price)}到{yuan(filters.max_price)}")
    elif filters.max_price is not None:
        parts.append(f"{yuan(filters.max_price)}以内")
    elif filters.min_price is not None:
        parts.append(f"{yuan(filters.min_price)}以上")
    noun = filters.kind or filters.category or "商品"
    return ("的".join(parts) + "的" + noun) if parts else noun


def requirement_text(key: str, wanted: Any) -> str:
    """「带GPS」「内存32以上」「显卡4060」: an attribute requirement as the reply restates it."""
    if wanted is True:
        return f"带{key}"
    if isinstance(wanted, tuple):
        return f"{key}{wanted[0]:g}以上"
    if isinstance(wanted, frozenset | set):
        values = "/".join(sorted(wanted))
        return values if all(key in v for v in wanted) else f"{key}{values}"  # 「高缓震」
    return f"{key}{wanted}"


def ranked(
    view: CatalogView,
    query: str,
    filters: qa.SearchFilters,
    k: int = 50,
    query_vector: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Hybrid search when the model is loaded; the graph filter ranked by rating otherwise."""
    try:
        hits = runtime.search().search(view, query, k=k, filters=filters, query_vector=query_vector)
        products = [h.product for h in hits]
    except Exception:  # search must not break the conversation; the graph still answers
        products = qa.rank_by_quality(qa.filter_products(view, filters), filters.terms)
    return qa.one_per_model(products)


IMPLIED_SHARE = 0.6


def implied_category(hits: list[dict[str, Any]], filters: qa.SearchFilters) -> str | None:
    """The category most of the top matches share, when the shopper named none but said enough
    to search (a use, a budget, a gender): a mixed list of blush and shoes helps nobody."""
    if filters.category or filters.within is not None or len(hits) < 3:
        return None
    top = [p["category"] for p in hits[: SHOWN * 2]]
    best = max(set(top), key=top.count)
    return best if top.count(best) / len(top) >= IMPLIED_SHARE else None


def by_turns(products: list[dict[str, Any]], brands: list[str]) -> list[dict[str, Any]]:
    """Ranked products taken one brand at a time, each brand keeping its own order."""
    queues = [[p for p in products if p["brand"] == b] for b in brands]
    others = [p for p in products if p["brand"] not in brands]
    mixed = []
    while any(queues):
        for queue in queues:
            if queue:
                mixed.append(queue.pop(0))
    return mixed + others


def personalised(user_id: str, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shopper's history reorders the results a little; reasons go on the cards."""
    try:
        reranked = runtime.recommendations().rerank(user_id, products[:20])
    except Exception:  # recommendations are a bonus, never a reason to fail the search
        return products
    return [
        {**r.product, "reason": r.reason} if r.reason else r.product for r in reranked
    ] + products[20:]


def show_results(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
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
        hits = [p for p in hits if p["category"] == implied]
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
    return [*state.showing([p["sku"] for p in shown], tracker), state.filters_slot(filters)]


def price_span(products: list[dict[str, Any]]) -> str:
    """「1299元到6999元」 over the cards shown: the shopper sees the price band at a glance."""
    prices = [p["price"] for p in products]
    low, high = min(prices), max(prices)
    return yuan(low) if low == high else f"{yuan(low)}到{yuan(high)}"


def show_nearest(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
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
            text += f"{owner}{noun}{side}的是 {cheapest['title']}，{yuan(cheapest['price'])}。"
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
    return [*state.showing([p["sku"] for p in shown], tracker), state.filters_slot(filters)]


class ActionSearchProducts(Action):
    def name(self) -> str:
        return "action_search_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        followed = answer_followup(dispatcher, tracker, view)
        if followed is not None:
            return followed
        text = state.text_of(tracker)
        filters = qa.filters_from(view, text, state.entities(tracker))
        refs = qa.product_refs(view, text)
        if elliptical_category(text, filters, refs) and state.last_filters(tracker):
            # 「耳机呢」 after 「四千以内的小米手机」: the same constraints on earphones
            return ActionRefineSearch().run(dispatcher, tracker, domain)
        has_budget = filters.min_price is not None or filters.max_price is not None
        if refs and filters.category:
            # 「iPhone 15的手机壳」: cases related to that phone, not every case.
            skus = [s for ref in refs for s in ref.skus]
            if view.graph.products[skus[0]]["category"] != filters.category:
                filters.within = qa.related_in_category(view, skus, filters.category)
            elif not has_budget:
                filters.category = None  # 「HOKA Bondi 8 男子跑步鞋有货吗」: about that shoe
        if asks_about_focus(view, tracker, filters, refs):
            from actions.product_qa import ActionAnswerAttribute

            return ActionAnswerAttribute().run(
                dispatcher, tracker, domain
            )  # 「有白色吗」「42码有吗」
        last = state.last_filters(tracker)
        same_category = filters.category and last is not None and filters.category == last.category
        if (
            state.intent_of(tracker) == "inform"
            and state.shown(tracker)
            and not refs
            and (not filters.category or same_category)
        ) or constrains_last_search(view, tracker, filters, refs):
            # 「三星的」「两千以内」 after a list: a constraint on what is shown, not a new search.
            return ActionRefineSearch().run(dispatcher, tracker, domain)
        if refs and not (filters.category or has_budget):
            from actions.product_qa import ActionAnswerAttribute

            return ActionAnswerAttribute().run(dispatcher, tracker, domain)  # a named product
        from actions.needs import accessories_of_focus

        accessories_of_focus(view, tracker, filters)  # 「有什么配件」 after a phone: its own
        if is_gift(scene_of(text)) and not (has_budget or filters.brands or refs):
            return [FollowupAction("needs_form")]  # 「想买个手机送我妈」: undecided, guide them
        if filters.is_empty() and not refs and BROWSING.search(text):
            return show_popular(dispatcher, tracker)
        if filters.is_empty() and not filters.terms and not refs:
            dispatcher.utter_message(
                text="想看看哪一类商品呢？告诉我品类和预算，我帮您挑。",
                buttons=[{"title": c, "payload": f"看看{c}"} for c in CATEGORY_BUTTONS],
            )
            return []
        if policy.asks_flight(text) and filters.category:
            # 「想要个能带上飞机的充电宝」: only those allowed in the cabin, and say so
            allowed = [
                p["sku"] for p in qa.filter_products(view, filters) if policy.may_carry_on(p)
            ]
            filters = replace(filters, within=allowed)
            lead = f"这些{describe(filters)}都可以随身带上飞机（充电宝在100Wh以内），先看看这几款："
            return show_results(dispatcher, tracker, view, filters, text, lead=lead)
        return show_results(dispatcher, tracker, view, filters, text)


def constrains_last_search(
    view: CatalogView, tracker: Tracker, filters: qa.SearchFilters, refs: list[qa.ProductRef]
) -> bool:
    """「华为的有吗」「vivo呢」「白色的」 after a list: a constraint on that search (平板 stay
    平板), whichever intent the NLU chose. Long messages are requests of their own."""
    last = state.last_filters(tracker)
    text = state.text_of(tracker)
    if refs or last is None or not last.category or len(text) > 12:
        return False
    if filters.category and filters.category != last.category:
        return False
    # 「要头戴式的」 names a kind of the same category: narrower, not a new search
    narrower_kind = bool(filters.kind) and filters.kind != last.kind
    return bool(
        filters.brands
        or filters.colour
        or filters.size
        or qa.bare_size(view, text, last.category)
        or filters.gender
        or narrower_kind
        or filters.min_price is not None
        or filters.max_price is not None
        or qa.requirements_in(view, text, last.category)
    )


_ELLIPTICAL_CATEGORY = re.compile(
    r"^(?:那|那么|换成|换|改成|看看)?\s*(.{1,8}?)\s*(?:的)?\s*(?:呢|咧)[?？。~～]*$"
)


def elliptical_category(text: str, filters: qa.SearchFilters, refs: list[qa.ProductRef]) -> bool:
    """「耳机呢」「那平板呢」: a category and nothing else."""
    if refs or not filters.category or not _ELLIPTICAL_CATEGORY.match(text.strip()):
        return False
    return not (filters.brands or filters.min_price or filters.max_price or filters.colour)


BROWSING = re.compile(
    r"随便看看|随便逛逛|先逛逛|逛一逛|看看有啥|有(?:什么|啥)好东西|有啥好物|好玩的|给我整点|我可能喜欢"
)


def show_popular(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
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
    products = [{**r.product, "reason": r.reason} if r.reason else r.product for r in picks]
    send_products(
        dispatcher, "随便逛逛也好～先看看这几样，有感兴趣的品类点一下就行：", products, buttons
    )
    return state.showing([p["sku"] for p in products], tracker)


_HAVE_QUESTION = re.compile(r"有没有|有.{0,8}吗|还有|有货")


def asks_about_focus(
    view: CatalogView, tracker: Tracker, filters: qa.SearchFilters, refs: list[qa.ProductRef]
) -> bool:
    """「有白色吗」「42码有吗」 right after one product was talked about: a yes/no about it, not a
    search for other white products."""
    focus = state.focus(tracker)
    if refs or filters.category or filters.brands or focus not in view.graph.products:
        return False
    text = state.text_of(tracker)
    if qa.asked_size(text):
        return True
    return bool(filters.colour) and (
        state.shown(tracker) == [focus] or bool(_HAVE_QUESTION.search(text))
    )


_CHEAPER = re.compile(r"便宜|实惠|预算低|价格低|少花|划算|别太贵|不要太贵|不用太贵|不太贵")


def asks_cheaper(text: str) -> bool:
    return bool(_CHEAPER.search(text))


_PRICIER = re.compile(r"贵一?点|高端|好一点|预算高|更好")
_NOT_THESE = re.compile(r"不要|除了|别要|不考虑|排除|不喜欢|去掉")
_OTHER_BRAND = re.compile(r"换个?牌子|别的牌子|其他牌子|其它牌子|换个?品牌|不要这个牌子")


class ActionRefineSearch(Action):
    """「有没有便宜点的」「换个牌子」「要白色的」: changes the last search instead of starting over."""

    def name(self) -> str:
        return "action_refine_search"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        followed = answer_followup(dispatcher, tracker, view)
        if followed is not None:
            return followed
        text = state.text_of(tracker)
        base = state.last_filters(tracker) or qa.SearchFilters()
        shown = [view.graph.products[s] for s in state.shown(tracker) if s in view.graph.products]
        from actions.fallback import names_a_product_and_asks

        if qa.product_refs(view, text) and (
            not (base.category or shown) or names_a_product_and_asks(tracker)
        ):
            from actions.product_qa import ActionAnswerAttribute

            # 「美的 静音加湿器 5L有白色吗」: a question about the product it names
            return ActionAnswerAttribute().run(dispatcher, tracker, domain)
        if not base.category and shown and len({p["category"] for p in shown}) == 1:
            base = replace(base, category=shown[0]["category"])
        new = qa.filters_from(view, text, state.entities(tracker))
        if not new.size and base.category:
            new.size = qa.bare_size(view, text, base.category)  # 「43」 after running shoes
            if new.size:
                new.min_price = new.max_price = None  # a size, not a budget
        if new.category and new.category != base.category:
            # 「耳机呢」: the same budget (and brand, where it makes that category) on earphones
            base = moved_to(view, base, new.category)
            shown = []
        if not new.category and base.category:
            new.attributes = qa.requirements_in(view, text, base.category)  # 「要带GPS的」
        # Every earlier constraint stays unless this message changes it.
        filters = replace(
            base,
            brands=new.brands or base.brands,
            colour=new.colour or base.colour,
            size=new.size or base.size,
            gender=new.gender or base.gender,
            kind=new.kind or base.kind,
            attributes={**base.attributes, **new.attributes},
            min_price=new.min_price if new.min_price is not None else base.min_price,
            max_price=new.max_price if new.max_price is not None else base.max_price,
            terms=list(dict.fromkeys([*base.terms, *new.terms])),
        )
        if len(shown) == 1 and not filters.kind:
            # 「有便宜点的吗」 after one hair dryer: cheaper hair dryers, not shavers.
            filters = replace(filters, kind=qa.kind_of(shown[0]))
        reference = min((p["price"] for p in shown), default=None)
        if _CHEAPER.search(text) and reference:
            filters = replace(filters, max_price=round(reference * 0.9), min_price=None)
        elif _PRICIER.search(text) and reference and not new.terms:
            # 「好一点的」 is a dearer one; 「缓震好一点的」 is better cushioning in the same budget.
            filters = replace(
                filters, min_price=round(max(p["price"] for p in shown) * 1.05), max_price=None
            )
        exclude_brands = {p["brand"] for p in shown} if _OTHER_BRAND.search(text) else set()
        named_brands = {m.value for m in view.linker.link(text) if m.kind == "brand"}
        if _NOT_THESE.search(text) and named_brands:
            exclude_brands = named_brands  # 「不要红魔」「除了苹果都行」
        if exclude_brands:
            kept = set(base.brands) - exclude_brands
            brands = (
                kept
                or {p["brand"] for p in view.graph.filter(category=filters.category)}
                - exclude_brands
            )
            filters = replace(filters, brands=sorted(brands))
        if not filters.category and not filters.brands and not shown:
            if filters.colour:
                return ask_what_in_colour(dispatcher, view, filters.colour)  # 「有透明的吗」
            dispatcher.utter_message(text="您想找哪类商品呢？比如「三千左右的手机」。")
            return []
        return show_results(dispatcher, tracker, view, filters, " ".join([text, *filters.terms]))


def moved_to(view: CatalogView, filters: qa.SearchFilters, category: str) -> qa.SearchFilters:
    """The constraints that still apply on another category: budget, colour, the brands that
    make it, gender where it has gendered lines, size where it has sizes."""
    products = view.graph.filter(category=category)
    brands = [b for b in filters.brands if any(p["brand"] == b for p in products)]
    sized = any("尺码" in p["attributes"] for p in products)
    gendered = any(qa.gender_fits(p, "男") != qa.gender_fits(p, "女") for p in products)
    return replace(
        filters,
        category=category,
        brands=brands,
        kind=None,
        attributes={},
        within=None,
        size=filters.size if sized else None,
        gender=filters.gender if gendered else None,
        terms=[],
    )


class ActionShowSimilar(Action):
    """「有没有类似的」: same series and alternatives from the graph, then nearest by meaning."""

    def name(self) -> str:
        return "action_show_similar"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        view = runtime.view()
        from actions.product_qa import targets

        groups = targets(view, tracker)
        if not groups and state.shown(tracker):
            groups = [[state.shown(tracker)[0]]]
        if not groups:
            dispatcher.utter_message(
                text="您想找和哪款类似的呢？告诉我型号就行，比如「和小米14类似的」。"
            )
            return []
        anchor = qa.representative(view, groups[0])
        similar = similar_products(view, anchor, tracker.sender_id)
        if not similar:
            dispatcher.utter_message(text=f"暂时没有找到和 {anchor['title']} 类似的在售商品。")
            return []
        send_products(
            dispatcher,
            f"和 {anchor.get('model') or anchor['title']} 类似的还有这些：",
            similar,
            quick_replies("对比一下前两个", "第一个多少钱", "有没有便宜点的"),
        )
        return state.showing([p["sku"] for p in similar], tracker, focus_sku=anchor["sku"])


def ask_what_in_colour(
    dispatcher: CollectingDispatcher, view: CatalogView, colour: str
) -> list[dict[str, Any]]:
    """A colour and nothing else to go on: which kinds of product come in it."""
    kinds: dict[str, int] = {}
    for product in view.graph.products.values():
        if qa.colour_matches(product["attributes"].get("颜色"), colour):
            noun = qa.kind_of(product) or product["category"]
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
    view: CatalogView, anchor: dict[str, Any], user_id: str | None = None, k: int = SHOWN
) -> list[dict[str, Any]]:
    """Same category: the recommender's neighbours for this shopper (graph relations, co-views,
    with reasons) first, then the nearest products by meaning in a similar price band."""
    same_model = anchor.get("model")
    try:
        recs = runtime.recommendations().recommend(user_id, k=3 * k, context_sku=anchor["sku"])
        from_recs = [
            {**r.product, "reason": r.reason}
            for r in recs
            if r.product["category"] == anchor["category"]
        ]
    except Exception:  # fall back to content neighbours alone
        from_recs = []
    query = f"{anchor['title']} {' '.join(anchor.get('tags') or [])}"
    price = anchor["price"]
    filters = qa.SearchFilters(
        category=anchor["category"], min_price=price * 0.6, max_price=price * 1.5
    )
    nearby = ranked(view, query, filters, k=30, query_vector=_own_vector(view, anchor["sku"]))
    merged = qa.one_per_model([*from_recs[:3], *nearby, *from_recs[3:]])
    return [p for p in merged if (p.get("model") or p["title"]) != same_model][:k]

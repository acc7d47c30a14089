"""The product skills, which hand a turn to each other: search, refinement of the last search,
similar products, questions about products, comparison, compatibility.

Each answer function is marked with the skill it answers for (actions/turn.py), so a turn that
reaches ``action_search_products`` and is about one named product is answered, and recorded in
the tracker, as ``action_answer_attribute``. The hand-overs are plain calls in this module, and
the predicates that decide them (``constrains_last_search``, ``asks_about_focus``,
``names_a_product_and_asks``...) are here for the other skills to use too. No rasa_sdk here:
actions/search.py and actions/product_qa.py are the actions.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from actions import runtime, state
from actions.context import answer_followup, pair
from actions.facts import (
    by_model,
    colour_answer,
    compare_text,
    describe_field,
    only_model_named,
    size_answer,
    summary,
    swapped_target,
    targets,
    use_verdict,
    variant_buttons,
)
from actions.formatting import quick_replies, send_products, yuan
from actions.listing import (
    ACCESSORY,
    BROWSING,
    CATEGORY_BUTTONS,
    accessories_of_focus,
    ask_what_in_colour,
    asks_cheaper,
    describe,
    ranked,
    show_popular,
    show_results,
    similar_products,
)
from actions.turn import Reply, Turn, skill
from knowledge_graph import context, policy, qa
from knowledge_graph.product import Product
from knowledge_graph.scenes import is_gift, scene_of
from knowledge_graph.service import CatalogView
from search import query

# -- search ------------------------------------------------------------------------------


@skill("action_search_products")
def search_products(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
    view = runtime.view()
    followed = answer_followup(dispatcher, tracker, view)
    if followed is not None:
        return followed
    text = state.text_of(tracker)
    filters = query.filters_from(view, text, state.entities(tracker))
    refs = qa.product_refs(view, text)
    if elliptical_category(text, filters, refs) and state.last_filters(tracker):
        # 「耳机呢」 after 「四千以内的小米手机」: the same constraints on earphones
        return refine_search(dispatcher, tracker)
    has_budget = filters.min_price is not None or filters.max_price is not None
    if refs and filters.category:
        # 「iPhone 15的手机壳」: cases related to that phone, not every case.
        skus = [s for ref in refs for s in ref.skus]
        if view.graph.products[skus[0]].category != filters.category:
            filters.within = qa.related_in_category(view, skus, filters.category)
        elif not has_budget:
            filters.category = None  # 「HOKA Bondi 8 男子跑步鞋有货吗」: about that shoe
    if asks_about_focus(view, tracker, filters, refs):
        return answer_attribute(dispatcher, tracker)  # 「有白色吗」「42码有吗」
    last = state.last_filters(tracker)
    same_category = filters.category and last is not None and filters.category == last.category
    if (
        state.intent_of(tracker) == "inform"
        and state.shown(tracker)
        and not refs
        and (not filters.category or same_category)
    ) or constrains_last_search(view, tracker, filters, refs):
        # 「三星的」「两千以内」 after a list: a constraint on what is shown, not a new search.
        return refine_search(dispatcher, tracker)
    if refs and not (filters.category or has_budget):
        return answer_attribute(dispatcher, tracker)  # a named product
    accessories_of_focus(view, tracker, filters)  # 「有什么配件」 after a phone: its own
    if is_gift(scene_of(text)) and not (has_budget or filters.brands or refs):
        return [state.followup("needs_form")]  # 「想买个手机送我妈」: undecided, guide them
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
        allowed = [p.sku for p in qa.filter_products(view, filters) if policy.may_carry_on(p)]
        filters = replace(filters, within=allowed)
        lead = f"这些{describe(filters)}都可以随身带上飞机（充电宝在100Wh以内），先看看这几款："
        return show_results(dispatcher, tracker, view, filters, text, lead=lead)
    return show_results(dispatcher, tracker, view, filters, text)


def constrains_last_search(
    view: CatalogView, tracker: Turn, filters: qa.SearchFilters, refs: list[qa.ProductRef]
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
        or query.bare_size(view, text, last.category)
        or filters.gender
        or narrower_kind
        or filters.min_price is not None
        or filters.max_price is not None
        or query.requirements_in(view, text, last.category)
    )


_ELLIPTICAL_CATEGORY = re.compile(
    r"^(?:那|那么|换成|换|改成|看看)?\s*(.{1,8}?)\s*(?:的)?\s*(?:呢|咧)[?？。~～]*$"
)


def elliptical_category(text: str, filters: qa.SearchFilters, refs: list[qa.ProductRef]) -> bool:
    """「耳机呢」「那平板呢」: a category and nothing else."""
    if refs or not filters.category or not _ELLIPTICAL_CATEGORY.match(text.strip()):
        return False
    return not (filters.brands or filters.min_price or filters.max_price or filters.colour)


_HAVE_QUESTION = re.compile(r"有没有|有.{0,8}吗|还有|有货")


def asks_about_focus(
    view: CatalogView, tracker: Turn, filters: qa.SearchFilters, refs: list[qa.ProductRef]
) -> bool:
    """「有白色吗」「42码有吗」 right after one product was talked about: a yes/no about it, not a
    search for other white products."""
    focus = state.focus(tracker)
    if refs or filters.category or filters.brands or focus not in view.graph.products:
        return False
    text = state.text_of(tracker)
    if query.asked_size(text):
        return True
    return bool(filters.colour) and (
        state.shown(tracker) == [focus] or bool(_HAVE_QUESTION.search(text))
    )


_PRICIER = re.compile(r"贵一?点|高端|好一点|预算高|更好")
_NOT_THESE = re.compile(r"不要|除了|别要|不考虑|排除|不喜欢|去掉")
_OTHER_BRAND = re.compile(r"换个?牌子|别的牌子|其他牌子|其它牌子|换个?品牌|不要这个牌子")


@skill("action_refine_search")
def refine_search(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
    """「有没有便宜点的」「换个牌子」「要白色的」: changes the last search instead of starting over."""
    view = runtime.view()
    followed = answer_followup(dispatcher, tracker, view)
    if followed is not None:
        return followed
    text = state.text_of(tracker)
    base = state.last_filters(tracker) or qa.SearchFilters()
    shown = [view.graph.products[s] for s in state.shown(tracker) if s in view.graph.products]
    if qa.product_refs(view, text) and (
        not (base.category or shown) or names_a_product_and_asks(tracker)
    ):
        # 「美的 静音加湿器 5L有白色吗」: a question about the product it names
        return answer_attribute(dispatcher, tracker)
    if not base.category and shown and len({p.category for p in shown}) == 1:
        base = replace(base, category=shown[0].category)
    new = query.filters_from(view, text, state.entities(tracker))
    if not new.size and base.category:
        new.size = query.bare_size(view, text, base.category)  # 「43」 after running shoes
        if new.size:
            new.min_price = new.max_price = None  # a size, not a budget
    if new.category and new.category != base.category:
        # 「耳机呢」: the same budget (and brand, where it makes that category) on earphones
        base = moved_to(view, base, new.category)
        shown = []
    if not new.category and base.category:
        new.attributes = query.requirements_in(view, text, base.category)  # 「要带GPS的」
    # Every earlier constraint stays unless this message changes it.
    colour = new.colour or (base.colour if base.colour not in new.avoided_colours else None)
    avoided = [
        c for c in dict.fromkeys([*base.avoided_colours, *new.avoided_colours]) if c != colour
    ]
    filters = replace(
        base,
        brands=new.brands or base.brands,
        colour=colour,
        avoided_colours=avoided,
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
    reference = min((p.price for p in shown), default=None)
    if asks_cheaper(text) and reference:
        filters = replace(filters, max_price=round(reference * 0.9), min_price=None)
    elif _PRICIER.search(text) and reference and not new.terms:
        # 「好一点的」 is a dearer one; 「缓震好一点的」 is better cushioning in the same budget.
        filters = replace(
            filters, min_price=round(max(p.price for p in shown) * 1.05), max_price=None
        )
    exclude_brands = {p.brand for p in shown} if _OTHER_BRAND.search(text) else set()
    exclude_brands |= set(new.avoided_brands)  # 「不要红魔」「小米和红魔的都不要」「除了苹果都行」
    named_brands = {m.value for m in view.linker.link(text) if m.kind == "brand"}
    if _NOT_THESE.search(text) and named_brands and not (new.brands or new.avoided_brands):
        exclude_brands |= named_brands  # a refusal worded otherwise
    if exclude_brands:
        kept = set(filters.brands) - exclude_brands
        brands = (
            kept or {p.brand for p in view.graph.filter(category=filters.category)} - exclude_brands
        )
        avoided = sorted((set(base.avoided_brands) | exclude_brands) - set(new.brands))
        filters = replace(filters, brands=sorted(brands), avoided_brands=avoided)
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
    brands = [b for b in filters.brands if any(p.brand == b for p in products)]
    sized = any("尺码" in p.attributes for p in products)
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


@skill("action_show_similar")
def show_similar(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
    """「有没有类似的」: same series and alternatives from the graph, then nearest by meaning."""
    view = runtime.view()
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
        dispatcher.utter_message(text=f"暂时没有找到和 {anchor.title} 类似的在售商品。")
        return []
    send_products(
        dispatcher,
        f"和 {anchor.model or anchor.title} 类似的还有这些：",
        similar,
        quick_replies("对比一下前两个", "第一个多少钱", "有没有便宜点的"),
    )
    skus = [p.sku for p in similar]
    runtime.record_chat_events(tracker.sender_id, skus, anchor.sku)
    return state.slots_for_shown(skus, tracker, focus_sku=anchor.sku)


# -- questions about products ------------------------------------------------------------


_ELLIPTICAL = re.compile(r"呢|咧|嘞|一样的问题|同样的问题")


@skill("action_answer_attribute")
def answer_attribute(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
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
        return compare_products(dispatcher, tracker)
    groups = groups or only_model_named(view, tracker)
    if not groups and constrains_last_search(view, tracker, query.filters_from(view, text, []), []):
        return refine_search(dispatcher, tracker)  # 「vivo呢」 on the list
    if (
        not groups
        and state.last_filters(tracker)
        and (query.asked_size(text) or query.asked_colour(view, text))
    ):
        return refine_search(dispatcher, tracker)  # 「38码有吗」 on the list
    if not groups:
        return search_instead(dispatcher, tracker, view) or not_found(dispatcher, view, tracker)
    mentions = view.linker.link(text)
    plain = qa.masked(text, mentions)
    missing = next((r for r in qa.product_refs(view, text) if r.missing), None)
    size, colour = query.asked_size(plain), query.asked_colour(view, plain)
    fields = [
        f
        for f in qa.asked_fields(view, text)
        if not ((size and f == "尺码") or (colour and f == "颜色"))
    ] or ([] if size or colour else default_fields(tracker))
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
        closest = shown[0].model or shown[0].title
        answers.insert(0, f"抱歉，暂时没有找到「{asked}」，最接近的是 {closest}：")
    send_products(dispatcher, "\n".join(answers), shown, buttons)
    asked = {"fields": fields, "size": size, "colour": colour}
    remembered = [state.slot("last_question", asked)] if fields or size or colour else []
    skus = [p.sku for p in shown]
    runtime.record_chat_events(tracker.sender_id, skus, shown[0].sku)
    events = state.slots_for_shown(skus, tracker, focus_sku=shown[0].sku)
    listed = state.shown(tracker)
    if len(listed) > len(shown) and all(set(g) & set(listed) for g in groups[: len(shown)]):
        # 「第一个电池多大」 picks from the list; 「第三个呢」 next still counts on that list.
        events = [e for e in events if e.get("name") != "shown_products"]
    return [*events, *remembered]


def default_fields(tracker: Turn) -> list[str]:
    return ["stock"] if tracker.latest_message.get("intent", {}).get("name") == "ask_stock" else []


def names_a_product_and_asks(tracker: Turn) -> bool:
    """A message that names a catalog product and asks one of the questions the graph answers
    (price, stock, an attribute, a size or a colour), whatever the NLU made of it."""
    view = runtime.view()
    text = state.text_of(tracker)
    mentions = view.linker.link(text)
    if not any(m.kind == "product" for m in mentions):
        return False
    plain = qa.masked(text, mentions)
    return bool(
        qa.asked_fields(view, text) or query.asked_size(plain) or query.asked_colour(view, plain)
    )


def search_instead(
    dispatcher: Reply, tracker: Turn, view: CatalogView
) -> list[dict[str, Any]] | None:
    """No product named but a category or brand is (「适合油皮的护肤品」): answer with a search."""
    text = state.text_of(tracker)
    filters = query.filters_from(view, text, state.entities(tracker))
    if not (filters.category or filters.brands):
        return None
    return show_results(dispatcher, tracker, view, filters, text)


def not_found(dispatcher: Reply, view: CatalogView, tracker: Turn) -> list[dict[str, Any]]:
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


def not_carried(dispatcher: Reply, tracker: Turn, view: CatalogView) -> list[dict[str, Any]]:
    focus = view.graph.products[state.focus(tracker)]
    name = context.swapped_model_name(state.text_of(tracker), focus)
    siblings = sorted(
        {
            p.model
            for p in view.graph.products.values()
            if p.brand == focus.brand and p.category == focus.category and p.model
        }
    )[:4]
    dispatcher.utter_message(
        text=f"抱歉，店里暂时没有 {name}。{focus.brand}的{focus.category}在售的有：{'、'.join(siblings)}。",
        buttons=[{"title": m, "payload": f"{m}多少钱"} for m in siblings],
    )
    return []


_DIFFERENCE = re.compile(r"区别|不同|差别|差异|不一样")
_COMPARISON = re.compile(r"对比|比较|比一比|比一下|哪个|哪款|还是|差多少|vs|pk|和.{1,12}比", re.I)


@skill("action_compare_products")
def compare_products(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
    view = runtime.view()
    followed = answer_followup(dispatcher, tracker, view)
    if followed is not None:
        return followed
    groups = targets(view, tracker)
    if len(groups) == 1 and state.focus(tracker) and state.focus(tracker) not in groups[0]:
        groups.insert(0, [state.focus(tracker)])
    if len(groups) < 2:
        # 「那拍照呢」 after a comparison: the same two products, on another point
        groups = [[p.sku] for p in pair(view, tracker, [])] or groups
    if len(groups) < 2:
        brands = query.filters_from(view, state.text_of(tracker), []).brands
        if len(brands) >= 2:
            return compare_brands(dispatcher, tracker, view)  # 「华为和苹果手机哪个好」
    if len(groups) == 1 and not _COMPARISON.search(state.text_of(tracker)):
        # One product and no word of comparing: a question about it read as a comparison
        # (「亚瑟士 GEL-KAYANO 31 … 黑/白46码有吗」, the slash looked like a pair)
        return answer_attribute(dispatcher, tracker)
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
    use, use_keys = context.use_asked(view, message, a.category)
    skin = context.skin_asked(message)
    asked += [k for k in use_keys if k not in asked]
    if skin and "适用肤质" not in asked:
        asked.insert(0, "适用肤质")
    comparison = view.graph.compare(a.sku, b.sku)
    text = compare_text(view, a, b, comparison, asked, bool(_DIFFERENCE.search(message)))
    verdict = use_verdict(a, b, comparison, use, use_keys, skin)
    if verdict:
        text = "\n".join([*text.split("\n")[:-1], verdict])
    send_products(
        dispatcher, text, [a, b], quick_replies("第一个有货吗", "差价多少", "有没有更便宜的")
    )
    runtime.record_chat_events(tracker.sender_id, [a.sku, b.sku], None)
    return [
        *state.slots_for_shown([a.sku, b.sku], tracker),
        state.slot("compare_pair", [a.sku, b.sku]),
    ]


def compare_brands(dispatcher: Reply, tracker: Turn, view: CatalogView) -> list[dict[str, Any]]:
    """Two brands, not two products: the best of each side by side, and a search that keeps
    both brands for the next message (「预算6000」)."""
    text = state.text_of(tracker)
    filters = query.filters_from(view, text, state.entities(tracker))
    picks = []
    for brand in filters.brands[:3]:
        one = replace(filters, brands=[brand])
        picks += ranked(view, text, one)[:2]
    if not picks:
        dispatcher.utter_message(text=f"抱歉，暂时没有{describe(filters)}。")
        return [state.filters_slot(filters)]
    lines = [
        f"{brand}：" + "、".join(f"{p.title} {yuan(p.price)}" for p in picks if p.brand == brand)
        for brand in filters.brands
        if any(p.brand == brand for p in picks)
    ]
    send_products(
        dispatcher,
        f"{'和'.join(filters.brands)}各有所长，先看看各家口碑好的{filters.kind or filters.category or '商品'}：\n"
        + "\n".join(lines)
        + "\n告诉我预算和最看重的（拍照、续航、性能），我帮您挑一款。",
        picks,
        quick_replies("对比一下前两个", "哪个便宜", "预算5000以内"),
    )
    skus = [p.sku for p in picks]
    runtime.record_chat_events(tracker.sender_id, skus, None)
    return [*state.slots_for_shown(skus, tracker), state.filters_slot(filters)]


@skill("action_check_compatibility")
def check_compatibility(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
    view = runtime.view()
    followed = answer_followup(dispatcher, tracker, view)
    if followed is not None:
        return followed
    text = state.text_of(tracker)
    refs = qa.product_refs(view, text, state.entity_values(tracker, "product"))
    if len(refs) == 1 and refs[0].exact:
        # A pasted accessory title says 「适用…」: a question about that product, not a fit.
        return answer_attribute(dispatcher, tracker)
    groups, implied_devices, implied_accessories = [], [], []
    for ref in refs:
        named = [view.graph.products[s] for s in ref.named if s in view.graph.products]
        if (
            named
            and all(p.category != ACCESSORY for p in named)
            and all(view.graph.products[s].category == ACCESSORY for s in ref.skus)
        ):
            implied_devices.append(list(ref.named))  # 「iPhone 15的手机壳」: the phone's
            implied_accessories += list(ref.skus)
        else:
            groups += by_model(view, ref.skus)
    groups += [g for g in targets(view, tracker) if not refs and g]
    if state.focus(tracker) and not any(state.focus(tracker) in g for g in groups):
        groups.append([state.focus(tracker)])
    accessories = [g for g in groups if view.graph.products[g[0]].category == ACCESSORY]
    devices = implied_devices + [
        g for g in groups if view.graph.products[g[0]].category != ACCESSORY
    ]
    if devices and not accessories:
        # 「iPhone 15的手机壳有吗」: no accessory named yet, so list the ones that fit (of the
        # kind asked, when the words named one: cases, not chargers).
        return fitting_accessories(dispatcher, tracker, view, devices[0], only=implied_accessories)
    if not accessories or not devices:
        dispatcher.utter_message(text="请告诉我配件和机型，比如「这个壳iPhone 15能用吗」。")
        return []
    accessory = view.graph.products[accessories[0][0]]
    device = qa.representative(view, devices[0])
    device_skus = set(devices[0])
    fits = any(view.graph.is_compatible(accessory.sku, s) for s in device_skus)
    if fits:
        text = f"可以的，{accessory.title} 适配 {device.model or device.title}。"
        send_products(dispatcher, text, [accessory], quick_replies("还有货吗", "多少钱"))
        runtime.record_chat_events(tracker.sender_id, [accessory.sku], accessory.sku)
        return state.slots_for_shown([accessory.sku], tracker, focus_sku=accessory.sku)
    return fitting_accessories(dispatcher, tracker, view, devices[0], accessory)


def fitting_accessories(
    dispatcher: Reply,
    tracker: Turn,
    view: CatalogView,
    device_skus: list[str],
    refused: Product | None = None,
    only: list[str] | None = None,
) -> list[dict[str, Any]]:
    device = qa.representative(view, device_skus)
    related = [
        s
        for s, rel in view.graph.related(device.sku, ["COMPATIBLE_WITH", "ACCESSORY_OF"])
        if view.graph.products[s].category == ACCESSORY and view.graph.products[s].stock > 0
    ]
    related = list(dict.fromkeys(related))  # a case can be both COMPATIBLE_WITH and ACCESSORY_OF
    if only:
        related = [s for s in related if s in set(only)] or related
    compatible = [view.graph.products[s] for s in related][:4]
    name = device.model or device.title
    text = f"抱歉，{refused.title} 不适配 {name}。" if refused else f"适配 {name} 的配件有这些："
    if refused and compatible:
        text += "这几款是适配的，您可以看看："
    if not compatible:
        text = (text if refused else "") + f"暂时没有适配 {name} 的在售配件。"
    send_products(dispatcher, text, compatible, quick_replies("第一个多少钱", "有没有便宜点的"))
    skus = [p.sku for p in compatible]
    runtime.record_chat_events(tracker.sender_id, skus, None)
    return state.slots_for_shown(skus, tracker)

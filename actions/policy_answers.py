"""Shop-policy answers (faq/...), made specific to the product the shopper is asking about.

The response selector picks the policy topic; `answer_faq` says it for the product named or in
focus: an opened skincare item cannot be returned, a 20000mAh power bank may fly, a broken pair
of earphones gets an apology and the exchange path, bargaining gets a cheaper variant.
`product_in_question` and `defect` also serve the policy follow-ups (actions/context.py).
No rasa_sdk here: actions/faq.py is the action.

What the shop says is the shop's to edit (console 「店铺问答」, knowledge_graph/shop_answers.py):
a topic's text comes from the shop's answers when it edited them, else from the bot's domain
response, and the product-specific sentences take the shop's policy numbers. Both come from the
runtime's copy, which costs a turn at most a version check.
"""

from __future__ import annotations

import re
from typing import Any

from actions import runtime, state
from actions.formatting import quick_replies, send_products, yuan
from actions.turn import Reply, Turn, skill
from knowledge_graph import policy, qa
from knowledge_graph.product import Product
from knowledge_graph.service import CatalogView
from knowledge_graph.shop_answers import ShopTexts
from search import query

CHEAPER_SHOWN = 3
_WANTS_TO_BUY = re.compile(r"想要|想买|推荐|有没有|求推荐|买个|来个")


def faq_key(tracker: Turn) -> str | None:
    """「faq/return_policy」: the topic the response selector chose for this message."""
    selector = tracker.latest_message.get("response_selector") or {}
    for prediction in selector.values():
        if not isinstance(prediction, dict):
            continue  # "all_retrieval_intents" is a list beside the predictions
        key = (prediction.get("response") or {}).get("intent_response_key")
        if key and key.startswith("faq/"):
            return key
    return None


def product_in_question(view: CatalogView, tracker: Turn) -> Product | None:
    """The product named in the message, else the one in focus unless the message names another
    kind of product (「充电宝能带上飞机吗」 while a phone is in focus is about power banks)."""
    text = state.text_of(tracker)
    refs = qa.product_refs(view, text)
    if refs:
        return qa.representative(view, refs[0].skus)
    described = query.described_product(view, text)
    if described is not None:
        return described  # 「小米20000mAh充电宝能上飞机不」
    focus = state.focus(tracker)
    if focus not in view.graph.products:
        return None
    product = view.graph.products[focus]
    filters = query.filters_from(view, text, [])
    if filters.category and filters.category != product.category:
        return None
    if filters.kind and filters.kind != qa.kind_of(product):
        return None
    return product


def asks_for_products(view: CatalogView, tracker: Turn) -> bool:
    """「想要个能带上飞机的充电宝」 under an air-travel or warranty topic: a request for products
    of a category, not a policy question (the search answers it)."""
    key = faq_key(tracker)
    text = state.text_of(tracker)
    if key is None or policy.reports_defect(text):
        return False
    return (
        key.split("/", 1)[1] in ("air_travel", "warranty")
        and bool(_WANTS_TO_BUY.search(text))
        and bool(query.filters_from(view, text, []).category)
    )


@skill("action_answer_faq")
def answer_faq(dispatcher: Reply, tracker: Turn) -> list[dict[str, Any]]:
    key = faq_key(tracker)
    view = runtime.view()
    text = state.text_of(tracker)
    if key is None and not policy.reports_defect(text):
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []
    product = product_in_question(view, tracker)
    shop = runtime.shop_texts()
    terms = shop.policy
    topic = key.split("/", 1)[1] if key else "defect"
    if policy.reports_defect(text):
        topic = "defect"  # 「洗地机用了10天就不出水了」, whatever topic the selector chose
    if policy.asks_about_opened(text) and re.search(r"退|换", text):
        # 「薯片拆开吃了不好吃 能退不」, whichever return topic the selector chose
        if product is None:
            filters = query.filters_from(view, text, [])
            named = filters.kind or filters.category
            answer = (
                policy.opened_return_in(filters.category, named, terms)
                if filters.category and named
                else policy.opened_return(None, terms)
            )
            dispatcher.utter_message(text=answer)
            return []
        return about(dispatcher, tracker, policy.opened_return(product, terms), product)
    elif topic == "warranty" and product is not None:
        return about(dispatcher, tracker, policy.warranty(product, terms), product)
    elif topic == "air_travel" and product is not None and (flight := policy.air_travel(product)):
        return about(dispatcher, tracker, flight, product)
    elif topic == "defect" or key is None:
        defect(dispatcher, product)
    elif topic == "bargain" and product is not None:
        return bargain(dispatcher, tracker, view, product)
    else:
        say_topic(dispatcher, key, shop)
    return []


def say_topic(dispatcher: Reply, key: str, shop: ShopTexts) -> None:
    """The topic as the shop wrote it, else the bot's domain response (Rasa picks a variant)."""
    text = shop.answer(key)
    if text is None:
        dispatcher.utter_message(response=f"utter_{key}")
    else:
        dispatcher.utter_message(text=text)


def about(
    dispatcher: Reply,
    tracker: Turn,
    answer: str,
    product: Product | None,
) -> list[dict[str, Any]]:
    """A policy answer fitted to one product shows that product, which stays in focus."""
    if product is None:
        dispatcher.utter_message(text=answer)
        return []
    send_products(dispatcher, answer, [product], quick_replies("还有货吗", "多少钱", "转人工"))
    runtime.record_chat_events(tracker.sender_id, [product.sku], product.sku)
    return state.slots_for_shown([product.sku], tracker, focus_sku=product.sku)


def defect(dispatcher: Reply, product: Product | None) -> None:
    """An apology and the exchange path; without a product, the shop's own text if it wrote one."""
    shop = runtime.shop_texts()
    own = shop.answer("faq/defect") if product is None else None
    dispatcher.utter_message(
        text=own or policy.defect(product, shop.policy),
        buttons=[{"title": t, "payload": p} for t, p in quick_replies("转人工", "怎么申请售后")],
    )


def bargain(
    dispatcher: Reply,
    tracker: Turn,
    view: CatalogView,
    product: Product,
) -> list[dict[str, Any]]:
    """A polite no, then what the catalog has for less: a cheaper variant of the same model,
    else cheaper products of the same kind."""
    name = product.title
    variants = [
        view.graph.products[s]
        for s in view.graph.variants(product.sku)
        if view.graph.products[s].price < product.price and view.graph.products[s].stock > 0
    ]
    lead = f"抱歉，{name} 的 {yuan(product.price)} 已经是店里的实在价，没法再单独改价哦，领券和满减活动可以叠加使用。"
    if variants:
        cheaper = sorted(variants, key=lambda p: p.price)[:CHEAPER_SHOWN]
        listed = "，".join(f"{p.title} {yuan(p.price)}" for p in cheaper)
        text = lead + f"同款更便宜的版本有：{listed}。"
    else:
        filters = qa.SearchFilters(
            category=product.category,
            kind=qa.kind_of(product),
            max_price=product.price * 0.95,
        )
        alternatives = [
            p
            for p in qa.rank_by_quality(qa.filter_products(view, filters), [])
            if p.model != product.model or p.brand != product.brand
        ]
        cheaper = qa.one_per_model(alternatives)[:CHEAPER_SHOWN]
        if not cheaper:
            dispatcher.utter_message(text=lead + "它已经是同类里价格最低的了。")
            return []
        text = lead + "想省一点的话，这几款价位更低，您可以看看："
    send_products(dispatcher, text, cheaper, quick_replies("第一个怎么样", "对比一下前两个"))
    skus = [p.sku for p in cheaper]
    runtime.record_chat_events(tracker.sender_id, skus, None)
    return state.slots_for_shown(skus, tracker)

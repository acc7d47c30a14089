"""On a product page the widget sends ``{"product_sku": ...}`` with each message: 「这款」 there
means the product on the page, unless the conversation settled on another product while the
shopper was on it (the ``focus_page`` slot: the page the focus was chosen on)."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime, state
from actions.product_qa import ActionAnswerAttribute, ActionCompareProducts
from actions.search import ActionSearchProducts

PAGE = "PH-XM-14-256"  # 小米14 in the mini catalog: white, 193g
ELSEWHERE = "PH-HW-M60P-256"


@pytest.fixture(autouse=True)
def mini_runtime(monkeypatch, mini_services):
    monkeypatch.setattr(runtime, "_services", None)
    runtime.install(mini_services)


def tracker(text: str, page: str | None, **slots) -> Tracker:
    message = {"text": text, "intent": {"name": ""}, "entities": [], "intent_ranking": []}
    message["metadata"] = {"product_sku": page} if page else {}
    latest = {"event": "user", "text": text, "metadata": message["metadata"]}
    return Tracker("shopper", slots, message, [latest], False, None, {}, "action_listen")


def answer(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    cards = next((m["custom"]["items"] for m in dispatcher.messages if m.get("custom")), [])
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return text, [c["sku"] for c in cards], slots


def test_this_one_on_a_product_page_is_the_page_product():
    text, skus, slots = answer(ActionSearchProducts(), tracker("这款有白色吗", PAGE))
    assert skus == [PAGE] and text.startswith("有的")
    assert slots.get("product_focus") == PAGE  # stays 「这款」 after leaving the page
    assert slots.get("focus_page") == PAGE


def test_the_page_wins_over_a_focus_chosen_before_the_shopper_opened_it():
    t = tracker("这款多重", PAGE, product_focus=ELSEWHERE, focus_page=None)
    text, skus, slots = answer(ActionAnswerAttribute(), t)
    assert skus == [PAGE] and "193g" in text
    assert slots["product_focus"] == PAGE and slots["previous_focus"] == ELSEWHERE


def test_a_product_chosen_in_chat_while_on_the_page_stays_the_focus():
    t = tracker("这款多少钱", PAGE, product_focus=ELSEWHERE, focus_page=PAGE)
    text, skus, _ = answer(ActionAnswerAttribute(), t)
    assert skus == [ELSEWHERE] and "6499元" in text


def test_a_comparison_on_the_page_pairs_the_page_with_the_earlier_product():
    t = tracker("和刚才那款比哪个好", PAGE, product_focus=ELSEWHERE, focus_page="PH-OTHER")
    _, skus, _ = answer(ActionCompareProducts(), t)
    assert sorted(skus) == sorted([PAGE, ELSEWHERE])


@pytest.mark.parametrize("forged", ["NO-SUCH-SKU", "", "x" * 500, 42])
def test_an_unknown_or_malformed_page_sku_is_ignored(forged):  # the browser sends it
    t = tracker("这款多重", None, product_focus=PAGE)
    t.latest_message["metadata"] = {"product_sku": forged}
    assert state.focus(t) == PAGE
    text, skus, _ = answer(ActionAnswerAttribute(), t)
    assert skus == [PAGE] and "193g" in text


def test_naming_another_product_on_the_page_records_the_page():
    _, skus, slots = answer(ActionAnswerAttribute(), tracker("华为mate60pro多少钱", PAGE))
    assert skus == [ELSEWHERE]
    assert slots["product_focus"] == ELSEWHERE and slots["focus_page"] == PAGE


def test_leaving_the_page_keeps_the_product_asked_about_there():
    t = tracker("这款多重", None, product_focus=PAGE, focus_page=PAGE)
    text, skus, _ = answer(ActionAnswerAttribute(), t)
    assert skus == [PAGE] and "193g" in text

"""Which skill answered: every message names it (its `skill` key, kept by Rasa in the BotUttered
event's metadata), hand-overs between skills are plain calls, and showing products records
them for the recommender exactly once. Also the layering of actions/: the logic modules
import no rasa_sdk and no action module imports another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions import runtime, state
from actions.after_sales import ActionOrderStatus
from actions.fallback import ActionDefaultAskAffirmation, ActionGreet
from actions.faq import ActionAnswerFaq
from actions.needs import ActionRecommend
from actions.product_qa import ActionAnswerAttribute, ActionCheckCompatibility
from actions.search import ActionRefineSearch, ActionSearchProducts, ActionShowSimilar
from actions.turn import SKILL_KEY
from tests.unit.test_actions import PHONES, mini_runtime, run, tracker  # noqa: F401  (autouse)

ACTIONS_DIR = Path(__file__).resolve().parents[2] / "actions"
LIST = ["PH-HW-M60P-256", "PH-XM-14-256"]


def skills(messages: list[dict]) -> set[str]:
    return {m.get(SKILL_KEY) for m in messages}


@pytest.fixture
def recorded(monkeypatch):
    """The calls to runtime.record_chat_events (still recorded for real)."""
    calls = []
    original = runtime.record_chat_events

    def spy(user_id, shown, viewed):
        calls.append((user_id, list(shown), viewed))
        original(user_id, shown, viewed)

    monkeypatch.setattr(runtime, "record_chat_events", spy)
    return calls


@pytest.mark.parametrize(
    ("action", "text", "slots", "skill"),
    [
        (ActionSearchProducts(), "六千以内的华为手机", {}, "action_search_products"),
        # a search naming one product is answered by the product question
        (ActionSearchProducts(), "華為Mate60 Pro多少錢", {}, "action_answer_attribute"),
        # 「有白色吗」 about the phone in focus
        (ActionSearchProducts(), "有白色吗", {"product_focus": "PH-XM-14-256", "shown_products": ["PH-XM-14-256"]}, "action_answer_attribute"),
        # a brand alone after a list refines it
        (ActionSearchProducts(), "小米的", {"shown_products": LIST, "last_filters": PHONES}, "action_refine_search"),
        (ActionRefineSearch(), "有没有便宜点的", {"shown_products": LIST, "last_filters": PHONES}, "action_refine_search"),
        # 「iPhone 15 透明硅胶手机壳多少钱」 is a price question, whatever the NLU chose
        (ActionCheckCompatibility(), "iPhone 15 透明硅胶手机壳多少钱", {}, "action_answer_attribute"),
        # two products and a 「哪个」 are a comparison
        (ActionAnswerAttribute(), "Mate60 Pro和小米14哪个续航好", {}, "action_compare_products"),
        (ActionShowSimilar(), "有没有类似的", {"product_focus": "PH-HW-M60-256"}, "action_show_similar"),
        (ActionRecommend(), "小米的有吗", {"shown_products": LIST, "last_filters": PHONES}, "action_refine_search"),
        # follow-ups answered from the slots are skills of their own
        (ActionSearchProducts(), "不知道多少钱合适", {"last_filters": PHONES}, "followup_price_guidance"),
        (ActionAnswerAttribute(), "哪个便宜", {"shown_products": LIST}, "followup_which"),
        (ActionGreet(), "你好", {}, "action_greet"),
        (ActionOrderStatus(), "查订单DG20261105001234", {}, "action_order_status"),
    ],
)  # fmt: skip
def test_every_message_names_the_skill_that_answered(action, text, slots, skill):
    messages, *_ = run(action, tracker(text, intent="inform", **slots))
    assert messages and skills(messages) == {skill}


def test_unsure_nlu_handed_to_the_product_question_names_it():
    t = tracker("mate60pro 512G还有货吗", intent="nlu_fallback")
    messages, _, products, *_ = run(ActionDefaultAskAffirmation(), t)
    assert [p["sku"] for p in products] == ["PH-HW-M60P-512"]
    assert skills(messages) == {"action_answer_attribute"}


def test_a_policy_topic_asking_for_products_is_answered_by_the_search():
    t = tracker("想买个保修久的手机", "faq")
    t.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": "faq/warranty"}}
    }
    messages, _, products, *_ = run(ActionAnswerFaq(), t)
    assert products and {p["category"] for p in products} == {"手机"}
    assert skills(messages) == {"action_search_products"}


def test_the_skill_is_a_key_beside_the_known_fields():
    # Rasa keeps unknown keys of a message in BotUttered.metadata; the channels send only
    # text, buttons, custom, image and attachment to the shopper.
    messages, *_ = run(ActionSearchProducts(), tracker("華為Mate60 Pro多少錢"))
    message = messages[0]
    assert message[SKILL_KEY] == "action_answer_attribute"
    assert message["custom"]["type"] == "products" and message["text"] and message["buttons"]


def test_a_delegated_answer_records_the_products_shown_once(recorded):
    run(ActionSearchProducts(), tracker("華為Mate60 Pro多少錢", sender="s-once"))
    assert recorded == [("s-once", ["PH-HW-M60P-256"], "PH-HW-M60P-256")]
    recorded.clear()
    run(
        ActionSearchProducts(),
        tracker(
            "小米的", intent="inform", sender="s-once", shown_products=LIST, last_filters=PHONES
        ),
    )
    assert len(recorded) == 1 and recorded[0][0] == "s-once" and recorded[0][2] is None


def test_a_reply_without_products_records_nothing(recorded):
    run(ActionSearchProducts(), tracker("不知道多少钱合适", last_filters=PHONES))
    run(ActionGreet(), tracker("你好", intent="greet"))
    assert recorded == []


def test_slot_events_after_showing_are_pure(recorded):
    events = state.slots_for_shown(["PH-XM-14-256"], tracker("x"), focus_sku="PH-XM-14-256")
    assert recorded == []
    assert events == [
        SlotSet("shown_products", ["PH-XM-14-256"]),
        SlotSet("previous_focus", None),
        SlotSet("product_focus", "PH-XM-14-256"),
    ]


def test_events_are_the_ones_rasa_sdk_builds():
    assert state.slot("compare_pair", ["a", "b"]) == SlotSet("compare_pair", ["a", "b"])
    assert state.followup("needs_form") == FollowupAction("needs_form")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_logic_modules_have_no_rasa_sdk_and_actions_import_no_other_action_module():
    modules = {p.stem: _imports(p) for p in ACTIONS_DIR.glob("*.py")}
    with_sdk = {name for name, imports in modules.items() if any(i.startswith("rasa_sdk") for i in imports)}  # fmt: skip
    assert with_sdk == {"search", "product_qa", "needs", "faq", "fallback", "after_sales", "server"}
    for name, imports in modules.items():
        others = {m for m in with_sdk - {name} if f"actions.{m}" in imports}
        assert not others, f"actions/{name}.py imports the action module(s) {others}"

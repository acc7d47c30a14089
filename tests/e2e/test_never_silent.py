"""Never silent: every rule of bot/data/rules.yml and every slot of the needs dialogue, followed
by answers the bot did not ask for, gets a non-empty reply that is about the conversation.

The rules are read from the rules file and each is started with a training example of its
intent, so a rule added later is walked too. Only a handoff may leave the shopper without a
bot reply: staff answer from then on.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from tests.shopper_suite import is_generic_fallback

pytestmark = pytest.mark.e2e

BOT = Path(__file__).resolve().parents[2] / "bot"
UNEXPECTED = ["嗯", "😂", "？", "你猜", "今天天气怎么样", "哈哈哈哈", "👍"]
SILENT_BY_DESIGN = {"request_human"}  # the conversation is with staff from then on
# What the needs dialogue asks for, and the words a reply to an unusable answer must contain.
FORM_STEPS = [
    (["帮我挑个东西"], "need_category", ("哪一类", "品类")),
    (["帮我挑个东西", "手机"], "need_budget", ("预算", "价位")),
    (["帮我挑个东西", "手机", "3000以内"], "need_scene", ("用途", "送给谁", "看重")),
]


def _rule_intents() -> list[str]:
    rules = yaml.safe_load((BOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    intents = []
    for rule in rules:
        first = next((s["intent"] for s in rule["steps"] if "intent" in s), None)
        if first and first not in intents and first != "nlu_fallback":
            intents.append(first)
    return intents


def _example_of(intent: str) -> str:
    """The first hand-written example of the intent (a retrieval intent's first sub-intent)."""
    for path in sorted((BOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            name = block.get("intent", "")
            if name == intent or name.startswith(f"{intent}/"):
                first = block["examples"].strip().splitlines()[0].lstrip("- ").strip()
                return re.sub(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})", r"\1", first)
    raise AssertionError(f"no example for {intent}")


def _text(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def test_every_rule_is_walked():
    intents = _rule_intents()
    assert {"greet", "faq", "search_product", "ask_recommendation", "out_of_scope"} <= set(intents)
    assert all(_example_of(i) for i in intents)


@pytest.mark.parametrize("intent", _rule_intents())
def test_each_rule_then_unexpected_answers_get_a_reply(bot, intent):
    sender = f"silent-{intent}-{uuid.uuid4().hex[:6]}"
    replies = bot.say(sender, _example_of(intent))
    if intent in SILENT_BY_DESIGN:
        return
    assert replies, f"no reply to the {intent} example 「{_example_of(intent)}」"
    for message in UNEXPECTED:
        replies = bot.say(sender, message)
        answered = _text(replies).strip() or any(r.get("custom") for r in replies)
        assert answered, f"after {intent}: no reply to 「{message}」"


@pytest.mark.parametrize(("openings", "slot", "words"), FORM_STEPS)
def test_needs_dialogue_slots_answer_unexpected_replies_specifically(bot, openings, slot, words):
    for message in UNEXPECTED:
        sender = f"form-{slot}-{uuid.uuid4().hex[:6]}"
        for opening in openings:
            asked = _text(bot.say(sender, opening))
        assert any(w in asked for w in words), f"{openings} did not ask for {slot}: {asked!r}"
        text = _text(bot.say(sender, message))
        assert text.strip(), f"{slot}: no reply to 「{message}」"
        assert any(w in text for w in words), (
            f"{slot}: reply to 「{message}」 does not ask for it again: {text!r}"
        )
        assert not is_generic_fallback(text) or any(w in text for w in words)

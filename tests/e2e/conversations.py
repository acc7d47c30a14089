"""Runs scripted multi-turn conversations (tests/conversations/*.yml) against a live bot.

Each turn sends a message through the REST channel and checks the reply:
  intent            the NLU's intent for the message (from /model/parse)
  text / text_any   substrings that must all / at least one appear in the reply texts
  text_none         substrings that must not appear
  products          {min, max, category, brand, min_price, max_price, title_contains}
                    about the `products` payload; `products: none` means no payload
  buttons           true: the reply offers quick replies
  silent            true: the bot says nothing (conversation paused for staff)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

CONVERSATIONS = Path(__file__).resolve().parent.parent / "conversations"


class Talker(Protocol):
    def say(self, sender: str, text: str) -> list[dict]: ...

    def parse(self, text: str) -> dict: ...


@dataclass
class Result:
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_conversations() -> list[dict[str, Any]]:
    conversations = []
    for path in sorted(CONVERSATIONS.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            item["file"] = path.name
            conversations.append(item)
    return conversations


def reply_texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def reply_products(replies: list[dict]) -> list[dict] | None:
    for reply in replies:
        custom = reply.get("custom") or {}
        if custom.get("type") == "products":
            return custom["items"]
    return None


def check_turn(expect: dict[str, Any], replies: list[dict], parsed: dict | None) -> list[str]:
    problems: list[str] = []
    text = reply_texts(replies)
    if "intent" in expect and parsed is not None and parsed["intent"]["name"] != expect["intent"]:
        problems.append(f"intent {parsed['intent']['name']} != {expect['intent']}")
    for needle in expect.get("text", []):
        if needle not in text:
            problems.append(f"missing {needle!r} in {text!r}")
    if expect.get("text_any") and not any(n in text for n in expect["text_any"]):
        problems.append(f"none of {expect['text_any']} in {text!r}")
    for needle in expect.get("text_none", []):
        if needle in text:
            problems.append(f"unexpected {needle!r} in {text!r}")
    if expect.get("silent") and replies:
        problems.append(f"expected silence, got {text!r}")
    if not expect.get("silent") and not replies:
        problems.append("no reply")
    if expect.get("buttons") and not any(r.get("buttons") for r in replies):
        problems.append("no quick replies")
    if "products" in expect:
        problems += check_products(expect["products"], reply_products(replies))
    return problems


def check_products(spec: Any, items: list[dict] | None) -> list[str]:
    if spec == "none":
        return [f"unexpected products {[i['title'] for i in items]}"] if items else []
    if not items:
        return ["no products payload"]
    problems = []
    if len(items) < spec.get("min", 1):
        problems.append(f"only {len(items)} products")
    if "max" in spec and len(items) > spec["max"]:
        problems.append(f"{len(items)} products > {spec['max']}")
    for item in items:
        for key in ("category", "brand"):
            if key in spec and item[key] != spec[key]:
                problems.append(f"{item['title']}: {key} {item[key]} != {spec[key]}")
        if "max_price" in spec and item["price"] > spec["max_price"]:
            problems.append(f"{item['title']}: price {item['price']} > {spec['max_price']}")
        if "min_price" in spec and item["price"] < spec["min_price"]:
            problems.append(f"{item['title']}: price {item['price']} < {spec['min_price']}")
        if "not_brand" in spec and item["brand"] == spec["not_brand"]:
            problems.append(f"{item['title']}: brand should differ from {spec['not_brand']}")
        if item.get("stock", 1) <= 0 and spec.get("in_stock", True):
            problems.append(f"{item['title']}: out of stock")
    if "title_contains" in spec and spec["title_contains"] not in items[0]["title"]:
        problems.append(f"first product {items[0]['title']!r} lacks {spec['title_contains']!r}")
    return problems


def run_conversation(bot: Talker, conversation: dict[str, Any]) -> Result:
    result = Result(f"{conversation['file']}: {conversation['name']}")
    sender = f"conv-{uuid.uuid4().hex[:10]}"
    for number, turn in enumerate(conversation["turns"], start=1):
        expect = turn.get("expect", {})
        parsed = bot.parse(turn["user"]) if "intent" in expect else None
        replies = bot.say(sender, turn["user"])
        for problem in check_turn(expect, replies, parsed):
            result.failures.append(f"turn {number} 「{turn['user']}」: {problem}")
    return result

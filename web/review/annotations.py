"""Staff corrections as Rasa training data: checked against the bot's domain, written as NLU
YAML (entities inline, as Rasa's training data format writes them), and a whole conversation
as a test conversation in the project's own format (``tests/conversations/*.yml``).

Texts arrive as the console showed them, personal data already masked: nothing written here
carries a sender id or an unmasked number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cn_text.pii import mask_pii
from web.review.transcript import Transcript

HEADER = (
    "# Corrections made by staff in the review console (exported by the web app; regenerated\n"
    "# at every export). Shopper messages as the console showed them: personal data masked.\n"
)
MAX_TEXT = 500


class AnnotationError(ValueError):
    pass


@dataclass(frozen=True)
class EntitySpan:
    start: int
    end: int
    entity: str
    value: str | None = None  # a synonym: the normalised value, when it differs from the text
    role: str | None = None


_LOADED: dict[str, tuple[tuple[tuple[str, int], ...], DomainNames]] = {}


@dataclass(frozen=True)
class DomainNames:
    intents: frozenset[str]
    entities: frozenset[str]
    roles: dict[str, frozenset[str]]  # entity -> roles it may carry
    retrieval: frozenset[str]  # faq/shipping, chitchat/greet ...: responses in the domain

    @classmethod
    def cached(cls, domain_dir: Path) -> DomainNames:
        """``load``, read again only when a domain file changed (the console asks for the
        names on every annotation and every list page)."""
        stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(domain_dir.glob("*.yml")))
        key = str(domain_dir)
        hit = _LOADED.get(key)
        if hit is None or hit[0] != stamp:
            hit = _LOADED[key] = (stamp, cls.load(domain_dir))
        return hit[1]

    @classmethod
    def load(cls, domain_dir: Path) -> DomainNames:
        intents: set[str] = set()
        entities: set[str] = set()
        roles: dict[str, set[str]] = {}
        retrieval: set[str] = set()
        for path in sorted(domain_dir.glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            intents |= {_name(i) for i in data.get("intents") or ()}
            for entity in data.get("entities") or ():
                name = _name(entity)
                entities.add(name)
                if isinstance(entity, dict):
                    spec = next(iter(entity.values())) or {}
                    roles.setdefault(name, set()).update(spec.get("roles") or ())
            for response in data.get("responses") or {}:
                if response.startswith("utter_") and "/" in response:
                    retrieval.add(response.removeprefix("utter_"))
        return cls(
            frozenset(intents),
            frozenset(entities),
            {k: frozenset(v) for k, v in roles.items()},
            frozenset(retrieval),
        )

    def check(self, text: str, intent: str, entities: Sequence[EntitySpan]) -> None:
        """Raises AnnotationError (in Chinese, for the staff member) when Rasa would refuse it."""
        if not text.strip() or len(text) > MAX_TEXT:
            raise AnnotationError(f"消息文字不能为空，且不超过 {MAX_TEXT} 个字")
        base = intent.split("/", 1)[0]
        if base not in self.intents:
            raise AnnotationError(f"意图「{intent}」不在机器人的领域定义里")
        if "/" in intent and intent not in self.retrieval:
            raise AnnotationError(f"没有「{intent}」的标准答复，无法作为检索意图")
        if "/" not in intent and any(r.startswith(intent + "/") for r in self.retrieval):
            raise AnnotationError(f"「{intent}」请选到具体的问题，例如「{intent}/…」")
        spans = sorted(entities, key=lambda e: e.start)
        for previous, span in zip([None, *spans], spans, strict=False):
            if not 0 <= span.start < span.end <= len(text):
                raise AnnotationError(f"实体「{span.entity}」的位置超出了消息范围")
            if previous is not None and span.start < previous.end:
                raise AnnotationError("实体的范围不能重叠")
            if span.entity not in self.entities:
                raise AnnotationError(f"实体「{span.entity}」不在机器人的领域定义里")
            if span.role and span.role not in self.roles.get(span.entity, frozenset()):
                raise AnnotationError(f"实体「{span.entity}」没有角色「{span.role}」")
            if any(c in text[span.start : span.end] for c in "[](){}"):
                raise AnnotationError("实体文字里不能有括号")


def _name(item: Any) -> str:
    return next(iter(item)) if isinstance(item, dict) else str(item)


def annotated_example(text: str, entities: Iterable[EntitySpan]) -> str:
    """「有没有[华为](brand)的」; a role or synonym in the JSON form Rasa reads."""
    out, at = [], 0
    for span in sorted(entities, key=lambda e: e.start):
        out.append(text[at : span.start])
        words = text[span.start : span.end]
        if span.role or (span.value and span.value != words):
            spec: dict[str, str] = {"entity": span.entity}
            if span.value and span.value != words:
                spec["value"] = span.value
            if span.role:
                spec["role"] = span.role
            out.append(f"[{words}]{json.dumps(spec, ensure_ascii=False)}")
        else:
            out.append(f"[{words}]({span.entity})")
        at = span.end
    out.append(text[at:])
    return "".join(out).replace("\n", " ")


def nlu_yaml(examples: Iterable[tuple[str, str, Sequence[EntitySpan]]]) -> str:
    """(intent, text, entities) → a Rasa 3 NLU file; intents in name order, examples in the
    order given, duplicates of an intent's example written once."""
    by_intent: dict[str, list[str]] = {}
    for intent, text, entities in examples:
        line = annotated_example(mask_pii(text), entities)
        if line not in by_intent.setdefault(intent, []):
            by_intent[intent].append(line)
    body = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        body.append(f"  - intent: {intent}")
        body.append("    examples: |")
        body += [f"      - {line}" for line in by_intent[intent]]
    return HEADER + "\n".join(body) + "\n"


def write_nlu_file(path: Path, content: str) -> None:
    """Atomically: Rasa or a trainer reading the folder never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(content, encoding="utf-8")
    partial.replace(path)


def conversation_test(transcript: Transcript, name: str) -> str:
    """A test conversation in the format of ``tests/conversations/*.yml``: each shopper message
    with what the bot did then (its intent, the products shown, texts' first words), for a
    developer to tighten by hand. Texts masked; no sender id."""
    turns = []
    for turn in transcript.turns:
        if turn.shopper is None or turn.shopper.reverted:
            continue
        expect: dict[str, Any] = {}
        if turn.shopper.intent:
            expect["intent"] = turn.shopper.intent.split("/", 1)[0]
        shown = [p for message in turn.bot for p in message.products]
        if shown:
            expect["products"] = {"min": 1, "category": shown[0].get("category")}
        if any(message.buttons for message in turn.bot):
            expect["buttons"] = True
        turns.append({"user": mask_pii(turn.shopper.text), "expect": expect})
    document = [{"name": name, "turns": turns}]
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)

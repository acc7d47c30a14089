"""Checks hand-written Rasa NLU files before training: annotation syntax, entity boundaries on
jieba tokens (with the catalog dictionary loaded), and texts listed under two intents.

Rasa only warns about a misaligned entity and silently trains on it; a text under two intents
teaches the classifier a contradiction. Both are cheaper to catch here, in a second, than after
a ten-minute training. Run: `python -m daogou.nlu.check [userdict.txt]`.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import jieba
import yaml

from daogou.settings import REPO_ROOT

# [text](entity), [text](entity:value) or [text]{"entity": ...}
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]+\}))")
DOMAIN = REPO_ROOT / "bot" / "domain"


def domain_entities(domain: Path = DOMAIN) -> set[str]:
    """Entity names the Rasa domain declares (a name or a one-key mapping with roles)."""
    names: set[str] = set()
    for path in domain.glob("*.yml"):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entities", []):
            names.update(entry if isinstance(entry, dict) else [entry])
    return names


@dataclass(frozen=True)
class Problem:
    file: str
    intent: str
    example: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} [{self.intent}] {self.example}: {self.message}"


def plain_text_and_spans(example: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The example without markup, and (start, end, entity) for each annotation."""
    text, spans, last = "", [], 0
    for match in ANNOTATION.finditer(example):
        text += example[last : match.start()]
        start = len(text)
        text += match.group("text")
        if match.group("short"):
            entity = match.group("short").split(":")[0]
        else:
            entity = yaml.safe_load(match.group("json")).get("entity", "")
        spans.append((start, len(text), entity))
        last = match.end()
    return text + example[last:], spans


def token_boundaries(tokenizer: jieba.Tokenizer, text: str) -> set[int]:
    edges = {0, len(text)}
    for _, start, end in tokenizer.tokenize(text):
        edges.update((start, end))
    return edges


def examples_by_intent(path: Path) -> list[tuple[str, str]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in doc.get("nlu", []):
        if "intent" not in block:
            continue
        for line in (block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                pairs.append((block["intent"], line.strip()[2:].strip()))
    return pairs


def check(files: list[Path], userdict: Path | None = None) -> list[Problem]:
    tokenizer = jieba.Tokenizer()
    if userdict and userdict.exists():
        tokenizer.load_userdict(str(userdict))
    known = domain_entities()
    problems: list[Problem] = []
    seen: dict[str, set[str]] = defaultdict(set)
    for path in files:
        for intent, example in examples_by_intent(path):
            text, spans = plain_text_and_spans(example)
            seen[text.strip()].add(intent.split("/")[0])
            if ("[" in text or "]" in text) and not spans:
                problems.append(Problem(path.name, intent, example, "broken annotation"))
            if spans and "/" in intent:
                problems.append(
                    Problem(path.name, intent, example, "entities in a retrieval intent")
                )
            edges = token_boundaries(tokenizer, text) if spans else set()
            for start, end, entity in spans:
                if entity not in known:
                    problems.append(
                        Problem(path.name, intent, example, f"unknown entity {entity!r}")
                    )
                if start not in edges or end not in edges:
                    words = "/".join(w for w, _, _ in tokenizer.tokenize(text))
                    problems.append(
                        Problem(
                            path.name, intent, example, f"{text[start:end]!r} splits tokens {words}"
                        )
                    )
    for text, intents in seen.items():
        if len(intents) > 1:
            problems.append(Problem("*", ",".join(sorted(intents)), text, "text under two intents"))
    return problems


def main(argv: list[str]) -> int:
    root = REPO_ROOT
    userdict = Path(argv[0]) if argv else root / "var" / "test" / "bot" / "jieba" / "userdict.txt"
    jieba.setLogLevel(60)
    problems = check(sorted((root / "bot" / "data" / "nlu").glob("*.yml")), userdict)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

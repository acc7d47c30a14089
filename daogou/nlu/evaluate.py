"""Entity scores of the whole NLU pipeline on the held-out examples, from `rasa test nlu`'s
per-example dumps (`--successes` plus the default errors).

Rasa scores each extractor on its own, token by token, against every gold entity; our price
extractor replaces DIET's prices by design, so DIET's own report counts every price against it.
What the actions receive is the pipeline's output, so that is what is scored here: exact
entity-level matches on (type, role, start, end) over all extractors together.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

Key = tuple[str, str, int, int]


def _keys(entities: list[dict]) -> set[Key]:
    return {
        (e["entity"], e.get("role") or "", int(e["start"]), int(e["end"]))
        for e in entities
        if "start" in e and "end" in e
    }


def examples(results: Path) -> dict[str, dict]:
    """Every example any extractor wrote down, by text (they carry the same gold and output)."""
    found: dict[str, dict] = {}
    for path in sorted(results.glob("*_successes.json")) + sorted(results.glob("*_errors.json")):
        if path.name.startswith(("intent_", "response_selection_")):
            continue
        for example in json.loads(path.read_text(encoding="utf-8")):
            found.setdefault(example["text"], example)
    return found


def entity_scores(results: Path) -> dict[str, float]:
    """Micro precision, recall and F1 of exact entity matches, overall and per entity type."""
    counts: Counter[str] = Counter()
    for example in examples(results).values():
        gold, predicted = _keys(example["entities"]), _keys(example["predicted_entities"])
        for key in gold & predicted:
            counts[f"tp:{key[0]}"] += 1
        for key in predicted - gold:
            counts[f"fp:{key[0]}"] += 1
        for key in gold - predicted:
            counts[f"fn:{key[0]}"] += 1
    types = sorted({name.split(":", 1)[1] for name in counts})
    scores = {"f1": _f1(counts, types)}
    scores["precision"], scores["recall"] = _precision_recall(counts, types)
    for entity in types:
        scores[f"f1:{entity}"] = _f1(counts, [entity])
    return scores


def _precision_recall(counts: Counter[str], types: list[str]) -> tuple[float, float]:
    tp = sum(counts[f"tp:{t}"] for t in types)
    fp = sum(counts[f"fp:{t}"] for t in types)
    fn = sum(counts[f"fn:{t}"] for t in types)
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def _f1(counts: Counter[str], types: list[str]) -> float:
    precision, recall = _precision_recall(counts, types)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

"""Which messages the response selector runs for (bot/components/response_selection_rule.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.components.response_selection_rule import needs_response_selection

RETRIEVAL = {"faq", "chitchat"}
CONFIG = Path(__file__).resolve().parents[2] / "bot" / "config.yml"


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


@pytest.mark.parametrize(
    ("intents", "needed"),
    [
        # 「华为Mate60 Pro多少钱」: a sure product question, its answer is not a canned one
        ((("ask_attribute", 0.93), ("faq", 0.03)), False),
        ((("search_product", 0.55), ("inform", 0.4)), False),
        # 「运费怎么算」, 「你是谁呀」: the selector's pick is the answer
        ((("faq", 0.97), ("ask_attribute", 0.01)), True),
        ((("chitchat", 0.45), ("out_of_scope", 0.40)), True),
        # the fallback may still take these over and offer the shopper buttons
        ((("ask_stock", 0.38), ("faq", 0.30)), True),
        ((("ask_stock", 0.55), ("faq", 0.47)), True),
        ((("greet", 0.49),), True),
        ((), True),
    ],
)
def test_runs_only_when_its_answer_could_be_used(intents, needed):
    assert needs_response_selection(ranking(*intents), RETRIEVAL, sure=0.5, margin=0.1) is needed


def test_missing_confidences_count_as_unsure():
    assert needs_response_selection([{"name": "ask_stock"}], RETRIEVAL, 0.5, 0.1)


def test_gate_is_never_looser_than_the_fallback():
    """A message the FallbackClassifier can take over must keep its selection."""
    pipeline = {
        c["name"].rsplit(".", 1)[-1]: c for c in yaml.safe_load(CONFIG.read_text())["pipeline"]
    }
    gate, fallback = pipeline["GatedResponseSelector"], pipeline["FallbackClassifier"]
    assert gate["sure"] >= fallback["threshold"]
    assert gate["margin"] >= fallback["ambiguity_threshold"]
    names = list(pipeline)
    assert names.index("BlendedIntentClassifier") < names.index("GatedResponseSelector")
    assert names.index("GatedResponseSelector") < names.index("FallbackClassifier")

"""The scripted conversations: at least 95% must pass (the project's target)."""

from __future__ import annotations

import pytest

from tests.e2e.conversations import load_conversations, run_conversation

pytestmark = pytest.mark.e2e
PASS_RATE = 0.95


def test_conversation_files_are_well_formed():
    conversations = load_conversations()
    assert len(conversations) >= 40
    for conversation in conversations:
        assert conversation["name"] and len(conversation["turns"]) >= 1
        assert all("user" in turn for turn in conversation["turns"])


def test_scripted_conversations(bot):
    results = [run_conversation(bot, c) for c in load_conversations()]
    failed = [r for r in results if not r.passed]
    report = "\n".join(f"- {r.name}\n    " + "\n    ".join(r.failures) for r in failed)
    rate = 1 - len(failed) / len(results)
    print(
        f"\n{len(results) - len(failed)}/{len(results)} conversations passed ({rate:.1%})\n{report}"
    )
    assert rate >= PASS_RATE, report

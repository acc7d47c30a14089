"""The bot's conversation tests (bot/tests/test_*.yml) pass on the trained model: every user
text parsed by the NLU (intent, retrieval intent, entities) and every action the rules predict
after it, end to end. The NLU gate (daogou/nlu/retrain.py) runs the same stories on each
candidate and refuses one that fails any.

One `rasa test core --e2e` process (one model load; 1-3 minutes on 2 cores): the story half
of the `rasa test` command line the gate runs, without its held-out NLU test, which `make test`
measures elsewhere. The custom actions are predicted, not run (Rasa's test stories do not call
the action server)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]  # as conftest.py
STORIES = REPO_ROOT / "bot" / "tests"


def stories() -> list[dict]:
    return [
        story
        for path in sorted(STORIES.glob("test_*.yml"))
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
    ]


def failed_names(dump: str) -> list[str]:
    """Story names in Rasa's failed_test_stories.yml ("greet (bot/tests/x.yml)" -> "greet")."""
    doc = yaml.safe_load(dump) or {}
    return [re.sub(r" \([^()]*\)$", "", s["story"]) for s in doc.get("stories") or ()]


def nlu_readings(model_path: Path, names: list[str]) -> str:
    """What the NLU makes of each message of the named stories: Rasa's dump shows a wrong
    intent but not the entities it predicted instead of the marked ones."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    lines = []
    for story in (s for s in stories() if s["story"] in names):
        for text in (step["user"].strip() for step in story["steps"] if "user" in step):
            parse = asyncio.run(agent.parse_message(plain(text)))
            selected = parse.get("response_selector", {}).get("default", {}).get("response", {})
            entities = [
                f"{plain(text)[e['start'] : e['end']]}={e['entity']}:{e.get('value')}"
                for e in parse["entities"]
            ]
            lines.append(
                f"{story['story']} | {text} -> {parse['intent']['name']}"
                f" {selected.get('intent_response_key') or ''} {entities}"
            )
    return "\n".join(lines)


def plain(text: str) -> str:
    """「[华为](brand)手机」 -> 「华为手机」 (daogou.nlu.retrain.plain_text, not importable here)."""
    return re.sub(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})", r"\1", text)


@pytest.fixture(scope="session")
def results(model_path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("conversation_tests")
    env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    log = out / "rasa.log"
    with log.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "rasa", "test", "core", "--e2e", "--model", str(model_path),
             "--stories", str(STORIES), "--out", str(out), "--no-plot", "--successes"],
            cwd=REPO_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    assert done.returncode == 0, f"rasa test failed (exit {done.returncode}):\n{tail}"
    return out


def test_every_conversation_test_passes(results, model_path):
    names = [story["story"] for story in stories()]
    assert len(names) == len(set(names)) >= 20  # names identify the failures in the gate's report
    accuracy = json.loads((results / "story_report.json").read_text(encoding="utf-8"))[
        "conversation_accuracy"
    ]
    dump = (results / "failed_test_stories.yml").read_text(encoding="utf-8")
    failed = failed_names(dump)
    if failed:
        pytest.fail(
            f"{len(failed)} of {accuracy['total']} conversation tests failed: {failed}\n"
            f"Rasa's dump (`# predicted:` beside a wrong turn):\n{dump}\n"
            f"What the NLU makes of their messages:\n{nlu_readings(model_path, failed)}"
        )
    # every story was run (Rasa merges stories that are the same conversation)
    assert (accuracy["correct"], accuracy["total"]) == (len(names), len(names))

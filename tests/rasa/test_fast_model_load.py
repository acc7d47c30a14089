"""bot/patches/fast_model_load.py: the test model built by a forward pass answers every held-out
example exactly as the model Rasa builds by a training step (intent ranking, entities with their
spans, the response selector's choice, the policies' next action), and loads faster."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.agent import Agent

from bot.patches import base, fast_model_load
from tests.rasa.test_model_parity import outputs

MARK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
EXTRA = ["华为Mate60 Pro多少钱", "第二个还有货吗", "运费怎么算", "😊", "转人工", "a" * 300]


def texts(held_out: Path) -> list[str]:
    """The held-out examples `make test` scores the NLU on (no model was trained on them)."""
    found = list(EXTRA)
    if held_out.exists():
        for block in yaml.safe_load(held_out.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    found.append(MARK.sub(r"\1", line.strip()[2:]))
    return found


def same(a: Any, b: Any, path: str = "") -> None:
    """Equal, floats within 1e-6 (the two builds run the same kernels on the same weights)."""
    if isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= 1e-6, f"{path}: {a} != {b}"
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: {sorted(a)} != {sorted(b)}"
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b), f"{path}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def loaded(model_path) -> dict[str, Any]:
    base.revert_all()
    started = time.perf_counter()
    rasa_built = Agent.load(str(model_path))
    rasa_seconds = time.perf_counter() - started
    fast_model_load.check()
    fast_model_load.apply()
    try:
        started = time.perf_counter()
        fast_built = Agent.load(str(model_path))
        fast_seconds = time.perf_counter() - started
    finally:
        base.revert_all()
    return {"rasa": rasa_built, "fast": fast_built, "seconds": (rasa_seconds, fast_seconds)}


def test_the_forward_built_model_answers_every_held_out_example_as_rasas(loaded, model_path):
    held_out = model_path.parent.parent / "bot" / "heldout" / "test_nlu.yml"  # $DAOGOU_VAR/...
    messages = texts(held_out)
    assert len(messages) > 100 or not held_out.exists()
    expected = asyncio.run(outputs(loaded["rasa"], messages))
    found = asyncio.run(outputs(loaded["fast"], messages))
    for text, want, got in zip(messages, expected, found, strict=True):
        same(want, got, text)
    intents = {parse["intent"]["name"] for parse, _ in expected}
    assert {"search_product", "ask_attribute", "faq"} & intents  # real answers, not fallbacks
    assert any(parse["entities"] for parse, _ in expected)
    assert any(parse.get("response_selector", {}).get("default", {}).get("response", {}).get(
        "responses") for parse, _ in expected)  # fmt: skip


def test_it_loads_faster_than_rasas_training_step(loaded):
    rasa_seconds, fast_seconds = loaded["seconds"]
    print(f"Agent.load: Rasa's {rasa_seconds:.1f} s, forward-built {fast_seconds:.1f} s")
    assert fast_seconds < rasa_seconds


def test_fine_tuning_keeps_rasas_own_load(monkeypatch):
    from rasa.utils.tensorflow.models import RasaModel

    calls = []

    def rasa_load(cls, *args, **kwargs):
        calls.append(args[3] if len(args) > 3 else kwargs.get("finetune_mode"))
        return "rasa's"

    monkeypatch.setattr(RasaModel, "load", classmethod(rasa_load))
    fast_model_load.apply()
    assert RasaModel.load("weights", None, None, True) == "rasa's"
    assert calls == [True]

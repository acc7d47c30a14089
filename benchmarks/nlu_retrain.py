"""The gated NLU retrain's full loop on the shop's bot, without loading anything: `daogou bot
retrain --dry-run` trains a candidate on the console's annotations (about 12 minutes on 2 cores),
scores it and the served model on the held-out hand-written examples, runs the conversation
tests, and prints both models' intent macro-F1 and entity F1, the decision and each step's time.

`--fixture` runs the same loop on the small fixture project of the tests
(tests/fixtures/nlu_gate, about two minutes) in a temporary folder: a quick check of the loop.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daogou.nlu import retrain  # noqa: E402
from daogou.nlu.botprep import bot_dir  # noqa: E402
from daogou.settings import load_settings  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "nlu_gate"


def shop_bot() -> int:
    """The real loop through the command line; a refusal is a result here, not a failure."""
    code = subprocess.call(
        [str(ROOT / ".venv" / "bin" / "daogou"), "bot", "retrain", "--dry-run"], cwd=ROOT
    )
    reports = sorted((bot_dir(load_settings()) / retrain.REPORTS_DIR).glob("*.json"))
    if reports:
        report = json.loads(reports[-1].read_text(encoding="utf-8"))
        print("step seconds: " + json.dumps(report["durations"]))
    return 0 if code in (0, 1) else code


def fixture() -> int:
    with tempfile.TemporaryDirectory(prefix="nlu_retrain_") as folder:
        work = Path(folder) / "bot"
        serving = retrain.train_model(
            FIXTURE / "config.yml", FIXTURE / "domain", [FIXTURE / "data"], work / "serving.tar.gz"
        )
        project = retrain.Project(
            config=FIXTURE / "config.yml",
            domain=FIXTURE / "domain",
            training_data=(FIXTURE / "data",),
            heldout=FIXTURE / "heldout" / "test_nlu.yml",
            work_dir=work,
            conversation_tests=FIXTURE / "tests",
        )
        report = retrain.retrain(project, serving, dry_run=True)
        print(retrain.summary(report))
        print("step seconds: " + json.dumps(report["durations"]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", action="store_true", help="the tests' small project")
    return fixture() if parser.parse_args().fixture else shop_bot()


if __name__ == "__main__":
    sys.exit(main())

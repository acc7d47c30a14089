"""The shopper conversation suite (tests/shopper_suite.py): every conversation against
freshly started Rasa and action-server processes, each on its own sender, several at a time.

Prints per class: conversations (and those with every turn passed), turns, turns passed, the
turn-level pass rate, empty replies and generic fallbacks on clear requests; then the first
failed turns of each class with what the bot said.

It is a measurement: it exits 0 whatever the rates, unless --strict (then 1 when a class is
under 90% or any reply was empty).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._services import RestChat  # noqa: E402
from daogou.launcher import on_free_ports, running_bot  # noqa: E402
from daogou.nlu.botprep import model_path  # noqa: E402
from daogou.settings import load_settings  # noqa: E402
from tests import shopper_suite as suite  # noqa: E402

# Four conversations at a time keep both cores busy without turns queueing into timeouts.
THREADS = 4
STRICT_RATE = 0.9


def write_outcomes(path: Path, outcomes: list[suite.Outcome]) -> None:
    rows = [
        {
            "class": o.conversation.cls,
            "name": o.conversation.name,
            "sender": o.sender,
            "turns": [
                {"user": t.user, "ok": t.ok, "problems": list(t.problems), "shown": t.shown}
                for t in o.turns
            ],
        }
        for o in outcomes
    ]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--only", nargs="*", choices=suite.CLASSES, help="run these classes")
    parser.add_argument("--sample", type=int, help="only this many conversations per class")
    parser.add_argument("--failures", type=int, default=3, help="failed turns shown per class")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"exit 1 if a class < {STRICT_RATE:.0%}% or a reply is empty",
    )
    args = parser.parse_args()
    settings = load_settings()
    if not model_path(settings).exists():
        print(f"no trained model at {model_path(settings)}: run `make train` first")
        return 2
    conversations = suite.load_suite()
    if args.only:
        conversations = [c for c in conversations if c.cls in args.only]
    if args.sample:
        conversations = suite.stratified_sample(conversations, args.sample)
    graph = suite.load_graph(settings)
    problems = suite.validate(conversations, graph)
    if problems:
        print("the suite does not match this catalog:\n" + "\n".join(problems[:20]))
    run_id = uuid.uuid4().hex[:8]  # new senders every run: no conversation carries over
    started = time.perf_counter()
    with running_bot(on_free_ports(load_settings()), private="shopper_suite") as bot_settings:
        chat = RestChat(bot_settings.rasa_url, bot_settings.shopper_key, bot_settings.database_url)
        outcomes = suite.run_all(conversations, chat, graph, run_id, threads=args.threads)
    seconds = time.perf_counter() - started
    rows = suite.summarize(outcomes)
    turns = sum(len(o.turns) for o in outcomes)
    print(f"shopper suite: {len(outcomes)} conversations, {turns} turns, {args.threads} threads")
    print(suite.format_table(rows))
    print(f"total {seconds:.0f} s")
    shown = suite.failures(outcomes, args.failures)
    if shown:
        print(f"\nfirst failed turns (up to {args.failures} per class):")
        print("\n".join(f"- {line}" for line in shown))
    if args.json:
        write_outcomes(args.json, outcomes)
        print(f"\nevery outcome: {args.json}")
    print(f"target: every class >= {STRICT_RATE:.0%} of turns, no empty replies")
    if args.strict:
        classes = [r for r in rows if r.name != "all"]
        if any(r.rate < STRICT_RATE for r in classes) or any(r.empty for r in rows):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

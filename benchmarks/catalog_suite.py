"""The catalog-wide accuracy suite (tests/catalog_suite.py), every case, against freshly started
Rasa and action-server processes; /api/search cases through the web app in-process.

Prints per class: cases, passed, pass rate and answers about a different product than the one
asked about, then the exact-title cases split by the title words that tempt the bot into a
budget, a filter or a compatibility question, then the first failures of each class.

Targets: exact titles >= 99%, no wrong products, variant facts, budget
constraints and category requests all. It is a measurement: it exits 0 whatever the rates.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._services import RestChat  # noqa: E402
from daogou.launcher import on_free_ports, running_bot  # noqa: E402
from daogou.nlu.botprep import model_path  # noqa: E402
from daogou.settings import Settings, load_settings  # noqa: E402
from tests import catalog_suite as suite  # noqa: E402

# Four senders at a time keep both cores busy (Rasa's NLU thread and the action server)
# without queueing turns long enough to time out; each case still has its own sender.
THREADS = 4


def run_search(cases: list[suite.Case], settings: Settings, run_id: str) -> list[suite.Outcome]:
    """Before the bot starts: the web app's embedding model then has both cores to itself."""
    if not cases:
        return []
    from fastapi.testclient import TestClient

    from daogou.container import build_services
    from web.app import create_app

    app = create_app(build_services(settings, "web"))
    with TestClient(app) as client:
        transport = suite.Transport(chat=_no_chat, search=suite.search_with(client))
        return suite.run_cases(cases, transport, run_id)


def _no_chat(sender: str, text: str) -> list[dict[str, Any]]:
    raise RuntimeError("search cases only")


def run_chat(cases: list[suite.Case], run_id: str, threads: int) -> list[suite.Outcome]:
    if not cases:
        return []
    with running_bot(on_free_ports(load_settings()), private="catalog_suite") as settings:
        transport = suite.Transport(
            chat=RestChat(settings.rasa_url, settings.shopper_key, settings.database_url)
        )
        return suite.run_cases(cases, transport, run_id, threads=threads)


def write_outcomes(path: Path, outcomes: list[suite.Outcome]) -> None:
    rows = [
        {
            "class": o.case.cls,
            "messages": list(o.case.messages),
            "expected": o.case.expected,
            "flags": sorted(o.case.flags),
            "ok": o.verdict.ok,
            "wrong_product": o.verdict.wrong_product,
            "detail": o.verdict.detail,
            "sender": o.sender,
            "shown": o.shown,
        }
        for o in outcomes
    ]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--only", nargs="*", choices=suite.CLASSES, help="run these classes")
    parser.add_argument("--sample", type=int, help="only this many cases per class (fixed)")
    parser.add_argument("--failures", type=int, default=3, help="failures shown per class")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    args = parser.parse_args()
    settings = load_settings()
    if not model_path(settings).exists():
        print(f"no trained model at {model_path(settings)}: run `make train` first")
        return 2
    cases = suite.generate_cases(suite.load_graph(settings))
    if args.only:
        cases = [c for c in cases if c.cls in args.only]
    if args.sample:
        cases = suite.stratified_sample(cases, args.sample)
    run_id = uuid.uuid4().hex[:8]  # new senders every run: no conversation carries over
    started = time.perf_counter()
    searched = run_search([c for c in cases if c.channel == "search"], settings, run_id)
    chatted = run_chat([c for c in cases if c.channel == "chat"], run_id, args.threads)
    seconds = time.perf_counter() - started
    outcomes = sorted(searched + chatted, key=lambda o: suite.CLASSES.index(o.case.cls))
    turns = sum(len(o.case.messages) for o in chatted)
    print(f"catalog suite: {len(outcomes)} cases ({turns} bot turns, {args.threads} threads)")
    print(suite.format_table(suite.summarize(outcomes)))
    print(f"total {seconds:.0f} s")
    shown = suite.failures(outcomes, args.failures)
    if shown:
        print(f"\nfirst failures (up to {args.failures} per class):")
        print("\n".join(f"- {line}" for line in shown))
    if args.json:
        write_outcomes(args.json, outcomes)
        print(f"\nevery outcome: {args.json}")
    print("target: exact titles >= 99%, wrong products 0, variant facts, budgets, categories 100%")
    return 0


if __name__ == "__main__":
    sys.exit(main())

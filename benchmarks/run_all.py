"""`make bench`: every benchmark in turn, each printing our figures beside its baselines.

Needs the database and models built (`make bench` depends on them) and, for the recommender
and STS benchmarks, the public data in ../shared/data.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ["recsys.py"],
    ["recsys_scaling.py"],
    ["rec_relevance.py"],
    ["sts.py"],
    ["search_quality.py"],
    ["search_speed.py"],
    ["nlu_quality.py"],
    ["nlu_retrain.py"],
    ["dialogue_latency.py"],
    ["console_latency.py"],
    ["catalog_suite.py"],
    ["shopper_suite.py"],
    ["cluster_load.py", "--baseline"],
]


def main() -> int:
    failed = []
    for args in BENCHMARKS:
        script = HERE / args[0]
        if not script.exists():
            print(f"== {args[0]}: missing, skipped", flush=True)
            continue
        print(f"\n== {' '.join(args)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *args[1:]], cwd=HERE.parent)
        print(
            f"== {args[0]} finished in {time.perf_counter() - started:.0f}s (exit {code})",
            flush=True,
        )
        if code:
            failed.append(args[0])
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

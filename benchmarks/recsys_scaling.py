"""Training time as the event log grows: in-process ALS, Spark MLlib ALS and EASE.

Synthetic implicit feedback over 1M shoppers and 100k products, both drawn from power laws
(product popularity ~ rank^-0.9, shopper activity ~ rank^-0.5; ids shuffled), at 100k, 1M
and 10M interactions (repeats of a pair merged). Every fit is bounded alike: 64 factors,
5 iterations, the same regularization and alpha (``implicit``'s units; see
``recommender/cf/spark_als.py`` for how Spark's are mapped). Each fit runs in a process of its
own, so its peak memory is its own: the Python process's and, for Spark, its JVM's.

EASE solves a dense items x items system: it is not run on 100k products (the memory it would
take is printed instead) but on 10k and 20k products at 1M interactions, where its cubic time
shows.

    .venv/bin/python benchmarks/recsys_scaling.py [--sizes 100000 1000000 10000000]
        [--max-seconds 900] [--json out.json]

Spark runs in local mode on this machine's cores; a fit that takes longer than
``--max-seconds`` is stopped and reported as such. The machine's load average is printed
beside the figures (other work on the machine slows every fit).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

N_USERS = 1_000_000
N_ITEMS = 100_000
ITEM_EXPONENT = 0.9
USER_EXPONENT = 0.5
SIZES = (100_000, 1_000_000, 10_000_000)
FACTORS = 64
ITERATIONS = 5
EASE_ITEMS = (10_000, 20_000)
EASE_INTERACTIONS = 1_000_000
# EASE holds about four dense items x items float32 matrices at its peak (the Gram matrix,
# its regularized copy inverted in place, the triangle copies of the inverse, the weights:
# recommender/cf/ease.py); measured: 6.6 GB at 20k items, 1.7 GB at 10k.
EASE_DENSE_COPIES = 4
SPARK_DRIVER_MEMORY = "6g"
MAX_SECONDS = 900.0
SEED = 42


@dataclass(frozen=True)
class Run:
    engine: str  # "als", "spark_als" or "ease"
    interactions: int
    items: int = N_ITEMS


def power_law_ids(rng: np.random.Generator, count: int, size: int, exponent: float) -> np.ndarray:
    """``count`` ids in ``0..size-1``, id of popularity rank r drawn with weight r^-exponent;
    ranks are assigned to ids at random."""
    weights = np.arange(1, size + 1, dtype=np.float64) ** -exponent
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.minimum(np.searchsorted(cdf, rng.random(count)), size - 1)
    return rng.permutation(size)[ranks].astype(np.int32)


def synthetic_user_items(
    interactions: int, n_items: int = N_ITEMS, seed: int = SEED
) -> sp.csr_matrix:
    """Binary ``N_USERS x n_items`` CSR with about ``interactions`` distinct pairs."""
    rng = np.random.default_rng(seed)
    users = power_law_ids(rng, interactions, N_USERS, USER_EXPONENT)
    items = power_law_ids(rng, interactions, n_items, ITEM_EXPONENT)
    matrix = sp.csr_matrix(
        (np.ones(interactions, np.float32), (users, items)),
        shape=(N_USERS, n_items),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def ease_memory_bytes(n_items: int) -> int:
    return EASE_DENSE_COPIES * n_items * n_items * 4


def available_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of ``pid``, or of this process."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -------------------------------------------------------------- one fit (child process)


def fit_once(run: Run) -> dict[str, object]:
    """Generate the data, fit one engine, report times and peak memory."""
    from recommender.cf import ALS, EASE, SparkALS

    started = time.perf_counter()
    user_items = synthetic_user_items(run.interactions, run.items)
    result: dict[str, object] = {
        "engine": run.engine,
        "interactions": run.interactions,
        "items": run.items,
        "nnz": int(user_items.nnz),
        "active_users": int(np.count_nonzero(np.diff(user_items.indptr))),
        "generate_s": round(time.perf_counter() - started, 1),
    }
    settings = {"factors": FACTORS, "iterations": ITERATIONS, "seed": SEED}
    if run.engine == "spark_als":
        from recommender.cf.spark_als import local_spark

        started = time.perf_counter()
        spark = local_spark(driver_memory=SPARK_DRIVER_MEMORY, cores=os.cpu_count() or 2)
        result["jvm_start_s"] = round(time.perf_counter() - started, 1)
        model = SparkALS(**settings, driver_memory=SPARK_DRIVER_MEMORY)
    elif run.engine == "als":
        model = ALS(**settings)
    else:
        model = EASE()
    started = time.perf_counter()
    model.fit(user_items)
    result["fit_s"] = round(time.perf_counter() - started, 1)
    result["python_peak_mb"] = round(peak_rss_mb())
    if run.engine == "spark_als":
        jvm_pid = int(spark._jvm.java.lang.ProcessHandle.current().pid())
        result["jvm_peak_mb"] = round(peak_rss_mb(jvm_pid))
        spark.stop()
    return result


# -------------------------------------------------------------- driver (parent process)


def run_in_child(run: Run, max_seconds: float) -> dict[str, object]:
    """``fit_once`` in a process group of its own; stopped (with its JVM) after
    ``max_seconds``."""
    command = [sys.executable, __file__, "--one", run.engine, str(run.interactions), str(run.items)]
    child = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = child.communicate(timeout=max_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {**vars(run), "stopped_after_s": max_seconds}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if child.returncode or not lines:
        return {**vars(run), "error": f"exit {child.returncode}"}
    return json.loads(lines[-1])


def ease_skip(run: Run) -> dict[str, object]:
    need = ease_memory_bytes(run.items)
    return {
        **vars(run),
        "skipped": (
            f"needs ~{need / 1e9:.0f} GB ({EASE_DENSE_COPIES} dense {run.items} x {run.items} "
            f"float32 matrices; float64 would double it), machine has "
            f"{available_memory_bytes() / 1e9:.0f} GB"
        ),
    }


def largest_ease_catalog() -> int:
    """The most items whose EASE fits in two thirds of this machine's memory."""
    return int(np.sqrt(available_memory_bytes() * 2 / 3 / (EASE_DENSE_COPIES * 4)))


def spark_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("pyspark", "pyarrow"))


def plan(sizes: list[int], ease_items: list[int]) -> list[Run]:
    runs = []
    for size in sizes:
        runs += [Run("als", size), Run("spark_als", size), Run("ease", size)]
    runs += [Run("ease", EASE_INTERACTIONS, items) for items in ease_items]
    return runs


def measure(run: Run, max_seconds: float) -> dict[str, object]:
    if run.engine == "ease" and ease_memory_bytes(run.items) > available_memory_bytes() * 2 / 3:
        return ease_skip(run)
    if run.engine == "spark_als" and not spark_available():
        return {**vars(run), "skipped": "pyspark not installed: pip install '.[spark]'"}
    return run_in_child(run, max_seconds)


def cell(result: dict[str, object]) -> str:
    if "fit_s" in result:
        return f"{result['fit_s']:>9.1f} s"
    if "stopped_after_s" in result:
        return f"  >{result['stopped_after_s']:.0f} s (stopped)"
    return f"  {result.get('skipped') or result.get('error')}"


def format_results(results: list[dict[str, object]]) -> str:
    lines = [
        f"{'engine':<10}{'interactions':>13}{'items':>8}{'nnz':>11}{'fit':>12}"
        f"{'py peak MB':>12}{'jvm peak MB':>12}{'jvm start':>10}"
    ]
    for r in results:
        if "fit_s" not in r:
            lines.append(f"{r['engine']:<10}{r['interactions']:>13,}{r['items']:>8,}  {cell(r)}")
            continue
        lines.append(
            f"{r['engine']:<10}{r['interactions']:>13,}{r['items']:>8,}{r['nnz']:>11,}"
            f"{cell(r):>12}{r['python_peak_mb']:>12}{r.get('jvm_peak_mb', '-'):>12}"
            f"{r.get('jvm_start_s', '-'):>10}"
        )
    return "\n".join(lines)


def growth(results: list[dict[str, object]]) -> list[str]:
    """Time ratios between consecutive sizes, and Spark's time over in-process ALS's."""
    lines = []
    by = {(r["engine"], r["interactions"], r["items"]): r for r in results}
    sizes = sorted({r["interactions"] for r in results if r["items"] == N_ITEMS})
    for engine in ("als", "spark_als"):
        times = [by.get((engine, s, N_ITEMS), {}).get("fit_s") for s in sizes]
        steps = [
            f"{sizes[i]:,} -> {sizes[i + 1]:,}: x{times[i + 1] / times[i]:.1f}"
            for i in range(len(sizes) - 1)
            if times[i] and times[i + 1]
        ]
        if steps:
            lines.append(f"{engine} time grows " + ", ".join(steps))
    for size in sizes:
        als = by.get(("als", size, N_ITEMS), {}).get("fit_s")
        spark = by.get(("spark_als", size, N_ITEMS), {}).get("fit_s")
        if als and spark:
            lines.append(f"at {size:,}: Spark ALS takes x{spark / als:.1f} the in-process time")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--ease-items", type=int, nargs="*", default=list(EASE_ITEMS))
    parser.add_argument("--max-seconds", type=float, default=MAX_SECONDS)
    parser.add_argument("--json", type=Path, help="also write all results to this file")
    parser.add_argument("--one", nargs=3, metavar=("ENGINE", "INTERACTIONS", "ITEMS"))
    args = parser.parse_args(argv)
    if args.one:
        engine, interactions, items = args.one
        print(json.dumps(fit_once(Run(engine, int(interactions), int(items)))), flush=True)
        return 0

    load_before = os.getloadavg()
    results = []
    for run in plan(args.sizes, args.ease_items):
        result = measure(run, args.max_seconds)
        print(f"# {json.dumps(result)}", flush=True)
        results.append(result)
    load_after = os.getloadavg()
    print()
    print(
        f"{N_USERS:,} shoppers, {N_ITEMS:,} products, power-law popularity; {FACTORS} factors, "
        f"{ITERATIONS} iterations; {os.cpu_count()} cores"
    )
    print(format_results(results))
    for line in growth(results):
        print(line)
    print(f"EASE fits in this machine's memory up to about {largest_ease_catalog():,} products")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    if args.json:
        record = {"results": results, "load_before": load_before, "load_after": load_after}
        args.json.write_text(json.dumps(record, indent=2))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Load test of the cluster profile (issue #17): 50 Locust shoppers, each sending one message every
2 s in multi-turn Chinese conversations, for 5 minutes, through nginx's public REST webhook
(benchmarks/cluster_locustfile.py), beside the same load on `make run`'s default profile (one Rasa,
one action server, SQLite) as the baseline when `--baseline` is given.

Reported: turns, error rate (non-200 or an empty reply), p50/p95/p99 turn time from Locust, the
CPU each replica used (per cent of one core over the run, from its process tree), and the order
check: every conversation's user messages in the tracker store are exactly the texts its shopper
sent, in order, each followed by a bot reply (no lost or reordered message).

The cluster is started the way `make cluster` starts it (`daogou run --profile cluster`, through
daogou/cluster_harness.py as the cluster tests start theirs) with the trained model of `make test`
(var/test), its own PostgreSQL databases (`daogou_*_bench`, dropped afterwards), the machine's
Redis (db 3) and free ports. Loopback only, bounded in time.

    .venv/bin/python benchmarks/cluster_load.py [--users 50] [--minutes 5] [--baseline]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daogou.cluster_harness import (  # noqa: E402
    INHERITED_URLS,
    ClusterDidNotStart,
    launch,
    running_cluster,
    stop_launcher,
)
from daogou.launcher import free_port  # noqa: E402
from daogou.nlu.botprep import model_path  # noqa: E402
from daogou.settings import REPO_ROOT, Settings, load_settings  # noqa: E402

PG_SERVER = os.environ.get("DAOGOU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
CATALOG_DB, TRACKER_DB = "daogou_catalog_bench", "daogou_tracker_bench"
REDIS_URL = os.environ.get("DAOGOU_BENCH_REDIS", "redis://127.0.0.1:6379/3")
# Ports from here on: the cluster tests' start at 21000, and both may run at once.
FIRST_PORT = 23000
START_TIMEOUT = 900.0
TARGET_P95_MS = 1000.0  # a turn a shopper does not notice as waiting, at 25 messages a second


@dataclass
class Run:
    """One profile started for the load: where to send messages, where the conversations are
    stored, and the processes whose CPU is measured."""

    name: str
    chat_url: str
    tracker_url: str
    pids: dict[str, int]


def _wait(url: str, launcher: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            raise SystemExit(f"{log}: the launcher stopped:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code == 200:
                return
        time.sleep(2)
    raise SystemExit(f"not up after {START_TIMEOUT:.0f} s; see {log}")


@contextlib.contextmanager
def cluster_profile(settings: Settings) -> Iterator[Run]:
    """The cluster profile, stopped and its databases dropped when the block ends."""
    with running_cluster(
        settings,
        catalog_url=f"{PG_SERVER}/{CATALOG_DB}",
        tracker_url=f"{PG_SERVER}/{TRACKER_DB}",
        redis_url=REDIS_URL,
        launcher_log="load_launcher.log",
        first_port=FIRST_PORT,
    ) as cluster:
        yield Run("cluster", cluster.public_url, cluster.tracker_url, cluster.service_pids())


@contextlib.contextmanager
def default_profile(settings: Settings) -> Iterator[Run]:
    """`make run`'s profile on a copy of var/test's databases, on free ports, with the cluster's
    settings otherwise (no daily jobs, no inherited URLs); stopped when the block ends."""
    var_dir = settings.var_dir
    folder = Path(tempfile.mkdtemp(prefix="daogou-load-"))
    shutil.copy2(var_dir / "daogou.db", folder / "daogou.db")
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "DAOGOU_VAR": str(var_dir),
        "DAOGOU_RETENTION_AT": "",
        "DAOGOU_RECS_TRAIN_AT": "",
        "DATABASE_URL": f"sqlite:///{folder / 'daogou.db'}",
        "TRACKER_DB_URL": f"sqlite:///{folder / 'tracker.db'}",
        "DAOGOU_RASA_PORT": str(rasa_port),
        "DAOGOU_ACTION_PORT": str(action_port),
        "DAOGOU_WEB_PORT": str(web_port),
    }
    for name in ("REDIS_URL", *INHERITED_URLS):
        env.pop(name, None)
    log = var_dir / "logs" / "load_default_launcher.log"
    launcher = launch("default", env, log)
    try:
        _wait(f"http://127.0.0.1:{web_port}/health", launcher, log)
        pids = {
            name: _pid_listening(port)
            for name, port in (("rasa", rasa_port), ("actions", action_port), ("web", web_port))
        }
        chat = f"http://127.0.0.1:{rasa_port}"
        tracker = f"sqlite:///{folder / 'tracker.db'}"
        yield Run("default", chat, tracker, pids)
    finally:
        stop_launcher(launcher)


def _pid_listening(port: int) -> int:
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN":
            return connection.pid or 0
    return 0


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (a replica is a process group)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
        return sum(p.cpu_times().user + p.cpu_times().system for p in processes)
    except psutil.Error:
        return 0.0


def locust(run: Run, users: int, seconds: int, key: str, out: Path) -> dict[str, float]:
    """Locust headless against `run`; its summary figures for the `turn` requests."""
    out.mkdir(parents=True, exist_ok=True)
    sent = out / "sent.jsonl"
    sent.unlink(missing_ok=True)
    env = {**os.environ, "DAOGOU_SHOPPER_KEY": key, "DAOGOU_LOAD_SENT": str(sent)}
    args = [
        str(REPO_ROOT / ".venv" / "bin" / "locust"),
        "-f", str(Path(__file__).with_name("cluster_locustfile.py")),
        "--headless", "--only-summary", "--host", run.chat_url,
        "-u", str(users), "-r", str(max(1, users // 10)), "-t", f"{seconds}s",
        "--stop-timeout", "30", "--csv", str(out / "locust"), "--loglevel", "WARNING",
    ]  # fmt: skip
    subprocess.run(args, env=env, cwd=REPO_ROOT, check=False)
    with open(out / "locust_stats.csv", encoding="utf-8") as file:
        row = next(r for r in csv.DictReader(file) if r["Name"] == "turn")
    return {
        "turns": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "rps": float(row["Requests/s"]),
    }


def order_check(tracker_url: str, sent_file: Path) -> dict[str, int]:
    """Every conversation's user messages in the tracker are exactly what was sent, in order,
    and each is followed by a bot message."""
    conversations = [json.loads(line) for line in sent_file.read_text().splitlines() if line]
    engine = sa.create_engine(tracker_url)
    bad = []
    try:
        with engine.connect() as connection:
            for conversation in conversations:
                rows = connection.execute(
                    sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                    {"s": conversation["sender"]},
                ).all()
                stored = _turns_in_order(rows)
                if stored != conversation["texts"]:
                    bad.append({**conversation, "stored": stored, "types": [r[0] for r in rows]})
    finally:
        engine.dispose()
    messages = sum(len(c["texts"]) for c in conversations)
    (sent_file.parent / "out_of_order.json").write_text(
        json.dumps(bad, ensure_ascii=False, indent=1)
    )
    return {"conversations": len(conversations), "messages": messages, "out_of_order": len(bad)}


def _turns_in_order(rows: list) -> list[str]:
    """The user texts of a stored conversation, each counted only if a bot message follows."""
    texts: list[str] = []
    pending: str | None = None
    for type_name, data in rows:
        if type_name == "user":
            pending = json.loads(data).get("text")
        elif type_name == "bot" and pending is not None:
            texts.append(pending)
            pending = None
    return texts


def measure(run: Run, users: int, seconds: int, key: str, out: Path) -> dict[str, object]:
    before = {name: _cpu_seconds(pid) for name, pid in run.pids.items()}
    started = time.monotonic()
    figures = locust(run, users, seconds, key, out)
    wall = time.monotonic() - started
    cpu = {name: round(100 * (_cpu_seconds(pid) - before[name]) / wall, 1) for name, pid in run.pids.items()}  # fmt: skip
    time.sleep(2)  # the last turns' events are written
    order = order_check(run.tracker_url, out / "sent.jsonl")
    return {"profile": run.name, **figures, "cpu_percent": cpu, **order}


def print_table(results: list[dict[str, object]], users: int, seconds: int) -> None:
    print(f"\n{users} shoppers, one message every 2 s each, {seconds} s (load {os.getloadavg()})")
    print(f"{'profile':<10} {'turns':>6} {'errors':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'msg/s':>6} {'lost/reordered':>15}")  # fmt: skip
    for r in results:
        error_rate = r["failures"] / max(1, r["turns"])
        print(
            f"{r['profile']:<10} {r['turns']:>6} {error_rate:>7.2%} {r['p50_ms']:>7.0f} "
            f"{r['p95_ms']:>7.0f} {r['p99_ms']:>7.0f} {r['rps']:>6.1f} "
            f"{r['out_of_order']:>6} of {r['conversations']:<6}"
        )
        print(f"{'':<10} CPU % of one core: " + ", ".join(
            f"{n} {v}" for n, v in sorted(r["cpu_percent"].items())))  # fmt: skip
    cluster = next((r for r in results if r["profile"] == "cluster"), None)
    if cluster:
        ok = (cluster["failures"] == 0 and cluster["out_of_order"] == 0
              and cluster["p95_ms"] <= TARGET_P95_MS)  # fmt: skip
        print(f"target: cluster error rate 0, nothing lost or reordered, p95 <= "
              f"{TARGET_P95_MS:.0f} ms: {'PASS' if ok else 'FAIL'}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--baseline", action="store_true", help="also the default profile")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("DAOGOU_VAR", str(REPO_ROOT / "var" / "test"))
    settings = load_settings()
    if not model_path(settings).exists():
        print(f"no trained model at {model_path(settings)}: run `make test` first", file=sys.stderr)
        return 2
    if shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
        print("nginx is missing: `make cluster-packages`", file=sys.stderr)
        return 2
    seconds = int(args.minutes * 60)
    results = []
    profiles = [cluster_profile] + ([default_profile] if args.baseline else [])
    try:
        for profile in profiles:
            with profile(settings) as run:
                out = settings.var_dir / "bench" / f"load_{run.name}"
                results.append(measure(run, args.users, seconds, settings.shopper_key, out))
    except ClusterDidNotStart as error:
        print(error, file=sys.stderr)
        return 2
    print_table(results, args.users, seconds)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    cluster = results[0]
    return 0 if cluster["failures"] == 0 and cluster["out_of_order"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

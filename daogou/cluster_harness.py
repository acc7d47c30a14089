"""A whole cluster for the length of a `with` block, started the way `make cluster` starts it:
`daogou run --profile cluster` as a child process (daogou/launcher.py, daogou/cluster.py). The
cluster tests (tests/cluster/conftest.py) and the load benchmark (benchmarks/cluster_load.py)
both run one through :func:`running_cluster`.

The cluster gets

- the var/ of `settings` (its files land in var/cluster/, its logs in var/logs/cluster/);
- PostgreSQL databases of its own, dropped before (a crashed run's leftovers) and after;
- the Redis the caller names (the tests start a private one, so that one test can kill it);
- free loopback ports, from `first_port` on: Rasa's and the action servers' replicas on the
  ports after their load balancer's, as in production;
- no daily jobs: a retention vacuum or a recommender retrain in the middle of a measurement
  would be measured too.

Leaving the block sends the launcher SIGTERM (it stops its children as on Ctrl-C), kills any
child it left and drops the databases.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from daogou import cluster
from daogou.cluster import LOOPBACK, Topology
from daogou.launcher import VENV_BIN, port_in_use
from daogou.settings import REPO_ROOT, Settings

START_TIMEOUT = 900.0  # two Rasa model loads beside the action servers and the web app, 2 cores
STOP_TIMEOUT = 60.0
LAST_PORT = 40000
# The shop's own databases (daogou/cluster.py): a harness that drops its databases never may.
SHOP_DATABASES = {
    make_url(cluster.DEFAULT_CATALOG_URL).database,
    make_url(cluster.DEFAULT_TRACKER_URL).database,
}
# Settings that the child would otherwise take from the caller's environment and that would
# point it at another cluster's (or `make run`'s) services instead of its own load balancers.
INHERITED_URLS = ("RASA_URL", "ACTION_SERVER_URL", "DAOGOU_PUBLIC_RASA_URL")


class ClusterDidNotStart(RuntimeError):
    """The launcher stopped, or the cluster did not answer in time; the message ends with the
    launcher's log."""


@dataclass
class RunningCluster:
    settings: Settings  # as given: var/, tokens and keys (the ports are the topology's)
    topology: Topology
    catalog_url: str
    tracker_url: str
    redis_url: str
    launcher: subprocess.Popen
    launcher_log: Path

    @property
    def var_dir(self) -> Path:
        return self.settings.var_dir

    @property
    def log_dir(self) -> Path:
        return cluster.log_dir(self.settings)

    @property
    def services_file(self) -> Path:
        """The launcher's list of its children (daogou/launcher.py Supervisor)."""
        return cluster.cluster_dir(self.settings) / "services.json"

    @property
    def public_url(self) -> str:
        """nginx's plain-HTTP listener, where shoppers' browsers arrive."""
        return f"http://{LOOPBACK}:{self.topology.http_port}"

    @property
    def rasa_lb_url(self) -> str:
        """nginx's loopback listener in front of the Rasa replicas (the web app's RASA_URL)."""
        return f"http://{LOOPBACK}:{self.topology.rasa_lb_port}"

    def services(self) -> dict[str, dict[str, Any]]:
        """The launcher's children by name; OSError or ValueError before it has listed them."""
        state = json.loads(self.services_file.read_text(encoding="utf-8"))
        return {service["name"]: service for service in state["services"]}

    def service_pids(self) -> dict[str, int]:
        """Each child's pid (a process group: start_new_session), {} before they are listed."""
        try:
            return {name: service["pid"] for name, service in self.services().items()}
        except (OSError, ValueError):
            return {}


@contextmanager
def running_cluster(
    settings: Settings,
    *,
    catalog_url: str,
    tracker_url: str,
    redis_url: str,
    launcher_log: str = "launcher.log",
    first_port: int = 21000,
    timeout: float = START_TIMEOUT,
) -> Iterator[RunningCluster]:
    """The cluster, up (nginx listed and its /health answering) when the block starts (module
    docstring). `catalog_url` and `tracker_url` name PostgreSQL databases that belong to this
    run: they are dropped. `first_port` keeps callers that may run at once apart: a cluster
    binds its replicas' ports minutes after they were found free. Raises ClusterDidNotStart."""
    for url in (catalog_url, tracker_url):
        if make_url(url).database in SHOP_DATABASES:
            raise ValueError(f"{url} is the shop's database: the harness drops its databases")
    drop_databases(catalog_url, tracker_url)
    topology = free_topology(settings, first_port)
    storage = {"DATABASE_URL": catalog_url, "TRACKER_DB_URL": tracker_url, "REDIS_URL": redis_url}
    log_path = cluster.log_dir(settings) / launcher_log
    # a crashed run's list: the wait would take it for this run's, and stop() kill its pids
    (cluster.cluster_dir(settings) / "services.json").unlink(missing_ok=True)
    launcher = launch("cluster", _child_env(settings, topology, storage), log_path)
    running = RunningCluster(
        settings, topology, catalog_url, tracker_url, redis_url, launcher, log_path
    )
    try:
        _wait_until_up(running, timeout)
        yield running
    finally:
        stop(running)
        drop_databases(catalog_url, tracker_url)


# -- the parts --------------------------------------------------------------------------------
def _port_free(port: int) -> bool:
    """It can be bound on loopback, and nothing answers there either (a listener with
    SO_REUSEPORT, or on another address, does not stop the bind)."""
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return not port_in_use(port)


def _free_block(size: int, first_port: int, taken: set[int]) -> int:
    """The first of `size` consecutive free ports (a load balancer and its replicas) that no
    earlier block of this cluster has."""
    for base in range(first_port, LAST_PORT, 7):
        block = range(base, base + size)
        if not taken.intersection(block) and all(_port_free(p) for p in block):
            taken.update(block)
            return base
    raise RuntimeError(f"no {size} consecutive free ports between {first_port} and {LAST_PORT}")


def free_topology(settings: Settings, first_port: int) -> Topology:
    """Every port of a cluster with the replica counts of `settings`, all free now."""
    taken: set[int] = set()
    rasa_lb = _free_block(1 + settings.cluster_rasa_replicas, first_port, taken)
    action_lb = _free_block(1 + settings.cluster_action_replicas, first_port, taken)
    http_port, https_port, web_port = (_free_block(1, first_port, taken) for _ in range(3))
    return Topology.from_settings(
        dataclasses.replace(
            settings,
            rasa_port=rasa_lb,
            action_port=action_lb,
            web_port=web_port,
            cluster_http_port=http_port,
            cluster_https_port=https_port,
        )
    )


def _child_env(settings: Settings, topology: Topology, storage: dict[str, str]) -> dict[str, str]:
    """The caller's environment with this cluster's var/, databases, Redis and ports."""
    env = {
        **os.environ,
        **storage,
        "DAOGOU_VAR": str(settings.var_dir),
        "DAOGOU_RASA_PORT": str(topology.rasa_lb_port),
        "DAOGOU_ACTION_PORT": str(topology.action_lb_port),
        "DAOGOU_WEB_PORT": str(topology.web_port),
        "DAOGOU_CLUSTER_HTTP_PORT": str(topology.http_port),
        "DAOGOU_CLUSTER_HTTPS_PORT": str(topology.https_port),
        "DAOGOU_RETENTION_AT": "",
        "DAOGOU_RECS_TRAIN_AT": "",
    }
    for name in INHERITED_URLS:
        env.pop(name, None)
    return env


def launch(profile: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`daogou run --profile <profile>` in a session of its own, its output appended to
    `log_path`; stop it with :func:`stop_launcher`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            [str(VENV_BIN / "daogou"), "run", "--profile", profile],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_up(running: RunningCluster, timeout: float) -> None:
    """Until nginx, started last, is listed and the public /health answers through it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.launcher.poll() is not None:
            raise ClusterDidNotStart(f"the cluster did not start:\n{_tail(running.launcher_log)}")
        with contextlib.suppress(httpx.HTTPError):
            listed = "nginx" in running.service_pids()
            if listed and httpx.get(f"{running.public_url}/health", timeout=5).status_code == 200:
                return
        time.sleep(1)
    raise ClusterDidNotStart(
        f"the cluster was not up after {timeout:.0f} s:\n{_tail(running.launcher_log)}"
    )


def stop_launcher(launcher: subprocess.Popen) -> None:
    """SIGTERM, and the launcher stops its children as on Ctrl-C (either profile); killed if it
    has not within STOP_TIMEOUT."""
    if launcher.poll() is None:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            launcher.kill()


def stop(running: RunningCluster) -> None:
    """The launcher stopped; any child it left (a launcher killed mid-way) killed too."""
    stop_launcher(running.launcher)
    for pid in running.service_pids().values():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def drop_databases(*urls: str) -> None:
    """DROP DATABASE ... WITH (FORCE) for each URL, through its server's `postgres` database."""
    for url in urls:
        target = make_url(url)
        admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                quoted = admin.dialect.identifier_preparer.quote(target.database)
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        finally:
            admin.dispose()

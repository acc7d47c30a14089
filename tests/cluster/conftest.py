"""One cluster for the session, started the way `make cluster` starts it: `daogou run --profile
cluster` as a child process (daogou/cluster.py, daogou/launcher.py), with

- the trained model and var/ of `make test` (DAOGOU_VAR=var/test): the cluster's own files land
  in var/test/cluster/, its logs in var/test/logs/cluster/;
- PostgreSQL databases of its own, `daogou_catalog_test` and `daogou_tracker_test`, dropped
  before and after;
- a private Redis on a free port (tests/rasa/redis_server.py), so that the Redis-down test can
  kill it without touching the machine's;
- every port free (the replicas on the two ports after each load balancer's).

Run by `make test-cluster` (tests/conftest.py keeps it out of `make test`). Starting it takes
about two minutes here (two Rasa model loads beside two action servers and the web app, on two
cores); the tests then take seconds each, the replica kill longest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cn_text.ratelimit import loopback_address
from daogou.cluster import STICKY_QUERY_KEY
from daogou.nlu.botprep import model_path
from daogou.settings import REPO_ROOT, load_settings
from tests.rasa.redis_server import RedisServer
from web.identity import mint_shopper_token

PG_SERVER = os.environ.get("DAOGOU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
CATALOG_DB, TRACKER_DB = "daogou_catalog_test", "daogou_tracker_test"
START_TIMEOUT = 900.0


@dataclass
class Cluster:
    var_dir: Path
    http_port: int
    https_port: int
    rasa_lb_port: int
    rasa_ports: tuple[int, int]
    web_port: int
    rasa_token: str
    shopper_key: str
    catalog_url: str
    tracker_url: str
    redis: RedisServer
    launcher: subprocess.Popen

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs" / "cluster"

    @property
    def cert(self) -> Path:
        return self.var_dir / "cluster" / "tls" / "cert.pem"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def rasa_lb_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_lb_port}"

    def replica_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[number - 1]}"

    def replica_of(self, upstream: str) -> int:
        """1 or 2 from nginx's X-Upstream ("127.0.0.1:port"; the last one tried, if several)."""
        port = int(upstream.split(",")[-1].strip().rsplit(":", 1)[1])
        return self.rasa_ports.index(port) + 1

    def services(self) -> dict[str, dict]:
        state = json.loads((self.var_dir / "cluster" / "services.json").read_text())
        return {service["name"]: service for service in state["services"]}

    def token(self, sender: str) -> str:
        return mint_shopper_token(self.shopper_key, sender, 3600)

    def say(
        self, base_url: str, sender: str, text: str, token: str | None = None, verify: Any = True
    ) -> Reply:
        """A REST-channel message from `sender`'s own loopback address (as Bot.say in tests/e2e),
        with one token for the whole conversation unless given."""
        transport = httpx.HTTPTransport(local_address=loopback_address(sender), verify=verify)
        with httpx.Client(transport=transport, timeout=60) as http:
            response = http.post(
                f"{base_url}/webhooks/rest/webhook",
                json={"message": text},
                headers={"Authorization": f"Bearer {token or self.token(sender)}"},
            )
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        return Reply(response.json(), response.headers.get("X-Upstream"))

    def tracker_events_on(self, replica: int, sender: str) -> list[dict]:
        """The conversation as one replica's HTTP API answers it (its tracker store's view)."""
        response = httpx.get(
            f"{self.replica_url(replica)}/conversations/{sender}/tracker",
            params={"token": self.rasa_token},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()["events"]

    def stored_events(self, sender: str) -> list[dict]:
        """The conversation's rows in Rasa's tracker table, in id order."""
        engine = sa.create_engine(self.tracker_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text("SELECT id, data FROM events WHERE sender_id = :s ORDER BY id"),
                    {"s": sender},
                ).all()
        finally:
            engine.dispose()
        return [{"id": row.id, **json.loads(row.data)} for row in rows]

    def sticky_replica(self, key: str) -> int:
        """Which replica nginx gives a Socket.IO client with this client_key: an Engine.IO
        handshake through the loopback listener (same upstream, same hash), which shows it."""
        response = httpx.get(
            f"{self.rasa_lb_url}/socket.io/",
            params={"EIO": "4", "transport": "polling", STICKY_QUERY_KEY: key},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return self.replica_of(response.headers["X-Upstream"])

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(encoding="utf-8", errors="replace")


@dataclass
class Reply:
    messages: list[dict]
    upstream: str | None  # nginx's X-Upstream (loopback listener only)

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def products(self) -> list[dict] | None:
        for message in self.messages:
            custom = message.get("custom") or {}
            if custom.get("type") == "products":
                return custom["items"]
        return None


# -- the parts ---------------------------------------------------------------------------------
def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def free_block(size: int, taken: set[int]) -> int:
    """The first of `size` consecutive free ports (a load balancer and its replicas)."""
    for base in range(21000, 40000, 7):
        block = range(base, base + size)
        if not taken.intersection(block) and all(_port_free(p) for p in block):
            taken.update(block)
            return base
    raise RuntimeError("no free block of ports")


def _pg_answers() -> bool:
    engine = sa.create_engine(f"{PG_SERVER}/postgres", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _start_postgres() -> None:
    """As ENVIRONMENT.md says: a stopped PostgreSQL of this machine is started again."""
    clusters = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") and clusters.exists():
        for version in os.listdir(clusters):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
                capture_output=True,
            )
        time.sleep(2)


def drop_databases(*names: str) -> None:
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_up(cluster: Cluster, launcher_log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if cluster.launcher.poll() is not None:
            pytest.fail(f"the cluster did not start:\n{_tail(launcher_log)}")
        try:
            up = "nginx" in cluster.services()
            if up and httpx.get(f"{cluster.public_url}/health", timeout=5).status_code == 200:
                return
        except (OSError, ValueError, httpx.HTTPError):
            pass
        time.sleep(1)
    pytest.fail(f"the cluster was not up after {START_TIMEOUT:.0f} s:\n{_tail(launcher_log)}")


def _stop(cluster: Cluster) -> None:
    """SIGTERM: the launcher stops its children as on Ctrl-C; anything left is killed."""
    if cluster.launcher.poll() is None:
        cluster.launcher.send_signal(signal.SIGTERM)
        try:
            cluster.launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            cluster.launcher.kill()
    try:
        leftovers = [s["pid"] for s in cluster.services().values()]
    except (OSError, ValueError):
        leftovers = []
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    base = load_settings()
    if not model_path(base).exists():
        pytest.fail(f"no trained model at {model_path(base)}: run `make test-cluster`")
    if shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
        pytest.fail("nginx is not installed: `make test-cluster` installs it (cluster-packages)")
    if not _pg_answers():
        _start_postgres()
    assert _pg_answers(), f"PostgreSQL does not answer at {PG_SERVER}"
    drop_databases(CATALOG_DB, TRACKER_DB)
    (base.var_dir / "cluster" / "services.json").unlink(missing_ok=True)

    taken: set[int] = set()
    rasa_lb, action_lb = free_block(3, taken), free_block(3, taken)
    http_port, https_port, web_port = (free_block(1, taken) for _ in range(3))
    log_dir = base.var_dir / "logs" / "cluster"
    log_dir.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(log=log_dir / "redis.log").start()
    catalog_url, tracker_url = f"{PG_SERVER}/{CATALOG_DB}", f"{PG_SERVER}/{TRACKER_DB}"
    env = {
        **os.environ,
        "DAOGOU_VAR": str(base.var_dir),
        "DATABASE_URL": catalog_url,
        "TRACKER_DB_URL": tracker_url,
        "REDIS_URL": redis.url,
        "DAOGOU_RASA_PORT": str(rasa_lb),
        "DAOGOU_ACTION_PORT": str(action_lb),
        "DAOGOU_WEB_PORT": str(web_port),
        "DAOGOU_CLUSTER_HTTP_PORT": str(http_port),
        "DAOGOU_CLUSTER_HTTPS_PORT": str(https_port),
        "DAOGOU_RETENTION_AT": "",
    }
    for name in ("RASA_URL", "ACTION_SERVER_URL", "DAOGOU_PUBLIC_RASA_URL"):
        env.pop(name, None)
    launcher_log = log_dir / "launcher.log"
    with open(launcher_log, "ab") as out:
        launcher = subprocess.Popen(
            [str(REPO_ROOT / ".venv" / "bin" / "daogou"), "run", "--profile", "cluster"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    running = Cluster(
        var_dir=base.var_dir,
        http_port=http_port,
        https_port=https_port,
        rasa_lb_port=rasa_lb,
        rasa_ports=(rasa_lb + 1, rasa_lb + 2),
        web_port=web_port,
        rasa_token=base.rasa_token,
        shopper_key=base.shopper_key,
        catalog_url=catalog_url,
        tracker_url=tracker_url,
        redis=redis,
        launcher=launcher,
    )
    try:
        _wait_until_up(running, launcher_log)
        yield running
    finally:
        _stop(running)
        redis.stop()
        drop_databases(CATALOG_DB, TRACKER_DB)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The replica kill last: the cluster serves on with one Rasa replica while the launcher
    reloads the other, which takes the two cores for a while."""
    items.sort(key=lambda item: "test_replica_kill" in item.nodeid)

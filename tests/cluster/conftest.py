"""One cluster for the session, started the way `make cluster` starts it, through
daogou/cluster_harness.py (`daogou run --profile cluster` as a child process), with

- the trained model and var/ of `make test` (DAOGOU_VAR=var/test): the cluster's own files land
  in var/test/cluster/, its logs in var/test/logs/cluster/;
- PostgreSQL databases of its own, `daogou_catalog_test` and `daogou_tracker_test`, dropped
  before and after;
- a private Redis on a free port (tests/rasa/redis_server.py), so that the Redis-down test can
  kill it without touching the machine's;
- every port free (the replicas on the ports after each load balancer's).

Run by `make test-cluster` (tests/conftest.py keeps it out of `make test`). Starting it takes
about two minutes here (two Rasa model loads beside two action servers and the web app, on two
cores); the tests then take seconds each, the replica kill longest.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
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
from daogou.cluster_harness import ClusterDidNotStart, RunningCluster, running_cluster
from daogou.nlu.botprep import model_path
from daogou.settings import load_settings
from tests.rasa.redis_server import RedisServer
from web.identity import mint_shopper_token

PG_SERVER = os.environ.get("DAOGOU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
CATALOG_DB, TRACKER_DB = "daogou_catalog_test", "daogou_tracker_test"


@dataclass
class Cluster(RunningCluster):
    """The running cluster (daogou/cluster_harness.py) with its private Redis and what the tests
    ask of it."""

    redis: RedisServer

    @classmethod
    def of(cls, running: RunningCluster, redis: RedisServer) -> Cluster:
        fields = {f.name: getattr(running, f.name) for f in dataclasses.fields(running)}
        return cls(**fields, redis=redis)

    @property
    def cert(self) -> Path:
        return self.var_dir / "cluster" / "tls" / "cert.pem"

    @property
    def rasa_token(self) -> str:
        return self.settings.rasa_token

    def replica_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.topology.rasa_ports[number - 1]}"

    def replica_of(self, upstream: str) -> int:
        """1 or 2 from nginx's X-Upstream ("127.0.0.1:port"; the last one tried, if several)."""
        port = int(upstream.split(",")[-1].strip().rsplit(":", 1)[1])
        return self.topology.rasa_ports.index(port) + 1

    def token(self, sender: str) -> str:
        return mint_shopper_token(self.settings.shopper_key, sender, 3600)

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
    log_dir = base.var_dir / "logs" / "cluster"
    log_dir.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(log=log_dir / "redis.log").start()
    try:
        with running_cluster(
            base,
            catalog_url=f"{PG_SERVER}/{CATALOG_DB}",
            tracker_url=f"{PG_SERVER}/{TRACKER_DB}",
            redis_url=redis.url,
        ) as running:
            yield Cluster.of(running, redis)
    except ClusterDidNotStart as error:
        pytest.fail(str(error))
    finally:
        redis.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The replica kill last: the cluster serves on with one Rasa replica while the launcher
    reloads the other, which takes the two cores for a while."""
    items.sort(key=lambda item: "test_replica_kill" in item.nodeid)

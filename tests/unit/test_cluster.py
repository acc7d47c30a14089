"""The cluster profile's pieces that need no running cluster (daogou/cluster.py, the launcher's
replica specs and supervisor, the lock store in Rasa's endpoints). The cluster itself:
tests/cluster (`make test-cluster`)."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from daogou import cluster, launcher
from daogou.cluster import Topology
from daogou.nlu import botprep
from daogou.settings import load_settings


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "TRACKER_DB_URL", "REDIS_URL", "DAOGOU_PUBLIC_RASA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RASA_TOKEN", "token-for-tests")
    return dataclasses.replace(load_settings(), var_dir=tmp_path)


def test_default_topology_puts_replicas_on_the_next_ports(settings):
    topology = Topology.from_settings(settings)
    assert (topology.http_port, topology.https_port) == (8080, 8443)
    assert (topology.rasa_lb_port, topology.rasa_ports) == (5005, (5006, 5007))
    assert (topology.action_lb_port, topology.action_ports) == (5055, (5056, 5057))
    three = dataclasses.replace(settings, cluster_rasa_replicas=3, cluster_action_replicas=1)
    assert Topology.from_settings(three).rasa_ports == (5006, 5007, 5008)
    assert Topology.from_settings(three).action_ports == (5056,)


def test_storage_is_postgresql_in_two_databases_and_redis(settings):
    assert cluster.storage_urls(settings) == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/daogou_catalog",
        "postgresql+psycopg://postgres@127.0.0.1:5432/daogou_tracker",
        "redis://127.0.0.1:6379/0",
    )
    mine = dataclasses.replace(
        settings,
        database_url="postgresql://shop:pw@db:5433/cat",
        tracker_db_url="postgresql+psycopg://shop:pw@db:5433/trk",
        redis_url="redis://cache:6380/2",
    )
    assert cluster.storage_urls(mine) == (
        "postgresql+psycopg://shop:pw@db:5433/cat",  # the 3.11 environment's driver
        "postgresql+psycopg://shop:pw@db:5433/trk",
        "redis://cache:6380/2",
    )
    one = dataclasses.replace(mine, tracker_db_url="postgresql://shop:pw@db:5433/cat")
    with pytest.raises(SystemExit, match="`events`"):
        cluster.storage_urls(one)


def test_cluster_settings_point_every_process_at_the_load_balancers(settings):
    topology = Topology.from_settings(settings)
    clustered = cluster.cluster_settings(settings, topology)
    assert clustered.rasa_url == "http://127.0.0.1:5005"
    assert clustered.action_server_url == "http://127.0.0.1:5055/webhook"
    assert "127.0.0.1/32" in clustered.trusted_proxies  # nginx's X-Forwarded-For is believed
    assert clustered.public_rasa_url == "https://localhost:8443"
    endpoints = botprep.endpoints(clustered)
    assert endpoints["lock_store"] == {
        "type": "bot.lock_store.FallbackLockStore",
        "url": "127.0.0.1",
        "port": 6379,
        "db": 0,
        "password": None,
    }
    assert endpoints["tracker_store"]["dialect"] == "postgresql"  # Rasa's own driver
    assert endpoints["tracker_store"]["db"] == "daogou_tracker"


def test_replica_specs_have_their_own_names_ports_and_logs(settings):
    topology = Topology.from_settings(settings)
    clustered = cluster.cluster_settings(settings, topology)
    specs = launcher.service_specs(clustered, topology)
    assert [(s.name, s.port) for s in specs] == [
        ("actions-1", 5056), ("actions-2", 5057), ("rasa-1", 5006), ("rasa-2", 5007),
        ("web app", 8000),
    ]  # fmt: skip
    rasa_1 = specs[2]
    assert rasa_1.args[rasa_1.args.index("--port") + 1] == "5006"
    assert rasa_1.args[rasa_1.args.index("--interface") + 1] == "127.0.0.1"
    endpoints = rasa_1.args[rasa_1.args.index("--endpoints") + 1]
    assert endpoints == str(settings.var_dir / "cluster" / "bot" / "endpoints.yml")
    assert specs[0].args[specs[0].args.index("--host") + 1] == "127.0.0.1"
    web_env = specs[4].env
    assert web_env["RASA_URL"] == "http://127.0.0.1:5005"
    assert web_env["TRACKER_DB_URL"] == clustered.tracker_db_url
    assert web_env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert web_env["DAOGOU_PUBLIC_RASA_URL"] == "https://localhost:8443"
    # the default profile is what it was
    assert [s.name for s in launcher.service_specs(settings)] == [
        "action server",
        "rasa",
        "web app",
    ]
    assert "--interface" not in launcher.service_specs(settings)[1].args


def test_socketio_channel_gets_redis_and_origins_template_values_win(settings):
    options = {"redis_url": "redis://127.0.0.1:6379/0", "cors_allowed_origins": ["https://a"]}
    rendered = launcher.credentials(settings, options)
    socket = rendered["bot.channels.socketio.ProductSocketIOInput"]
    assert socket["redis_url"] == "redis://127.0.0.1:6379/0"
    assert socket["cors_allowed_origins"] == ["https://a"]
    assert socket["session_persistence"] is True  # from bot/credentials.yml
    assert "redis_url" not in rendered["bot.channels.rest.ShopperRestInput"]
    assert (
        "redis_url"
        not in launcher.credentials(settings)["bot.channels.socketio.ProductSocketIOInput"]
    )


def nginx_conf(settings) -> tuple[str, cluster.NginxFiles]:
    topology = Topology.from_settings(settings)
    files = cluster.write_nginx_conf(settings, topology)
    return files.conf.read_text(encoding="utf-8"), files


def server_blocks(conf: str) -> list[str]:
    return re.split(r"\n    server \{", conf)[1:]


def test_nginx_conf_routes_sticky_rasa_round_robin_actions_and_tls(settings):
    conf, files = nginx_conf(settings)
    assert f"pid {settings.var_dir}/cluster/nginx/nginx.pid;" in conf
    assert f"access_log {settings.var_dir}/logs/cluster/nginx_access.log daogou;" in conf
    rasa = conf[conf.index("upstream rasa {") : conf.index("upstream actions {")]
    assert "hash $sticky_key consistent;" in rasa
    assert "127.0.0.1:5006" in rasa and "127.0.0.1:5007" in rasa
    actions = conf[conf.index("upstream actions {") : conf.index("upstream web {")]
    assert "hash" not in actions and "127.0.0.1:5056" in actions and "127.0.0.1:5057" in actions
    assert "map $arg_client_key $sticky_key" in conf
    assert "ip_hash" not in conf
    assert "proxy_next_upstream error timeout;" in conf
    # a POST that reached a replica is never sent twice
    assert not re.search(r"proxy_next_upstream [^;]*non_idempotent", conf)
    assert "$request " not in conf and '"$request"' not in conf  # no query strings in the log
    public, rasa_lb, actions_lb = server_blocks(conf)
    assert "listen 8080;" in public and "listen 8443 ssl;" in public
    assert f"ssl_certificate {files.cert};" in public
    assert "X-Upstream" not in public
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in public
    assert "listen 127.0.0.1:5005;" in rasa_lb and "X-Upstream" in rasa_lb
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in rasa_lb
    assert "listen 127.0.0.1:5055;" in actions_lb and "proxy_pass http://actions;" in actions_lb
    for block in (public, rasa_lb):
        assert "proxy_set_header Upgrade $http_upgrade;" in block
        assert "proxy_set_header Connection $connection_upgrade;" in block


def test_the_self_signed_pair_is_made_once_and_the_key_is_private(settings):
    _, files = nginx_conf(settings)
    assert files.cert == settings.var_dir / "cluster" / "tls" / "cert.pem"
    assert "BEGIN CERTIFICATE" in files.cert.read_text()
    assert files.key.stat().st_mode & 0o777 == 0o600
    made = files.cert.read_bytes()
    nginx_conf(settings)
    assert files.cert.read_bytes() == made


def test_a_given_certificate_is_used_and_both_halves_are_needed(settings, tmp_path):
    cert, key = tmp_path / "shop.crt", tmp_path / "shop.key"
    cert.write_text("cert"), key.write_text("key")
    assert cluster.tls_pair(dataclasses.replace(settings, tls_cert=cert, tls_key=key)) == (
        cert,
        key,
    )
    with pytest.raises(SystemExit, match="both"):
        cluster.tls_pair(dataclasses.replace(settings, tls_cert=cert))


# -- the supervisor, on two small real HTTP servers ----------------------------------------------
def http_service(name: str) -> launcher.Service:
    port = launcher.free_port()
    return launcher.Service(
        name,
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        f"http://127.0.0.1:{port}/",
        dict(os.environ),
        port,
    )


def test_a_stopped_replica_is_restarted_while_the_other_keeps_serving(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher.Supervisor, "RESTART_DELAY", 0.2)
    supervisor = launcher.Supervisor(tmp_path / "logs", tmp_path / "services.json")
    try:
        supervisor.start_all([http_service("rasa-1"), http_service("rasa-2")], timeout=20)
        first, second = supervisor.children
        killed_pid, other_pid = first.process.pid, second.process.pid
        os.killpg(killed_pid, signal.SIGKILL)
        first.process.wait(timeout=5)
        supervisor.check()  # noticed: a restart is due in 0.2 s
        assert first.restart_at is not None and second.process.poll() is None
        time.sleep(0.3)
        supervisor.check()
        assert first.process.pid != killed_pid and first.restarts == 1
        assert second.process.pid == other_pid and second.process.poll() is None
        launcher.wait_healthy(first.service, first.process, timeout=20)
        state = (tmp_path / "services.json").read_text()
        assert f'"pid": {first.process.pid}' in state and f'"pid": {other_pid}' in state
        assert Path(tmp_path / "logs" / "rasa-1.log").exists()
    finally:
        supervisor.stop()
    assert all(child.process.poll() is not None for child in supervisor.children)
    assert not (tmp_path / "services.json").exists()

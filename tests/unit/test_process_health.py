"""Process health through the launcher (issue #17), on real child processes: the state file the
launcher writes, psutil's readings of each pid, the /metrics series, `daogou status`, and the
default profile's services started together."""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from daogou import cli, launcher
from daogou.metrics import MetricsPage, ServiceHealthCollector
from daogou.process_health import (
    ServiceEntry,
    probe,
    read_state,
    service_health,
    state_file,
    write_state,
)
from daogou.settings import load_settings

MIB = 1024 * 1024
SLEEPER = "import time; print('ready', flush=True); time.sleep(120)"
# Bytes written one by one (not calloc'd zeros, which would stay unmapped and out of the RSS).
ALLOCATOR = (
    "import time; block = b'\\x01' * (50 * 1024 * 1024); print('ready', flush=True); "
    "time.sleep(120)"
)
BURNER = (
    "import time\nwhile time.process_time() < 0.6: pass\nprint('ready', flush=True)\n"
    "time.sleep(120)"
)
# Its CPU time is its child's: psutil's children_user and children_system, left out.
PARENT_OF_BURNER = (
    "import subprocess, sys, time\n"
    "subprocess.run([sys.executable, '-c', 'import time\\nwhile time.process_time() < 0.6: pass'])\n"
    "print('ready', flush=True)\ntime.sleep(120)"
)


@pytest.fixture()
def spawn() -> Iterator:
    """Starts `python -c code`, returns once it printed `ready`; kills it afterwards."""
    started: list[subprocess.Popen] = []

    def run(code: str) -> tuple[subprocess.Popen, float]:
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        started_at = time.time()
        started.append(process)
        assert process.stdout.readline().strip() == "ready"
        return process, started_at

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


def entry(name: str, process: subprocess.Popen, started_at: float, **more) -> ServiceEntry:
    return ServiceEntry(name=name, pid=process.pid, port=None, started_at=started_at, **more)


def test_each_running_service_is_read_from_its_own_pid(spawn, tmp_path):
    sleeper, sleeper_start = spawn(SLEEPER)
    allocator, allocator_start = spawn(ALLOCATOR)
    path = tmp_path / "run" / "services.json"
    write_state(
        path,
        [
            entry("action server", sleeper, sleeper_start),
            ServiceEntry("rasa", allocator.pid, 5005, allocator_start, restarts=2, log="r.log"),
        ],
        "default",
    )
    launcher_pid, entries = read_state(path)
    assert launcher_pid == os.getpid()
    assert [(e.name, e.pid, e.port, e.restarts) for e in entries] == [
        ("action server", sleeper.pid, None, 0),
        ("rasa", allocator.pid, 5005, 2),
    ]
    small, big = service_health({"default": path})
    assert (small.profile, small.name, small.pid, small.up) == (
        "default", "action server", sleeper.pid, True,
    )  # fmt: skip
    assert (big.name, big.pid, big.port, big.up, big.restarts) == (
        "rasa", allocator.pid, 5005, True, 2,
    )  # fmt: skip
    assert big.rss_bytes > 50 * MIB
    assert small.rss_bytes < 50 * MIB  # the two readings are of two different processes
    assert small.threads == 1 and big.threads == 1
    assert 0 <= small.uptime_seconds < 60 and 0 <= big.uptime_seconds < 60


def test_cpu_seconds_are_the_process_own_and_exclude_its_children(spawn):
    burner, burner_start = spawn(BURNER)
    parent, parent_start = spawn(PARENT_OF_BURNER)
    burned = probe(entry("burner", burner, burner_start)).cpu_seconds
    waited = probe(entry("parent", parent, parent_start)).cpu_seconds
    assert 0.55 <= burned < 3.0  # psutil counts in clock ticks (10 ms)
    assert waited < 0.4  # its child's 0.6 s are psutil's children_user, not counted
    times = psutil.Process(parent.pid).cpu_times()
    assert times.children_user + times.children_system >= 0.55


def test_a_dead_zombie_or_reused_pid_is_reported_down(spawn):
    killed, killed_start = spawn(SLEEPER)
    killed.kill()
    killed.wait()  # reaped: the pid is gone
    zombie, zombie_start = spawn(SLEEPER)
    os.kill(zombie.pid, signal.SIGKILL)  # not reaped: the kernel keeps a zombie
    deadline = time.monotonic() + 10
    while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    fresh, _ = spawn(SLEEPER)
    an_hour_before = time.time() - 3600  # listed as started then: the pid is someone else's now
    for reading in (
        probe(entry("killed", killed, killed_start, restarts=1)),
        probe(entry("zombie", zombie, zombie_start)),
        probe(entry("reused", fresh, an_hour_before)),
    ):
        assert reading.up is False
        assert reading.rss_bytes is reading.cpu_seconds is reading.threads is None
        assert reading.uptime_seconds is None
    assert probe(entry("killed", killed, killed_start, restarts=1)).restarts == 1


def test_a_missing_or_broken_state_file_lists_nothing(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"services": [{"pid": "x"}]}', encoding="utf-8")
    assert service_health({"default": tmp_path / "none.json", "cluster": broken}) == []


def test_metrics_expose_each_service_with_its_labels(spawn, tmp_path):
    rasa, rasa_start = spawn(ALLOCATOR)
    gone, gone_start = spawn(SLEEPER)
    gone.kill()
    gone.wait()
    path = tmp_path / "cluster" / "services.json"
    write_state(
        path,
        [entry("rasa-1", rasa, rasa_start), entry("actions-1", gone, gone_start, restarts=3)],
        "cluster",
    )
    page = MetricsPage([ServiceHealthCollector({"cluster": path})])
    text = page.render(None)[0].decode()
    lines = text.splitlines()
    rasa_labels = '{profile="cluster",service="rasa-1"}'
    gone_labels = '{profile="cluster",service="actions-1"}'
    assert f"daogou_service_up{rasa_labels} 1.0" in lines
    assert f"daogou_service_up{gone_labels} 0.0" in lines
    assert f"daogou_service_restarts{rasa_labels} 0.0" in lines
    assert f"daogou_service_restarts{gone_labels} 3.0" in lines
    assert f"daogou_service_threads{rasa_labels} 1.0" in lines
    assert "# TYPE daogou_service_cpu_seconds_total counter" in lines
    rss = _value(lines, f"daogou_service_resident_memory_bytes{rasa_labels}")
    assert rss > 50 * MIB
    assert 0.0 < _value(lines, f"daogou_service_cpu_seconds_total{rasa_labels}") < 10.0
    assert gone_labels not in text.replace(f"daogou_service_up{gone_labels}", "").replace(
        f"daogou_service_restarts{gone_labels}", ""
    )  # no memory, CPU or thread readings for a service that is down


def _value(lines: list[str], series: str) -> float:
    [line] = [line for line in lines if line.startswith(series + " ")]
    return float(line.rsplit(" ", 1)[1])


# -- daogou status --------------------------------------------------------------------------------
@pytest.fixture()
def status_settings(tmp_path, monkeypatch):
    settings = dataclasses.replace(load_settings(), var_dir=tmp_path)
    monkeypatch.setattr("daogou.status_cli.get_settings", lambda: settings)
    return settings


def test_status_exits_0_when_all_are_up_and_1_when_one_is_down(spawn, status_settings, capsys):
    web, web_start = spawn(SLEEPER)
    rasa, rasa_start = spawn(ALLOCATOR)
    write_state(
        state_file(status_settings, "default"),
        [entry("rasa", rasa, rasa_start), entry("web app", web, web_start)],
        "default",
    )
    assert cli.main(["status", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["all_up"] is True
    assert [(s["name"], s["pid"], s["up"], s["profile"]) for s in body["services"]] == [
        ("rasa", rasa.pid, True, "default"),
        ("web app", web.pid, True, "default"),
    ]
    assert body["services"][0]["rss_bytes"] > 50 * MIB
    assert cli.main(["status"]) == 0
    header, rasa_row, web_row = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "service",
        "pid",
        "state",
        "RSS",
        "MB",
        "CPU",
        "s",
        "uptime",
        "restarts",
    ]
    assert web_row.split()[:4] == ["web", "app", str(web.pid), "up"]

    web.kill()
    web.wait()
    assert cli.main(["status", "--json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["all_up"] is False
    assert [(s["name"], s["up"], s["rss_bytes"]) for s in body["services"]][1] == (
        "web app", False, None,
    )  # fmt: skip
    assert cli.main(["status"]) == 1
    assert capsys.readouterr().out.splitlines()[2].split() == [
        "web", "app", str(web.pid), "down", "-", "-", "-", "0",
    ]  # fmt: skip


def test_status_reads_the_cluster_profile_and_says_when_nothing_runs(
    spawn, status_settings, capsys
):
    assert cli.main(["status"]) == 1
    assert capsys.readouterr().out.startswith("Daogou is not running")
    assert cli.main(["status", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {"all_up": False, "services": []}
    replica, replica_start = spawn(SLEEPER)
    write_state(
        state_file(status_settings, "cluster"),
        [entry("rasa-1", replica, replica_start, restarts=1)],
        "cluster",
    )
    assert cli.main(["status", "--profile", "cluster", "--json"]) == 0
    [service] = json.loads(capsys.readouterr().out)["services"]
    assert (service["profile"], service["name"], service["pid"], service["restarts"]) == (
        "cluster", "rasa-1", replica.pid, 1,
    )  # fmt: skip
    assert cli.main(["status", "--profile", "default"]) == 1  # the default profile is not running
    capsys.readouterr()


# -- the default profile's start, on three small HTTP servers -------------------------------------
SLOW_SERVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, delay, exit_code = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
time.sleep(delay)  # "loading its model": nothing listens yet
if exit_code:
    sys.exit(exit_code)

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""
# `daogou run` with the three services replaced by SLOW_SERVER (argv: seconds before each
# answers, or exits with the code given).
RUNNER = """
import sys
from daogou import launcher
from daogou.settings import load_settings

server, plans = sys.argv[1], [p.split(":") for p in sys.argv[2:]]

def specs(settings, topology=None):
    ports = (settings.action_port, settings.rasa_port, settings.web_port)
    names = ("action server", "rasa", "web app")
    return [
        launcher.Service(name, [sys.executable, server, str(port), delay, code],
                         f"http://127.0.0.1:{port}/", {}, port)
        for name, port, (delay, code) in zip(names, ports, plans)
    ]

launcher.service_specs = specs
# Not what this checks, and they need the bot's templates.
launcher.write_endpoints = launcher.write_credentials = lambda settings: None
launcher.run_all(load_settings())
"""


@dataclasses.dataclass
class Launched:
    process: subprocess.Popen
    lines: queue.Queue
    var_dir: Path


@pytest.fixture()
def launch(tmp_path) -> Iterator:
    (tmp_path / "server.py").write_text(SLOW_SERVER, encoding="utf-8")
    (tmp_path / "runner.py").write_text(textwrap.dedent(RUNNER), encoding="utf-8")
    runs: list[Launched] = []

    def run(*plans: str) -> Launched:
        env = {
            **os.environ,
            "DAOGOU_VAR": str(tmp_path),
            "DAOGOU_ACTION_PORT": str(launcher.free_port()),
            "DAOGOU_RASA_PORT": str(launcher.free_port()),
            "DAOGOU_WEB_PORT": str(launcher.free_port()),
            "PYTHONPATH": str(launcher.REPO_ROOT),
        }
        args = [sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "server.py"), *plans]
        process = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        lines: queue.Queue = queue.Queue()

        def read() -> None:
            for line in process.stdout:
                lines.put((time.monotonic(), line.rstrip("\n")))

        threading.Thread(target=read, daemon=True).start()
        runs.append(Launched(process, lines, tmp_path))
        return runs[-1]

    yield run
    for run_ in runs:
        if run_.process.poll() is None:
            os.killpg(run_.process.pid, signal.SIGKILL)
        run_.process.wait()


def wait_for(launched: Launched, text: str, timeout: float = 30) -> tuple[float, list[str]]:
    """When a line containing `text` came, and every line until then."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            at, line = launched.lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return at, seen
    raise AssertionError(f"no {text!r} in {seen}")


def test_the_three_services_start_together_and_stop_on_sigterm(launch):
    launched = launch("2:0", "2:0", "2:0")
    started, _ = wait_for(launched, "starting action server")
    running, lines = wait_for(launched, "Daogou is running")
    # One after another it would be three times 2 s and more; together, the slowest's 2 s.
    assert running - started < 4.5, lines
    assert sum("is up after" in line for line in lines) == 3
    path = launched.var_dir / "run" / "services.json"
    launcher_pid, entries = read_state(path)
    assert launcher_pid == launched.process.pid
    assert [(e.name, e.restarts) for e in entries] == [
        ("action server", 0), ("rasa", 0), ("web app", 0),
    ]  # fmt: skip
    assert all(abs(e.started_at - time.time()) < 30 for e in entries)
    readings = service_health({"default": path})
    assert [(h.name, h.up) for h in readings] == [
        ("action server", True), ("rasa", True), ("web app", True),
    ]  # fmt: skip
    children = {child.pid for child in psutil.Process(launched.process.pid).children()}
    assert {e.pid for e in entries} == children

    launched.process.send_signal(signal.SIGTERM)
    assert launched.process.wait(timeout=30) == 0
    assert not path.exists()
    assert not any(psutil.pid_exists(e.pid) for e in entries)
    assert not any(launcher.port_in_use(e.port) for e in entries)
    assert slow_servers(launched.var_dir) == []


def test_a_service_that_exits_while_another_loads_stops_them_all_at_once(launch):
    launched = launch("30:0", "30:0", "0.5:3")  # the web app fails; the others load for 30 s
    started, _ = wait_for(launched, "starting action server")
    failed, lines = wait_for(launched, "web app exited with code 3")
    assert failed - started < 10, lines  # not after the 30 s of the slow ones
    assert launched.process.wait(timeout=30) == 1  # the launcher's traceback
    assert "RuntimeError: web app exited with code 3" in "\n".join(lines)
    assert not (launched.var_dir / "run" / "services.json").exists()
    assert slow_servers(launched.var_dir) == []  # the two still loading were stopped


def slow_servers(folder: Path) -> list[int]:
    """Pids of SLOW_SERVER processes started from `folder`."""
    script = str(folder / "server.py")
    return [
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if script in (process.info["cmdline"] or [])
    ]

"""Starts the services as child processes and stops them all on Ctrl-C.

Two profiles: `default` (one Rasa, one action server, the web app: `make run`) and `cluster`
(replicas of Rasa and of the action server behind nginx, on PostgreSQL and Redis: `make cluster`,
daogou/cluster.py). In the default profile a service that stops stops them all; in the cluster
the others keep serving while the launcher restarts the one that stopped.
"""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from daogou import cluster
from daogou.cluster import Topology
from daogou.logs import open_rotating_log
from daogou.nlu import botprep
from daogou.nlu.botprep import RASA_PYTHON, model_path, rasa_env, write_endpoints
from daogou.process_health import ServiceEntry, state_file, write_state
from daogou.settings import REPO_ROOT, Settings

VENV_BIN = REPO_ROOT / ".venv" / "bin"


@dataclass
class Service:
    name: str
    args: list[str]
    health_url: str
    env: dict[str, str]
    port: int | None = None


TF_SERVING_THREADS = {
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
}


def credentials(settings: Settings, socketio_options: dict | None = None) -> dict:
    """bot/credentials.yml with the key that Rasa's channels verify shopper tokens with (setting
    `shopper_key`, web/identity.py) given to every channel as `jwt_key`, and the Rasa token as
    the Socket.IO channel's `push_token` (the web app's staff messages, web/handoff_loop.py),
    and to every channel the chat guard's limits, proxies and word list (bot/channels/guard.py;
    the Rasa token as its `proxy_token`, which the web app's /api/chat shows).
    `socketio_options`: more for the Socket.IO channel (the cluster's Redis and origins); the
    template's own values win."""
    channels = yaml.safe_load((REPO_ROOT / "bot" / "credentials.yml").read_text(encoding="utf-8"))
    key = settings.shopper_key
    guard = {
        "rate_per_shopper": settings.chat_rate_per_shopper,
        "rate_per_ip": settings.chat_rate_per_ip,
        "proxy_token": settings.rasa_token,
        "sensitive_words": str(settings.sensitive_words_file),
    }
    rendered = {
        name: {
            **(options or {}),
            "jwt_key": key,
            "jwt_method": "HS256",
            **guard,
            "trusted_proxies": list(settings.trusted_proxies),  # a list each: no YAML anchors
        }
        for name, options in (channels or {}).items()
    }
    for name, options in rendered.items():
        if name.endswith("ProductSocketIOInput") or name == "socketio":
            options["push_token"] = settings.rasa_token
            rendered[name] = {**(socketio_options or {}), **options}
    return rendered


def write_credentials(
    settings: Settings, path: Path | None = None, socketio_options: dict | None = None
) -> Path:
    """The rendered credentials (default var/bot/credentials.yml), written at every start like
    the endpoints. They hold the key, so the file is the owner's only, and it is replaced
    whole: a benchmark starting beside the tests never lets Rasa read half of it."""
    path = path or settings.var_dir / "bot" / "credentials.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        credentials(settings, socketio_options), allow_unicode=True, sort_keys=False
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)
    os.replace(temporary, path)
    return path


def base_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(
        DAOGOU_VAR=str(settings.var_dir),
        DATABASE_URL=settings.database_url,
        RASA_URL=settings.rasa_url,
        ACTION_SERVER_URL=settings.action_server_url,
    )
    return env


def action_service(
    settings: Settings,
    env: dict[str, str],
    name: str = "action server",
    port: int | None = None,
    host: str | None = None,
) -> Service:
    port = port or settings.action_port
    args = [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(port)]
    if host:
        args += ["--host", host]
    # One thread for the few queries it embeds itself: the other core is Rasa's.
    env = {"DAOGOU_QUERY_THREADS": "1", **env}
    if name != "action server":  # a replica: its own index folder, two building one corrupt it
        env["DAOGOU_INDEX_NAME"] = name
    return Service(name, args, f"http://127.0.0.1:{port}/health", env, port)


def rasa_service(
    settings: Settings,
    name: str = "rasa",
    port: int | None = None,
    *,
    bot_files: Path | None = None,
    interface: str | None = None,
) -> Service:
    """`bot_files`: the folder of the endpoints and credentials files (default var/bot)."""
    port = port or settings.rasa_port
    files = bot_files or settings.var_dir / "bot"
    # bot.serve is the rasa CLI plus its latency fixes (GC freeze, schema cache,
    # NLU thread, warm-up): see its docstring.
    args = [str(RASA_PYTHON), "-m", "bot.serve", "run", "--model", str(model_path(settings))]
    args += ["--endpoints", str(files / "endpoints.yml")]
    args += ["--credentials", str(files / "credentials.yml")]
    args += ["--port", str(port), "--enable-api", f"--auth-token={settings.rasa_token}"]
    args += ["--cors", "*"]  # the token joined to its option: a token may start with "-"
    if interface:
        args += ["--interface", interface]
    return Service(
        name, args, f"http://127.0.0.1:{port}/status?token={settings.rasa_token}",
        # TensorFlow runs DIET and the selector one op after another on the NLU thread: its
        # thread pools handed each small op to a thread on the other core, which only waited
        # for it (10-shopper p50 63.5 -> 58.4 ms, four interleaved runs each; README).
        {**TF_SERVING_THREADS, **rasa_env()}, port,
    )  # fmt: skip


def web_service(settings: Settings, env: dict[str, str]) -> Service:
    return Service(
        "web app",
        [str(VENV_BIN / "uvicorn"), "--factory", "web.app:app_factory",
         "--host", "0.0.0.0", "--port", str(settings.web_port)],
        f"http://127.0.0.1:{settings.web_port}/health",
        env, settings.web_port,
    )  # fmt: skip


def service_specs(settings: Settings, topology: Topology | None = None) -> list[Service]:
    """The default profile's three services; with a `topology`, the cluster's replicas
    ("actions-1", "rasa-1", ...: each on its own port and log file, on 127.0.0.1 only, behind
    nginx) and the web app. nginx itself is `cluster_nginx_service`."""
    env = base_env(settings)
    if topology is None:
        return [action_service(settings, env), rasa_service(settings), web_service(settings, env)]
    env.update(cluster_env(settings))
    bot_files = cluster.cluster_dir(settings) / "bot"
    return [
        *(action_service(settings, env, f"actions-{i}", port, host=cluster.LOOPBACK)
          for i, port in enumerate(topology.action_ports, 1)),
        *(rasa_service(settings, f"rasa-{i}", port, bot_files=bot_files, interface=cluster.LOOPBACK)
          for i, port in enumerate(topology.rasa_ports, 1)),
        web_service(settings, env),
    ]  # fmt: skip


def cluster_env(settings: Settings) -> dict[str, str]:
    """What the cluster's processes get beyond the default profile's: every setting the
    cluster changed (daogou/cluster.py cluster_settings)."""
    return {
        "TRACKER_DB_URL": settings.tracker_db_url,
        "REDIS_URL": settings.redis_url or "",
        "DAOGOU_WEB_PORT": str(settings.web_port),
        "DAOGOU_RASA_PORT": str(settings.rasa_port),
        "DAOGOU_ACTION_PORT": str(settings.action_port),
        "DAOGOU_TRUSTED_PROXIES": ",".join(settings.trusted_proxies),
        "DAOGOU_PUBLIC_RASA_URL": settings.public_rasa_url or "",
    }


def cluster_nginx_service(files: cluster.NginxFiles, topology: Topology) -> Service:
    """nginx, healthy once the web app answers through its public listener."""
    return Service(
        "nginx", cluster.nginx_args(files),
        f"http://127.0.0.1:{topology.http_port}/health", dict(os.environ), topology.http_port,
    )  # fmt: skip


@dataclass(frozen=True)
class LogLimits:
    """Each child's log rotates at `max_bytes`, keeping `backups` older files (daogou/logs.py)."""

    max_bytes: int = 20 * 1024 * 1024
    backups: int = 5

    @classmethod
    def of(cls, settings: Settings) -> LogLimits:
        return cls(settings.log_max_bytes, settings.log_backups)


def start(service: Service, log_dir: Path, limits: LogLimits | None = None) -> subprocess.Popen:
    """The child with its output in `log_dir`: copied through a pipe into a rotating log for a
    long-lived service (`limits`), else appended to a plain file. Tests and benchmarks pass no
    limits: their copier thread would share the measuring process's interpreter."""
    path = log_dir / f"{service.name.replace(' ', '_')}.log"
    if limits is None:
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as log:
            return subprocess.Popen(
                service.args, cwd=REPO_ROOT, env=service.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
    with open_rotating_log(path, limits.max_bytes, limits.backups) as log:
        return subprocess.Popen(
            service.args, cwd=REPO_ROOT, env=service.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


@dataclass
class Child:
    service: Service
    process: subprocess.Popen
    started: float
    restarts: int = 0  # in a row: reset once it has run for STABLE_SECONDS
    restart_at: float | None = None  # when it stopped: when it is started again


def wait_healthy(service: Service, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _healthy(service, process):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{service.name} did not become healthy in {timeout:.0f}s; see var/logs/")


def _healthy(service: Service, process: subprocess.Popen) -> bool:
    """Whether `service` answers its health URL; raises if its process has exited."""
    if process.poll() is not None:
        raise RuntimeError(f"{service.name} exited with code {process.returncode}; see var/logs/")
    try:
        return httpx.get(service.health_url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_all_healthy(children: list[Child], timeout: float) -> None:
    """Waits until every child answers its health URL, all within one `timeout`. The children
    are looked at in turn, so one that exits while another is still loading (Rasa's model takes
    ~35 s) stops the start at once rather than after the slow one."""
    started = time.monotonic()
    waiting = list(children)
    while waiting:
        for child in list(waiting):
            if _healthy(child.service, child.process):
                waiting.remove(child)
                _say(f"{child.service.name} is up after {time.monotonic() - started:.1f} s")
        if waiting and time.monotonic() - started > timeout:
            names = ", ".join(child.service.name for child in waiting)
            raise TimeoutError(f"{names} did not become healthy in {timeout:.0f}s; see var/logs/")
        if waiting:
            time.sleep(0.5)


def stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C (systemd, docker stop, kill)


def run_all(settings: Settings, profile: str = "default") -> None:
    """The default profile: the three services started together (none needs another at its
    start: the action server and the web app each load their own index, Rasa calls the actions
    only for a shopper's turn, and the web app reads Rasa's tracker store only when it exists),
    so a warm start waits for the slowest, not for the sum. Listed with their pids in
    var/run/services.json (`daogou status`); one that stops stops them all."""
    if profile == "cluster":
        run_cluster(settings)
        return
    busy = [
        p for p in (settings.action_port, settings.rasa_port, settings.web_port) if port_in_use(p)
    ]
    if busy:
        raise SystemExit(
            f"port {', '.join(map(str, busy))} already in use: is Daogou already running? "
            "Stop it, or choose other ports (DAOGOU_WEB_PORT, DAOGOU_RASA_PORT, DAOGOU_ACTION_PORT)."
        )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    write_endpoints(settings)
    write_credentials(settings)
    children: list[Child] = []
    log_dir = settings.var_dir / "logs"
    services_file = state_file(settings, "default")
    try:
        for service in service_specs(settings):
            print(f"starting {service.name} ...", file=sys.stderr, flush=True)
            process = start(service, log_dir, LogLimits.of(settings))
            children.append(Child(service, process, time.monotonic()))
        write_children(services_file, children, log_dir, "default")
        wait_all_healthy(children, timeout=300)
        print(
            f"\nDaogou is running:\n"
            f"  storefront + chat   http://localhost:{settings.web_port}/\n"
            f"  JSON API            http://localhost:{settings.web_port}/api/products\n"
            f"  Rasa (REST/Socket)  http://localhost:{settings.rasa_port}/webhooks/rest/webhook\n"
            f"  action server       http://localhost:{settings.action_port}/health\n"
            f"  logs                {log_dir}\n"
            f"  processes           .venv/bin/daogou status\n"
            f"Create a console account with:\n"
            f"  .venv/bin/daogou users create --role admin --username admin --password '<password>'\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        while all(child.process.poll() is None for child in children):
            time.sleep(1)
        print("a service stopped; stopping the others (see var/logs/)", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping ...", file=sys.stderr)
    finally:
        stop_all([child.process for child in children])
        services_file.unlink(missing_ok=True)


def write_children(path: Path, children: list[Child], log_dir: Path, profile: str) -> None:
    """The state file of both profiles (daogou/process_health.py reads it): each child's name,
    pid, port, log, start time and restarts."""
    now_wall, now = time.time(), time.monotonic()
    write_state(
        path,
        [
            ServiceEntry(
                name=child.service.name,
                pid=child.process.pid,
                port=child.service.port,
                started_at=now_wall - (now - child.started),  # `started` is monotonic
                restarts=child.restarts,
                log=str(log_dir / f"{child.service.name.replace(' ', '_')}.log"),
            )
            for child in children
        ],
        profile,
    )


# -- the cluster profile ---------------------------------------------------------------------------
class Supervisor:
    """The cluster's children: started and waited for, each restarted with a growing delay when
    it stops while the others keep serving (nginx sends its traffic to the other replicas
    meanwhile), and listed with their pids in var/cluster/services.json."""

    RESTART_DELAY = 5.0
    MAX_DELAY = 300.0
    STABLE_SECONDS = 600.0

    def __init__(self, log_dir: Path, state_file: Path, limits: LogLimits = LogLimits()) -> None:
        self.log_dir = log_dir
        self.state_file = state_file
        self.limits = limits
        self.children: list[Child] = []

    def start_all(self, services: list[Service], timeout: float) -> None:
        """Starts `services` together, then waits until each answers its health URL."""
        for service in services:
            _say(f"starting {service.name} ...")
            process = start(service, self.log_dir, self.limits)
            self.children.append(Child(service, process, time.monotonic()))
        self._write_state()
        deadline = time.monotonic() + timeout
        for child in self.children[-len(services) :]:
            wait_healthy(child.service, child.process, max(1.0, deadline - time.monotonic()))
            _say(f"{child.service.name} is up (pid {child.process.pid})")

    def check(self) -> None:
        """One look at every child: note the ones that stopped, restart the ones due."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is None and child.process.poll() is not None:
                if now - child.started >= self.STABLE_SECONDS:
                    child.restarts = 0
                delay = min(self.RESTART_DELAY * 2**child.restarts, self.MAX_DELAY)
                child.restart_at = now + delay
                _say(
                    f"{child.service.name} stopped (exit code {child.process.returncode}); the "
                    f"others keep serving; restarting it in {delay:.0f} s "
                    f"(log: {self.log_dir})"
                )
            elif child.restart_at is not None and now >= child.restart_at:
                child.process = start(child.service, self.log_dir, self.limits)
                child.started, child.restart_at = now, None
                child.restarts += 1
                _say(f"restarted {child.service.name} (pid {child.process.pid})")
                self._write_state()

    def watch(self) -> None:
        while True:
            self.check()
            time.sleep(1)

    def stop(self) -> None:
        stop_all([child.process for child in self.children])
        self.state_file.unlink(missing_ok=True)

    def _write_state(self) -> None:
        write_children(self.state_file, self.children, self.log_dir, "cluster")


def write_cluster_bot_files(settings: Settings, topology: Topology) -> Path:
    """var/cluster/bot/: the replicas' endpoints (PostgreSQL tracker store, Redis lock store,
    the actions' load balancer) and credentials (Socket.IO rooms in Redis; the pages of the web
    app and of nginx may connect)."""
    folder = cluster.cluster_dir(settings) / "bot"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "endpoints.yml").write_text(
        yaml.safe_dump(botprep.endpoints(settings), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    socketio_options = {
        "redis_url": settings.redis_url,
        "cors_allowed_origins": cluster.public_origins(topology),
    }
    write_credentials(settings, folder / "credentials.yml", socketio_options)
    return folder


def run_cluster(settings: Settings) -> None:
    """`daogou run --profile cluster` (daogou/cluster.py): until Ctrl-C or SIGTERM."""
    topology = Topology.from_settings(settings)
    busy = [port for port in topology.all_ports() if port_in_use(port)]
    if busy:
        raise SystemExit(
            f"port {', '.join(map(str, busy))} already in use: is Daogou already running? Stop "
            "it, or choose other ports (DAOGOU_CLUSTER_HTTP_PORT, DAOGOU_CLUSTER_HTTPS_PORT, "
            "DAOGOU_WEB_PORT, DAOGOU_RASA_PORT, DAOGOU_ACTION_PORT: replicas use the next ports)."
        )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    _say("preparing the cluster: databases, TLS certificate, nginx.conf ...")
    clustered, files = cluster.prepare(settings, topology)
    if not cluster.redis_answers(clustered.redis_url or ""):
        _say(
            f"Redis does not answer at {clustered.redis_url}: each Rasa replica uses its own "
            "lock until it does"
        )
    write_cluster_bot_files(clustered, topology)
    supervisor = Supervisor(
        cluster.log_dir(clustered),
        state_file(clustered, "cluster"),
        LogLimits.of(clustered),
    )
    try:
        supervisor.start_all(service_specs(clustered, topology), timeout=900)
        supervisor.start_all([cluster_nginx_service(files, topology)], timeout=60)
        print(cluster_banner(clustered, topology, files), flush=True)
        supervisor.watch()
    except KeyboardInterrupt:
        _say("stopping ...")
    finally:
        supervisor.stop()


def cluster_banner(settings: Settings, topology: Topology, files: cluster.NginxFiles) -> str:
    rasa = ", ".join(str(p) for p in topology.rasa_ports)
    actions = ", ".join(str(p) for p in topology.action_ports)
    return (
        f"\nThe Daogou cluster is running:\n"
        f"  storefront + chat   http://localhost:{topology.http_port}/  "
        f"https://localhost:{topology.https_port}/\n"
        f"  Rasa for tools      http://127.0.0.1:{topology.rasa_lb_port} (replicas on {rasa})\n"
        f"  action servers      http://127.0.0.1:{topology.action_lb_port} (replicas on {actions})\n"
        f"  web app (direct)    http://localhost:{topology.web_port}/\n"
        f"  TLS certificate     {files.cert}\n"
        f"  logs                {files.log_dir}\n"
        f"Press Ctrl-C to stop."
    )


# Ports for a run's own services: below Linux's ephemeral range (32768-60999), where a client
# connection or a socket in TIME_WAIT never holds one, and below the cluster harness's (21000 on).
# The kernel's own pick (bind to port 0) came from the ephemeral range: two benchmarks run one
# after the other found it taken by then ("address already in use"), and two picks in a row
# could be the same port.
_OWN_PORTS = range(12000, 20000)
_handed_out: set[int] = set()
_chance = random.SystemRandom()  # not the global generator, which tests and benchmarks seed


def free_port() -> int:
    """A port nothing is bound to or listens on, not handed out before by this process."""
    for _ in range(500):
        port = _chance.randrange(_OWN_PORTS.start, _OWN_PORTS.stop)
        if port in _handed_out or not _bindable(port) or port_in_use(port):
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {_OWN_PORTS.start} and {_OWN_PORTS.stop}")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))  # as Rasa binds: taken on any address fails
        except OSError:
            return False
    return True


def on_free_ports(settings: Settings) -> Settings:
    """`settings` with Rasa and the action server on ports nothing else holds."""
    rasa_port, action_port = free_port(), free_port()
    return dataclasses.replace(
        settings,
        rasa_port=rasa_port,
        action_port=action_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{action_port}/webhook",
    )


@contextmanager
def running_bot(settings: Settings, private: str | None = None) -> Iterator[Settings]:
    """Rasa and the action server on the ports of `settings`, for the length of the `with` block.

    `private`: a folder name under var/bench/ for this run's own endpoints file, tracker
    database and logs, leaving var/bot/ untouched. `make test` writes var/bot/endpoints.yml
    for its own ports just before starting its Rasa; a benchmark started meanwhile would
    otherwise overwrite it and point that Rasa at an action server the benchmark stops.
    Needs the trained model (which implies var/bot/ was prepared for it). The tests'
    conversations and the benchmarks both start the bot through here.
    """
    log_dir = settings.var_dir / "logs"
    endpoints_file = credentials_file = None
    if private:
        folder = settings.var_dir / "bench" / private
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("tracker.db*"):  # each run starts with no conversations
            old.unlink()
        settings = dataclasses.replace(
            settings, tracker_db_url=f"sqlite:///{folder / 'tracker.db'}"
        )
        endpoints_file = folder / "endpoints.yml"
        endpoints_file.write_text(
            yaml.safe_dump(botprep.endpoints(settings), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        credentials_file = write_credentials(settings, folder / "credentials.yml")
        log_dir = folder / "logs"
    else:
        write_endpoints(settings)  # this run's action-server port
        write_credentials(settings)
    processes = []
    try:
        for service in service_specs(settings):
            if service.name == "web app":
                continue
            if endpoints_file and "--endpoints" in service.args:
                service.args[service.args.index("--endpoints") + 1] = str(endpoints_file)
            if credentials_file and "--credentials" in service.args:
                service.args[service.args.index("--credentials") + 1] = str(credentials_file)
            process = start(service, log_dir)  # short-lived: a plain file
            processes.append(process)
            wait_healthy(service, process, timeout=300)
        yield settings
    finally:
        stop_all(processes)

"""Starts the three services as child processes and stops them all on Ctrl-C."""

from __future__ import annotations

import dataclasses
import os
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

from daogou.nlu import botprep
from daogou.nlu.botprep import RASA_PYTHON, model_path, rasa_env, write_endpoints
from daogou.settings import REPO_ROOT, Settings

VENV_BIN = REPO_ROOT / ".venv" / "bin"


@dataclass
class Service:
    name: str
    args: list[str]
    health_url: str
    env: dict[str, str]


TF_SERVING_THREADS = {
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
}


def credentials(settings: Settings) -> dict:
    """bot/credentials.yml with the key that Rasa's channels verify shopper tokens with (setting
    `shopper_key`, web/identity.py) given to every channel as `jwt_key`, and the Rasa token as
    the Socket.IO channel's `push_token` (the web app's staff messages, web/handoff_loop.py),
    and to every channel the chat guard's limits, proxies and word list (bot/channels/guard.py;
    the Rasa token as its `proxy_token`, which the web app's /api/chat shows)."""
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
    return rendered


def write_credentials(settings: Settings, path: Path | None = None) -> Path:
    """The rendered credentials (default var/bot/credentials.yml), written at every start like
    the endpoints. They hold the key, so the file is the owner's only, and it is replaced
    whole: a benchmark starting beside the tests never lets Rasa read half of it."""
    path = path or settings.var_dir / "bot" / "credentials.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(credentials(settings), allow_unicode=True, sort_keys=False)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)
    os.replace(temporary, path)
    return path


def service_specs(settings: Settings) -> list[Service]:
    base_env = dict(os.environ)
    base_env["PYTHONPATH"] = str(REPO_ROOT)
    base_env.update(
        DAOGOU_VAR=str(settings.var_dir),
        DATABASE_URL=settings.database_url,
        RASA_URL=settings.rasa_url,
        ACTION_SERVER_URL=settings.action_server_url,
    )
    return [
        Service(
            "action server",
            [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(settings.action_port)],
            f"http://127.0.0.1:{settings.action_port}/health",
            # One thread for the few queries it embeds itself: the other core is Rasa's.
            {"DAOGOU_QUERY_THREADS": "1", **base_env},
        ),
        Service(
            "rasa",
            # bot.serve is the rasa CLI plus its latency fixes (GC freeze, schema cache,
            # NLU thread, warm-up): see its docstring.
            [str(RASA_PYTHON), "-m", "bot.serve", "run", "--model", str(model_path(settings)),
             "--endpoints", str(settings.var_dir / "bot" / "endpoints.yml"),
             "--credentials", str(settings.var_dir / "bot" / "credentials.yml"),
             "--port", str(settings.rasa_port), "--enable-api",
             f"--auth-token={settings.rasa_token}", "--cors", "*"],  # a token may start with "-"
            f"http://127.0.0.1:{settings.rasa_port}/status?token={settings.rasa_token}",
            # TensorFlow runs DIET and the selector one op after another on the NLU thread: its
            # thread pools handed each small op to a thread on the other core, which only waited
            # for it (10-shopper p50 63.5 -> 58.4 ms, four interleaved runs each; README).
            {**TF_SERVING_THREADS, **rasa_env()},
        ),
        Service(
            "web app",
            [str(VENV_BIN / "uvicorn"), "--factory", "web.app:app_factory",
             "--host", "0.0.0.0", "--port", str(settings.web_port)],
            f"http://127.0.0.1:{settings.web_port}/health",
            base_env,
        ),
    ]  # fmt: skip


def start(service: Service, log_dir: Path) -> subprocess.Popen:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{service.name.replace(' ', '_')}.log", "ab")  # noqa: SIM115 (lives with the child)
    return subprocess.Popen(
        service.args, cwd=REPO_ROOT, env=service.env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def wait_healthy(service: Service, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with code {process.returncode}; see var/logs/"
            )
        try:
            if httpx.get(service.health_url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{service.name} did not become healthy in {timeout:.0f}s; see var/logs/")


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


def run_all(settings: Settings) -> None:
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
    processes: list[subprocess.Popen] = []
    log_dir = settings.var_dir / "logs"
    try:
        for service in service_specs(settings):
            print(f"starting {service.name} ...", file=sys.stderr, flush=True)
            process = start(service, log_dir)
            processes.append(process)
            wait_healthy(service, process, timeout=300)
        print(
            f"\nDaogou is running:\n"
            f"  storefront + chat   http://localhost:{settings.web_port}/\n"
            f"  JSON API            http://localhost:{settings.web_port}/api/products\n"
            f"  Rasa (REST/Socket)  http://localhost:{settings.rasa_port}/webhooks/rest/webhook\n"
            f"  action server       http://localhost:{settings.action_port}/health\n"
            f"  logs                {log_dir}\n"
            f"Create a console account with:\n"
            f"  .venv/bin/daogou users create --role admin --username admin --password '<password>'\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        print("a service stopped; stopping the others (see var/logs/)", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping ...", file=sys.stderr)
    finally:
        stop_all(processes)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
            process = start(service, log_dir)
            processes.append(process)
            wait_healthy(service, process, timeout=300)
        yield settings
    finally:
        stop_all(processes)

"""How each service the launcher started is doing, read from the operating system.

The launcher lists its children in a state file (`write_state`): var/run/services.json for the
default profile, var/cluster/services.json for the cluster's Supervisor. `service_health` reads
that list and asks psutil about each pid: alive, resident memory, CPU seconds, threads, uptime.
`daogou status` (daogou/status_cli.py) prints it and the web app's /metrics exposes it
(daogou/metrics.py `ServiceHealthCollector`), so Rasa's process is watched through the launcher
although it runs another Python.

A pid that is gone, a zombie, or a pid the kernel has since given to another process is
reported as down, never raised: a status page must work best exactly when things broke.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from daogou.cluster import cluster_dir
from daogou.settings import Settings

log = logging.getLogger(__name__)
PROFILES = ("default", "cluster")
# psutil dates a process from the boot time, which Linux gives in whole seconds: a process the
# launcher started may look up to a second older or younger than the launcher's own clock says.
# A process that started later than this after the launcher noted its start is another process
# that got a reused pid.
START_TOLERANCE_SECONDS = 2.0


@dataclass(frozen=True)
class ServiceEntry:
    """One child as the launcher wrote it down."""

    name: str
    pid: int
    port: int | None
    started_at: float  # Unix time of the (last) start
    restarts: int = 0
    log: str | None = None


@dataclass(frozen=True)
class ServiceHealth:
    """One service's readings; the numbers are None when it is down."""

    profile: str
    name: str
    pid: int
    port: int | None
    up: bool
    rss_bytes: int | None
    cpu_seconds: float | None  # user + system of the process itself, its children excluded
    threads: int | None
    uptime_seconds: float | None
    restarts: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def state_file(settings: Settings, profile: str) -> Path:
    """Where the launcher of `profile` lists its children."""
    if profile == "cluster":
        return cluster_dir(settings) / "services.json"
    return settings.var_dir / "run" / "services.json"


def state_files(settings: Settings) -> dict[str, Path]:
    return {profile: state_file(settings, profile) for profile in PROFILES}


def write_state(path: Path, entries: Iterable[ServiceEntry], profile: str) -> None:
    """The launcher's list of its children, replaced whole so that a reader never sees half."""
    state = {
        "profile": profile,
        "launcher_pid": os.getpid(),
        "services": [asdict(entry) for entry in entries],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
    temporary.replace(path)


def read_state(path: Path) -> tuple[int | None, list[ServiceEntry]]:
    """The launcher's pid and its children; (None, []) when the file is missing or unreadable."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        entries = [_entry(item) for item in state["services"]]
    except FileNotFoundError:
        return None, []
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("cannot read the service list %s: %s", path, error)
        return None, []
    launcher_pid = state.get("launcher_pid")
    return (launcher_pid if isinstance(launcher_pid, int) else None), entries


def _entry(item: dict) -> ServiceEntry:
    return ServiceEntry(
        name=str(item["name"]),
        pid=int(item["pid"]),
        port=int(item["port"]) if item.get("port") is not None else None,
        # A file from before start times were written: the pid check below then trusts the pid.
        started_at=float(item.get("started_at") or 0.0),
        restarts=int(item.get("restarts") or 0),
        log=item.get("log"),
    )


def probe(entry: ServiceEntry, profile: str = "default") -> ServiceHealth:
    """`entry`'s process as the operating system sees it now."""
    down = ServiceHealth(
        profile, entry.name, entry.pid, entry.port, False, None, None, None, None, entry.restarts
    )
    try:
        process = psutil.Process(entry.pid)
        with process.oneshot():
            if process.status() == psutil.STATUS_ZOMBIE:  # exited, not yet reaped
                return down
            created = process.create_time()
            if entry.started_at and created > entry.started_at + START_TOLERANCE_SECONDS:
                return down  # the pid now belongs to a process started after ours
            cpu = process.cpu_times()
            return ServiceHealth(
                profile=profile,
                name=entry.name,
                pid=entry.pid,
                port=entry.port,
                up=True,
                rss_bytes=process.memory_info().rss,
                cpu_seconds=round(cpu.user + cpu.system, 2),  # clock ticks: 10 ms
                threads=process.num_threads(),
                uptime_seconds=round(max(0.0, time.time() - created), 1),
                restarts=entry.restarts,
            )
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return down
    except psutil.AccessDenied:  # another user's process: alive, but its numbers are not ours
        alive = psutil.pid_exists(entry.pid)
        return ServiceHealth(
            profile, entry.name, entry.pid, entry.port, alive, None, None, None, None,
            entry.restarts,
        )  # fmt: skip


def service_health(files: dict[str, Path]) -> list[ServiceHealth]:
    """Every listed service of every profile in `files` (profile -> state file)."""
    return [
        probe(entry, profile) for profile, path in files.items() for entry in read_state(path)[1]
    ]


def launcher_alive(path: Path) -> bool | None:
    """Whether the launcher that wrote `path` still runs (None: no file, or no pid in it). A
    launcher killed with SIGKILL leaves its file and its children behind: they are no longer
    watched or restarted."""
    launcher_pid, _ = read_state(path)
    if launcher_pid is None:
        return None
    try:
        return psutil.Process(launcher_pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False

"""Runtime settings, read from environment variables with embedded defaults.

Every process (web app, action server, CLI) builds its settings the same way, so
pointing them all at PostgreSQL is one `DATABASE_URL`. This is the only module that reads
the environment; everything below `daogou/` gets what it needs passed in
(`daogou/container.py`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    tracker_db_url: str
    redis_url: str | None
    rasa_url: str
    action_server_url: str
    web_port: int
    rasa_port: int
    action_port: int
    # Threads for embedding a query: 2 answers fastest when the process has the machine to
    # itself; the launcher gives the action server 1, since Rasa uses the other core.
    query_threads: int = 2

    @property
    def models_dir(self) -> Path:
        """Model caches (the converted embedding model)."""
        return self.var_dir / "models"

    @property
    def rasa_token(self) -> str:
        return rasa_token(self.var_dir)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings() -> Settings:
    var_dir = Path(os.environ.get("DAOGOU_VAR", REPO_ROOT / "var")).resolve()
    rasa_port = int(os.environ.get("DAOGOU_RASA_PORT", "5005"))
    action_port = int(os.environ.get("DAOGOU_ACTION_PORT", "5055"))
    return Settings(
        var_dir=var_dir,
        database_url=os.environ.get("DATABASE_URL") or _sqlite_url(var_dir / "daogou.db"),
        tracker_db_url=os.environ.get("TRACKER_DB_URL") or _sqlite_url(var_dir / "tracker.db"),
        redis_url=os.environ.get("REDIS_URL") or None,
        rasa_url=os.environ.get("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        action_server_url=os.environ.get(
            "ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook"
        ),
        web_port=int(os.environ.get("DAOGOU_WEB_PORT", "8000")),
        rasa_port=rasa_port,
        action_port=action_port,
        query_threads=int(os.environ.get("DAOGOU_QUERY_THREADS") or 2),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def rasa_token(var_dir: Path) -> str:
    """`RASA_TOKEN`, or a random token generated once into var/rasa_token."""
    token = os.environ.get("RASA_TOKEN")
    if token:
        return token
    path = var_dir / "rasa_token"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()

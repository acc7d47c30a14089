"""Tests run by the Rasa server's Python (3.10, `.venv-rasa`): `make test` runs them as
`python -m pytest --confcutdir=tests/rasa tests/rasa`, so tests/conftest.py (which imports the
3.11-only packages) is never loaded here. Nothing here may import daogou, knowledge_graph or
the other packages of the main environment."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

REPO_ROOT = Path(__file__).resolve().parents[2]
# As daogou.settings and daogou.nlu.botprep.model_path find it: $DAOGOU_VAR (default var/),
# models/daogou.tar.gz. `make test` sets DAOGOU_VAR=var/test and trains there first.
VAR_DIR = Path(os.environ.get("DAOGOU_VAR", REPO_ROOT / "var")).resolve()
MODEL_PATH = VAR_DIR / "models" / "daogou.tar.gz"


@pytest.fixture(scope="session", autouse=True)
def quiet_rasa_logs() -> None:
    import rasa.utils.log_utils as log_utils

    log_utils.configure_structlog(logging.WARNING)


@pytest.fixture(autouse=True)
def unpatched_rasa(monkeypatch) -> Iterator[None]:
    """Every test starts and ends with Rasa as Rasa made it. Depends on monkeypatch so that a
    test's own monkeypatching is undone after the patches are reverted, not before."""
    from bot import patches

    patches.revert_all()
    yield
    patches.revert_all()


@pytest.fixture(scope="session")
def model_path() -> Path:
    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}: run `make test` (it trains first)")
    return MODEL_PATH


# -- PostgreSQL (as tests/unit/test_store_postgres.py, with Rasa's psycopg2 driver) ----------------
def _admin_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(
        os.environ.get("DAOGOU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _answers(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _start_postgres() -> None:
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.exists():
        return
    for version in os.listdir(clusters):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )
    time.sleep(2)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, text

    admin_url = _admin_url()
    if not _answers(admin_url):
        _start_postgres()
    if not _answers(admin_url):
        pytest.skip("no PostgreSQL server answers at " + admin_url)
    name = f"daogou_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()

"""Run-once locks for jobs that several processes may start at the same time (the daily
retention run, the recommender's gated retrain): a file lock on one machine, a PostgreSQL
advisory lock across machines. Both are try-locks: the caller learns whether it holds the lock
and skips the run if not, rather than queueing a second run behind the first."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


@contextmanager
def file_lock(path: Path) -> Iterator[bool]:
    """Whether this process holds an exclusive lock on `path` (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def advisory_lock(url: str, key: int) -> Iterator[bool]:
    """Whether this process holds PostgreSQL's session advisory lock `key` on `url`."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)  # closing it releases the lock
    try:
        with engine.connect() as conn:
            held = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar())
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    conn.commit()
    finally:
        engine.dispose()

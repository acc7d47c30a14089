"""Rotating log files for the services' output (var/logs/<service>.log, .1, .2 ...).

The launcher hands each child a file descriptor for stdout and stderr, and a child writing to
a plain file can never be rotated under it. So the child gets the write end of a pipe instead,
and a thread of the launcher copies what arrives, line by line, into the standard library's
``RotatingFileHandler``: at most ``max_bytes`` a file, ``backups`` older files kept. A child
writing faster than the copy waits on the full pipe; nothing is dropped.

Each line goes to the handler decoded as Latin-1, which maps every byte to one character and
back: the child's bytes (UTF-8 Chinese, or anything else) reach the file unchanged, and the
handler's size check, which counts characters, counts bytes.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

# A line longer than this (a progress bar redrawn with \r, a huge dump) is copied in pieces of
# this size, so memory stays bounded and a piece always fits into a fresh file.
MAX_PIECE = 64 * 1024
# At the launcher's exit, how long the copies may take to write what the children left in
# their pipes (the children have been stopped by then).
DRAIN_SECONDS = 3.0
_copies: weakref.WeakSet[RotatingLog] = weakref.WeakSet()


class RotatingLog:
    """A pipe whose write end (``fileno()``) a child gets as stdout/stderr, and the thread that
    copies it into rotating files.

    Used as a context manager around ``subprocess.Popen``: leaving the block closes this
    process's copy of the write end, so the copy ends when the child (and whatever inherited
    its output) is gone.
    """

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.piece = max(1, min(MAX_PIECE, max_bytes // 2)) if max_bytes > 0 else MAX_PIECE
        self.handler = RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="latin-1"
        )
        self.handler.terminator = ""  # each line keeps its own newline (the last may have none)
        read_end, self._write_end = os.pipe()
        self._reader = os.fdopen(read_end, "rb")
        self._thread = threading.Thread(
            target=self._copy, name=f"log-copy {path.name}", daemon=True
        )
        self._thread.start()
        _copies.add(self)

    def fileno(self) -> int:
        """The write end, for ``Popen(stdout=...)``."""
        if self._write_end < 0:
            raise ValueError("the write end is closed: the child was started already")
        return self._write_end

    def close_write_end(self) -> None:
        """This process's copy of the write end; the child keeps its own."""
        if self._write_end >= 0:
            os.close(self._write_end)
            self._write_end = -1

    def join(self, timeout: float | None = None) -> bool:
        """Waits until everything written is in the files; True when the copy has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> RotatingLog:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close_write_end()

    def _copy(self) -> None:
        try:
            with self._reader:
                while piece := self._reader.readline(self.piece):
                    self.handler.handle(_record(piece.decode("latin-1")))
        finally:
            self.handler.close()


def open_rotating_log(path: Path, max_bytes: int, backups: int) -> RotatingLog:
    """A rotating log at `path` for a child's output::

    with open_rotating_log(log_dir / "rasa.log", settings.log_max_bytes,
                           settings.log_backups) as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    """
    return RotatingLog(path, max_bytes, backups)


def _record(text: str) -> logging.LogRecord:
    # A LogRecord built directly, not through the record factory: the copy writes the child's
    # text as it is (the children mask their own logs) and never formats it with arguments.
    return logging.LogRecord("daogou.child", logging.INFO, "", 0, text, None, None)


@atexit.register
def _drain() -> None:
    """At the launcher's exit, lets the copies write the children's last lines."""
    for copy in list(_copies):
        copy.join(DRAIN_SECONDS)

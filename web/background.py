"""A daemon thread that a dataclass runs and stops: the handoff loop and the retention loop."""

from __future__ import annotations

import threading


class BackgroundThread:
    """Gives a class with ``_stop: threading.Event``, ``_thread`` and ``_run()`` (its loop,
    which returns once ``_stop`` is set) ``start`` and ``stop``."""

    thread_name = "background"
    _stop: threading.Event
    _thread: threading.Thread | None

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

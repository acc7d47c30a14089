"""Keeps one process's graph and linker current with the store, without a restart.

Readers call `current()`; at most every `check_interval` seconds it reads the catalog
version row (one cheap query) and rebuilds when a merchant changed something.
Listeners (the search index) are told about each rebuild.

When the database cannot be read, readers keep the last view loaded (a catalog a few seconds
or minutes old answers product questions better than an error), the outage is logged once and
`reachable` says so (`/health` reports it); the next successful check serves the current
catalog again, without a restart. Only a process that never loaded a view has nothing to serve.
While one reader checks, the others are served the view they have instead of waiting for it:
an unreachable remote database can take seconds to refuse.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.exc import SQLAlchemyError

from cn_text.prices import NameWords
from knowledge_graph.export import price_names
from knowledge_graph.graph import ProductGraph
from knowledge_graph.linking import EntityLinker
from knowledge_graph.store import CatalogSnapshot, CatalogStore

log = logging.getLogger(__name__)
# What an unreadable database raises (SQLite's file gone or locked, PostgreSQL down).
DATABASE_ERRORS = (SQLAlchemyError, OSError)


@dataclass(frozen=True)
class CatalogView:
    graph: ProductGraph
    linker: EntityLinker

    @property
    def version(self) -> int:
        return self.graph.version

    @cached_property
    def price_names(self) -> NameWords:
        """Brand and model-line names, after which a number is a model, not a price
        (「荣耀400」): the same names the NLU's price extractor gets from the export, but
        current with the catalog, without a restart."""
        return NameWords.from_lexicon(price_names(self.graph))


class CatalogService:
    def __init__(self, store: CatalogStore, check_interval: float = 1.0) -> None:
        self.store = store
        self.check_interval = check_interval
        self._view: CatalogView | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[CatalogView, CatalogView | None], None]] = []
        self._outage: str | None = None  # the error of the failing checks, while they fail

    def on_reload(self, listener: Callable[[CatalogView, CatalogView | None], None]) -> None:
        self._listeners.append(listener)

    @property
    def reachable(self) -> bool:
        """Whether the latest version check read the database."""
        return self._outage is None

    def current(self) -> CatalogView:
        view = self._view
        if view is not None and not self._due():
            return view
        if view is None:
            self._lock.acquire()
        elif not self._lock.acquire(blocking=False):
            return view  # another reader is checking
        try:
            if self._view is not None and not self._due():
                return self._view  # checked while this reader waited
            return self._check()
        finally:
            self._lock.release()

    def refresh(self) -> CatalogView:
        """Forces a version check now (after a write in this process), waiting for one that is
        under way."""
        with self._lock:
            return self._check()

    def _due(self) -> bool:
        return time.monotonic() - self._checked_at >= self.check_interval

    def _check(self) -> CatalogView:
        try:
            snapshot = self._changed_snapshot()
        except DATABASE_ERRORS as error:
            if self._view is None:
                raise
            self._went_unreachable(error)
        else:
            self._came_back()
            if snapshot is not None:
                self._rebuild(snapshot)
        self._checked_at = time.monotonic()
        assert self._view is not None
        return self._view

    def _changed_snapshot(self) -> CatalogSnapshot | None:
        """The catalog when its version moved since the view (or there is no view), else None."""
        version = self.store.version()
        if self._view is not None and version == self._view.version:
            return None
        return self.store.snapshot()

    def _went_unreachable(self, error: Exception) -> None:
        if self._outage is None:
            assert self._view is not None
            log.warning(
                "catalog database unreachable (%s: %s): serving the catalog of version %d "
                "until it answers again",
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
                self._view.version,
            )
        self._outage = type(error).__name__

    def _came_back(self) -> None:
        if self._outage is not None:
            log.warning("catalog database reachable again")
            self._outage = None

    def _rebuild(self, snapshot: CatalogSnapshot) -> None:
        previous = self._view
        graph = ProductGraph(snapshot)
        view = CatalogView(graph=graph, linker=EntityLinker(graph))
        self._view = view
        for listener in self._listeners:
            listener(view, previous)

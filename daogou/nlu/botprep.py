"""Prepares and trains the Rasa project: graph exports, generated examples, endpoints, training."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from cn_text import lexicon
from daogou.nlu.generate import generate
from daogou.settings import REPO_ROOT, Settings
from knowledge_graph.export import write_nlu_exports
from knowledge_graph.graph import ProductGraph
from knowledge_graph.store import CatalogStore

BOT = REPO_ROOT / "bot"
RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
MODEL_NAME = "daogou"
ANNOTATIONS_FILE = "console_annotations.yml"  # the console's export, unless settings say where
# Rasa's SQL store, with live conversations kept in memory (bot/tracker_store.py).
TRACKER_STORE = "bot.tracker_store.CachedSQLTrackerStore"
# Redis shared by the replicas, an in-process lock while it is down (bot/lock_store.py).
LOCK_STORE = "bot.lock_store.FallbackLockStore"


def bot_dir(settings: Settings) -> Path:
    return settings.var_dir / "bot"


def model_path(settings: Settings) -> Path:
    return settings.var_dir / "models" / f"{MODEL_NAME}.tar.gz"


def rasa_env() -> dict[str, str]:
    """Rasa runs from the repo root with it on PYTHONPATH, so bot.components.* import."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def endpoints(settings: Settings) -> dict:
    url = make_url(settings.tracker_db_url)
    tracker: dict = {
        "type": TRACKER_STORE,
        "dialect": url.drivername.split("+")[0],
        "db": url.database,
    }
    if url.host:  # Rasa passes the endpoint's `url` as the store's host
        tracker.update(url=url.host, port=url.port, username=url.username, password=url.password)
    config: dict = {
        # `timeout`: read by bot/patches/action_timeout.py (Rasa itself ignores the key)
        "action_endpoint": {
            "url": settings.action_server_url,
            "timeout": settings.action_timeout_seconds,
        },
        "tracker_store": tracker,
    }
    if settings.redis_url:
        config["lock_store"] = lock_store(settings.redis_url)
    return config


def lock_store(redis_url: str) -> dict:
    """Rasa's Redis lock store, with this replica's own lock while Redis is unreachable
    (bot/lock_store.py: Rasa's own `type: redis` fails every turn then)."""
    redis = make_url(redis_url)
    config: dict = {
        "type": LOCK_STORE,
        "url": redis.host or "127.0.0.1",
        "port": redis.port or 6379,
        "db": int(redis.database or 0),
        "password": redis.password,
    }
    if redis.username:
        config["username"] = redis.username
    return config


HELD_OUT_EVERY = 5  # one hand-written example in five is kept out of training when holding out


def holding_out() -> bool:
    """`make test` trains on 80% of the hand-written examples and tests NLU on the rest."""
    return os.environ.get("DAOGOU_NLU_HOLDOUT") == "1"


def _held_out(text: str) -> bool:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % HELD_OUT_EVERY == 0


def split_handwritten(nlu_dir: Path, out: Path) -> tuple[int, int]:
    """Writes data/handwritten_train.yml and heldout/test_nlu.yml; returns (train, test) counts."""
    train_blocks, test_blocks = [], []
    for path in sorted(nlu_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []):
            if "intent" not in block:
                train_blocks.append(block)
                continue
            lines = [line for line in (block.get("examples") or "").splitlines() if line.strip()]
            test = [line for line in lines if _held_out(line.strip())]
            train = [line for line in lines if not _held_out(line.strip())]
            train_blocks.append({"intent": block["intent"], "examples": "\n".join(train) + "\n"})
            if test:
                test_blocks.append({"intent": block["intent"], "examples": "\n".join(test) + "\n"})
    dump = {"allow_unicode": True, "sort_keys": False, "width": 1000}
    (out / "data" / "handwritten_train.yml").write_text(
        yaml.safe_dump({"version": "3.1", "nlu": train_blocks}, **dump), encoding="utf-8"
    )
    (out / "heldout").mkdir(parents=True, exist_ok=True)
    (out / "heldout" / "test_nlu.yml").write_text(
        yaml.safe_dump({"version": "3.1", "nlu": test_blocks}, **dump), encoding="utf-8"
    )
    count = lambda blocks: sum(len(b["examples"].splitlines()) for b in blocks if "intent" in b)  # noqa: E731
    return count(train_blocks), count(test_blocks)


def training_data_paths(settings: Settings) -> list[Path]:
    """Hand-written NLU in full, or only its training part when holding out; plus the rest."""
    out = bot_dir(settings)
    if holding_out():
        core = [p for p in sorted((BOT / "data").glob("*.yml"))]
        return [*core, out / "data"]
    return [BOT / "data", out / "data"]


def prepare(settings: Settings, store: CatalogStore) -> Path:
    """Writes var/bot/ (config, endpoints, jieba dictionary, lookups, generated examples)."""
    out = bot_dir(settings)
    graph = ProductGraph(store.snapshot())
    dictionary_hash = write_nlu_exports(graph, out)
    (out / "data" / "generated_nlu.yml").write_text(
        generate(graph, BOT / "data" / "nlu"), encoding="utf-8"
    )
    template = (BOT / "config.yml").read_text(encoding="utf-8")
    config = (
        template.replace("{dictionary_path}", str(out / "jieba"))
        .replace("{dictionary_hash}", dictionary_hash)
        .replace("{names_path}", str(out / lexicon.DIRECTORY / lexicon.NAMES))
        .replace("{query_cache_path}", str(query_cache_path(settings)))
    )
    (out / "config.yml").write_text(config, encoding="utf-8")
    handwritten = out / "data" / "handwritten_train.yml"
    if holding_out():
        split_handwritten(BOT / "data" / "nlu", out)
    elif handwritten.exists():
        handwritten.unlink()
    write_endpoints(settings)
    return out


def query_cache_path(settings: Settings) -> Path:
    """The training examples' E5 vectors (bot/components/e5_encoder.py, daogou/prewarm.py)."""
    return settings.var_dir / "cache" / "e5_training_queries.npz"


def write_endpoints(settings: Settings) -> Path:
    """var/bot/endpoints.yml from the current settings: `daogou run` writes it again at every
    start, so changed ports or database URLs reach Rasa without a new `bot prepare`."""
    path = bot_dir(settings) / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(endpoints(settings), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path


def training_inputs(settings: Settings) -> list[Path]:
    out = bot_dir(settings)
    files = [
        out / "config.yml",
        *sorted((out / "data").glob("*.yml")),
        REPO_ROOT / "requirements-rasa.txt",
    ]
    for folder in (BOT / "domain", BOT / "data", BOT / "components", REPO_ROOT / "cn_text"):
        files += sorted(
            p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
    return files


def annotations_path(settings: Settings) -> Path:
    """Where the console exports its annotations (an NLU file; by default among bot/data's)."""
    return settings.annotations_file or BOT / "data" / "nlu" / ANNOTATIONS_FILE


def fingerprint(settings: Settings, without: Path | None = None) -> str:
    """SHA-256 over the training inputs' names and bytes (leaving out `without`, if given)."""
    digest = hashlib.sha256()
    skipped = without.resolve() if without is not None else None
    for path in training_inputs(settings):
        if skipped is not None and path.resolve() == skipped:
            continue
        digest.update(
            str(
                path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name
            ).encode()
        )
        digest.update(path.read_bytes())
    return digest.hexdigest()


def train_args(settings: Settings) -> list[str]:
    out = bot_dir(settings)
    return [
        str(RASA_BIN), "train",
        "--config", str(out / "config.yml"),
        "--domain", str(BOT / "domain"),
        "--data", *map(str, training_data_paths(settings)),
        "--out", str(model_path(settings).parent),
        "--fixed-model-name", MODEL_NAME,
    ]  # fmt: skip


@dataclass(frozen=True)
class TrainingStamp:
    """Beside the model file (`<model>.fingerprint`): the inputs it answers for. `train()` keeps
    the model while they are unchanged.

    A model the gated retrain promoted (daogou/nlu/retrain.py) carries the report that accepted it
    and the fingerprint of its inputs without the console's annotations: until some other input
    changes, `train()` keeps it even when staff have exported annotations since, because
    annotations reach a gated model only through the gate (`daogou bot retrain`), never through
    an ungated training that would replace it without a word."""

    inputs: str  # fingerprint(settings) when the model was trained
    without_annotations: str | None = None  # fingerprint(settings, without=annotations_path(...))
    gated_report: str | None = None  # the stamp of the retrain report that promoted the model

    @property
    def gated(self) -> bool:
        return self.gated_report is not None


def stamp_path(model: Path) -> Path:
    return model.with_suffix(".fingerprint")


def current_stamp(settings: Settings) -> TrainingStamp:
    return TrainingStamp(
        inputs=fingerprint(settings),
        without_annotations=fingerprint(settings, without=annotations_path(settings)),
    )


def read_stamp(model: Path) -> TrainingStamp | None:
    """The model's stamp; a bare fingerprint is the stamp of an ungated `train()` (the format
    before the gate existed). None when there is none or it cannot be read."""
    try:
        text = stamp_path(model).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("{"):
        return TrainingStamp(inputs=text) if text else None
    try:
        return TrainingStamp(**json.loads(text))
    except (ValueError, TypeError):
        return None


def write_stamp(model: Path, stamp: TrainingStamp) -> Path:
    """Atomically, so that `train()` never reads half a stamp."""
    path = stamp_path(model)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(asdict(stamp)), encoding="utf-8")
    partial.replace(path)
    return path


def train(settings: Settings, force: bool = False) -> bool:
    """Trains unless the model answers for today's inputs; True if it trained. A model the gate
    promoted is kept also when only the console's annotations changed (`TrainingStamp`)."""
    model = model_path(settings)
    stamp = read_stamp(model) if model.exists() else None
    current = fingerprint(settings)  # taken before training: edits made meanwhile show next time
    if not force and stamp is not None:
        if stamp.inputs == current:
            return False
        if stamp.gated and stamp.without_annotations == fingerprint(
            settings, without=annotations_path(settings)
        ):
            print(
                f"{model} was promoted by the gated retrain ({stamp.gated_report}); only the "
                "console's annotations changed since: they reach it through `daogou bot "
                "retrain`, so it is kept",
                file=sys.stderr,
            )
            return False
    print(training_notice(settings), file=sys.stderr, flush=True)
    started = time.monotonic()
    subprocess.run(
        train_args(settings), cwd=REPO_ROOT, env=rasa_env(), check=True, stdout=sys.stderr
    )
    write_stamp(model, TrainingStamp(inputs=current))
    record_training_time(settings, time.monotonic() - started)
    return True


# A training's wall time on the reference machine (2 cores; docs/performance.md "First start"),
# the estimate until this machine has trained once.
REFERENCE_TRAINING_SECONDS, REFERENCE_CPUS = 300.0, 2


def _training_time_file(settings: Settings) -> Path:
    return model_path(settings).parent / "training_time.json"


def record_training_time(settings: Settings, seconds: float) -> None:
    _training_time_file(settings).write_text(
        json.dumps({"seconds": round(seconds, 1), "cpus": os.cpu_count() or 1})
    )


def training_estimate(settings: Settings) -> float:
    """Seconds the next training should take here: the last one's, else the reference machine's
    scaled by the number of cores (DIET's TensorFlow uses them all)."""
    cpus = os.cpu_count() or 1
    try:
        last = json.loads(_training_time_file(settings).read_text())
        return float(last["seconds"]) * int(last["cpus"]) / cpus
    except (OSError, ValueError, KeyError, TypeError):
        return REFERENCE_TRAINING_SECONDS * REFERENCE_CPUS / cpus


def training_notice(settings: Settings) -> str:
    minutes = max(1, round(training_estimate(settings) / 60))
    return (
        f"training the Rasa model: about {minutes} min on this machine (only when its inputs "
        "changed); Rasa shows each step and the epochs' remaining time below"
    )


def validate(settings: Settings) -> None:
    """`rasa data validate` on exactly the files training uses."""
    out = bot_dir(settings)
    args = [str(RASA_BIN), "data", "validate", "--config", str(out / "config.yml"),
            "--domain", str(BOT / "domain"), "--data", *map(str, training_data_paths(settings))]  # fmt: skip
    subprocess.run(args, cwd=REPO_ROOT, env=rasa_env(), check=True, stdout=sys.stderr)


def results_dir(settings: Settings) -> Path:
    return settings.var_dir / "results" / "nlu"


def evaluate_heldout(settings: Settings) -> Path:
    """`rasa test nlu` on the held-out hand-written examples; reports land in var/results/nlu."""
    out = results_dir(settings)
    args = [str(RASA_BIN), "test", "nlu", "--model", str(model_path(settings)),
            "--nlu", str(bot_dir(settings) / "heldout" / "test_nlu.yml"), "--out", str(out),
            "--no-plot", "--successes"]  # fmt: skip
    subprocess.run(args, cwd=REPO_ROOT, env=rasa_env(), check=True, stdout=sys.stderr)
    return out

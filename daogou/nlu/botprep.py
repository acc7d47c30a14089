"""Prepares and trains the Rasa project: graph exports, generated examples, endpoints, training."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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
    )
    (out / "config.yml").write_text(config, encoding="utf-8")
    handwritten = out / "data" / "handwritten_train.yml"
    if holding_out():
        split_handwritten(BOT / "data" / "nlu", out)
    elif handwritten.exists():
        handwritten.unlink()
    write_endpoints(settings)
    return out


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


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(settings):
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


def train(settings: Settings, force: bool = False) -> bool:
    """Trains unless the model was trained from exactly these inputs; True if it trained."""
    stamp = model_path(settings).with_suffix(".fingerprint")
    current = fingerprint(settings)
    if (
        not force
        and model_path(settings).exists()
        and stamp.exists()
        and stamp.read_text() == current
    ):
        return False
    subprocess.run(
        train_args(settings), cwd=REPO_ROOT, env=rasa_env(), check=True, stdout=sys.stderr
    )
    stamp.write_text(current)
    return True


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

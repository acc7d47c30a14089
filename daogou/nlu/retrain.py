"""The gated NLU retrain (issue #18): staff annotations reach the served model only through a gate.

:func:`retrain` (``daogou bot retrain``; tests/e2e/test_nlu_gate.py on a small fixture project):

1. **Merge the annotations.** The console's export (an NLU file) joins the training data, and
   wins over what it corrects: a training or held-out example with the same text (entity marks
   aside) is left out of this run's copies of those files.
2. **Train a candidate** into ``<work>/candidates/<stamp>.tar.gz``, with ``<stamp>.gate.json``
   beside it: the digests of the texts it was trained on, which later runs check their held-out
   examples against when it has become the serving model.
3. **Score both models on the held-out examples** with ``rasa test nlu``: intent macro-F1 from
   Rasa's intent report, entity F1 over the whole pipeline's exact spans
   (:mod:`daogou.nlu.evaluate`, as ``make test`` scores). The serving model is scored while the
   candidate trains, and its scores are kept by the digests of the model and the held-out file,
   so it is usually scored once.
4. **Run the conversation tests** (Rasa test stories, end to end: the NLU on their texts, then
   the dialogue) on the candidate, in the same ``rasa test`` process as its NLU test. The bot's
   are ``bot/tests/test_*.yml``, which ``make test`` also runs on its model
   (tests/rasa/test_conversation_stories.py).
5. **Decide.** Accepted when neither intent macro-F1 nor entity F1 is below the serving model's
   minus ``tolerance`` (0.0 by default) and every conversation test passes. Accepted: the
   candidate is loaded by ``PUT /model`` into each Rasa server given, one after another (each
   loads it beside the model it serves and switches without a pause: bot/patches/model_swap.py),
   and copied over the project's model file when it has one, so a restart serves it too, with
   botprep's training stamp of the inputs it was trained from, marked gated: ``daogou bot
   train`` (so ``make run``) keeps it, also after more annotations are exported (they go
   through the next gated retrain), until another input changes (botprep.TrainingStamp).
   Refused: the candidate stays in ``candidates/`` with its report; nothing served changes.

Every run writes ``<work>/retrain/<stamp>.json``: both models' figures, the decision and its
reasons (in Chinese, for the console), the paths, and how long each step took.

**A held-out split that neither model was trained on.** The candidate never is: it is trained
on the training split only. The serving model may have been: `make test` trains on botprep's
split (``DAOGOU_NLU_HOLDOUT=1``), but the production model is trained on every hand-written
example, the held-out ones included. Which it was is read from the candidate record beside the
model (a model this gate promoted), else from botprep's training stamp (the inputs it was
trained from, which contain the split's training file only when holding out). A serving model
that saw the held-out examples, or one whose training is unknown, is still gated, and the report
says that the comparison is not clean: its figures are then flattering to the serving model, so
the error can only be a refusal of a candidate that was in fact as good, never the acceptance
of a worse one. Refusing to gate instead would leave production without the loop at all.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from daogou.nlu.botprep import (
    BOT,
    RASA_BIN,
    TrainingStamp,
    annotations_path,
    bot_dir,
    current_stamp,
    fingerprint,
    model_path,
    rasa_env,
    read_stamp,
    split_handwritten,
    write_stamp,
)
from daogou.nlu.evaluate import entity_scores
from daogou.settings import REPO_ROOT, Settings

ACCEPTED, REFUSED = "accepted", "refused"
CANDIDATES_DIR, REPORTS_DIR, SCORES_DIR = "candidates", "retrain", "retrain/scores"
RECORD_SUFFIX = ".gate.json"  # beside a model: what it was trained on
HANDWRITTEN_TRAIN = "handwritten_train.yml"  # botprep's training part of the hand-written data
# Candidates kept in candidates/ (the newest; a served one is never removed): each is a whole
# model, tens to hundreds of MB.
KEEP_CANDIDATES = 5
# PUT /model answers once the new model is loaded and warmed up: about 35 s for ours on 2 cores.
LOAD_TIMEOUT_SECONDS = 600.0
# "[华为](brand)" and '[三千]{"entity": "price", ...}' in Rasa's training data format.
ENTITY_MARK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


class RetrainError(RuntimeError):
    """A step of the retrain failed (training, a Rasa test): the message says which, with the
    end of Rasa's log. No report is written: nothing was decided."""


class RetrainBusy(RetrainError):
    """Another retrain of this project is running."""


@dataclass(frozen=True)
class Project:
    """What the gate needs to know of a Rasa project."""

    config: Path
    domain: Path
    training_data: tuple[Path, ...]  # files or folders, as `rasa train --data` takes them
    heldout: Path  # NLU examples the candidate is not trained on, scored for both models
    work_dir: Path  # candidates/ and retrain/ go here (var/bot for the bot)
    annotations: Path | None = None  # the console's export, merged into the training data
    conversation_tests: Path | None = None  # Rasa test stories (test_*.yml), run end to end
    promote_to: Path | None = None  # the model file a restart serves, replaced on acceptance
    # Whether the serving model was trained on the held-out examples, when the caller knows
    # (None: read from the model's candidate record, else unknown).
    serving_saw_heldout: bool | None = None
    # Where models' scores are kept, by the digests of model and held-out file (None: in
    # <work>/retrain/scores); the tests keep their cached serving model's beside it.
    scores_cache: Path | None = None
    # botprep's stamp of the inputs this run trains from, written (marked gated) beside
    # promote_to on acceptance, so that `daogou bot train` keeps the promoted model.
    training_stamp: TrainingStamp | None = None


@dataclass
class NluScores:
    intent_macro_f1: float
    entity_f1: float | None  # None: no entity in the held-out examples
    seconds: float = 0.0
    cached: bool = False


@dataclass
class Conversations:
    passed: int
    total: int
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Decision:
    accepted: bool
    reasons: list[str]  # why it was refused, for the staff console

    @property
    def name(self) -> str:
        return ACCEPTED if self.accepted else REFUSED


# -- training data -------------------------------------------------------------------------------
def plain_text(example: str) -> str:
    """The message of an annotated example: 「有没有[华为](brand)手机」 -> 「有没有华为手机」."""
    return ENTITY_MARK.sub(r"\1", example).strip()


def _yml_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.yml") if p.is_file())
        elif path.suffix in (".yml", ".yaml") and path.is_file():
            yield path


def _intent_blocks(path: Path) -> list[dict] | None:
    """The file's intent blocks, or None for a file that is not NLU data (rules, domain)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    blocks = doc.get("nlu") if isinstance(doc, dict) else None
    return [b for b in blocks if "intent" in b] if blocks else None


def _examples(block: dict) -> list[str]:
    """The block's examples as written (entity marks included). Only the usual form, a text of
    "- " lines; the list form with metadata per example is left as it is."""
    examples = block.get("examples")
    lines = examples.splitlines() if isinstance(examples, str) else []
    return [line.strip()[2:] for line in lines if line.strip().startswith("- ")]


def nlu_texts(paths: Iterable[Path]) -> set[str]:
    """Every example's plain text in the NLU files under `paths`."""
    return {
        plain_text(example)
        for path in _yml_files(paths)
        for block in _intent_blocks(path) or ()
        for example in _examples(block)
    }


def _without_texts(path: Path, texts: set[str], copy: Path) -> tuple[Path, int]:
    """`path`, or `copy` of it without the examples whose text is in `texts`."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    removed = 0
    for block in doc.get("nlu") or ():
        if "intent" not in block or not isinstance(block.get("examples"), str):
            continue
        kept = [e for e in _examples(block) if plain_text(e) not in texts]
        removed += len(_examples(block)) - len(kept)
        block["examples"] = "".join(f"- {e}\n" for e in kept)
    if not removed:
        return path, 0
    copy.parent.mkdir(parents=True, exist_ok=True)
    dump = {"allow_unicode": True, "sort_keys": False, "width": 1000}
    copy.write_text(yaml.safe_dump(doc, **dump), encoding="utf-8")
    return copy, removed


def corrected_data(project: Project, run_dir: Path) -> tuple[list[Path], Path, dict[str, int]]:
    """The training paths with the annotations merged in (they win), and the held-out file
    without the annotated texts; plus counts for the report."""
    annotated = nlu_texts([project.annotations]) if _has_annotations(project) else set()
    counts = {"annotations": len(annotated), "replaced_training": 0, "dropped_heldout": 0}
    paths: list[Path] = []
    for index, path in enumerate(_expanded(project.training_data)):
        if _has_annotations(project) and path.resolve() == project.annotations.resolve():  # type: ignore[union-attr]
            continue  # merged whole below
        if annotated and _intent_blocks(path) is not None:
            copy = run_dir / "data" / f"{index:03d}_{path.name}"
            path, removed = _without_texts(path, annotated, copy)
            counts["replaced_training"] += removed
        paths.append(path)
    if annotated:
        paths.append(project.annotations)  # type: ignore[arg-type]
    heldout, dropped = _without_texts(
        project.heldout, annotated, run_dir / "heldout" / project.heldout.name
    )
    counts["dropped_heldout"] = dropped
    return paths, heldout, counts


def _has_annotations(project: Project) -> bool:
    return project.annotations is not None and project.annotations.is_file()


def _expanded(paths: Iterable[Path]) -> list[Path]:
    """Folders replaced by their YAML files, so that each NLU file can be filtered."""
    out: list[Path] = []
    for path in paths:
        out += list(_yml_files([path])) if path.is_dir() else [path]
    return out


def _has_entities(path: Path) -> bool:
    return any(
        ENTITY_MARK.search(e) for block in _intent_blocks(path) or () for e in _examples(block)
    )


# -- what a model was trained on -----------------------------------------------------------------
def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def record_path(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + RECORD_SUFFIX)


def write_record(model: Path, trained_on: set[str]) -> Path:
    """`<model>.gate.json`: the model's digest and the digests of its training texts."""
    record = {
        "model_sha256": file_digest(model),
        "trained_on": sorted(_text_digest(t) for t in trained_on),
    }
    path = record_path(model)
    _write_json(path, record)
    return path


def saw_heldout(model: Path, heldout: Path) -> bool | None:
    """Whether `model` was trained on any of `heldout`'s texts, from its record; None when it
    has none (or the record belongs to another file of that name)."""
    path = record_path(model)
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("model_sha256") != file_digest(model):
        return None
    trained = set(record.get("trained_on") or ())
    return any(_text_digest(t) in trained for t in nlu_texts([heldout]))


# -- Rasa, in its own environment ----------------------------------------------------------------
def _rasa(args: Sequence[str], log: Path) -> None:
    """Runs `rasa ARGS` with the Rasa environment; its output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        result = subprocess.run(
            [str(RASA_BIN), *args], cwd=REPO_ROOT, env=rasa_env(), stdout=out,
            stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RetrainError(f"rasa {args[0]} failed (exit {result.returncode}); see {log}\n{tail}")


def train_model(
    config: Path, domain: Path, data: Sequence[Path], out: Path, log: Path | None = None
) -> Path:
    """`rasa train` into `out` (a .tar.gz path), with its record of what it was trained on."""
    name = out.name.removesuffix(".tar.gz")
    args = ["train", "--config", str(config), "--domain", str(domain),
            "--data", *map(str, data), "--out", str(out.parent), "--fixed-model-name", name]  # fmt: skip
    _rasa(args, log or out.with_name(f"{name}.train.log"))
    write_record(out, nlu_texts(data))
    return out


def score_nlu(model: Path, heldout: Path, out: Path, cache_dir: Path | None = None) -> NluScores:
    """Intent macro-F1 and pipeline entity F1 of `model` on `heldout` (`rasa test nlu`)."""
    cached = _score_file(cache_dir, model, heldout) if cache_dir else None
    if cached is not None and cached.is_file():
        return NluScores(**{**json.loads(cached.read_text()), "seconds": 0.0, "cached": True})
    started = time.perf_counter()
    _rasa(["test", "nlu", "--model", str(model), "--nlu", str(heldout), "--out", str(out),
           "--no-plot", "--successes"], out / "rasa.log")  # fmt: skip
    scores = _nlu_scores(out, heldout, time.perf_counter() - started)
    if cached is not None:
        _write_json(cached, dataclasses.asdict(scores))
    return scores


def score_candidate(
    model: Path, heldout: Path, stories: Path | None, out: Path, cache_dir: Path | None = None
) -> tuple[NluScores, Conversations | None]:
    """The NLU scores and, when there are test stories, the conversation tests, in one Rasa
    process (`rasa test`: the stories end to end, then the NLU test): one start-up less. The
    NLU scores are kept as `score_nlu` keeps them: the next run's serving model is this one."""
    if stories is None:
        return score_nlu(model, heldout, out, cache_dir), None
    started = time.perf_counter()
    _rasa(["test", "--model", str(model), "--stories", str(stories), "--nlu", str(heldout),
           "--out", str(out), "--no-plot", "--successes"], out / "rasa.log")  # fmt: skip
    seconds = time.perf_counter() - started
    # The stories' entity dumps (TEDPolicy_*) are not the NLU test's: out of the pipeline F1.
    aside = out / "conversations"
    aside.mkdir(exist_ok=True)
    for path in out.glob("TEDPolicy_*"):
        path.replace(aside / path.name)
    scores = _nlu_scores(out, heldout, seconds)
    if cache_dir is not None:
        _write_json(_score_file(cache_dir, model, heldout), dataclasses.asdict(scores))
    return scores, _conversations(out, seconds)


def _score_file(cache_dir: Path, model: Path, heldout: Path) -> Path:
    return cache_dir / f"{file_digest(model)[:16]}-{file_digest(heldout)[:16]}.json"


def _nlu_scores(out: Path, heldout: Path, seconds: float) -> NluScores:
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return NluScores(
        intent_macro_f1=round(float(report["macro avg"]["f1-score"]), 6),
        entity_f1=round(entity_scores(out)["f1"], 6) if _has_entities(heldout) else None,
        seconds=round(seconds, 1),
    )


def _conversations(out: Path, seconds: float) -> Conversations:
    report = json.loads((out / "story_report.json").read_text(encoding="utf-8"))
    accuracy = report.get("conversation_accuracy") or {"correct": 0, "total": 0}
    failed_doc = yaml.safe_load((out / "failed_test_stories.yml").read_text(encoding="utf-8"))
    failed = [  # "goodbye (tests/test_stories.yml)": the story's name
        re.sub(r" \([^()]*\)$", "", s.get("story", "?"))
        for s in (failed_doc or {}).get("stories") or ()
    ]
    return Conversations(
        passed=int(accuracy["correct"]), total=int(accuracy["total"]), failed=failed,
        seconds=round(seconds, 1),
    )  # fmt: skip


# -- the decision ----------------------------------------------------------------------------------
def decide(
    candidate: NluScores,
    serving: NluScores,
    conversations: Conversations | None,
    tolerance: float = 0.0,
) -> Decision:
    """Accepted when no figure drops by more than `tolerance` and every conversation passes."""
    reasons = []
    if candidate.intent_macro_f1 < serving.intent_macro_f1 - tolerance:
        reasons.append(
            f"意图 macro-F1 下降：{serving.intent_macro_f1:.3f} → {candidate.intent_macro_f1:.3f}"
        )
    if (
        candidate.entity_f1 is not None
        and serving.entity_f1 is not None
        and candidate.entity_f1 < serving.entity_f1 - tolerance
    ):
        reasons.append(f"实体 F1 下降：{serving.entity_f1:.3f} → {candidate.entity_f1:.3f}")
    if conversations is not None and conversations.passed < conversations.total:
        failed = (
            "、".join(conversations.failed) or f"{conversations.total - conversations.passed} 个"
        )
        reasons.append(
            f"对话测试未全部通过（{conversations.passed}/{conversations.total}）：{failed}"
        )
    return Decision(accepted=not reasons, reasons=reasons)


# -- loading into the running servers ------------------------------------------------------------
def load_into(model: Path, rasa_urls: Sequence[str], token: str | None) -> list[dict[str, Any]]:
    """`PUT /model` to each server in turn; stops at the first that fails (the servers after it
    keep the model they serve, and the report says which did what)."""
    results = []
    for url in rasa_urls:
        started = time.perf_counter()
        try:
            response = httpx.put(
                f"{url.rstrip('/')}/model",
                params={"token": token} if token else None,
                json={"model_file": str(model.resolve())},
                timeout=LOAD_TIMEOUT_SECONDS,
            )
            status, error = response.status_code, None if response.is_success else response.text
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        results.append(
            {"url": url, "status": status, "error": error,
             "seconds": round(time.perf_counter() - started, 1)}
        )  # fmt: skip
        if error is not None:
            break
    return results


def promote(candidate: Path, target: Path, stamp: TrainingStamp | None = None) -> None:
    """Copies the candidate over the model file a restart loads, atomically, with its record;
    then `stamp` (the inputs it was trained from, marked gated) beside it, last: a run that
    dies before leaves the old stamp, which no longer matches, and the next `daogou bot train`
    trains rather than keep a model under another's stamp."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(candidate, partial)
    os.replace(partial, target)
    shutil.copyfile(record_path(candidate), record_path(target))
    if stamp is not None:
        write_stamp(target, stamp)


# -- the whole run -------------------------------------------------------------------------------
def retrain(
    project: Project,
    serving_model: Path,
    rasa_urls: Sequence[str] = (),
    *,
    token: str | None = None,
    dry_run: bool = False,
    tolerance: float = 0.0,
) -> dict[str, Any]:
    """Train, score, decide, then load or keep aside; returns the report it wrote."""
    with _exclusive(project.work_dir / REPORTS_DIR / ".lock"):
        return _retrain(project, serving_model, rasa_urls, token, dry_run, tolerance)


def _retrain(
    project: Project,
    serving_model: Path,
    rasa_urls: Sequence[str],
    token: str | None,
    dry_run: bool,
    tolerance: float,
) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    run_dir = project.work_dir / REPORTS_DIR / stamp
    started, clock = datetime.now(UTC), _Clock()
    data, heldout, counts = corrected_data(project, run_dir)
    candidate = project.work_dir / CANDIDATES_DIR / f"{stamp}.tar.gz"
    cache = project.scores_cache or project.work_dir / SCORES_DIR
    # The serving model is scored while the candidate trains (usually from the cache).
    with ThreadPoolExecutor(max_workers=1) as beside:
        serving_scoring = beside.submit(
            score_nlu, serving_model, heldout, run_dir / "serving_nlu", cache
        )
        with clock("train"):
            train_model(project.config, project.domain, data, candidate, run_dir / "train.log")
        with clock("score_candidate"):
            candidate_scores, conversations = score_candidate(
                candidate, heldout, project.conversation_tests, run_dir / "candidate", cache
            )
        serving_scores = serving_scoring.result()
    decision = decide(candidate_scores, serving_scores, conversations, tolerance)
    loaded: list[dict[str, Any]] = []
    promoted = None
    if decision.accepted and not dry_run:
        with clock("load"):
            loaded = load_into(candidate, rasa_urls, token)
        if project.promote_to is not None and all(r["error"] is None for r in loaded):
            gated = project.training_stamp
            if gated is not None:
                gated = dataclasses.replace(gated, gated_report=stamp)
            promote(candidate, project.promote_to, gated)
            promoted = str(project.promote_to)
    report = {
        "stamp": stamp,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "decision": decision.name,
        "reasons": decision.reasons,
        "notes": _notes(project, serving_model, heldout, conversations, loaded, dry_run),
        "dry_run": dry_run,
        "tolerance": tolerance,
        "clean_comparison": _clean(project, serving_model, heldout),
        "candidate": {"model": str(candidate), **dataclasses.asdict(candidate_scores),
                      "conversations": _as_dict(conversations)},
        "serving": {"model": str(serving_model), **dataclasses.asdict(serving_scores)},
        "heldout": {"path": str(heldout), "examples": len(nlu_texts([heldout]))},
        "annotations": {"path": str(project.annotations) if project.annotations else None,
                        **counts},
        "training_data": [str(p) for p in data],
        "loaded_into": loaded,
        "promoted_to": promoted,
        "durations": {**clock.durations(), "score_serving": serving_scores.seconds},
    }  # fmt: skip
    write_report(project.work_dir, report)
    prune_candidates(project.work_dir / CANDIDATES_DIR, KEEP_CANDIDATES, {serving_model, candidate})
    return report


def write_report(work_dir: Path, report: dict[str, Any]) -> Path:
    """`<work>/retrain/<stamp>.json`, where the console reads the last runs (GET
    /api/nlu/retrains): stamps are UTC times, so names sort by time."""
    path = work_dir / REPORTS_DIR / f"{report['stamp']}.json"
    _write_json(path, report)
    return path


def _clean(project: Project, serving_model: Path, heldout: Path) -> bool | None:
    """True when the serving model is known not to have seen the held-out examples."""
    saw = saw_heldout(serving_model, heldout)
    if saw is None:
        saw = project.serving_saw_heldout
    return None if saw is None else not saw


def _notes(
    project: Project,
    serving_model: Path,
    heldout: Path,
    conversations: Conversations | None,
    loaded: list[dict[str, Any]],
    dry_run: bool,
) -> list[str]:
    notes = []
    clean = _clean(project, serving_model, heldout)
    if clean is False:
        notes.append("在用模型训练时见过留出样例：比较对在用模型有利，结论偏保守。")
    elif clean is None:
        notes.append("不清楚在用模型是否见过留出样例：比较可能对在用模型有利，结论偏保守。")
    if conversations is None:
        notes.append("这个项目没有对话测试（Rasa test stories），只比较了 NLU 指标。")
    if dry_run:
        notes.append("试运行：只训练和评估，没有加载新模型。")
    failed = [r for r in loaded if r["error"] is not None]
    if failed:
        notes.append(
            f"加载到 {failed[0]['url']} 失败：之后的服务器没有更换模型，重启时加载的模型文件也没有替换。"
        )
    return notes


def _as_dict(value: Any) -> Any:
    return dataclasses.asdict(value) if value is not None else None


def prune_candidates(folder: Path, keep: int, protect: set[Path]) -> None:
    """Removes all but the newest `keep` candidates and their records, never one in `protect`
    (the serving model may be a candidate a server loaded)."""
    models = sorted(folder.glob("*.tar.gz"))
    protected = {p.resolve() for p in protect}
    for model in models[: max(0, len(models) - keep)]:
        if model.resolve() in protected:
            continue
        stem = model.name.removesuffix(".tar.gz")
        for path in folder.glob(f"{stem}.*"):
            path.unlink(missing_ok=True)


def summary(report: dict[str, Any]) -> str:
    """A few lines for a terminal: both models' figures and the decision."""

    def figure(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    lines = [f"{'':22}{'intent macro-F1':>16}{'entity F1':>11}"]
    for who in ("serving", "candidate"):
        model = report[who]
        lines.append(
            f"{who:22}{figure(model['intent_macro_f1']):>16}{figure(model['entity_f1']):>11}"
        )
    conversations = report["candidate"]["conversations"]
    if conversations:
        lines.append(f"conversation tests    {conversations['passed']}/{conversations['total']}")
    lines.append(f"decision              {report['decision']}")
    lines += [f"  - {reason}" for reason in report["reasons"] + report["notes"]]
    lines.append(f"candidate             {report['candidate']['model']}")
    for load in report["loaded_into"]:
        lines.append(f"loaded into {load['url']}: {load['status']} in {load['seconds']} s")
    lines.append(f"report                {report['stamp']}.json")
    return "\n".join(lines)


# -- the bot's own project -----------------------------------------------------------------------
def bot_project(settings: Settings, serving_saw_heldout: bool | None) -> Project:
    """The shop's bot as prepared in var/bot (`daogou bot prepare`), with botprep's held-out
    split of the hand-written examples made afresh in var/bot/retrain/split (the console's
    annotations kept out of it: they are merged whole)."""
    out = bot_dir(settings)
    annotations = annotations_path(settings)
    split = out / REPORTS_DIR / "split"
    handwritten = split / "handwritten"
    shutil.rmtree(split, ignore_errors=True)
    handwritten.mkdir(parents=True)
    (split / "data").mkdir()
    for path in sorted((BOT / "data" / "nlu").glob("*.yml")):
        if path.resolve() != annotations.resolve():
            shutil.copyfile(path, handwritten / path.name)
    split_handwritten(handwritten, split)
    catalog = [p for p in sorted((out / "data").glob("*.yml")) if p.name != HANDWRITTEN_TRAIN]
    tests = BOT / "tests"
    return Project(
        config=out / "config.yml",
        domain=BOT / "domain",
        training_data=(
            *sorted((BOT / "data").glob("*.yml")),  # rules (and stories)
            *catalog,
            split / "data" / HANDWRITTEN_TRAIN,
        ),
        heldout=split / "heldout" / "test_nlu.yml",
        work_dir=out,
        annotations=annotations,
        conversation_tests=tests if tests.is_dir() else None,
        promote_to=model_path(settings),
        serving_saw_heldout=serving_saw_heldout,
        # var/bot as prepared for this run: what the candidate is trained from
        training_stamp=current_stamp(settings),
    )


def botprep_saw_heldout(settings: Settings) -> bool | None:
    """Whether botprep's model was trained on the held-out examples, from its training stamp:
    the stamp matches var/bot's inputs, and those hold the split's training file only when
    holding out. None when the stamp is missing, is a promoted candidate's (its record tells),
    or var/bot has changed since (call this before preparing var/bot again)."""
    stamp = read_stamp(model_path(settings))
    try:
        if stamp is None or stamp.gated or stamp.inputs != fingerprint(settings):
            return None
    except OSError:
        return None
    return not (bot_dir(settings) / "data" / HANDWRITTEN_TRAIN).is_file()


class _Clock:
    """Seconds per step, for the report."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._steps: dict[str, float] = {}

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._steps[step] = round(time.perf_counter() - started, 1)

    def durations(self) -> dict[str, float]:
        return {**self._steps, "total": round(time.perf_counter() - self._started, 1)}


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RetrainBusy(f"another retrain holds {lock}") from None
        yield


def _write_json(path: Path, data: Any) -> None:
    """Atomically: the console never reads half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)

"""The gated retrain (issue #18): a new recommender replaces the served one only if it is not
worse on recent events that neither of them was trained on.

``daogou recs train`` and the web app's daily job (web/recs_loop.py) call :func:`run_gate`:

1. **Hold out recent events.** The window is the last ``holdout_days`` before the newest event
   (its start included: an event at exactly ``newest - holdout_days`` is held out). Shoppers
   with events before the window are judged on the products they reached in it for the first
   time (products they had already seen cannot be recommended to them, as in
   recommender/evaluation.py). When fewer than ``MIN_WINDOW_SHOPPERS`` shoppers have both (a new
   shop, a quiet week), the gate holds out each shopper's newest product instead (everything
   from its first event on; the same fold the ranker tunes its blend on,
   :func:`~recommender.cf.blend_tuning.newest_item_fold`) and says so in the report.
2. **Fit both on the same past.** The candidate is a fresh ServedRanker (its blend tuned on the
   training events); the serving model is the saved file's configuration (its tuned blend)
   refitted on the same events, so the comparison is of configurations, not of who saw more.
3. **Score both** with the evaluation's metrics: HR@10 and NDCG@10 over the judged shoppers,
   every product ranked by the shop's ranker (intent, exclusions) from the shopper's history.
4. **Decide.** Accepted when the candidate's NDCG@10 and HR@10 are each at least the serving
   model's minus ``tolerance`` (0 by default; a negative tolerance demands an improvement).
   Accepted: the candidate's configuration is refitted on every event and published
   atomically to ``model.npz`` (serving processes pick it up on their next request).
   Refused: ``model.npz`` is left as it is and the candidate, as judged, is written to
   ``candidates/<time>.npz`` beside it. Without a saved model the candidate is accepted.

Only the newest ``KEEP_CANDIDATES`` refused candidates are kept, and :func:`discard_candidates`
deletes them all (erasure and retention: they were fitted on events that may be gone).
Every run writes ``reports/<time>.json`` beside the model: both models' configurations and
metrics, the window, the shoppers and events counted, the decision and why, and durations.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_graph.service import CatalogView
from recommender.cf.base import Fold
from recommender.cf.served import ServedRanker
from recommender.evaluation import score_split
from recommender.events import Interaction
from recommender.recommendations import (
    DEFAULT_ALS_ENGINE,
    RecommendationService,
    TrainedModel,
    engine_option,
    shopper_sequences,
)

K = 10
GATE_METRICS = (f"ndcg@{K}", f"hr@{K}")
DEFAULT_HOLDOUT_DAYS = 7.0
# Below this many judged shoppers a week's window says little (one shopper moves HR@10 by 5 %
# or more): hold out each shopper's newest product instead.
MIN_WINDOW_SHOPPERS = 20
TIME_WINDOW = "time_window"
LEAVE_LAST_OUT = "leave_last_out"
ACCEPTED, REFUSED, UNGATED = "accepted", "refused", "ungated"
REPORTS_DIR, CANDIDATES_DIR = "reports", "candidates"
# Refused candidates kept for a look (the newest few): each holds what it learned from shoppers'
# events (ALS keeps per-shopper factors), so they are not kept for ever.
KEEP_CANDIDATES = 3


class TrainingBusy(RuntimeError):
    """Another process is training the recommender right now."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(ts: datetime) -> datetime:
    """Event times from SQLite come back naive (they are UTC)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


# -- the held-out events ------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldoutSplit:
    """What both models are trained on (``train``) and what they are judged on (``targets``:
    per shopper, the products first reached in the held-out part, in time order).

    ``asked_at``: the moment the held-out part begins for everyone (the window's start), or
    None for leave-last-out, where it differs per shopper (weights then decay to the present)."""

    method: str
    train: list[Interaction]
    targets: dict[str, list[str]]
    held_out_events: int
    shoppers_with_history: int
    window_start: datetime | None = None
    window_end: datetime | None = None
    note: str | None = None

    @property
    def asked_at(self) -> datetime | None:
        return self.window_start

    @property
    def judged_shoppers(self) -> int:
        return len(self.targets)

    def summary(self, holdout_days: float) -> dict[str, Any]:
        return {
            "method": self.method,
            "days": holdout_days if self.method == TIME_WINDOW else None,
            "start": _iso(self.window_start),
            "end": _iso(self.window_end),
            "note": self.note,
            "shoppers_with_history": self.shoppers_with_history,
            "shoppers_judged": self.judged_shoppers,
            "held_out_events": self.held_out_events,
            "train_events": len(self.train),
        }


def holdout_split(
    interactions: Sequence[Interaction],
    holdout_days: float = DEFAULT_HOLDOUT_DAYS,
    min_shoppers: int = MIN_WINDOW_SHOPPERS,
) -> HoldoutSplit:
    """The time window, or leave-last-out when it judges fewer than ``min_shoppers``."""
    window = time_window_split(interactions, holdout_days)
    if window.judged_shoppers >= min_shoppers:
        return window
    fallback = leave_last_out_split(interactions)
    note = (
        f"only {window.judged_shoppers} shoppers had events both before and in the last "
        f"{holdout_days:g} days (fewer than {min_shoppers}): judged on each shopper's newest "
        "product instead"
    )
    return dataclasses.replace(fallback, note=note)


def time_window_split(interactions: Sequence[Interaction], holdout_days: float) -> HoldoutSplit:
    """Events at or after ``newest - holdout_days`` are held out; the rest train."""
    if not interactions:
        return HoldoutSplit(TIME_WINDOW, [], {}, 0, 0)
    end = max(_utc(e.ts) for e in interactions)
    start = end - timedelta(days=holdout_days)
    train = [e for e in interactions if _utc(e.ts) < start]
    held_out = [e for e in _in_time_order(interactions) if _utc(e.ts) >= start]
    seen: dict[str, set[str]] = defaultdict(set)
    for event in train:
        seen[event.user_id].add(event.sku)
    targets: dict[str, list[str]] = {}
    for event in held_out:
        if event.user_id in seen and event.sku not in seen[event.user_id]:
            reached = targets.setdefault(event.user_id, [])
            if event.sku not in reached:
                reached.append(event.sku)
    return HoldoutSplit(TIME_WINDOW, train, targets, len(held_out), len(seen), start, end)


def leave_last_out_split(interactions: Sequence[Interaction]) -> HoldoutSplit:
    """Each shopper's newest product (the last one reached for the first time) and everything
    from its first event on are held out; a shopper of one product keeps it for training."""
    train: list[Interaction] = []
    targets: dict[str, list[str]] = {}
    held_out = 0
    for user, events in _by_shopper(interactions).items():
        first: dict[str, int] = {}
        for position, event in enumerate(events):
            first.setdefault(event.sku, position)
        cut = max(first.values())
        if cut == 0:
            train.extend(events)
            continue
        train.extend(events[:cut])
        targets[user] = [events[cut].sku]
        held_out += len(events) - cut
    shoppers = len({e.user_id for e in train})
    return HoldoutSplit(LEAVE_LAST_OUT, train, targets, held_out, shoppers)


def _in_time_order(interactions: Sequence[Interaction]) -> list[Interaction]:
    return sorted(interactions, key=lambda e: _utc(e.ts))  # stable: ties keep the store's order


def _by_shopper(interactions: Sequence[Interaction]) -> dict[str, list[Interaction]]:
    grouped: dict[str, list[Interaction]] = defaultdict(list)
    for event in _in_time_order(interactions):
        grouped[event.user_id].append(event)
    return grouped


# -- judging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelScore:
    """One model of the comparison: its configuration, metrics on the held-out events (empty
    when it was not judged) and seconds spent."""

    config: dict[str, Any]
    metrics: dict[str, float]
    fit_s: float
    score_s: float = 0.0

    def report(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "metrics": {name: round(value, 5) for name, value in self.metrics.items()},
            "fit_s": round(self.fit_s, 3),
            "score_s": round(self.score_s, 3),
        }


def decide(
    candidate: Mapping[str, float],
    serving: Mapping[str, float] | None,
    tolerance: float,
    judged_shoppers: int,
) -> tuple[bool, str]:
    """(accepted, why): not worse than the serving model minus ``tolerance`` on every metric
    of ``GATE_METRICS``."""
    if serving is None:
        return True, "no served model to compare with"
    if judged_shoppers == 0:
        return True, "no shopper to judge on: the candidate is trained on the newest events"
    worse = [
        f"{name} {candidate[name]:.4f} < {serving[name]:.4f} - {tolerance:g}"
        for name in GATE_METRICS
        if candidate[name] < serving[name] - tolerance
    ]
    if worse:
        return False, "candidate worse than the served model: " + "; ".join(worse)
    return True, f"candidate not worse on {' and '.join(GATE_METRICS)} (tolerance {tolerance:g})"


def judging_fold(model: TrainedModel, split: HoldoutSplit) -> Fold:
    """The training histories (weights decayed to the window's start) with each shopper's
    held-out products as targets, in ``model``'s item ids."""
    sequences = shopper_sequences(split.train, model.index, split.asked_at)
    targets = [
        np.array([model.index[s] for s in split.targets.get(user, [])], dtype=np.int64)
        for user in sequences.shoppers
    ]
    return Fold(sequences.items, targets, len(model.skus), sequences.weights, sequences.times)


def _score(model: TrainedModel, fold: Fold, fit_s: float) -> ModelScore:
    metrics, score_s = score_split(model.ranker, fold, K)
    return ModelScore(model.config, {k: float(v) for k, v in metrics.items()}, fit_s, score_s)


# -- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """A run's outcome; :meth:`report` is what ``reports/<time>.json`` holds."""

    decision: str
    reason: str
    started_at: datetime
    finished_at: datetime
    candidate: ModelScore
    serving: ModelScore | None
    holdout: dict[str, Any] | None
    tolerance: float | None
    report_path: Path
    published: Path | None = None
    candidate_file: Path | None = None
    durations: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.decision != REFUSED

    def report(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "k": K,
            "tolerance": self.tolerance,
            "holdout": self.holdout,
            "candidate": self.candidate.report(),
            "serving": self.serving.report() if self.serving else None,
            "published": str(self.published) if self.published else None,
            "candidate_file": str(self.candidate_file) if self.candidate_file else None,
            "durations": {name: round(s, 3) for name, s in self.durations.items()},
        }


def run_gate(
    service: RecommendationService,
    *,
    holdout_days: float = DEFAULT_HOLDOUT_DAYS,
    tolerance: float = 0.0,
    candidate_config: Mapping[str, Any] | None = None,
    als_engine: str = DEFAULT_ALS_ENGINE,
    min_shoppers: int = MIN_WINDOW_SHOPPERS,
    clock: Callable[[], datetime] = _utcnow,
) -> GateResult:
    """Judge a fresh ranker against the served one and publish it if it is not worse (module
    docstring). ``candidate_config``: ServedRanker arguments of the candidate (default: none,
    a blend tuned on the training events); tests inject a worse one here."""
    started = clock()
    durations: dict[str, float] = {}
    engine = engine_option(als_engine)
    view = service.catalog.current()
    with _timed(durations, "total"):
        with _timed(durations, "split"):
            events = [e for e in service.events.all_interactions() if e.sku in view.graph.products]
            split = holdout_split(events, holdout_days, min_shoppers)
        candidate, candidate_score = _fit_and_score(
            service, view, split, {**engine, **(candidate_config or {})}, durations, "candidate"
        )
        serving_config, missing = _serving_config(service, engine)
        serving_score = None
        if serving_config is not None:
            _, serving_score = _fit_and_score(
                service, view, split, serving_config, durations, "serving"
            )
        accepted, reason = decide(
            candidate_score.metrics,
            serving_score.metrics if serving_score else None,
            tolerance,
            split.judged_shoppers,
        )
        if missing:
            reason = f"{reason} ({missing})"
        with _timed(durations, "publish" if accepted else "keep_candidate"):
            published, kept = _settle(service, view, candidate, accepted, started)
    result = GateResult(
        decision=ACCEPTED if accepted else REFUSED,
        reason=reason,
        started_at=started,
        finished_at=clock(),
        candidate=candidate_score,
        serving=serving_score,
        holdout={**split.summary(holdout_days), "events": len(events)},
        tolerance=tolerance,
        report_path=report_path(recs_dir(service), started),
        published=published,
        candidate_file=kept,
        durations=durations,
    )
    write_report(result)
    return result


def train_ungated(
    service: RecommendationService,
    *,
    als_engine: str = DEFAULT_ALS_ENGINE,
    clock: Callable[[], datetime] = _utcnow,
) -> GateResult:
    """Fit on every event and publish without a comparison (``--ungated``); reported too."""
    started = clock()
    durations: dict[str, float] = {}
    with _timed(durations, "total"):
        with _timed(durations, "fit"):
            model = service.train(als_engine=als_engine)
        with _timed(durations, "publish"):
            published = service.publish(model)
    result = GateResult(
        decision=UNGATED,
        reason="published without a comparison (--ungated)",
        started_at=started,
        finished_at=clock(),
        candidate=ModelScore(model.config, {}, durations["fit"]),
        serving=None,
        holdout=None,
        tolerance=None,
        report_path=report_path(recs_dir(service), started),
        published=published,
        durations=durations,
    )
    write_report(result)
    return result


def _fit_and_score(
    service: RecommendationService,
    view: CatalogView,
    split: HoldoutSplit,
    config: Mapping[str, Any],
    durations: dict[str, float],
    role: str,
) -> tuple[TrainedModel, ModelScore]:
    with _timed(durations, f"{role}_fit"):
        model = service.fit_ranker(config, split.train, now=split.asked_at, view=view)
    score = _score(model, judging_fold(model, split), durations[f"{role}_fit"])
    durations[f"{role}_score"] = score.score_s
    return model, score


def _serving_config(
    service: RecommendationService, engine: Mapping[str, str]
) -> tuple[dict[str, Any] | None, str | None]:
    """The saved ranker's configuration with this run's ALS engine, or (None, why not)."""
    path = service.model_path
    if path is None or not path.exists():
        return None, None
    config = service.saved_config()
    known = inspect.signature(ServedRanker).parameters
    if config is None or not set(config) <= set(known):
        return None, f"the saved model at {path} is not a readable ServedRanker"
    return {**config, **engine}, None


def _settle(
    service: RecommendationService,
    view: CatalogView,
    candidate: TrainedModel,
    accepted: bool,
    started: datetime,
) -> tuple[Path | None, Path | None]:
    """(published model, kept candidate): the accepted configuration refitted on every event
    and published, or the refused candidate written beside the served model."""
    if accepted:
        return service.publish(service.fit_ranker(candidate.config, view=view)), None
    folder = recs_dir(service) / CANDIDATES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    kept = candidate.ranker.save(folder / f"{_stamp(started)}.npz")
    for old in sorted(folder.glob("*.npz"), reverse=True)[KEEP_CANDIDATES:]:
        old.unlink(missing_ok=True)
    return None, kept


def discard_candidates(folder: Path) -> int:
    """Deletes the refused candidates kept in ``folder`` (var/recs); how many. An erasure or a
    retention run calls it: a candidate was fitted on events that may be gone now."""
    files = list((folder / CANDIDATES_DIR).glob("*.npz"))
    for file in files:
        file.unlink(missing_ok=True)
    return len(files)


@contextmanager
def _timed(durations: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        durations[name] = time.perf_counter() - started


# -- reports ------------------------------------------------------------------------------------


def recs_dir(service: RecommendationService) -> Path:
    """var/recs: the served model, its candidates, the reports and the training lock."""
    assert service.model_path is not None, "the gate needs the service's model path"
    return service.model_path.parent


def report_path(folder: Path, started: datetime) -> Path:
    return folder / REPORTS_DIR / f"{_stamp(started)}.json"


def write_report(result: GateResult) -> Path:
    """Written whole or not at all (a reader never sees half a report)."""
    path = result.report_path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.report(), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def read_reports(folder: Path, last: int | None = None) -> list[dict[str, Any]]:
    """The newest ``last`` reports (all by default), newest first."""
    paths = sorted((folder / REPORTS_DIR).glob("*.json"), reverse=True)
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths[:last]]


def ran_since(folder: Path, moment: datetime) -> bool:
    """Whether a run started at or after ``moment`` (another replica's, on this var/)."""
    newest = read_reports(folder, last=1)  # file names sort by start time
    return bool(newest) and datetime.fromisoformat(newest[0]["started_at"]) >= moment


def _stamp(moment: datetime) -> str:
    """File names that sort by time: 20261205T040000.123456Z."""
    return _utc(moment).strftime("%Y%m%dT%H%M%S.%fZ")


def _iso(moment: datetime | None) -> str | None:
    return _utc(moment).isoformat() if moment is not None else None

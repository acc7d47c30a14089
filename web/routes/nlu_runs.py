"""GET /api/nlu/retrains: the last runs of the gated NLU retrain (`daogou bot retrain`), newest
first, for the annotation page's section on them (staff and admins).

Each run leaves one JSON report in `<var>/bot/retrain/` (daogou/nlu/retrain.py writes them,
atomically); the list is read from there, so a run from the command line shows up at once.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from web.deps import SettingsDep, StaffDep

router = APIRouter(prefix="/api/nlu", tags=["nlu"])
log = logging.getLogger(__name__)
MAX_LIMIT = 100
REPORTS = ("bot", "retrain")  # under the var folder: daogou/nlu/retrain.py's REPORTS_DIR


class ModelFigures(BaseModel):
    model: str
    intent_macro_f1: float
    entity_f1: float | None  # None: the held-out examples have no entity


class ConversationFigures(BaseModel):
    passed: int
    total: int
    failed: list[str]


class RetrainRun(BaseModel):
    stamp: str
    started_at: datetime
    finished_at: datetime
    decision: Literal["accepted", "refused"]
    reasons: list[str]  # why it was refused, in Chinese
    notes: list[str]  # what to know about the comparison, in Chinese
    dry_run: bool
    clean_comparison: bool | None  # False/None: the serving model may have seen the examples
    serving: ModelFigures
    candidate: ModelFigures
    conversations: ConversationFigures | None
    loaded_into: list[str]  # the Rasa servers that now serve the candidate


class RetrainRunList(BaseModel):
    items: list[RetrainRun]
    total: int


@router.get("/retrains", response_model=RetrainRunList)
def retrain_runs(
    _: StaffDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RetrainRunList:
    paths = report_paths(settings.var_dir.joinpath(*REPORTS))
    page = paths[offset : offset + min(limit, MAX_LIMIT)]
    items = [run for run in map(read_run, page) if run is not None]
    return RetrainRunList(items=items, total=len(paths))


def report_paths(folder: Path) -> list[Path]:
    """Newest first: reports are named by their start time (UTC, sortable)."""
    return sorted(folder.glob("*.json"), reverse=True)


def read_run(path: Path) -> RetrainRun | None:
    """One report as the console shows it; None (and a log line) for one it cannot read."""
    try:
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        fields = {k: report[k] for k in RetrainRun.model_fields if k in report}
        fields["conversations"] = report["candidate"].get("conversations")
        fields["loaded_into"] = [
            load["url"] for load in report.get("loaded_into", ()) if load.get("error") is None
        ]
        return RetrainRun(**fields)
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("unreadable retrain report %s", path, exc_info=True)
        return None

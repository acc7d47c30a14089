"""GET /api/nlu/retrains: the gated NLU retrain's last runs as daogou/nlu/retrain.py reports
them, newest first, for staff and admins; the annotation page has a section that lists them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from daogou.nlu.retrain import write_report
from web.accounts import create_account
from web.app import create_app
from web.routes import nlu_runs

PASSWORD = "correct-horse-9"


def report(stamp: str, decision: str, serving: tuple, candidate: tuple, **extra) -> dict:
    """A run's report in the shape daogou/nlu/retrain.py writes it."""
    return {
        "stamp": stamp,
        "started_at": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T08:00:00+00:00",
        "finished_at": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T08:03:30+00:00",
        "decision": decision,
        "reasons": extra.get("reasons", []),
        "notes": extra.get("notes", []),
        "dry_run": False,
        "tolerance": 0.0,
        "clean_comparison": True,
        "candidate": {
            "model": f"/var/bot/candidates/{stamp}.tar.gz",
            "intent_macro_f1": candidate[0],
            "entity_f1": candidate[1],
            "seconds": 20.5,
            "cached": False,
            "conversations": extra.get("conversations"),
        },
        "serving": {
            "model": "/var/models/daogou.tar.gz",
            "intent_macro_f1": serving[0],
            "entity_f1": serving[1],
            "seconds": 0.0,
            "cached": True,
        },
        "heldout": {"path": "/var/bot/retrain/split/heldout/test_nlu.yml", "examples": 16},
        "annotations": {"path": "/bot/data/nlu/console_annotations.yml", "annotations": 2},
        "training_data": [],
        "loaded_into": extra.get("loaded_into", []),
        "promoted_to": None,
        "durations": {"train": 40.0, "total": 210.0},
    }


ACCEPTED = report(
    "20261204T080000000000Z", "accepted", (0.95, 0.9), (0.967, 0.912),
    conversations={"passed": 3, "total": 3, "failed": []},
    loaded_into=[
        {"url": "http://rasa-1:5005", "status": 204, "error": None, "seconds": 31.0},
        {"url": "http://rasa-2:5005", "status": 204, "error": None, "seconds": 33.2},
    ],
)  # fmt: skip
REFUSED = report(
    "20261205T080000000000Z", "refused", (0.967, 0.912), (0.41, None),
    reasons=["意图 macro-F1 下降：0.967 → 0.410", "对话测试未全部通过（1/3）：goodbye"],
    notes=["不清楚在用模型是否见过留出样例：比较可能对在用模型有利，结论偏保守。"],
    conversations={"passed": 1, "total": 3, "failed": ["goodbye"]},
)  # fmt: skip


@pytest.fixture()
def app(mini_services):
    create_account(mini_services.store, "staff1", PASSWORD, "staff")
    create_account(mini_services.store, "m1", PASSWORD, "merchant", "m001")
    app = create_app(mini_services)
    if not any(getattr(r, "path", "") == "/api/nlu/retrains" for r in app.routes):
        app.include_router(nlu_runs.router)  # until web/app.py includes it
    return app


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return client


def test_no_run_yet(app):
    answer = signed_in(app, "staff1").get("/api/nlu/retrains")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"items": [], "total": 0}


def test_the_last_runs_newest_first_with_both_models_figures(app, mini_services):
    work = mini_services.settings.var_dir / "bot"
    write_report(work, ACCEPTED)
    write_report(work, REFUSED)
    page = signed_in(app, "staff1").get("/api/nlu/retrains").json()
    assert page["total"] == 2
    refused, accepted = page["items"]
    assert (refused["stamp"], refused["decision"]) == (REFUSED["stamp"], "refused")
    assert refused["serving"]["intent_macro_f1"] == 0.967
    assert refused["candidate"]["intent_macro_f1"] == 0.41
    assert refused["candidate"]["entity_f1"] is None
    assert refused["reasons"] == REFUSED["reasons"]
    assert refused["notes"] == REFUSED["notes"]
    assert refused["conversations"] == {"passed": 1, "total": 3, "failed": ["goodbye"]}
    assert refused["loaded_into"] == []
    assert accepted["decision"] == "accepted"
    assert (accepted["serving"]["entity_f1"], accepted["candidate"]["entity_f1"]) == (0.9, 0.912)
    assert accepted["loaded_into"] == ["http://rasa-1:5005", "http://rasa-2:5005"]
    assert accepted["finished_at"].startswith("2026-12-04T08:03:30")


def test_paging_and_an_unreadable_report(app, mini_services):
    work = mini_services.settings.var_dir / "bot"
    write_report(work, ACCEPTED)
    write_report(work, REFUSED)
    (work / "retrain" / "20261206T000000000000Z.json").write_text("{not json", encoding="utf-8")
    staff = signed_in(app, "staff1")
    page = staff.get("/api/nlu/retrains", params={"limit": 2}).json()
    assert page["total"] == 3  # report files; the unreadable one is left out of the items
    assert [run["stamp"] for run in page["items"]] == [REFUSED["stamp"]]
    rest = staff.get("/api/nlu/retrains", params={"limit": 2, "offset": 2}).json()
    assert [run["stamp"] for run in rest["items"]] == [ACCEPTED["stamp"]]
    assert staff.get("/api/nlu/retrains", params={"limit": 0}).status_code == 422


def test_staff_and_admins_only(app):
    assert TestClient(app).get("/api/nlu/retrains").status_code == 401
    forbidden = signed_in(app, "m1").get("/api/nlu/retrains")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"


def test_the_annotation_page_has_the_runs_section(app):
    page = signed_in(app, "staff1").get("/console/annotations")
    assert page.status_code == 200
    assert "最近的重新训练" in page.text and "data-nlu-runs-body" in page.text
    assert '<script src="/static/console/nlu_runs.js" defer></script>' in page.text
    script = TestClient(app).get("/static/console/nlu_runs.js")
    assert script.status_code == 200 and "/api/nlu/retrains" in script.text

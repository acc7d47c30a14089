"""The gated retrain (recommender/gate.py, `daogou recs train`): a new recommender replaces the
served one only if it is not worse on recent events neither was trained on.

The shop: 32 books in four groups of eight. Each reader reads within one group: four books
(day 1), then two more (day 9, the held-out window). Group 0 has twice the readers, so its
books are the most popular: a popularity-only ranker serves every reader group 0's books,
while the collaborative ranker serves each reader the unread books of their own group.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daogou import recs_cli
from daogou.settings import get_settings
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore
from recommender.cf.served import ServedRanker
from recommender.events import EventStore, Interaction
from recommender.gate import (
    LEAVE_LAST_OUT,
    TIME_WINDOW,
    discard_candidates,
    holdout_split,
    leave_last_out_split,
    read_reports,
    run_gate,
    time_window_split,
)
from recommender.recommendations import RecommendationService, engine_option, everyone

GROUPS, BOOKS_PER_GROUP = 4, 8
READERS = {0: 16, 1: 8, 2: 8, 3: 8}  # 40 readers: enough for the time window (20)
READ_BEFORE, READ_IN_WINDOW = 4, 2
T0 = datetime(2026, 11, 1, tzinfo=UTC)
POPULARITY_ONLY = {"blend": {"pop": 1.0}}


def book(group: int, i: int) -> str:
    return f"BK-{group}-{i % BOOKS_PER_GROUP}"


def books_catalog() -> dict:
    products = [
        {"sku": book(g, i), "title": f"第{g}类好书{i}", "brand": "中信出版社", "category": "图书",
         "series": None, "model": f"好书{g}-{i}", "aliases": [], "price": 50, "attributes": {},
         "tags": [], "description": "", "stock": 10, "rating": 4.5, "merchant_id": "m1",
         "image": None}
        for g in range(GROUPS) for i in range(BOOKS_PER_GROUP)
    ]  # fmt: skip
    return {
        "version": 1,
        "merchants": [{"id": "m1", "name": "书店"}],
        "categories": [{"name": "图书", "parent": None}],
        "attribute_schema": {"图书": {}},
        "brands": [{"name": "中信出版社"}],
        "products": products,
        "relations": [],
    }


def reading(group: int, reader: int) -> list[str]:
    """Reader j of a group reads books j, j+1, ... of it (all in the group get read)."""
    return [book(group, reader + step) for step in range(READ_BEFORE + READ_IN_WINDOW)]


def book_store(tmp_path: Path) -> CatalogStore:
    """The shop with every reader's events: day 1 (trained on) and day 9 (the window)."""
    store = CatalogStore.from_url(f"sqlite:///{tmp_path / 'books.db'}")
    store.create_schema()
    store.load_catalog(books_catalog())
    rows = []
    for group, readers in READERS.items():
        for reader in range(readers):
            start = timedelta(minutes=10 * (20 * group + reader))
            for step, sku in enumerate(reading(group, reader)):
                day = 1 if step < READ_BEFORE else 9
                ts = T0 + timedelta(days=day, minutes=2 * step) + start
                rows.append({"user_id": f"g{group}-{reader}", "sku": sku, "type": "view", "ts": ts})
    EventStore(store).record_many(rows)
    return store


def book_service(store: CatalogStore, model_path: Path) -> RecommendationService:
    """A process's recommendation service (each process has its own)."""
    catalog = CatalogService(store, check_interval=0.0)
    return RecommendationService(catalog, EventStore(store), model_path, consented=everyone)


@pytest.fixture()
def store(tmp_path) -> CatalogStore:
    return book_store(tmp_path)


@pytest.fixture()
def model_path(tmp_path) -> Path:
    return tmp_path / "recs" / "model.npz"


def skus(service: RecommendationService, user: str, k: int = 10) -> list[str]:
    return [r.product.sku for r in service.recommend(user, k=k)]


# -- the decision -------------------------------------------------------------------------------


def test_a_better_candidate_is_published_and_a_running_server_serves_it_next(store, model_path):
    trainer = book_service(store, model_path)
    trainer.publish(trainer.fit_ranker(POPULARITY_ONLY))  # a poor model is being served
    server = book_service(store, model_path)
    assert skus(server, "g2-0")[:8] == [book(0, i) for i in range(8)]  # the popular group
    served_bytes = model_path.read_bytes()

    result = run_gate(trainer)

    assert result.decision == "accepted" and result.accepted
    assert result.candidate.metrics["hr@10"] == 1.0 and result.candidate.metrics["ndcg@10"] == 1.0
    assert result.serving is not None and result.serving.config["blend"] == {"pop": 1.0}
    assert result.serving.metrics["hr@10"] == pytest.approx(0.575)  # group 0's 16 + ties
    assert result.published == model_path and model_path.read_bytes() != served_bytes
    assert ServedRanker.load(model_path).blend == result.candidate.config["blend"]
    # The same server object, no restart: its next request reads the new file. g2-0 has read
    # books 0-5 of group 2; the two left come first, then the popular ones.
    assert skus(server, "g2-0")[:3] == [book(2, 6), book(2, 7), book(0, 0)]
    report = json.loads(result.report_path.read_text(encoding="utf-8"))
    assert report["decision"] == "accepted" and report["published"] == str(model_path)
    assert report["holdout"] == {
        "method": TIME_WINDOW, "days": 7.0,
        "start": "2026-11-03T11:20:00+00:00", "end": "2026-11-10T11:20:00+00:00",
        "note": None, "shoppers_with_history": 40, "shoppers_judged": 40,
        "held_out_events": 80, "train_events": 160, "events": 240,
    }  # fmt: skip
    assert set(report["durations"]) >= {"candidate_fit", "serving_fit", "publish", "total"}


def test_a_worse_candidate_is_refused_and_the_served_file_stays_byte_for_byte(store, model_path):
    trainer = book_service(store, model_path)
    trainer.save()  # the collaborative ranker is being served
    served_bytes, served_mtime = model_path.read_bytes(), model_path.stat().st_mtime_ns

    candidates = model_path.parent / "candidates"
    candidates.mkdir()
    older = [candidates / f"20261101T000000.00000{i}Z.npz" for i in range(3)]
    for file in older:
        file.write_bytes(b"an older refused candidate")

    result = run_gate(trainer, candidate_config=POPULARITY_ONLY)

    assert result.decision == "refused" and not result.accepted
    assert model_path.read_bytes() == served_bytes
    assert model_path.stat().st_mtime_ns == served_mtime  # serving processes never reload it
    assert result.published is None and result.candidate_file is not None
    assert result.candidate_file.parent == model_path.parent / "candidates"
    assert ServedRanker.load(result.candidate_file).blend == {"pop": 1.0}
    # the newest three candidates are kept; an erasure discards them all
    assert sorted(candidates.iterdir()) == [*older[1:], result.candidate_file]
    assert discard_candidates(model_path.parent) == 3 and not list(candidates.iterdir())
    report = json.loads(result.report_path.read_text(encoding="utf-8"))
    assert report["decision"] == "refused"
    assert report["reason"] == (
        "candidate worse than the served model: "
        "ndcg@10 0.4113 < 1.0000 - 0; hr@10 0.5750 < 1.0000 - 0"
    )
    assert report["candidate"]["metrics"]["hr@10"] == 0.575
    assert report["candidate"]["metrics"]["ndcg@10"] == pytest.approx(0.41134, abs=1e-5)
    assert report["serving"]["metrics"]["hr@10"] == 1.0
    assert report["serving"]["metrics"]["ndcg@10"] == 1.0
    assert report["candidate_file"] == str(result.candidate_file)
    # The server keeps serving the collaborative ranker.
    assert skus(book_service(store, model_path), "g2-0")[:2] == [book(2, 6), book(2, 7)]


def test_the_tolerance_decides_and_a_first_model_needs_no_comparison(store, model_path):
    trainer = book_service(store, model_path)
    first = run_gate(trainer, candidate_config=POPULARITY_ONLY)
    assert first.decision == "accepted" and first.serving is None
    assert first.reason == "no served model to compare with"
    assert model_path.exists()
    trainer.save()
    lenient = run_gate(trainer, candidate_config=POPULARITY_ONLY, tolerance=0.6)
    assert lenient.decision == "accepted"  # 0.41 >= 1.0 - 0.6 and 0.575 >= 0.4
    assert lenient.reason == "candidate not worse on ndcg@10 and hr@10 (tolerance 0.6)"
    assert ServedRanker.load(model_path).blend == {"pop": 1.0}
    # newest first
    assert [r["decision"] for r in read_reports(model_path.parent)] == ["accepted", "accepted"]


# -- the window ---------------------------------------------------------------------------------

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = END - timedelta(days=7)  # the window's first moment


def event(user: str, sku: str, ts: datetime, type: str = "view") -> Interaction:
    return Interaction(user, sku, type, ts)


def test_the_window_starts_exactly_holdout_days_before_the_newest_event():
    before = event("a", "X", START - timedelta(microseconds=1))
    at_start = event("a", "Y", START.replace(tzinfo=None))  # SQLite hands back naive UTC times
    again = event("a", "X", END - timedelta(hours=1), "purchase")  # already seen: no target
    newest = event("a", "Z", END)
    newcomer = event("b", "Y", START + timedelta(days=1))  # no history before: not judged
    split = time_window_split([before, at_start, again, newest, newcomer], holdout_days=7)
    assert split.method == TIME_WINDOW
    assert (split.window_start, split.window_end) == (START, END)
    assert split.train == [before]
    assert split.targets == {"a": ["Y", "Z"]}
    assert split.held_out_events == 4 and split.shoppers_with_history == 1


def test_too_few_judged_shoppers_fall_back_to_each_shoppers_newest_product():
    c = [
        event("c", "P", START),
        event("c", "Q", START + timedelta(minutes=1)),
        event("c", "P", START + timedelta(minutes=2), "click"),
        event("c", "R", START + timedelta(minutes=3)),
        event("c", "R", START + timedelta(minutes=4), "add_to_cart"),
    ]
    one_product = [event("d", "P", START), event("d", "P", END, "purchase")]
    direct = leave_last_out_split(c + one_product)
    assert direct.train == c[:3] + one_product  # d has nothing to hold out: all trains
    assert direct.targets == {"c": ["R"]} and direct.held_out_events == 2

    split = holdout_split(c + one_product, holdout_days=7, min_shoppers=20)
    assert split.method == LEAVE_LAST_OUT and split.targets == {"c": ["R"]}
    assert split.note == (
        "only 0 shoppers had events both before and in the last 7 days (fewer than 20): "
        "judged on each shopper's newest product instead"
    )
    assert split.window_start is None and split.asked_at is None


def test_the_gate_reports_the_fallback_when_the_window_is_thin(store, model_path):
    trainer = book_service(store, model_path)
    trainer.save()
    result = run_gate(trainer, min_shoppers=41)  # 40 readers in the window: one short
    assert result.holdout is not None and result.holdout["method"] == LEAVE_LAST_OUT
    assert result.holdout["note"].startswith("only 40 shoppers had events both before and in")
    # each reader's sixth book is held out, with the five before it trained on
    assert result.holdout["shoppers_judged"] == 40 and result.holdout["train_events"] == 200
    assert result.decision == "accepted"  # the same configuration: equal metrics


# -- the command --------------------------------------------------------------------------------


@pytest.fixture()
def cli_env(store, tmp_path, monkeypatch):
    """`daogou` as run from a shell against the book shop, with var/ in tmp_path."""
    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'books.db'}")
    monkeypatch.setenv("DAOGOU_RECS_HOLDOUT_DAYS", "7")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_the_command_exits_0_when_published_3_when_refused_1_when_busy(cli_env, capsys):
    model = cli_env.var_dir / "recs" / "model.npz"
    assert recs_cli.main(["recs", "train"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("recommender accepted: no served model to compare with\n")
    assert "candidate     1.0000    1.0000" in out  # NDCG@10, HR@10
    served = model.read_bytes()

    # The same configuration cannot beat itself by 0.5: refused, the served file untouched.
    assert recs_cli.main(["recs", "train", "--tolerance", "-0.5"]) == recs_cli.EXIT_REFUSED
    out = capsys.readouterr().out
    assert out.startswith("recommender refused: candidate worse than the served model: ")
    assert "serving       1.0000    1.0000" in out and "candidate written to" in out
    assert model.read_bytes() == served

    with recs_cli.training_lease(cli_env) as held:
        assert held
        assert recs_cli.main(["recs", "train", "--ungated"]) == recs_cli.EXIT_BUSY
    assert "another recommender training is running" in capsys.readouterr().err
    assert recs_cli.main(["recs", "train", "--ungated"]) == 0
    assert model.read_bytes() != served
    capsys.readouterr()

    assert recs_cli.main(["recs", "reports", "--last", "2"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["decision"] for r in reports] == ["ungated", "refused"]
    assert reports[1]["tolerance"] == -0.5 and reports[1]["holdout"]["days"] == 7.0


def test_the_command_refuses_bad_input_with_exit_2(cli_env, capsys):
    assert recs_cli.main(["recs", "train", "--holdout-days", "0"]) == recs_cli.EXIT_BAD_INPUT
    assert recs_cli.main(["recs", "reports", "--last", "0"]) == recs_cli.EXIT_BAD_INPUT
    assert not (cli_env.var_dir / "recs" / "model.npz").exists()


def test_the_als_engine_is_passed_only_to_a_ranker_that_takes_one():
    import inspect

    if "als_engine" in inspect.signature(ServedRanker).parameters:
        assert engine_option("spark") == {"als_engine": "spark"}
    else:
        assert engine_option("inprocess") == {}
        with pytest.raises(ValueError, match="in-process only"):
            engine_option("spark")

"""daogou/nlu/retrain.py without Rasa: the decision, annotations winning over the examples they
correct, what a model was trained on, the bot's own project and its split, loading into several
servers, and which candidates are kept. (tests/e2e/test_nlu_gate.py runs the whole loop.)"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest
import yaml

from daogou.nlu import botprep, retrain
from daogou.nlu.retrain import Conversations, NluScores, decide
from daogou.settings import load_settings

NLU = """version: "3.1"
nlu:
  - intent: search_product
    examples: |
      - 有没有[华为](brand)[手机](category)
      - 平板寄出来没有
  - intent: greet
    examples: |
      - 你好
  - synonym: 华为
    examples: |
      - 华维
"""


def test_accepted_only_when_nothing_drops_and_every_conversation_passes():
    serving = NluScores(intent_macro_f1=0.95, entity_f1=0.90)
    same = decide(NluScores(0.95, 0.90), serving, Conversations(3, 3))
    assert (same.accepted, same.name, same.reasons) == (True, "accepted", [])
    worse = decide(NluScores(0.949, 0.95), serving, Conversations(3, 3))
    assert worse.name == "refused"
    assert worse.reasons == ["意图 macro-F1 下降：0.950 → 0.949"]
    entities = decide(NluScores(0.97, 0.85), serving, None)
    assert entities.reasons == ["实体 F1 下降：0.900 → 0.850"]
    failed = decide(NluScores(0.97, 0.95), serving, Conversations(1, 3, ["goodbye", "greet"]))
    assert failed.reasons == ["对话测试未全部通过（1/3）：goodbye、greet"]
    assert decide(NluScores(0.94, 0.89), serving, None, tolerance=0.011).accepted
    assert decide(NluScores(0.95, None), serving, None).accepted  # no entity to compare


def test_plain_text_of_annotated_examples():
    assert retrain.plain_text("有没有[华为](brand)[手机](category)") == "有没有华为手机"
    assert retrain.plain_text('[三千]{"entity": "price", "role": "max"}以内') == "三千以内"
    assert retrain.nlu_texts([]) == set()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_annotations_win_over_the_examples_they_correct(tmp_path):
    data = write(tmp_path / "data" / "nlu.yml", NLU)
    rules = write(tmp_path / "data" / "rules.yml", 'version: "3.1"\nrules: []\n')
    heldout = write(
        tmp_path / "heldout.yml",
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - 你好\n      - 在吗\n',
    )
    annotations = write(
        tmp_path / "console_annotations.yml",
        'version: "3.1"\nnlu:\n  - intent: order_status\n    examples: |\n'
        "      - [平板](category)寄出来没有\n  - intent: greet\n    examples: |\n      - 在吗\n",
    )
    project = retrain.Project(
        config=tmp_path / "config.yml", domain=tmp_path / "domain", training_data=(tmp_path / "data",),
        heldout=heldout, work_dir=tmp_path / "work", annotations=annotations,
    )  # fmt: skip
    paths, run_heldout, counts = retrain.corrected_data(project, tmp_path / "run")
    assert counts == {"annotations": 2, "replaced_training": 1, "dropped_heldout": 1}
    assert paths[-1] == annotations and rules in paths and data not in paths
    filtered = next(p for p in paths if p.name.endswith("nlu.yml"))
    doc = yaml.safe_load(filtered.read_text(encoding="utf-8"))
    assert doc["nlu"][0]["examples"] == "- 有没有[华为](brand)[手机](category)\n"
    assert doc["nlu"][2] == {"synonym": "华为", "examples": "- 华维\n"}  # not an intent: kept
    assert retrain.nlu_texts([run_heldout]) == {"你好"}
    inside = write(tmp_path / "data" / "console_annotations.yml", annotations.read_text())
    merged, _, _ = retrain.corrected_data(
        dataclasses.replace(project, annotations=inside), tmp_path / "run1"
    )
    assert merged.count(inside) == 1 and merged[-1] == inside  # once, whole
    inside.unlink()
    unannotated = dataclasses.replace(project, annotations=tmp_path / "none.yml")
    assert retrain.corrected_data(unannotated, tmp_path / "run2")[:2] == ([data, rules], heldout)


def test_a_models_record_says_whether_it_saw_the_held_out_examples(tmp_path):
    model = write(tmp_path / "m.tar.gz", "model bytes")
    heldout = write(tmp_path / "heldout.yml", NLU)
    assert retrain.saw_heldout(model, heldout) is None  # no record
    retrain.write_record(model, {"你好"})
    assert retrain.record_path(model).name == "m.gate.json"
    assert retrain.saw_heldout(model, heldout) is True
    retrain.write_record(model, {"别的"})
    assert retrain.saw_heldout(model, heldout) is False
    model.write_text("retrained by someone else", encoding="utf-8")
    assert retrain.saw_heldout(model, heldout) is None  # the record is another file's


@pytest.fixture()
def bot_settings(tmp_path):
    """Settings over a var folder of this test, with var/bot prepared as botprep leaves it."""
    settings = dataclasses.replace(load_settings(), var_dir=tmp_path / "var", annotations_file=None)
    out = botprep.bot_dir(settings)
    write(out / "config.yml", "recipe: default.v1\n")
    write(out / "data" / "generated_nlu.yml", 'version: "3.1"\nnlu: []\n')
    return settings


def test_the_bots_project_splits_the_hand_written_examples_without_the_annotations(bot_settings):
    project = retrain.bot_project(bot_settings, serving_saw_heldout=None)
    split = botprep.bot_dir(bot_settings) / "retrain" / "split"
    assert project.heldout == split / "heldout" / "test_nlu.yml"
    assert project.training_data[-1] == split / "data" / "handwritten_train.yml"
    assert botprep.BOT / "data" / "rules.yml" in project.training_data
    assert botprep.bot_dir(bot_settings) / "data" / "generated_nlu.yml" in project.training_data
    assert project.annotations == botprep.BOT / "data" / "nlu" / "console_annotations.yml"
    assert project.promote_to == botprep.model_path(bot_settings)
    assert project.config == botprep.bot_dir(bot_settings) / "config.yml"
    held, trained = retrain.nlu_texts([project.heldout]), retrain.nlu_texts([split / "data"])
    assert held and trained and not held & trained
    everything = retrain.nlu_texts([botprep.BOT / "data" / "nlu"])
    assert held | trained == everything - retrain.nlu_texts([project.annotations])
    lines = yaml.safe_load(project.heldout.read_text(encoding="utf-8"))["nlu"][0]["examples"]
    assert all(botprep._held_out(line.strip()) for line in lines.splitlines())  # botprep's rule


def test_botprep_stamp_tells_whether_its_model_saw_the_held_out_examples(bot_settings):
    assert retrain.botprep_saw_heldout(bot_settings) is None  # no model stamp
    stamp = botprep.model_path(bot_settings).with_suffix(".fingerprint")
    write(stamp, botprep.fingerprint(bot_settings))
    assert retrain.botprep_saw_heldout(bot_settings) is True  # trained on everything
    write(botprep.bot_dir(bot_settings) / "data" / "handwritten_train.yml", 'version: "3.1"\n')
    assert retrain.botprep_saw_heldout(bot_settings) is None  # inputs changed since
    write(stamp, botprep.fingerprint(bot_settings))
    assert retrain.botprep_saw_heldout(bot_settings) is False  # trained on the split


def test_loading_goes_server_by_server_and_stops_at_the_first_failure(tmp_path, monkeypatch):
    calls = []

    def put(url, params, json, timeout):
        calls.append((url, params, json))
        status = 204 if "rasa-1" in url else 400
        return httpx.Response(status, text="" if status == 204 else '{"reason": "BadRequest"}')

    monkeypatch.setattr(httpx, "put", put)
    model = tmp_path / "c.tar.gz"
    urls = ["http://rasa-1:5005/", "http://rasa-2:5005", "http://rasa-3:5005"]
    results = retrain.load_into(model, urls, token="t")
    assert [c[0] for c in calls] == ["http://rasa-1:5005/model", "http://rasa-2:5005/model"]
    assert calls[0][1:] == ({"token": "t"}, {"model_file": str(model.resolve())})
    assert [(r["url"], r["status"]) for r in results] == [(urls[0], 204), (urls[1], 400)]
    assert results[0]["error"] is None and "BadRequest" in results[1]["error"]


def test_candidates_are_pruned_to_the_newest_but_never_a_served_one(tmp_path):
    folder = tmp_path / "candidates"
    for stamp in ("1", "2", "3", "4"):
        write(folder / f"{stamp}.tar.gz", stamp)
        write(folder / f"{stamp}.gate.json", "{}")
    retrain.prune_candidates(folder, keep=2, protect={folder / "1.tar.gz"})
    assert sorted(p.name for p in folder.iterdir()) == [
        "1.gate.json", "1.tar.gz", "3.gate.json", "3.tar.gz", "4.gate.json", "4.tar.gz",
    ]  # fmt: skip


def test_the_summary_shows_both_models_and_why(tmp_path):
    report = {
        "stamp": "20261205T080000000000Z",
        "decision": "refused",
        "reasons": ["意图 macro-F1 下降：1.000 → 0.297"],
        "notes": [],
        "serving": {"intent_macro_f1": 1.0, "entity_f1": None},
        "candidate": {"model": "/c.tar.gz", "intent_macro_f1": 0.296667, "entity_f1": None,
                      "conversations": {"passed": 1, "total": 3, "failed": ["goodbye"]}},
        "loaded_into": [],
    }  # fmt: skip
    text = retrain.summary(report)
    assert "serving                          1.000          —" in text
    assert "candidate                        0.297          —" in text
    assert "conversation tests    1/3" in text and "  - 意图 macro-F1 下降：1.000 → 0.297" in text
    written = retrain.write_report(tmp_path, report)
    assert written == tmp_path / "retrain" / "20261205T080000000000Z.json"
    assert json.loads(written.read_text(encoding="utf-8")) == report

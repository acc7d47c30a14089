"""A model the gated NLU retrain promoted stays the served model: `daogou bot train` (which
`make run` and `make train` call) keeps it while its inputs are unchanged, also after staff
export more annotations (those go through the gate), and trains again only when another input
changes. No Rasa: the candidate's training and scoring, and `rasa train`, are fakes that write
a model file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from daogou.nlu import botprep, retrain
from daogou.nlu.retrain import NluScores
from daogou.settings import Settings, load_settings

ANNOTATIONS = """version: "3.1"
nlu:
  - intent: order_status
    examples: |
      - 平板寄出来没有
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def settings(tmp_path) -> Settings:
    """var/bot as botprep prepares it, with the console's export among the training inputs
    (as bot/data/nlu/console_annotations.yml is by default) but inside this test's folder."""
    base = dataclasses.replace(load_settings(), var_dir=tmp_path / "var")
    out = botprep.bot_dir(base)
    write(out / "config.yml", "recipe: default.v1\n")
    write(out / "data" / "generated_nlu.yml", 'version: "3.1"\nnlu: []\n')
    return dataclasses.replace(base, annotations_file=out / "data" / "console_annotations.yml")


@pytest.fixture()
def rasa_trainings(settings, monkeypatch) -> list[list[str]]:
    """`rasa train` as botprep.train runs it: each call writes an ungated model."""
    calls: list[list[str]] = []

    def run(args, **kwargs):
        calls.append(args)
        write(botprep.model_path(settings), f"ungated model {len(calls)}")

    monkeypatch.setattr(botprep.subprocess, "run", run)
    return calls


@pytest.fixture()
def fake_gate(monkeypatch) -> None:
    """The gate's Rasa steps: a candidate file with its record, equal scores (so accepted)."""

    def train_model(config, domain, data, out, log=None):
        write(out, f"gated candidate {out.name}")
        retrain.write_record(out, retrain.nlu_texts(data))
        return out

    monkeypatch.setattr(retrain, "train_model", train_model)
    monkeypatch.setattr(retrain, "score_nlu", lambda *args, **kw: NluScores(0.9, 0.8))
    monkeypatch.setattr(retrain, "score_candidate", lambda *args, **kw: (NluScores(0.9, 0.8), None))


def model_text(settings: Settings) -> str:
    return botprep.model_path(settings).read_text(encoding="utf-8")


def test_bot_train_keeps_the_promoted_model_until_an_input_other_than_the_annotations_changes(
    settings, rasa_trainings, fake_gate, capsys
):
    model = botprep.model_path(settings)
    assert botprep.train(settings) is True  # the first, ungated model
    assert botprep.read_stamp(model) == botprep.TrainingStamp(botprep.fingerprint(settings))
    assert botprep.train(settings) is False and len(rasa_trainings) == 1

    # Staff export annotations, and the gate accepts a candidate trained with them.
    write(settings.annotations_file, ANNOTATIONS)
    report = retrain.retrain(retrain.bot_project(settings, None), model)
    assert (report["decision"], report["promoted_to"]) == ("accepted", str(model))
    promoted = f"gated candidate {report['stamp']}.tar.gz"
    assert model_text(settings) == promoted
    stamp = botprep.read_stamp(model)
    assert stamp == botprep.TrainingStamp(
        inputs=botprep.fingerprint(settings),
        without_annotations=botprep.fingerprint(settings, without=settings.annotations_file),
        gated_report=report["stamp"],
    )
    assert stamp.inputs != botprep.fingerprint(settings, without=settings.annotations_file)
    assert retrain.saw_heldout(model, Path(report["heldout"]["path"])) is False  # its record
    assert retrain.botprep_saw_heldout(settings) is None  # not botprep's model: the record tells

    # `make run` afterwards: the promoted model is current, nothing is trained.
    assert botprep.train(settings) is False
    assert (len(rasa_trainings), model_text(settings)) == (1, promoted)

    # More annotations exported since: they wait for the next gated retrain.
    write(settings.annotations_file, ANNOTATIONS + "      - 我买的耳机呢\n")
    assert botprep.train(settings) is False
    assert (len(rasa_trainings), model_text(settings)) == (1, promoted)
    assert f"gated retrain ({report['stamp']})" in capsys.readouterr().err

    # The catalog changed (new words in the generated examples): an ungated training is due.
    write(botprep.bot_dir(settings) / "data" / "generated_nlu.yml", 'version: "3.1"\nnlu: []\n#\n')
    assert botprep.train(settings) is True
    assert (len(rasa_trainings), model_text(settings)) == (2, "ungated model 2")
    assert botprep.read_stamp(model) == botprep.TrainingStamp(botprep.fingerprint(settings))
    assert retrain.botprep_saw_heldout(settings) is True  # trained on every example

    # An ungated model follows its inputs, annotations included.
    write(settings.annotations_file, ANNOTATIONS)
    assert botprep.train(settings) is True and len(rasa_trainings) == 3
    assert botprep.train(settings, force=True) is True and len(rasa_trainings) == 4


def test_a_bare_fingerprint_is_the_stamp_of_an_ungated_model(settings, rasa_trainings):
    model = write(botprep.model_path(settings), "trained before the gate existed")
    write(botprep.stamp_path(model), botprep.fingerprint(settings))
    assert botprep.read_stamp(model) == botprep.TrainingStamp(botprep.fingerprint(settings))
    assert botprep.train(settings) is False and rasa_trainings == []
    write(botprep.stamp_path(model), "{not json")
    assert botprep.read_stamp(model) is None
    assert botprep.train(settings) is True and len(rasa_trainings) == 1


def test_a_refused_or_dry_run_leaves_the_model_and_its_stamp(settings, rasa_trainings, fake_gate):
    model = botprep.model_path(settings)
    botprep.train(settings)
    before = botprep.stamp_path(model).read_text(encoding="utf-8")
    write(settings.annotations_file, ANNOTATIONS)
    report = retrain.retrain(retrain.bot_project(settings, None), model, dry_run=True)
    assert (report["decision"], report["promoted_to"]) == ("accepted", None)
    assert model_text(settings) == "ungated model 1"
    assert botprep.stamp_path(model).read_text(encoding="utf-8") == before

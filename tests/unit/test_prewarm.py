"""The search index built beside Rasa's training (daogou/prewarm.py)."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest

from daogou import prewarm
from daogou.settings import load_settings
from search.hybrid import INDEX_FILES


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
    with prewarm.search_index_alongside(settings):
        pass  # Rasa's training runs here
    assert built == [("actions", "search-index")]
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
    with prewarm.search_index_alongside(settings):
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
    with prewarm.search_index_alongside(settings):
        finished = True
    assert finished
    err = capsys.readouterr().err
    assert "the search index was not built (E5 model folder missing)" in err
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

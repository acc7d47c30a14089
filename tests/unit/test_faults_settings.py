"""DAOGOU_ACTION_TIMEOUT_SECONDS reaches Rasa: the setting (2.5 s by default) is rendered into
the endpoints file as the action endpoint's `timeout`, which bot/patches/action_timeout.py
reads (tests/rasa/test_action_timeout.py)."""

from __future__ import annotations

import yaml

from daogou.nlu import botprep
from daogou.settings import load_settings


def test_the_action_timeout_defaults_to_two_and_a_half_seconds(monkeypatch):
    monkeypatch.delenv("DAOGOU_ACTION_TIMEOUT_SECONDS", raising=False)
    settings = load_settings()
    assert settings.action_timeout_seconds == 2.5
    assert botprep.endpoints(settings)["action_endpoint"] == {
        "url": settings.action_server_url,
        "timeout": 2.5,
    }


def test_the_action_timeout_setting_is_written_into_the_endpoints_file(monkeypatch, tmp_path):
    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    monkeypatch.setenv("DAOGOU_ACTION_TIMEOUT_SECONDS", "1.5")
    path = botprep.write_endpoints(load_settings())
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["action_endpoint"]["timeout"] == 1.5

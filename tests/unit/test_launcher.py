"""The launcher's command lines survive any generated secret: a url-safe token may start with
"-", which argparse would read as an option if passed as its own argument."""

from __future__ import annotations

import dataclasses

from daogou.launcher import service_specs
from daogou.settings import load_settings


def test_a_token_starting_with_a_dash_reaches_rasa_as_a_value(monkeypatch, tmp_path):
    monkeypatch.setenv("RASA_TOKEN", "-Ab_cd-ef")
    settings = dataclasses.replace(load_settings(), var_dir=tmp_path)
    [rasa] = [s for s in service_specs(settings) if s.name == "rasa"]
    assert "--auth-token=-Ab_cd-ef" in rasa.args
    assert "-Ab_cd-ef" not in rasa.args  # never as an argument of its own

"""The launcher's command lines survive any generated secret: a url-safe token may start with
"-", which argparse would read as an option if passed as its own argument."""

from __future__ import annotations

import dataclasses
import socket

from daogou import launcher
from daogou.launcher import service_specs
from daogou.settings import load_settings


def test_a_token_starting_with_a_dash_reaches_rasa_as_a_value(monkeypatch, tmp_path):
    monkeypatch.setenv("RASA_TOKEN", "-Ab_cd-ef")
    settings = dataclasses.replace(load_settings(), var_dir=tmp_path)
    [rasa] = [s for s in service_specs(settings) if s.name == "rasa"]
    assert "--auth-token=-Ab_cd-ef" in rasa.args
    assert "-Ab_cd-ef" not in rasa.args  # never as an argument of its own


# -- free_port: the ports a run's own services get (benchmarks, tests) --------------------------


def test_ports_are_distinct_free_and_outside_the_ephemeral_range():
    ports = [launcher.free_port() for _ in range(50)]
    assert len(set(ports)) == 50  # two picks in a row are never the same port
    assert all(12000 <= port < 20000 for port in ports)  # no client socket holds one
    for port in ports[:5]:
        with socket.socket() as sock:
            sock.bind(("0.0.0.0", port))  # bindable as Rasa binds


def test_a_port_someone_listens_on_is_skipped(monkeypatch):
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        held.listen()
        taken = held.getsockname()[1]
        picks = iter([taken, taken + 1 if taken + 1 < 20000 else 12000])
        monkeypatch.setattr(launcher._chance, "randrange", lambda start, stop: next(picks))
        monkeypatch.setattr(launcher, "_OWN_PORTS", range(0, 65536))
        assert launcher.free_port() != taken

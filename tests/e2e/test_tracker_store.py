"""The endpoints that point Rasa at bot/tracker_store.py. The store itself is tested against
Rasa's own SQL store in the Rasa environment: tests/rasa/test_tracker_store.py."""

from __future__ import annotations

import yaml

from daogou.nlu import botprep
from daogou.settings import load_settings


def test_endpoints_use_the_cached_store_and_pass_a_database_host_as_url():
    settings = load_settings()
    local = botprep.endpoints(settings)["tracker_store"]
    assert local["type"] == botprep.TRACKER_STORE and local["dialect"] == "sqlite"
    remote = botprep.endpoints(
        settings.__class__(**{**vars(settings), "tracker_db_url": "postgresql://u:p@db:5433/rasa"})
    )["tracker_store"]
    # Rasa calls the store with host=<endpoint url>: a `host` key as well would be passed twice
    assert "host" not in remote
    assert (remote["url"], remote["port"], remote["db"], remote["dialect"]) == (
        "db", 5433, "rasa", "postgresql",
    )  # fmt: skip


def test_endpoints_file_follows_the_current_settings(tmp_path):
    settings = load_settings()
    moved = settings.__class__(
        **{**vars(settings), "var_dir": tmp_path, "action_server_url": "http://10.0.0.7:6055/webhook",
           "tracker_db_url": f"sqlite:///{tmp_path / 'tracker.db'}"}
    )  # fmt: skip
    path = botprep.write_endpoints(moved)
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["action_endpoint"]["url"] == "http://10.0.0.7:6055/webhook"
    assert written["tracker_store"]["db"] == str(tmp_path / "tracker.db")

from __future__ import annotations

import dataclasses
import os

import pytest

from daogou.container import Services, build_services
from daogou.settings import load_settings
from knowledge_graph.orders import OrderStore
from knowledge_graph.service import CatalogService, CatalogView
from knowledge_graph.store import CatalogStore
from tests.fixtures import BigramEncoder, mini_catalog

# tests/rasa runs under the Rasa environment's Python (`make test`), not this one; tests/cluster
# starts a whole cluster and runs in `make test-cluster` only (named explicitly, it is collected).
collect_ignore = ["rasa", "cluster"]

# Web apps started by the tests (and their children) never run the nightly retention job: a run
# crossing 03:30 would delete the seed's year-old events under a test. tests/unit/
# test_retention.py schedules it explicitly.
os.environ.setdefault("DAOGOU_RETENTION_AT", "")
os.environ.setdefault("DAOGOU_RECS_TRAIN_AT", "")  # nor the daily recommender retrain


@pytest.fixture()
def mini_store(tmp_path) -> CatalogStore:
    store = CatalogStore.from_url(f"sqlite:///{tmp_path / 'mini.db'}")
    store.create_schema()
    catalog = mini_catalog()
    store.load_catalog(catalog)
    OrderStore(store).load(catalog["orders"])
    return store


@pytest.fixture()
def mini_service(mini_store) -> CatalogService:
    return CatalogService(mini_store, check_interval=0.0)


@pytest.fixture()
def mini_view(mini_service) -> CatalogView:
    return mini_service.current()


@pytest.fixture()
def mini_services(mini_store, tmp_path) -> Services:
    """The composition root over the mini catalog: the stand-in encoder, a private var/, and
    no Rasa or action server to reach (nothing listens on port 9)."""
    settings = dataclasses.replace(
        load_settings(),
        var_dir=tmp_path,
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9/webhook",
    )
    return build_services(
        settings, store=mini_store, encoder=BigramEncoder(), catalog_check_interval=0.0
    )

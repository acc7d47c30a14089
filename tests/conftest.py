from __future__ import annotations

import pytest

from knowledge_graph.service import CatalogService, CatalogView
from knowledge_graph.store import CatalogStore
from tests.fixtures import mini_catalog

# tests/rasa runs under the Rasa environment's Python (`make test`), not this one.
collect_ignore = ["rasa"]


@pytest.fixture()
def mini_store(tmp_path) -> CatalogStore:
    store = CatalogStore.from_url(f"sqlite:///{tmp_path / 'mini.db'}")
    store.create_schema()
    store.load_catalog(mini_catalog())
    return store


@pytest.fixture()
def mini_service(mini_store) -> CatalogService:
    return CatalogService(mini_store, check_interval=0.0)


@pytest.fixture()
def mini_view(mini_service) -> CatalogView:
    return mini_service.current()

"""FastAPI dependencies: the shared store and catalog service of this process."""

from __future__ import annotations

from fastapi import Request

from daogou.settings import Settings
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore


def get_store(request: Request) -> CatalogStore:
    return request.app.state.store


def get_catalog(request: Request) -> CatalogService:
    return request.app.state.catalog


def get_settings(request: Request) -> Settings:
    return request.app.state.settings

"""The demo storefront page at /."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["storefront"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def storefront() -> str:
    return (STATIC / "storefront.html").read_text(encoding="utf-8")

"""Search, recommendations and shopper events: /api/search, /api/recommendations, /api/events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from console.deps import get_catalog
from console.errors import ApiError
from console.schemas import ProductOut
from knowledge_graph.service import CatalogService
from search.hybrid import search_box
from search.query import understood_fields

router = APIRouter(prefix="/api", tags=["discovery"])


class ScoredProduct(ProductOut):
    score: float


class RecommendedProduct(ScoredProduct):
    reason: str


class SearchList(BaseModel):
    items: list[ScoredProduct]
    total: int
    understood: dict[str, Any] = Field(default_factory=dict)
    # Set when nothing met every constraint: the one dropped ("price", "brand", "colour" or
    # "category") to show the nearest products instead.
    relaxed: str | None = None


class RecommendationList(BaseModel):
    items: list[RecommendedProduct]
    total: int


class EventIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    type: Literal["impression", "view", "click", "add_to_cart", "purchase"]
    source: Literal["chat", "widget", "storefront"] = "storefront"


@router.get("/search", response_model=SearchList)
def search(
    request: Request,
    catalog: Annotated[CatalogService, Depends(get_catalog)],
    q: Annotated[str, Query(max_length=200)] = "",
    k: Annotated[int, Query(ge=1)] = 10,
    category: Annotated[str | None, Query(max_length=64)] = None,
    brand: Annotated[str | None, Query(max_length=64)] = None,
    min_price: Annotated[float | None, Query(ge=0)] = None,
    max_price: Annotated[float | None, Query(ge=0)] = None,
) -> SearchList:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ApiError(400, "invalid_parameter", "min_price must not be greater than max_price")
    explicit = {
        "category": category or None,
        "brands": [brand] if brand else None,
        "min_price": min_price,
        "max_price": max_price,
    }
    answer = search_box(request.app.state.search(), catalog.current(), q, min(k, 100), explicit)
    filters = answer.understood
    items = [ScoredProduct(**h.product, score=round(h.score, 6)) for h in answer.hits]
    return SearchList(
        items=items,
        total=len(items),
        understood=understood_fields(filters),
        relaxed=answer.relaxed,
    )


@router.get("/recommendations", response_model=RecommendationList)
def recommendations(
    request: Request,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    k: Annotated[int, Query(ge=1)] = 10,
    context_sku: Annotated[str | None, Query(max_length=64)] = None,
) -> RecommendationList:
    catalog: CatalogService = request.app.state.catalog
    if context_sku and context_sku not in catalog.current().graph.products:
        raise ApiError(404, "product_not_found", f"没有找到商品 {context_sku}")
    recs = request.app.state.recommendations().recommend(
        user_id, k=min(k, 100), context_sku=context_sku
    )
    items = [
        RecommendedProduct(**r.product, score=round(r.score, 6), reason=r.reason) for r in recs
    ]
    return RecommendationList(items=items, total=len(items))


@router.post("/events", status_code=202)
def post_event(request: Request, event: EventIn) -> dict[str, str]:
    client = request.client.host if request.client else "unknown"
    if not request.app.state.event_limiter.allow(client):
        raise ApiError(429, "rate_limited", "请求太频繁，请稍后再试")
    catalog: CatalogService = request.app.state.catalog
    if event.sku not in catalog.current().graph.products:
        raise ApiError(404, "product_not_found", f"没有找到商品 {event.sku}")
    request.app.state.events.record(event.user_id, event.sku, event.type, event.source)
    return {"status": "accepted"}

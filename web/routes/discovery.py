"""Search, recommendations and shopper events: /api/search, /api/recommendations, /api/events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from search.hybrid import search_box
from search.query import understood_fields
from web.deps import CatalogDep, EventsDep, RecommendationsDep, SearchDep, WebStateDep
from web.errors import ApiError
from web.schemas import EventIn, RecommendationList, RecommendedProduct, ScoredProduct, SearchList

router = APIRouter(prefix="/api", tags=["discovery"])


@router.get("/search", response_model=SearchList)
def search(
    catalog: CatalogDep,
    product_search: SearchDep,
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
    answer = search_box(product_search, catalog.current(), q, min(k, 100), explicit)
    items = [ScoredProduct(**h.product.to_dict(), score=round(h.score, 6)) for h in answer.hits]
    return SearchList(
        items=items,
        total=len(items),
        understood=understood_fields(answer.understood),
        relaxed=answer.relaxed,
    )


@router.get("/recommendations", response_model=RecommendationList)
def recommendations(
    catalog: CatalogDep,
    ranker: RecommendationsDep,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    k: Annotated[int, Query(ge=1)] = 10,
    context_sku: Annotated[str | None, Query(max_length=64)] = None,
) -> RecommendationList:
    if context_sku and context_sku not in catalog.current().graph.products:
        raise ApiError(404, "product_not_found", f"没有找到商品 {context_sku}")
    recs = ranker.recommend(user_id, k=min(k, 100), context_sku=context_sku)
    items = [
        RecommendedProduct(**r.product.to_dict(), score=round(r.score, 6), reason=r.reason)
        for r in recs
    ]
    return RecommendationList(items=items, total=len(items))


@router.post("/events", status_code=202)
def post_event(
    request: Request, event: EventIn, web: WebStateDep, catalog: CatalogDep, events: EventsDep
) -> dict[str, str]:
    client = request.client.host if request.client else "unknown"
    if not web.event_limiter.allow(client):
        raise ApiError(429, "rate_limited", "请求太频繁，请稍后再试")
    if event.sku not in catalog.current().graph.products:
        raise ApiError(404, "product_not_found", f"没有找到商品 {event.sku}")
    events.record(event.user_id, event.sku, event.type, event.source)
    return {"status": "accepted"}

"""Catalog reads: GET /api/products and GET /api/products/{sku}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from console.deps import get_store
from console.errors import ApiError
from console.schemas import ProductDetailOut, ProductList
from knowledge_graph.store import CatalogStore, NotFound

router = APIRouter(prefix="/api/products", tags=["products"])

MAX_LIMIT = 100


@router.get("", response_model=ProductList)
def list_products(
    store: Annotated[CatalogStore, Depends(get_store)],
    category: Annotated[str | None, Query(max_length=64)] = None,
    brand: Annotated[str | None, Query(max_length=64)] = None,
    min_price: Annotated[float | None, Query(ge=0)] = None,
    max_price: Annotated[float | None, Query(ge=0)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProductList:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ApiError(400, "invalid_parameter", "min_price must not be greater than max_price")
    page = store.list_products(
        category=category or None,
        brand=brand or None,
        min_price=min_price,
        max_price=max_price,
        q=(q or "").strip() or None,
        limit=min(limit, MAX_LIMIT),
        offset=offset,
    )
    return ProductList(items=page.items, total=page.total)


@router.get("/{sku}", response_model=ProductDetailOut)
def get_product(sku: str, store: Annotated[CatalogStore, Depends(get_store)]) -> ProductDetailOut:
    try:
        return ProductDetailOut(**store.get_product(sku))
    except NotFound:
        raise ApiError(404, "product_not_found", f"没有找到商品 {sku}") from None

"""The catalog over HTTP: reads for anyone; create, edit and delete for merchants (their own
products) and admins, each change audited; the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from knowledge_graph.product import Product
from knowledge_graph.store import Conflict, InvalidProduct, NotFound
from web.auth import Principal
from web.deps import MerchantDep, StoreDep
from web.errors import ApiError
from web.schemas import (
    AuditList,
    AuditOut,
    ProductCreate,
    ProductDetailOut,
    ProductList,
    ProductOut,
    ProductPatch,
    RelationOut,
)

router = APIRouter(prefix="/api/products", tags=["products"])

MAX_LIMIT = 100


@router.get("", response_model=ProductList)
def list_products(
    store: StoreDep,
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
    items = [ProductOut(**p.to_dict()) for p in page.items]
    return ProductList(items=items, total=page.total)


@router.get("/{sku}", response_model=ProductDetailOut)
def get_product(sku: str, store: StoreDep) -> ProductDetailOut:
    try:
        detail = store.get_product(sku)
    except NotFound:
        raise ApiError(404, "product_not_found", f"没有找到商品 {sku}") from None
    relations = [
        RelationOut(type=r.type, sku=r.sku, direction=r.direction) for r in detail.relations
    ]
    return ProductDetailOut(**detail.product.to_dict(), relations=relations)


# -- edits (merchants: their own products; admins: all) ---------------------------------------
def _owned(store: StoreDep, sku: str, principal: Principal) -> Product:
    """The product if this user may change it: 404 when it does not exist, 403 when it is
    another merchant's."""
    try:
        product = store.get_product(sku).product
    except NotFound:
        raise ApiError(404, "product_not_found", f"没有找到商品 {sku}") from None
    if principal.role != "admin" and product.merchant_id != principal.merchant_id:
        raise ApiError(403, "forbidden", "只能修改本店的商品")
    return product


def _out(product: Product) -> ProductOut:
    return ProductOut(**product.to_dict())


@router.post("", response_model=ProductOut, status_code=201)
def create_product(body: ProductCreate, principal: MerchantDep, store: StoreDep) -> ProductOut:
    data = body.model_dump(exclude_none=True)
    if principal.role == "merchant":
        data["merchant_id"] = principal.merchant_id
    elif not data.get("merchant_id"):
        raise ApiError(422, "invalid_parameter", "管理员创建商品时需要指定 merchant_id")
    try:
        return _out(store.create_product(data, actor=principal.username))
    except Conflict:
        raise ApiError(409, "sku_exists", f"商品编号 {body.sku} 已存在") from None
    except InvalidProduct as invalid:
        raise ApiError(422, "invalid_product", str(invalid)) from None


@router.patch("/{sku}", response_model=ProductOut)
def edit_product(
    sku: str, body: ProductPatch, principal: MerchantDep, store: StoreDep
) -> ProductOut:
    _owned(store, sku, principal)
    changes = body.model_dump(exclude_none=True, exclude={"revision"})
    if not changes:
        raise ApiError(422, "invalid_parameter", "没有要修改的字段")
    try:
        product = store.update_product(
            sku, changes, expected_revision=body.revision, actor=principal.username
        )
    except Conflict:
        raise ApiError(
            409, "edit_conflict", "这件商品刚被别人修改过，请刷新后在最新版本上修改"
        ) from None
    except InvalidProduct as invalid:
        raise ApiError(422, "invalid_product", str(invalid)) from None
    return _out(product)


@router.delete("/{sku}", status_code=204)
def delete_product(sku: str, principal: MerchantDep, store: StoreDep) -> Response:
    _owned(store, sku, principal)
    try:
        store.delete_product(sku, actor=principal.username)
    except NotFound:
        raise ApiError(404, "product_not_found", f"没有找到商品 {sku}") from None
    return Response(status_code=204)


audit_router = APIRouter(prefix="/api/audit", tags=["products"])


@audit_router.get("", response_model=AuditList)
def audit_log(
    principal: MerchantDep,
    store: StoreDep,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditList:
    """Changes, newest first: a merchant sees their own products' history, an admin all."""
    merchant = None if principal.role == "admin" else principal.merchant_id
    records, total = store.audit_log(
        merchant_id=merchant, target=sku, limit=min(limit, MAX_LIMIT), offset=offset
    )
    return AuditList(items=[AuditOut(**r.__dict__) for r in records], total=total)

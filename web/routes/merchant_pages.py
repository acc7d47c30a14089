"""The merchant console: the catalog editor pages (server-rendered, htmx and
`static/console/merchant.js` on top of the JSON API).

- `/console/products`: the merchant's own products (an admin: all, or one merchant's), search,
  category and brand filters, paging; price and stock edited in the row (PATCH with the row's
  revision; a conflict reloads the row from `/console/products/{sku}/row`).
- `/console/products/new`, `/console/products/{sku}`: the product form with the attribute editor
  of the category (`/console/products/attributes?category=` re-renders it), the image (uploaded
  and removed at once through `/api/products/{sku}/image`), delete, and the relations editor
  (`/console/products/{sku}/relations` is its fragment).
- `/console/import`: upload → suggested mapping → dry-run preview → apply.
- `/console/audit`: the change log, field by field.
- `/console/accounts`: accounts (admin only).

Every page goes through `MerchantPageDep` / `AdminPageDep`; every value is rendered by Jinja
with autoescape (and by merchant.js with textContent only).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from knowledge_graph.product import Product
from knowledge_graph.store import RELATION_TYPES, AuditRecord, NotFound
from web import accounts
from web.auth import Principal
from web.deps import AdminPageDep, CatalogDep, MerchantPageDep, PageForbidden, StoreDep
from web.media import MAX_UPLOAD_BYTES, thumbnail_url
from web.routes import products as product_routes
from web.routes.console import page_context, render
from web.routes.storefront import yuan

pages = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

PAGE_SIZE = 20
AUDIT_PAGE_SIZE = 30
SHOP_TIME = ZoneInfo("Asia/Shanghai")
RELATION_NAMES = {
    "ACCESSORY_OF": "是它的配件",
    "COMPATIBLE_WITH": "适配",
    "SAME_SERIES": "同系列",
    "ALTERNATIVE_TO": "可替代",
    "BUNDLE_WITH": "搭配购买",
}
RELATION_NAMES_IN = {  # the same edges seen from their target
    "ACCESSORY_OF": "的配件",
    "COMPATIBLE_WITH": "适配本商品",
}
TYPE_NAMES = {"number": "数字", "text": "文字", "bool": "是/否", "list": "多个值"}
ACTION_NAMES = {
    "create": "新建",
    "update": "修改",
    "delete": "删除",
    "relation_add": "添加关系",
    "relation_remove": "删除关系",
    "import": "导入",
}
FIELD_NAMES = {
    "title": "名称",
    "brand": "品牌",
    "category": "品类",
    "price": "价格",
    "stock": "库存",
    "attributes": "属性",
    "tags": "标签",
    "description": "描述",
    "rating": "评分",
    "merchant_id": "商家",
    "image": "图片",
    "series": "系列",
    "model": "型号",
    "aliases": "别名",
    "relations": "关系",
    "sku": "商品编号",
}
IMPORT_TARGETS = (
    ("ignore", "不导入"),
    ("sku", "商品编号"),
    ("title", "商品名称"),
    ("brand", "品牌"),
    ("category", "品类"),
    ("price", "价格"),
    ("stock", "库存"),
    ("rating", "评分"),
    ("description", "描述"),
    ("tags", "标签"),
    ("model", "型号"),
    ("series", "系列"),
    ("image", "图片"),
    ("aliases", "别名"),
)


# -- helpers ------------------------------------------------------------------------------------
def _owner(principal: Principal, merchant: str | None) -> str | None:
    """Whose products a page shows: a merchant's own; an admin's choice (None: everyone's)."""
    if principal.role == "admin":
        return merchant or None
    return principal.merchant_id


def _may_edit(principal: Principal, product: Product) -> bool:
    return principal.role == "admin" or product.merchant_id == principal.merchant_id


def _shop_time(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(SHOP_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _plain(value: Any) -> str:
    """A stored value as one line of text (escaped by the template, never trusted)."""
    if value is None or value == "" or value == [] or value == {}:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "、".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "…"


def _relation_text(edge: dict[str, str], sku: str) -> str:
    name = RELATION_NAMES.get(edge["type"], edge["type"])
    if edge["source"] == sku:
        return f"{name} {edge['target']}"
    return f"{edge['source']} {name} 本商品"


def audit_changes(record: AuditRecord) -> list[dict[str, str]]:
    """What one audit entry changed, field by field: [{"field", "before", "after"}]."""
    before, after = record.before or {}, record.after or {}
    if record.action == "create":
        keys = ["title", "brand", "category", "price", "stock"]
        return [
            {"field": FIELD_NAMES[k], "before": "", "after": _plain(after.get(k))} for k in keys
        ]
    if record.action == "delete":
        keys = ["title", "price", "stock"]
        return [
            {"field": FIELD_NAMES[k], "before": _plain(before.get(k)), "after": ""} for k in keys
        ]
    rows = []
    if "relations" in before or "relations" in after:
        old = {json.dumps(e, sort_keys=True) for e in before.get("relations") or []}
        new = {json.dumps(e, sort_keys=True) for e in after.get("relations") or []}
        for edge in sorted(new - old):
            rows.append(
                {
                    "field": "关系",
                    "before": "",
                    "after": _relation_text(json.loads(edge), record.target),
                }
            )
        for edge in sorted(old - new):
            rows.append(
                {
                    "field": "关系",
                    "before": _relation_text(json.loads(edge), record.target),
                    "after": "",
                }
            )
        return rows
    for key in FIELD_NAMES:
        if key in ("relations", "sku"):
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "attributes" and isinstance(old, dict) and isinstance(new, dict):
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    rows.append(
                        {
                            "field": f"属性 · {name}",
                            "before": _plain(old.get(name)),
                            "after": _plain(new.get(name)),
                        }
                    )
            continue
        rows.append({"field": FIELD_NAMES[key], "before": _plain(old), "after": _plain(new)})
    return rows


def _leaf_categories(catalog: CatalogDep) -> list[dict[str, Any]]:
    return [c.model_dump() for c in product_routes.leaf_categories(catalog.current().graph)]


def _page_links(request: Request, page: int, total: int, size: int) -> dict[str, Any]:
    pages_count = max(1, -(-total // size))
    params = dict(request.query_params)

    def link(number: int) -> str:
        return "?" + urlencode({**params, "page": number})

    return {
        "page": page,
        "pages": pages_count,
        "total": total,
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages_count else None,
    }


class ProductMissing(LookupError):
    """A product page of a SKU the catalog does not have: answered as a 404 page."""


def _product_or_403(store: StoreDep, sku: str, principal: Principal) -> Any:
    try:
        detail = store.get_product(sku)
    except NotFound:
        raise ProductMissing(sku) from None
    if not _may_edit(principal, detail.product):
        raise PageForbidden()
    return detail


def _missing(request: Request, principal: Principal, sku: str) -> HTMLResponse:
    context = page_context(request, principal, "/console/products", sku=sku)
    return render("console/merchant/not_found.html", context, status_code=404)


def price_value(price: float) -> str:
    """A price as a number input shows it: 5999, 89.9 (never 6e+03)."""
    return f"{price:.0f}" if round(price * 100) % 100 == 0 else f"{price:.2f}".rstrip("0")


def _common(catalog: CatalogDep) -> dict[str, Any]:
    graph = catalog.current().graph
    return {
        "yuan": yuan,
        "price_value": price_value,
        "thumbnail_url": thumbnail_url,
        "max_image_mb": MAX_UPLOAD_BYTES // 2**20,
        "merchants": dict(sorted(graph.merchants.items())),
    }


# -- products list --------------------------------------------------------------------------------
@pages.get("/products", response_class=HTMLResponse)
def products_page(
    request: Request,
    principal: MerchantPageDep,
    store: StoreDep,
    catalog: CatalogDep,
    q: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    brand: Annotated[str, Query(max_length=64)] = "",
    merchant: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    owner = _owner(principal, merchant)
    found = store.list_products(
        merchant_id=owner,
        category=category or None,
        brand=brand or None,
        q=q.strip() or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    graph = catalog.current().graph
    mine = [p for p in graph.products.values() if owner is None or p.merchant_id == owner]
    context = page_context(
        request,
        principal,
        "/console/products",
        products=found.items,
        paging=_page_links(request, page, found.total, PAGE_SIZE),
        filters={"q": q, "category": category, "brand": brand, "merchant": merchant},
        categories=sorted({p.category for p in mine}),
        brands=sorted({p.brand for p in mine}),
        **_common(catalog),
    )
    return render("console/merchant/products.html", context)


@pages.get("/products/new", response_class=HTMLResponse)
def new_product_page(
    request: Request,
    principal: MerchantPageDep,
    catalog: CatalogDep,
    category: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    categories = _leaf_categories(catalog)
    chosen = category if any(c["name"] == category for c in categories) else ""
    if not chosen and categories:
        chosen = categories[0]["name"]
    context = page_context(
        request,
        principal,
        "/console/products",
        product=None,
        relations=[],
        categories=categories,
        category=chosen,
        specs=_specs(catalog, chosen),
        brands=sorted(catalog.current().graph.brands),
        **_common(catalog),
    )
    return render("console/merchant/product_form.html", context)


def _specs(catalog: CatalogDep, category: str) -> list[dict[str, Any]]:
    specs = catalog.current().graph.schema.get(category, {})
    return [
        {"key": s.key, "type": s.type, "unit": s.unit, "type_name": TYPE_NAMES.get(s.type, s.type)}
        for s in specs.values()
    ]


@pages.get("/products/attributes", response_class=HTMLResponse)
def attributes_fragment(
    request: Request,
    principal: MerchantPageDep,
    catalog: CatalogDep,
    category: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """The attribute editor of one category (htmx swaps it in when the category changes)."""
    context = page_context(
        request, principal, "/console/products", specs=_specs(catalog, category), values={}
    )
    return render("console/merchant/_attributes.html", context)


@pages.get("/products/{sku}", response_class=HTMLResponse)
def edit_product_page(
    request: Request, sku: str, principal: MerchantPageDep, store: StoreDep, catalog: CatalogDep
) -> HTMLResponse:
    try:
        detail = _product_or_403(store, sku, principal)
    except ProductMissing:
        return _missing(request, principal, sku)
    product = detail.product
    context = page_context(
        request,
        principal,
        "/console/products",
        product=product,
        categories=_leaf_categories(catalog),
        category=product.category,
        specs=_specs(catalog, product.category),
        brands=sorted(catalog.current().graph.brands),
        relation_types=[(t, RELATION_NAMES[t]) for t in RELATION_TYPES],
        relations=_relation_rows(store, detail),
        **_common(catalog),
    )
    return render("console/merchant/product_form.html", context)


def _relation_rows(store: StoreDep, detail: Any) -> list[dict[str, Any]]:
    rows = []
    symmetric = {"SAME_SERIES", "ALTERNATIVE_TO", "BUNDLE_WITH"}
    for ref in detail.relations:
        try:
            other = store.get_product(ref.sku).product
        except NotFound:
            continue
        outgoing = ref.direction == "out"
        if outgoing or ref.type in symmetric:
            label = RELATION_NAMES.get(ref.type, ref.type)
        else:
            label = "是本商品" + RELATION_NAMES_IN.get(ref.type, RELATION_NAMES.get(ref.type, ""))
        rows.append(
            {
                "type": ref.type,
                "label": label,
                "sku": ref.sku,
                "title": other.title,
                "removable": outgoing or ref.type in symmetric,
            }
        )
    return rows


@pages.get("/products/{sku}/relations", response_class=HTMLResponse)
def relations_fragment(
    request: Request, sku: str, principal: MerchantPageDep, store: StoreDep
) -> HTMLResponse:
    try:
        detail = _product_or_403(store, sku, principal)
    except ProductMissing:
        return _missing(request, principal, sku)
    context = page_context(
        request,
        principal,
        "/console/products",
        product=detail.product,
        relations=_relation_rows(store, detail),
    )
    return render("console/merchant/_relations.html", context)


@pages.get("/products/{sku}/row", response_class=HTMLResponse)
def product_row_fragment(
    request: Request, sku: str, principal: MerchantPageDep, store: StoreDep
) -> HTMLResponse:
    """One row of the list as stored now (after an edit conflict)."""
    try:
        detail = _product_or_403(store, sku, principal)
    except ProductMissing:
        return _missing(request, principal, sku)
    context = page_context(
        request,
        principal,
        "/console/products",
        p=detail.product,
        price_value=price_value,
        thumbnail_url=thumbnail_url,
    )
    return render("console/merchant/_product_row.html", context)


# -- import -------------------------------------------------------------------------------------
@pages.get("/import", response_class=HTMLResponse)
def import_page(request: Request, principal: MerchantPageDep, catalog: CatalogDep) -> HTMLResponse:
    categories = _leaf_categories(catalog)
    context = page_context(
        request,
        principal,
        "/console/import",
        categories=categories,
        targets=IMPORT_TARGETS,
        **_common(catalog),
    )
    return render("console/merchant/import.html", context)


# -- audit --------------------------------------------------------------------------------------
@pages.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: MerchantPageDep,
    store: StoreDep,
    sku: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    merchant = None if principal.role == "admin" else principal.merchant_id
    records, total = store.audit_log(
        merchant_id=merchant,
        target=sku.strip() or None,
        limit=AUDIT_PAGE_SIZE,
        offset=(page - 1) * AUDIT_PAGE_SIZE,
    )
    entries = [
        {
            "record": r,
            "when": _shop_time(r.ts),
            "action": ACTION_NAMES.get(r.action, r.action),
            "title": (r.after or r.before or {}).get("title", ""),
            "changes": audit_changes(r),
        }
        for r in records
    ]
    context = page_context(
        request,
        principal,
        "/console/audit",
        entries=entries,
        sku=sku,
        paging=_page_links(request, page, total, AUDIT_PAGE_SIZE),
    )
    return render("console/merchant/audit.html", context)


# -- accounts (admin) -----------------------------------------------------------------------------
ROLE_LABELS = {"staff": "客服", "merchant": "商家", "admin": "管理员"}


@pages.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, principal: AdminPageDep, store: StoreDep, catalog: CatalogDep
) -> HTMLResponse:
    items = [
        {"account": a, "created": _shop_time(a.created_at), "role": ROLE_LABELS.get(a.role, a.role)}
        for a in accounts.list_accounts(store)
    ]
    context = page_context(
        request,
        principal,
        "/console/accounts",
        accounts=items,
        roles=ROLE_LABELS,
        **_common(catalog),
    )
    return render("console/merchant/accounts.html", context)


# The pages, and the categories API the product form and the import page read. web/app.py
# includes this one router.
router = APIRouter()
router.include_router(pages)
router.include_router(product_routes.categories_router)

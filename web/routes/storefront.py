"""The demo storefront: the product grid at /, a product page at /products/{sku}, both with the
chat widget (web/static/widget/) put on the page by its one script tag, and a small demo cart
(web/static/storefront.js) that listens to the widget's `daogou:add-to-cart` events."""

from __future__ import annotations

from itertools import zip_longest
from math import ceil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from knowledge_graph.graph import ProductGraph
from knowledge_graph.product import Product
from search.hybrid import search_box
from search.query import understood_fields, understood_requirements
from web.deps import CatalogDep, ServicesDep, SettingsDep
from web.media import thumbnail_url

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")

router = APIRouter(tags=["storefront"])

PAGE_SIZE = 24
SEARCH_SIZE = 24
CATEGORIES = ("手机", "笔记本电脑", "平板电脑", "耳机", "智能手表", "手机配件",
              "跑步鞋", "运动服饰", "护肤品", "彩妆", "小家电", "零食饮料")  # fmt: skip
# Placeholder colours per category while products have no image (the widget uses the same).
CATEGORY_HUES = {"手机": 215, "笔记本电脑": 230, "平板电脑": 200, "耳机": 265, "智能手表": 180,
                 "手机配件": 245, "跑步鞋": 25, "运动服饰": 140, "护肤品": 330, "彩妆": 350,
                 "小家电": 40, "零食饮料": 10}  # fmt: skip
RELATION_NAMES = {
    "ACCESSORY_OF": "配件",
    "COMPATIBLE_WITH": "兼容",
    "SAME_SERIES": "同系列",
    "ALTERNATIVE_TO": "同类可选",
    "BUNDLE_WITH": "搭配购买",
}

# The widget's one configuration: the data- attributes of its script tag
# (web/static/widget/README.md lists them; widget.js holds the same defaults).
WIDGET = {
    "name": "导购助手",
    "greeting": "您好，我是导购助手。想买点什么？可以直接问我价格、参数，或者让我帮您挑。",
    "primary-color": "#ef4f2b",
    "position": "right",
    "product-url": "/products/{sku}",
}


def widget_config(rasa_url: str, product_sku: str | None = None) -> dict[str, str]:
    """The script tag's data- attributes for this page: WIDGET, Rasa's URL (`RASA_URL`: the
    browser talks to Rasa's Socket.IO channel directly) and the product the page shows."""
    attributes = {**WIDGET, "rasa-url": rasa_url}
    if product_sku:
        attributes["product-sku"] = product_sku
    return attributes


def yuan(price: float) -> str:
    """¥ and the exact catalog price, as the widget's cards show it (¥2,999 / ¥89.90)."""
    return f"¥{price:,.0f}" if round(price * 100) % 100 == 0 else f"¥{price:,.2f}"


def stock_text(stock: int) -> str:
    if stock <= 0:
        return "暂时缺货"
    return f"仅剩 {stock} 件" if stock < 10 else "有货"


def spec_value(value: Any, unit: str | None) -> str:
    """An attribute as the product page shows it: 6.69英寸, 4750mAh, 有/无, 雅川青、白沙银."""
    if isinstance(value, bool):
        return "有" if value else "无"
    if isinstance(value, list | tuple | set):
        return "、".join(str(v) for v in value)
    if isinstance(value, int | float):
        return f"{value:g}{unit or ''}"
    return str(value)


TEMPLATES.env.filters["yuan"] = yuan
TEMPLATES.env.filters["stock_text"] = stock_text
TEMPLATES.env.filters["thumbnail"] = thumbnail_url  # cards show the 320 px image (web/media.py)
TEMPLATES.env.globals["category_hue"] = lambda category: CATEGORY_HUES.get(category, 220)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200):
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def _understood_text(understood: dict[str, Any], requirements: list[str]) -> str:
    parts = []
    brands, avoided = understood.get("brands") or [], understood.get("avoided_brands")
    if avoided and not (brands and len(brands) <= 3):
        parts.append("、".join(avoided) + "以外")  # 「华为、小米以外」, not eleven other makers
    elif brands:
        parts.append("、".join(brands))
    if understood.get("category"):
        parts.append(understood["category"])
    low, high = understood.get("min_price"), understood.get("max_price")
    if low is not None and high is not None:
        parts.append(f"{yuan(low)}–{yuan(high)}")
    elif high is not None:
        parts.append(f"{yuan(high)}以内")
    elif low is not None:
        parts.append(f"{yuan(low)}以上")
    for key in ("colour", "size"):
        if understood.get(key):
            parts.append(str(understood[key]))
    if understood.get("avoided_colours"):
        parts.append("、".join(understood["avoided_colours"]) + "以外")
    return " · ".join(parts + requirements)


def categories_of(graph: ProductGraph) -> list[str]:
    """The catalog's leaf categories: the contract's twelve in their order, then any added."""
    present = {p.category for p in graph.products.values()}
    return [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))


def browse(graph: ProductGraph, category: str | None) -> list[Product]:
    """The grid's order (综合排序): in stock first, then by rating and sku within a category;
    on 全部 the categories take turns, so the first page shows the whole shop rather than
    the accessories whose skus sort first."""
    groups: dict[str, list[Product]] = {}
    for product in graph.products.values():
        if category is None or product.category == category:
            groups.setdefault(product.category, []).append(product)
    for items in groups.values():
        items.sort(key=lambda p: (p.stock <= 0, -p.rating, p.sku))
    order = [c for c in categories_of(graph) if c in groups]
    return [p for turn in zip_longest(*(groups[c] for c in order)) for p in turn if p is not None]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def storefront(
    request: Request,
    services: ServicesDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    category: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
):
    view = catalog.current()
    categories = categories_of(view.graph)
    category = category if category in categories else None
    query = (q or "").strip()
    understood = relaxed = None
    if query:
        # The search box understands 「三千以内的华为手机」 as the chat does (search/hybrid.py).
        answer = search_box(services.search(), view, query, SEARCH_SIZE, {"category": category})
        products = [hit.product for hit in answer.hits]
        total, pages, page = len(products), 1, 1
        understood = _understood_text(
            understood_fields(answer.understood),
            understood_requirements(view, answer.understood),
        )
        relaxed = answer.relaxed
    else:
        listing = browse(view.graph, category)
        total = len(listing)
        pages = max(1, ceil(total / PAGE_SIZE))
        page = min(page, pages)
        products = listing[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return _page(
        request,
        "storefront.html",
        {
            "products": products,
            "total": total,
            "categories": categories,
            "category": category,
            "q": query,
            "page": page,
            "pages": pages,
            "understood": understood,
            "relaxed": relaxed,
            "widget": widget_config(settings.public_rasa_url or settings.rasa_url),
        },
    )


@router.get("/products/{sku}", response_class=HTMLResponse, include_in_schema=False)
def product_page(request: Request, sku: str, catalog: CatalogDep, settings: SettingsDep):
    graph = catalog.current().graph
    product = graph.product(sku)
    if product is None:
        context = {
            "sku": sku,
            "categories": categories_of(graph),
            "widget": widget_config(settings.public_rasa_url or settings.rasa_url),
        }
        return _page(request, "not_found.html", context, status_code=404)
    related = []
    for other_sku, relation in graph.related(sku):
        other = graph.product(other_sku)
        if other is not None and all(other.sku != r[0].sku for r in related):
            related.append((other, RELATION_NAMES.get(relation, "相关")))
        if len(related) == 8:
            break
    variants = [graph.product(s) for s in graph.variants(sku)]
    specs = []
    for key, value in product.attributes.items():
        spec = graph.attribute_spec(product.category, key)
        if value not in (None, "", [], ()):
            specs.append((key, spec_value(value, spec.unit if spec else None)))
    return _page(
        request,
        "product.html",
        {
            "product": product,
            "variants": [v for v in variants if v is not None and len(variants) > 1],
            "related": related,
            "specs": specs,
            "categories": categories_of(graph),
            "category": product.category,
            "widget": widget_config(settings.public_rasa_url or settings.rasa_url, product.sku),
        },
    )

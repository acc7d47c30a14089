"""The catalog over HTTP: reads for anyone; create, edit and delete for merchants (their own
products) and admins, each change audited; the audit log; the product's image (uploaded,
resized and stored by web/media.py, served at /media/products/).

What shoppers will read (title, description, attribute values ...) is refused when it carries
one of the shop's sensitive words, as staff messages are (`web.deps.refuse_sensitive`)."""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from knowledge_graph import catalog_import
from knowledge_graph.graph import ProductGraph
from knowledge_graph.product import Product
from knowledge_graph.service import CatalogView
from knowledge_graph.store import Conflict, InvalidProduct, NotFound
from web import media
from web.auth import Principal
from web.deps import (
    CatalogDep,
    MerchantDep,
    ServicesDep,
    SettingsDep,
    StoreDep,
    WebState,
    WebStateDep,
)
from web.errors import ApiError
from web.schemas import (
    AttributeSpecOut,
    AuditList,
    AuditOut,
    CategoryList,
    CategoryOut,
    ProductCreate,
    ProductDetailOut,
    ProductList,
    ProductOut,
    ProductPatch,
    RelationIn,
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


def _images(settings: SettingsDep) -> media.ProductImages:
    return media.ProductImages(settings.var_dir)


ImagesDep = Annotated[media.ProductImages, Depends(_images)]

# What a shopper reads of a product, by the product form's names for the fields.
SHOPPER_TEXT_FIELDS = {
    "title": "商品名称",
    "brand": "品牌",
    "description": "商品描述",
    "model": "型号",
    "series": "系列",
    "tags": "标签",
    "aliases": "别名",
}


def _shopper_texts(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(field name, its texts) for the shopper-visible fields in `data`; an attribute's name and
    its text values are one field each."""
    fields = []
    for key, label in SHOPPER_TEXT_FIELDS.items():
        value = data.get(key)
        if value:
            fields.append((label, [value] if isinstance(value, str) else list(value)))
    for name, value in (data.get("attributes") or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        fields.append((f"属性「{name}」", [name, *(v for v in values if isinstance(v, str))]))
    return fields


def _refuse_sensitive(web: WebState, data: dict[str, Any]) -> None:
    """422 `sensitive_words` (the staff messages' error) naming each field and its words."""
    words = web.sensitive_words()
    problems = []
    for label, texts in _shopper_texts(data):
        found = dict.fromkeys(hit.text for text in texts for hit in words.find(text))
        if found:
            problems.append(f"{label}包含不允许的词：「{'」「'.join(found)}」")
    if problems:
        raise ApiError(422, "sensitive_words", "；".join(problems))


def _refuse_foreign_image(images: media.ProductImages, sku: str, image: str | None) -> None:
    """An image of ours must be this product's own upload: pointing at another product's file
    would show it here and lose it there when that product's image changes."""
    if images.path(image) is not None and not images.owns(image, sku):
        raise ApiError(422, "invalid_image", "图片地址无效：请在商品编辑页上传图片")


@router.post("", response_model=ProductOut, status_code=201)
def create_product(
    body: ProductCreate,
    principal: MerchantDep,
    store: StoreDep,
    web: WebStateDep,
    images: ImagesDep,
) -> ProductOut:
    data = body.model_dump(exclude_none=True)
    if principal.role == "merchant":
        data["merchant_id"] = principal.merchant_id
    elif not data.get("merchant_id"):
        raise ApiError(422, "invalid_parameter", "管理员创建商品时需要指定 merchant_id")
    _refuse_sensitive(web, data)
    _refuse_foreign_image(images, body.sku, body.image)
    try:
        return _out(store.create_product(data, actor=principal.username))
    except Conflict:
        raise ApiError(409, "sku_exists", f"商品编号 {body.sku} 已存在") from None
    except InvalidProduct as invalid:
        raise ApiError(422, "invalid_product", str(invalid)) from None


@router.patch("/{sku}", response_model=ProductOut)
def edit_product(
    sku: str,
    body: ProductPatch,
    principal: MerchantDep,
    store: StoreDep,
    web: WebStateDep,
    images: ImagesDep,
) -> ProductOut:
    before = _owned(store, sku, principal)
    changes = body.model_dump(exclude_none=True, exclude={"revision"})
    if not changes:
        raise ApiError(422, "invalid_parameter", "没有要修改的字段")
    _refuse_sensitive(web, changes)
    _refuse_foreign_image(images, sku, changes.get("image"))
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
    if product.image != before.image:
        images.remove(before.image, sku)
    return _out(product)


@router.delete("/{sku}", status_code=204)
def delete_product(
    sku: str, principal: MerchantDep, store: StoreDep, images: ImagesDep
) -> Response:
    product = _owned(store, sku, principal)
    try:
        store.delete_product(sku, actor=principal.username)
    except NotFound:
        raise ApiError(404, "product_not_found", f"没有找到商品 {sku}") from None
    images.remove(product.image, sku)
    return Response(status_code=204)


# -- the product's image ------------------------------------------------------------------------
@router.post("/{sku}/image", response_model=ProductOut)
def upload_image(
    sku: str,
    principal: MerchantDep,
    store: StoreDep,
    images: ImagesDep,
    file: Annotated[UploadFile, File()],
    revision: Annotated[int | None, Form(ge=1)] = None,
) -> ProductOut:
    """Multipart `file`: JPEG, PNG, WebP or GIF (its first frame), at most 8 MB and 40 MP,
    stored as WebP (longest side 800 px, and a 320 px thumbnail). The product's `image` becomes
    the stored image's URL through an ordinary, audited edit (`revision` as in PATCH); the image
    it replaces is removed."""
    product = _owned(store, sku, principal)
    try:
        processed = media.process_image(file.file.read(media.MAX_UPLOAD_BYTES + 1))
    except media.ImageRejected as rejected:
        raise ApiError(rejected.status, rejected.code, rejected.message) from None
    url = images.save(sku, processed)
    return _out(_replace_image(store, images, principal, product, url, revision))


@router.delete("/{sku}/image", response_model=ProductOut)
def delete_image(
    sku: str,
    principal: MerchantDep,
    store: StoreDep,
    images: ImagesDep,
    revision: Annotated[int | None, Query(ge=1)] = None,
) -> ProductOut:
    """The product without an image (the shop shows its placeholder); the files are removed."""
    product = _owned(store, sku, principal)
    if product.image is None:
        return _out(product)
    return _out(_replace_image(store, images, principal, product, None, revision))


def _replace_image(
    store: StoreDep,
    images: media.ProductImages,
    principal: Principal,
    product: Product,
    url: str | None,
    revision: int | None,
) -> Product:
    """Sets `image` on the revision the caller saw (or the one just read, so the image removed
    is the one replaced); the new files go again when the edit is refused."""
    try:
        updated = store.update_product(
            product.sku,
            {"image": url},
            expected_revision=revision or product.revision,
            actor=principal.username,
        )
    except (Conflict, NotFound) as refused:
        if url != product.image:
            _drop_unused(store, images, product.sku, url)
        if isinstance(refused, NotFound):
            raise ApiError(404, "product_not_found", f"没有找到商品 {product.sku}") from None
        raise ApiError(
            409, "edit_conflict", "这件商品刚被别人修改过，请刷新后在最新版本上修改"
        ) from None
    if updated.image != product.image:
        images.remove(product.image, product.sku)
    return updated


def _drop_unused(store: StoreDep, images: media.ProductImages, sku: str, url: str | None) -> None:
    try:
        current = store.get_product(sku).product.image
    except NotFound:
        current = None
    if current != url:
        images.remove(url, sku)


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


# -- files: import (with a dry run), export, template -----------------------------------------
# Declared on their own router, included before the `/{sku}` routes so that "export" and
# "template" are never read as SKUs.
files_router = APIRouter(prefix="/api/products", tags=["products"])
_IMPORT_ERRORS = {"file_too_large": 413, "forbidden": 403, "conflict": 409, "rows_rejected": 422}


def _upload_bytes(upload: UploadFile) -> bytes:
    data = upload.file.read(catalog_import.MAX_BYTES + 1)
    if len(data) > catalog_import.MAX_BYTES:
        raise ApiError(413, "file_too_large", "文件太大了：一次最多导入 5 MB")
    return data


def _import_error(error: catalog_import.CatalogImportError) -> ApiError:
    return ApiError(_IMPORT_ERRORS.get(error.code, 400), error.code, error.message)


def _read_upload(
    upload: UploadFile, mapping: str | None, file_format: str | None
) -> tuple[catalog_import.ImportFile, catalog_import.ImportMapping]:
    try:
        source = catalog_import.read_import_file(
            _upload_bytes(upload), filename=upload.filename, format=file_format
        )
        rules = catalog_import.ImportMapping.from_dict(json.loads(mapping or "{}"))
    except json.JSONDecodeError:
        raise ApiError(400, "invalid_mapping", "字段对应关系（mapping）不是合法的 JSON") from None
    except catalog_import.CatalogImportError as error:
        raise _import_error(error) from None
    return source, rules


@files_router.post("/import")
def import_products(
    principal: MerchantDep,
    services: ServicesDep,
    web: WebStateDep,
    file: Annotated[UploadFile, File()],
    mapping: Annotated[str | None, Form(max_length=100_000)] = None,
    file_format: Annotated[str | None, Form(alias="format", max_length=8)] = None,
    dry_run: Annotated[bool, Query()] = True,
) -> dict[str, Any]:
    """CSV (UTF-8 with or without BOM, GBK), XLSX or JSON. `dry_run=true` (the default)
    answers the row-by-row report and changes nothing; `dry_run=false` applies the same
    import in one transaction, or nothing at all when any row is rejected (422 with the
    report). `mapping`: JSON `{"columns": {foreign: ours}, "values": {...}, "category": ...}`."""
    source, given = _read_upload(file, mapping, file_format)
    # Columns the mapping leaves out are read as /import/suggest would map them.
    suggested = catalog_import.suggest_mapping(source, given.category, services.view())
    rules = replace(given, columns={**suggested.columns, **given.columns})
    importer = catalog_import.Importer(principal.username, principal.role, principal.merchant_id)
    try:
        words = web.sensitive_words()
        plan = catalog_import.plan_import(services.store, source, rules, importer, words)
        if dry_run:
            return plan.to_dict(include_products=True)
        done = catalog_import.apply_import(services.store, plan, importer)
    except catalog_import.CatalogImportError as error:
        report = plan.to_dict() if error.code == "rows_rejected" else {}
        raise ApiError(
            _IMPORT_ERRORS.get(error.code, 400), error.code, error.message, {"report": report}
        ) from None
    services.catalog.refresh()
    return done.to_dict()


@files_router.post("/import/suggest")
def suggest_import_mapping(
    _: MerchantDep,
    catalog: CatalogDep,
    file: Annotated[UploadFile, File()],
    category: Annotated[str | None, Form(max_length=64)] = None,
    file_format: Annotated[str | None, Form(alias="format", max_length=8)] = None,
) -> dict[str, Any]:
    """A proposed mapping of the file's columns to ours, for the merchant to correct."""
    source, _rules = _read_upload(file, None, file_format)
    return catalog_import.suggest_mapping(source, category, catalog.current()).to_dict()


def _csv_download(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


_ExportFiles = dict[tuple[str | None, str | None], bytes]  # (merchant, category) -> CSV


class CsvExports:
    """Each export's CSV built once per catalog version, kept in memory while that version is
    the live one (keyed by its graph, which a merchant's change replaces: the old files go with
    it; at most `per_version` files, some 12 MB for the whole catalog and each merchant's at
    10,000 products). Concurrent requests for the same file wait for one build instead of each
    building it: the whole catalog is 5.7 MB of CSV, 0.3-0.5 s of CPU that held up every other
    console request of this process (benchmarks/console_latency.py: 1.3 s p95 for the admin's
    export, 0.5 s for a merchant's; 15-30 ms served from here)."""

    def __init__(self, per_version: int = 32) -> None:
        self._per_version = per_version
        self._files: weakref.WeakKeyDictionary[ProductGraph, _ExportFiles] = (
            weakref.WeakKeyDictionary()
        )
        self._builds: dict[tuple[int, str | None, str | None], threading.Lock] = {}
        self._guard = threading.Lock()

    def csv(self, view: CatalogView, merchant_id: str | None, category: str | None) -> bytes:
        key = (merchant_id, category)
        with self._guard:
            files = self._files.setdefault(view.graph, {})
            if key in files:
                return files[key]
            build = self._builds.setdefault((id(view.graph), *key), threading.Lock())
        with build:
            with self._guard:
                if key in files:  # built while this request waited
                    return files[key]
            try:
                data = catalog_import.export_csv(view, merchant_id, category=category)
                with self._guard:
                    while len(files) >= self._per_version:
                        files.pop(next(iter(files)))  # the oldest
                    files[key] = data
            finally:
                with self._guard:
                    self._builds.pop((id(view.graph), *key), None)
            return data


_EXPORTS = CsvExports()


@files_router.get("/export")
def export_products(
    principal: MerchantDep,
    catalog: CatalogDep,
    merchant_id: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The merchant's own catalog as CSV (an admin: everything, or one merchant's)."""
    owner = merchant_id if principal.role == "admin" else principal.merchant_id
    # The live catalog, checked against the database's version now: a fresh snapshot of the
    # store per export took 4-7 s at 10,000 products (benchmarks/console_latency.py).
    data = _EXPORTS.csv(catalog.refresh(), owner, category)
    return _csv_download(data, f"products-{owner or 'all'}.csv")


@files_router.get("/template")
def import_template(
    _: MerchantDep, catalog: CatalogDep, category: Annotated[str, Query(max_length=64)]
) -> Response:
    try:
        data = catalog_import.template_csv(category, catalog.current())
    except catalog_import.CatalogImportError as error:
        raise _import_error(error) from None
    return _csv_download(data, f"template-{category}.csv")


# -- relations (the merchant console's relations editor) --------------------------------------
def _detail(store: StoreDep, sku: str) -> ProductDetailOut:
    detail = store.get_product(sku)
    relations = [
        RelationOut(type=r.type, sku=r.sku, direction=r.direction) for r in detail.relations
    ]
    return ProductDetailOut(**detail.product.to_dict(), relations=relations)


@router.post("/{sku}/relations", response_model=ProductDetailOut, status_code=201)
def add_relation(
    sku: str, body: RelationIn, principal: MerchantDep, store: StoreDep
) -> ProductDetailOut:
    """`sku` -[type]-> `body.sku` (SAME_SERIES, ALTERNATIVE_TO and BUNDLE_WITH go both ways):
    the product must be the merchant's own; the other may be any product in the catalog."""
    _owned(store, sku, principal)
    try:
        store.add_relation(sku, body.type, body.sku, actor=principal.username)
    except NotFound:
        raise ApiError(404, "product_not_found", f"没有找到商品 {body.sku}") from None
    except Conflict:
        raise ApiError(409, "relation_exists", "这条关系已经存在") from None
    except InvalidProduct as invalid:
        raise ApiError(422, "invalid_relation", str(invalid)) from None
    return _detail(store, sku)


@router.delete("/{sku}/relations/{relation_type}/{target}", response_model=ProductDetailOut)
def remove_relation(
    sku: str, relation_type: str, target: str, principal: MerchantDep, store: StoreDep
) -> ProductDetailOut:
    _owned(store, sku, principal)
    try:
        store.remove_relation(sku, relation_type, target, actor=principal.username)
    except NotFound:
        raise ApiError(404, "relation_not_found", "没有这条关系") from None
    return _detail(store, sku)


# Included by web/routes/merchant_pages.py's router (one include line in web/app.py).
categories_router = APIRouter(prefix="/api/categories", tags=["products"])


@categories_router.get("", response_model=CategoryList)
def list_categories(catalog: CatalogDep) -> CategoryList:
    """The leaf categories (those a product can be in) with their attribute specs."""
    items = leaf_categories(catalog.current().graph)
    return CategoryList(items=items, total=len(items))


def leaf_categories(graph: Any) -> list[CategoryOut]:
    parents = {c.get("parent") for c in graph.categories.values()}
    items = []
    for name, category in sorted(graph.categories.items()):
        if name in parents:
            continue
        specs = graph.schema.get(name, {})
        attributes = [
            AttributeSpecOut(key=s.key, type=s.type, unit=s.unit, aliases=list(s.aliases))
            for s in specs.values()
        ]
        items.append(
            CategoryOut(
                name=name,
                parent=category.get("parent"),
                aliases=list(category.get("aliases") or []),
                attributes=attributes,
            )
        )
    return items

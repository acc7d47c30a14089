"""A merchant's bulk catalog import (CSV, XLSX, JSON), its dry-run report, and the export back.

The flow behind ``POST /api/products/import`` (CONTRACT.md), in plain typed Python:

1. **Read** the upload: ``read_import_file(data, filename=..., format=...)`` gives an
   ``ImportFile`` (columns, rows with the row numbers a merchant sees). CSV is decoded as
   UTF-8 (with or without BOM), then GB18030 (a superset of the GBK that Chinese Excel writes),
   or UTF-16 when it has a BOM (Excel's 「Unicode 文本」); the encoding found is reported.
   Limits: ``MAX_BYTES`` (5 MB), ``MAX_ROWS`` (5000 products), ``MAX_COLUMNS``; past them the
   whole file is refused with an ``ImportFileError`` that says so in Chinese.
2. **Map** foreign column names to ours with an ``ImportMapping``: ``{foreign: target}`` where a
   target is a product field (``title``, ``brand``, ``category``, ``price``, ``stock``,
   ``rating``, ``description``, ``tags``, ``model``, ``series``, ``sku``, ``image``,
   ``aliases``, ``merchant_id``), ``attributes.<our key>`` (or ``attr:<our key>``) or
   ``ignore``; a column may feed several targets. Value maps rewrite cells per column, and a
   fixed ``category`` fills rows that have none. Columns already named as ours (a file from
   ``export_csv`` or ``template_csv``) need no mapping. ``suggest_mapping`` proposes one.
3. **Plan** (the dry run): ``plan_import(store_or_snapshot, rows, mapping, importer)`` returns
   an ``ImportReport``: every row ``created`` / ``updated`` / ``unchanged`` / ``rejected``
   (with Chinese reasons such as 「第 3 行：价格不是数字（"约五千"）」), warnings, new brands.
   It changes nothing.
4. **Apply**: ``apply_import(store, plan, importer)`` writes the plan in ONE transaction (all or
   nothing), bumps the catalog version once and writes one ``AuditEntry`` per created or
   updated product. Policy: a plan with any rejected row is refused whole (``ImportRefused``,
   code ``rows_rejected``); the merchant fixes the file or the mapping and uploads again.
   Importing half a file would leave the merchant to work out which half went in.

Row rules (what a merchant gets when a cell is empty):

- Required after mapping: ``title``, ``category`` (an existing leaf category, its aliases
  accepted: 笔记本 → 笔记本电脑) and ``price`` (a number >= 0; 「¥5,999」「5999元」「五千」 read).
- ``brand``: a brand's name or alias, case and width folded (Lenovo → 联想). An unknown brand
  is created (a shop lists new brands all the time) and named in ``ImportReport.new_brands``
  and the warnings; ``ImportMapping(create_brands=False)`` rejects such rows instead. An empty
  brand is read off the title's start (「戴尔（DELL）游匣G3」 → 戴尔) or becomes
  ``DEFAULT_BRAND`` (无品牌).
- ``sku``: when empty it is derived stably (``derive_sku``: a hash of merchant, brand, title and
  model, prefixed ``IMP-<merchant>-``), so importing the same file twice updates instead of
  duplicating. A later row with a sku seen earlier in the file is rejected.
- Defaults for a new product: ``stock`` 0 (nothing to sell until the merchant says so), ``rating``
  0.0 (no reviews yet), ``description`` "" and no tags, aliases, model, series or image. For an
  existing product an empty cell keeps the stored value (a price list with sku, title, category
  and price updates prices only), and attributes are merged key by key.
- ``merchant_id`` is the importer's: a merchant's row naming another merchant, or whose sku is
  another merchant's product, is rejected. An admin may fill a ``merchant_id`` column; else an
  existing product keeps its merchant and a new one gets the admin's ``Importer.merchant_id``.
- Attributes are coerced to the category's schema (``attribute_defs``) and to the way the catalog
  already writes that key, so filters and answers keep working: number keys take their unit or a
  synonym (「15.6英寸」 → 15.6, 「1500g」 → 1.5 for kg), text keys whose stored values are all
  ``<number><unit>`` get that spelling (「8G」 → "8GB" for 内存), bool keys take 是/否, true/false,
  有/无, list keys split on ``|`` 、 , ；. A value that does not fit (a range such as 「1.5-2kg」)
  is left out with a row warning, not a rejection. Keys the category's schema lacks are kept as
  written and reported once as a warning.

Example: RiSAWOZ's PC table (``pc_db.json``: 品牌, 产品类别 笔记本/台式机/一体机, 商品名称, 价格, ...)
into 笔记本电脑 (the full mapping is the fixture in ``tests/unit/test_catalog_import.py``)::

    mapping = ImportMapping(
        columns={
            "商品名称": ("title", "model"), "品牌": "brand", "产品类别": "category",
            "价格": "price", "系列": "series", "CPU型号": "attributes.处理器",
            "内存容量": "attributes.内存", "屏幕尺寸": "attributes.屏幕尺寸",
            "显卡类别": "attributes.独立显卡", "分类": "tags", "特性": "description",
            "CPU": "ignore", "价格区间": "ignore", "游戏性能": "ignore", "待机时长": "ignore",
        },
        values={
            "显卡类别": {"独立显卡": "是", "集成显卡": "否", "核芯显卡": "否"},
            "分类": {"轻薄本": "轻薄", "游戏本": "游戏", "常规笔记本": ""},
        },
    )
    importer = Importer(actor="geek_shop", role="merchant", merchant_id="m002")
    plan = plan_import(store, read_import_file(data, filename="pc_db.json"), mapping, importer)
    # the desktops (产品类别 台式机/一体机) are rejected: no such category in the shop
    apply_import(store, plan, importer)  # refused until the file holds laptops only
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cn_text.numbers import normalize_chars, parse_decimal
from cn_text.sensitive import SensitiveWords
from knowledge_graph.graph import ProductGraph
from knowledge_graph.product import Product
from knowledge_graph.store import PRODUCT_FIELDS, CatalogSnapshot, CatalogStore
from knowledge_graph.tables import AuditEntry, Brand, ProductRow

__all__ = [
    "DEFAULT_BRAND",
    "DEFAULT_DESCRIPTION",
    "DEFAULT_RATING",
    "DEFAULT_STOCK",
    "MAX_BYTES",
    "MAX_ROWS",
    "CatalogImportError",
    "ImportFile",
    "ImportFileError",
    "ImportMapping",
    "ImportRefused",
    "ImportReport",
    "Importer",
    "MappingError",
    "RowResult",
    "RowStatus",
    "SourceRow",
    "apply_import",
    "derive_sku",
    "export_csv",
    "plan_import",
    "read_csv",
    "read_import_file",
    "read_json",
    "read_xlsx",
    "suggest_mapping",
    "template_csv",
]

# -- limits and defaults ----------------------------------------------------------------------
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 200
MAX_TEXT_CHARS = 20_000  # a description; shorter fields have their column's length
MAX_STOCK = 1_000_000_000
# An XLSX is a zip: 5 MB of it may unpack to gigabytes. Its parts may add up to this much.
MAX_XLSX_UNPACKED = 100 * 1024 * 1024

DEFAULT_STOCK = 0
DEFAULT_RATING = 0.0
DEFAULT_DESCRIPTION = ""
# What a product without a brand is listed under (Taobao's 「无品牌」); created when first used.
DEFAULT_BRAND = "无品牌"

IGNORE = "ignore"
FIELD_TARGETS = (
    "sku",
    "title",
    "brand",
    "category",
    "price",
    "stock",
    "rating",
    "description",
    "tags",
    "model",
    "series",
    "image",
    "aliases",
    "merchant_id",
)
_LIST_FIELDS = {"tags", "aliases"}
_JOINED_FIELDS = {"description"}  # several columns are joined with 「；」
ATTR_PREFIX = "attributes."
EXPORT_ATTR_PREFIX = "attr:"
_LENGTHS = {"sku": 64, "title": 300, "brand": 64, "model": 120, "series": 120, "image": 500}
_FIELD_NAMES_CN = {
    "sku": "SKU",
    "title": "标题",
    "brand": "品牌",
    "category": "类目",
    "price": "价格",
    "stock": "库存",
    "rating": "评分",
    "description": "描述",
    "tags": "标签",
    "model": "型号",
    "series": "系列",
    "image": "图片",
    "aliases": "别名",
    "merchant_id": "商家编号",
}
# The store's own audit actions (CatalogStore.create_product / update_product), so the log reads
# the same whichever way a product changed; the entry's detail says it came by import.
AUDIT_CREATE = "create"
AUDIT_UPDATE = "update"


# -- errors -----------------------------------------------------------------------------------
class CatalogImportError(ValueError):
    """A whole upload refused; ``code`` for the API envelope, ``message`` in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ImportFileError(CatalogImportError):
    """The file cannot be read: too large, wrong format, undecodable, no header."""


class MappingError(CatalogImportError):
    """The mapping names a target we do not have, or leaves a required field unmapped."""


class ImportRefused(CatalogImportError):
    """Applying was refused: rejected rows (``rows_rejected``), a plan made for someone else
    (``forbidden``), or the catalog changed under the plan (``conflict``)."""


# -- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceRow:
    """One record of the file. ``number`` is what the merchant sees: the spreadsheet row (the
    header is row 1) or the position in a JSON list (from 1). ``problem`` is set when the
    record itself is unusable (a JSON element that is not an object, extra CSV cells)."""

    number: int
    values: Mapping[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class ImportFile:
    format: str  # "csv" | "xlsx" | "json"
    columns: tuple[str, ...]
    rows: tuple[SourceRow, ...]
    encoding: str | None = None  # CSV and JSON: "utf-8-sig" (had a BOM), "utf-8", "gb18030" ...
    filename: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "filename": self.filename,
            "columns": list(self.columns),
            "rows": len(self.rows),
        }


def read_import_file(
    data: bytes, *, filename: str | None = None, format: str | None = None
) -> ImportFile:
    """Reads an upload as CSV, XLSX or JSON: the declared ``format``, else the file name's
    extension, else the bytes themselves (a zip is XLSX, ``[``/``{`` is JSON)."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(
            "file_too_large",
            f"文件有 {len(data) / 1024 / 1024:.1f} MB，超过了 {MAX_BYTES // 1024 // 1024} MB 的上限，"
            "请分成几个文件导入",
        )
    if not data.strip():
        raise ImportFileError("empty_file", "文件是空的")
    kind = _detect_format(data, filename, format)
    reader = {"csv": read_csv, "xlsx": read_xlsx, "json": read_json}[kind]
    return replace(reader(data), filename=filename)


def _detect_format(data: bytes, filename: str | None, declared: str | None) -> str:
    if declared:
        kind = declared.strip().lower().lstrip(".")
        kind = {"tsv": "csv", "txt": "csv", "xlsm": "xlsx"}.get(kind, kind)
        if kind not in ("csv", "xlsx", "json"):
            raise ImportFileError(
                "unsupported_format", f"不支持的格式「{declared}」，请上传 CSV、XLSX 或 JSON"
            )
        return kind
    suffix = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if suffix in ("csv", "tsv", "txt"):
        return "csv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix == "json":
        return "json"
    if suffix in ("xls", "et", "numbers"):
        raise ImportFileError(
            "unsupported_format", f"不支持 .{suffix} 文件，请在表格软件里另存为 .xlsx 或 CSV 再上传"
        )
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding that read it: UTF-16 when it has a BOM, else UTF-8 (with or
    without BOM), else GB18030 (Chinese Excel's 「CSV」 is GBK, which GB18030 contains)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data[:3] == b"\xef\xbb\xbf":
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise ImportFileError(
            "bad_encoding", "无法识别文件的文字编码，请另存为「CSV UTF-8（逗号分隔）」再上传"
        ) from None


def _cell(value: Any) -> Any:
    """A cell as the importer handles it: text stripped, dates as ISO text, empty as None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = _CONTROL_RE.sub("", value).strip()
        # Excel's guard against formulas, written by export_csv: '=..., '+..., '@..., '-...
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
            text = text[1:]
        return text or None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _header(cells: Sequence[Any]) -> tuple[str, ...]:
    names = [str(_cell(c) or "").strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    if not any(names):
        raise ImportFileError("no_header", "第 1 行应是表头（列名），但它是空的")
    if len(names) > MAX_COLUMNS:
        raise ImportFileError(
            "too_many_columns", f"文件有 {len(names)} 列，最多支持 {MAX_COLUMNS} 列"
        )
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            names[index] = f"第{index + 1}列"
        elif name in seen:
            raise ImportFileError(
                "duplicate_column",
                f"表头里「{name}」出现了两次（第 {seen[name] + 1} 列和第 {index + 1} 列）",
            )
        seen[names[index]] = index
    return tuple(names)


def _is_comment(cells: Sequence[Any]) -> bool:
    """A hint row (the template's second row): its FIRST cell is 「#」 or starts with 「# 」.
    A product titled 「#1 热销」 in the first column is still a product."""
    first = cells[0] if cells else None
    return isinstance(first, str) and (first == "#" or first.startswith(("# ", "#\t")))


def _rows_from_table(
    table: Iterator[Sequence[Any]], kind: str, encoding: str | None = None
) -> ImportFile:
    """Header + rows of a CSV or sheet; empty rows and hint rows (first cell 「# ...」, as in
    the template) are skipped, row numbers still count them."""
    columns: tuple[str, ...] | None = None
    rows: list[SourceRow] = []
    for number, raw in enumerate(table, start=1):
        cells = [_cell(c) for c in raw]
        if columns is None:
            if all(c is None for c in cells):
                continue
            columns = _header(cells)
            continue
        if all(c is None for c in cells) or _is_comment(cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                "too_many_rows", f"文件超过 {MAX_ROWS} 行商品，请分成几个文件导入"
            )
        problem = None
        extra = [c for c in cells[len(columns) :] if c is not None]
        if extra:
            problem = (
                f"第 {number} 行：单元格比表头多（多出「{extra[0]}」），请检查是否有未加引号的逗号"
            )
        values = {name: cells[i] if i < len(cells) else None for i, name in enumerate(columns)}
        rows.append(SourceRow(number, values, problem))
    if columns is None:
        raise ImportFileError("empty_file", "文件里没有表头，也没有商品")
    return ImportFile(kind, columns, tuple(rows), encoding)


def read_csv(data: bytes) -> ImportFile:
    """CSV (or tab-separated text) in UTF-8 with or without BOM, GBK/GB18030 or UTF-16."""
    text, encoding = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _rows_from_table(iter(reader), "csv", encoding)
    except csv.Error as exc:
        raise ImportFileError("bad_csv", f"CSV 格式有误：{exc}") from None


def read_xlsx(data: bytes) -> ImportFile:
    """The first sheet of an .xlsx workbook, read with openpyxl in read-only mode."""
    import openpyxl  # imported here: only this reader needs it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError(
            "bad_xlsx", "这不是有效的 .xlsx 文件（如果是 .xls，请另存为 .xlsx）"
        ) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise ImportFileError("file_too_large", "表格解压后太大，请分成几个文件导入")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException ...)
        raise ImportFileError(
            "bad_xlsx", f"无法读取这个 .xlsx 文件：{type(exc).__name__}"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # files from other tools may state wrong dimensions; read what is there
        sheet.reset_dimensions()
        table = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS + 1, values_only=True)
        return _rows_from_table(table, "xlsx")
    finally:
        workbook.close()


def read_json(data: bytes) -> ImportFile:
    """A JSON list of objects, or ``{"products": [...]}``. An object's ``attributes`` object is
    spread into ``attributes.<key>`` columns (the API's own product shape imports as is)."""
    text, encoding = decode_text(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            "bad_json", f"JSON 格式有误：第 {exc.lineno} 行第 {exc.colno} 个字符附近（{exc.msg}）"
        ) from None
    if isinstance(document, dict) and isinstance(document.get("products"), list):
        document = document["products"]
    if not isinstance(document, list):
        raise ImportFileError("bad_json", 'JSON 应是商品对象的列表，或 {"products": [...]}')
    if len(document) > MAX_ROWS:
        raise ImportFileError("too_many_rows", f"文件超过 {MAX_ROWS} 个商品，请分成几个文件导入")
    columns: dict[str, None] = {}
    rows = []
    for number, item in enumerate(document, start=1):
        row = _object_row(number, item)
        columns.update(dict.fromkeys(row.values))
        if len(columns) > MAX_COLUMNS:
            raise ImportFileError("too_many_columns", f"商品的字段超过 {MAX_COLUMNS} 个")
        rows.append(row)
    return ImportFile("json", tuple(columns), tuple(rows), encoding)


def _object_row(number: int, item: Any) -> SourceRow:
    if not isinstance(item, Mapping):
        return SourceRow(number, {}, f"第 {number} 行：不是一个对象（{{...}}）")
    values: dict[str, Any] = {}
    for key, value in item.items():
        if key == "attributes" and isinstance(value, Mapping):
            for attr, attr_value in value.items():
                values[f"{ATTR_PREFIX}{attr}"] = _json_cell(attr_value)
        else:
            values[str(key)] = _json_cell(value)
    return SourceRow(number, values)


def _json_cell(value: Any) -> Any:
    if isinstance(value, list):
        return [_cell(v) for v in value if _cell(v) is not None]
    return _cell(value)


# -- the mapping ------------------------------------------------------------------------------
def _normalise_target(target: str) -> str:
    text = str(target).strip()
    if text.lower() == IGNORE:
        return IGNORE
    if text in FIELD_TARGETS:
        return text
    if text.lower() in FIELD_TARGETS:
        return text.lower()
    for prefix in (ATTR_PREFIX, EXPORT_ATTR_PREFIX):
        if text.startswith(prefix) and _attr_key(text):
            return ATTR_PREFIX + _attr_key(text)
    raise MappingError(
        "bad_mapping",
        f"映射目标「{target}」不存在：可用 {'、'.join(FIELD_TARGETS)}、attributes.<属性名> 或 ignore",
    )


def _is_target(text: str) -> bool:
    try:
        _normalise_target(text)
    except MappingError:
        return False
    return True


_ATTR_HEADER_RE = re.compile(r"^(?:attributes\.|attr:)\s*(.+?)\s*(?:[（(][^（）()]*[)）])?$")


def _attr_key(name: str) -> str | None:
    """``attributes.内存``, ``attr:内存`` and the template's ``attr:屏幕尺寸(英寸)`` → the key."""
    match = _ATTR_HEADER_RE.match(name.strip())
    return match.group(1) if match else None


@dataclass(frozen=True)
class ImportMapping:
    """How a foreign file's columns become our fields.

    ``columns``: ``{foreign column: target or (targets...)}``; targets as in the module doc.
    ``values``: ``{foreign column: {cell as written: our value}}``, applied before any reading;
    mapping a value to ``""`` empties the cell. ``category``: the category of rows that have
    none. ``create_brands``: create unknown brands (True) or reject their rows (False).
    Columns not in ``columns`` that are named as ours (``title``, ``attr:内存`` ...) map to
    themselves; others are ignored, with a warning.
    """

    columns: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    category: str | None = None
    create_brands: bool = True

    def __post_init__(self) -> None:
        columns: dict[str, tuple[str, ...]] = {}
        for column, target in dict(self.columns or {}).items():
            targets = (target,) if isinstance(target, str) else tuple(target or ())
            resolved = tuple(dict.fromkeys(_normalise_target(t) for t in targets))
            if len(resolved) > 1 and IGNORE in resolved:
                resolved = tuple(t for t in resolved if t != IGNORE)
            columns[str(column).strip()] = resolved or (IGNORE,)
        object.__setattr__(self, "columns", columns)
        values = {}
        for column, table in dict(self.values or {}).items():
            if not isinstance(table, Mapping):
                raise MappingError("bad_mapping", f"列「{column}」的取值对照应是一个对象")
            values[str(column).strip()] = {str(k).strip(): v for k, v in table.items()}
        object.__setattr__(self, "values", values)
        category = (self.category or "").strip() or None
        object.__setattr__(self, "category", category)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ImportMapping:
        """From the API's JSON: ``{"columns": {...}, "values": {...}, "category": "...",
        "create_brands": true}``, or just the ``{foreign: target}`` object."""
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise MappingError("bad_mapping", "映射应是一个 JSON 对象")
        structured = {"columns", "values", "category", "create_brands"}
        flat = (
            not set(data) <= structured
            or not isinstance(data.get("columns", {}), Mapping)
            # {"category": "category"}: a column named category, not a fixed category
            or all(isinstance(v, str) and _is_target(v) for v in data.values())
        )
        if flat:
            return cls(columns=data)
        return cls(
            columns=data.get("columns") or {},
            values=data.get("values") or {},
            category=data.get("category"),
            create_brands=bool(data.get("create_brands", True)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": {c: t[0] if len(t) == 1 else list(t) for c, t in self.columns.items()},
            "values": {c: dict(v) for c, v in self.values.items()},
            "category": self.category,
            "create_brands": self.create_brands,
        }

    def targets_for(self, column: str) -> tuple[str, ...]:
        """The targets of a column: the mapping's, else its own name when that is ours."""
        if column in self.columns:
            return tuple(t for t in self.columns[column] if t != IGNORE)
        return _own_target(column)


def _own_target(column: str) -> tuple[str, ...]:
    name = column.strip()
    if name in FIELD_TARGETS:
        return (name,)
    key = _attr_key(name)
    return (ATTR_PREFIX + key,) if key else ()


# Common header names of shop back-ends, spreadsheets and English exports. Earlier synonyms win
# when two columns would take the same field (产品类别 over 分类).
COMMON_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "sku编码", "商品编码", "商家编码", "货号", "商品货号", "编码", "商品id", "id", "product_id"),
    "title": ("title", "商品名称", "商品标题", "标题", "名称", "产品名称", "品名", "商品名", "name", "product name", "product_name"),
    "brand": ("brand", "品牌", "品牌名称", "品牌名", "厂商"),
    "category": ("category", "类目", "产品类别", "商品类别", "商品类目", "品类", "类别", "分类", "产品分类", "商品分类"),
    "price": ("price", "价格", "售价", "单价", "销售价", "现价", "零售价", "价格(元)", "价格（元）", "一口价"),
    "stock": ("stock", "库存", "库存数量", "库存量", "数量", "qty", "quantity", "inventory"),
    "rating": ("rating", "评分", "好评分", "星级", "score"),
    "description": ("description", "描述", "商品描述", "详情", "商品详情", "简介", "卖点", "desc"),
    "tags": ("tags", "标签", "商品标签", "关键词"),
    "model": ("model", "型号", "商品型号", "规格型号"),
    "series": ("series", "系列", "产品系列"),
    "image": ("image", "图片", "主图", "图片链接", "图片地址", "image_url", "img"),
    "aliases": ("aliases", "别名", "俗称", "又名"),
    "merchant_id": ("merchant_id", "商家编号", "商家id", "店铺编号"),
}  # fmt: skip


def _fold(text: Any) -> str:
    """Width, case and spaces folded: 「Ｌｅｎｏｖｏ 」 and "lenovo" are one name."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def _header_key(name: str) -> str:
    """A header compared with known names: folded, a required mark 「*」 and a trailing
    「（单位）」 dropped."""
    text = _fold(name).strip("*＊")
    return re.sub(r"[（(][^（）()]*[)）]$", "", text) or text


def suggest_mapping(
    columns: Sequence[str] | ImportFile, category: str | None, view: Any
) -> ImportMapping:
    """A proposed mapping for a file's columns, for the merchant to correct.

    Header names are matched against our own names, ``COMMON_HEADERS``, and the category's
    attribute keys and aliases (exact first, then a header containing a key or alias:
    「内存容量」 → 内存); given an ``ImportFile``, a column whose values are mostly known brands or
    categories (names or aliases) becomes ``brand`` / ``category``. Every field and attribute
    takes one column at most; the rest is ``ignore``. ``view`` is a ``CatalogView``, a
    ``ProductGraph`` or a ``CatalogSnapshot``.
    """
    catalog = _Catalog.of(view)
    file = columns if isinstance(columns, ImportFile) else None
    names = list(file.columns if file else columns)
    category = catalog.resolve_category(category) if category else None
    proposals: dict[str, tuple[int, str]] = {}  # column -> (rank, target); lower rank wins

    for name in names:
        key = _header_key(name)
        own = _own_target(name)
        if own:
            proposals[name] = (0, own[0])
            continue
        for target, synonyms in COMMON_HEADERS.items():
            folded = [_fold(s) for s in synonyms]
            if key in folded:
                proposals[name] = (1 + folded.index(key), target)
                break
    if category:
        words = {
            key: {_fold(w) for w in (key, *spec.aliases)}
            for key, spec in catalog.schema.get(category, {}).items()
        }
        for name in names:
            if name in proposals:
                continue
            key = _header_key(name)
            exact = [k for k, ws in words.items() if key in ws]
            if exact:
                proposals[name] = (20, ATTR_PREFIX + exact[0])
                continue
            # the longest key or alias inside the header: 「内存容量」 → 内存, 「裸机重量」 → 重量
            inside = [
                (len(w), k) for k, ws in words.items() for w in ws if len(w) >= 2 and w in key
            ]
            if inside:
                length, found = max(inside)
                proposals[name] = (40 - min(length, 9), ATTR_PREFIX + found)
    if file is not None:
        for name in names:
            if name in proposals:
                continue
            values = [v for r in file.rows if isinstance(v := r.values.get(name), str)][:200]
            if len(values) < 1:
                continue
            brands = sum(catalog.resolve_brand(v) is not None for v in values)
            categories = sum(catalog.resolve_category(v) is not None for v in values)
            if brands >= 0.8 * len(values):
                proposals[name] = (60, "brand")
            elif categories >= 0.8 * len(values):
                proposals[name] = (60, "category")
    # one column per target: the best rank, then the leftmost column
    best: dict[str, str] = {}
    for name in names:
        if name not in proposals:
            continue
        rank, target = proposals[name]
        holder = best.get(target)
        if holder is None or rank < proposals[holder][0]:
            best[target] = name
    chosen = {column: target for target, column in best.items()}
    mapping = {name: chosen.get(name, IGNORE) for name in names}
    return ImportMapping(columns=mapping, category=category)


# -- the catalog as the importer needs it ----------------------------------------------------
@dataclass(frozen=True)
class _Spec:
    key: str
    type: str
    unit: str | None
    aliases: tuple[str, ...]


class _Catalog:
    """Brands, categories, schema and products by sku, from a store, snapshot, view or graph."""

    def __init__(
        self,
        version: int,
        products: Iterable[Product],
        brands: Iterable[Mapping[str, Any]],
        categories: Iterable[Mapping[str, Any]],
        schema: Mapping[str, Mapping[str, _Spec]],
        merchants: Mapping[str, str],
    ) -> None:
        self.version = version
        self.products = {p.sku: p for p in products}
        self.merchants = dict(merchants)
        self.schema = {c: dict(s) for c, s in schema.items()}
        brands = list(brands)
        self.brands = {b["name"] for b in brands}
        self.brand_names: dict[str, str] = {}
        for b in brands:
            for word in b.get("aliases") or ():
                self.brand_names.setdefault(_fold(word), b["name"])
        for b in brands:
            self.brand_names[_fold(b["name"])] = b["name"]  # a name beats another's alias
        categories = list(categories)
        parents = {c.get("parent") for c in categories}
        self.leaves = {c["name"] for c in categories if c["name"] not in parents}
        self.children: dict[str, list[str]] = {}
        for c in categories:
            if c.get("parent") and c["name"] in self.leaves:
                self.children.setdefault(c["parent"], []).append(c["name"])
        self.category_names: dict[str, str] = {}
        for c in categories:
            for word in c.get("aliases") or ():
                self.category_names.setdefault(_fold(word), c["name"])
        for c in categories:
            self.category_names[_fold(c["name"])] = c["name"]
        self._shapes: dict[tuple[str, str], _Shape] = {}
        self._by_category: dict[str, list[Product]] | None = None

    @classmethod
    def of(cls, source: Any) -> _Catalog:
        if isinstance(source, CatalogStore):
            source = source.snapshot()
        if isinstance(source, CatalogSnapshot):
            schema: dict[str, dict[str, _Spec]] = {}
            for a in source.attribute_defs:
                schema.setdefault(a["category"], {})[a["key"]] = _Spec(
                    a["key"], a["type"] or "text", a["unit"], tuple(a["aliases"] or ())
                )
            return cls(
                source.version,
                source.products,
                source.brands,
                source.categories,
                schema,
                source.merchants,
            )
        graph = source if isinstance(source, ProductGraph) else getattr(source, "graph", None)
        if not isinstance(graph, ProductGraph):
            raise TypeError(f"not a catalog: {type(source).__name__}")
        return cls(
            graph.version,
            graph.products.values(),
            list(graph.brands.values()),
            graph.categories.values(),
            {
                c: {
                    k: _Spec(s.key, s.type or "text", s.unit, tuple(s.aliases))
                    for k, s in specs.items()
                }
                for c, specs in graph.schema.items()
            },
            graph.merchants,
        )

    def resolve_brand(self, name: Any) -> str | None:
        """A brand by name or alias; 「戴尔（DELL）」 by either part when both agree."""
        found = self.brand_names.get(_fold(name))
        if found is None and (match := _PAREN_RE.fullmatch(str(name).strip())):
            parts = {self.brand_names.get(_fold(p)) for p in match.groups() if p.strip()}
            found = parts.pop() if len(parts) == 1 else None
        return found

    def resolve_category(self, name: Any) -> str | None:
        return self.category_names.get(_fold(name))

    def brand_in_title(self, title: str) -> str | None:
        """The brand whose name or alias starts the title (the longest such word)."""
        folded = _fold(title)
        found = [
            (len(w), b)
            for w, b in self.brand_names.items()
            if len(w) >= 2
            and folded.startswith(w)
            # a Latin name must end there: 「MI」 does not start 「mini 风扇」
            and not (
                w[-1].isascii()
                and folded[len(w) : len(w) + 1].isascii()
                and folded[len(w) : len(w) + 1].isalnum()
            )
        ]
        return max(found)[1] if found else None

    def attribute_key(self, category: str, key: str) -> str:
        """Our key for a mapped attribute name: itself, or the key it is an alias of."""
        specs = self.schema.get(category, {})
        if key in specs:
            return key
        folded = _fold(key)
        for spec in specs.values():
            if folded == _fold(spec.key) or folded in {_fold(a) for a in spec.aliases}:
                return spec.key
        return key

    def shape(self, category: str, key: str) -> _Shape:
        """How the catalog already writes this key in this category."""
        if (category, key) not in self._shapes:
            if self._by_category is None:
                self._by_category = {}
                for p in self.products.values():
                    self._by_category.setdefault(p.category, []).append(p)
            values = [
                p.attributes[key]
                for p in self._by_category.get(category, [])
                if p.attributes.get(key) is not None
            ]
            self._shapes[(category, key)] = _Shape.of(values)
        return self._shapes[(category, key)]


_PAREN_RE = re.compile(r"([^（(]*)[（(]([^（）()]*)[)）]\s*")


@dataclass(frozen=True)
class _Shape:
    """The stored values of one key: their kind, list elements' kind, text unit suffixes."""

    kind: str | None = None  # "number" | "bool" | "list" | "text" | None (no stored value)
    numeric_elements: bool = False
    suffixes: tuple[str, ...] = ()

    @classmethod
    def of(cls, values: list[Any]) -> _Shape:
        if not values:
            return cls()
        if all(isinstance(v, bool) for v in values):
            return cls("bool")
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return cls("number")
        if all(isinstance(v, list) for v in values):
            elements = [e for v in values for e in v]
            numeric = bool(elements) and all(
                isinstance(e, int | float) and not isinstance(e, bool) for e in elements
            )
            return cls("list", numeric_elements=numeric)
        if all(isinstance(v, str) for v in values):
            suffixes = set()
            for v in values:
                match = _NUMBER_SUFFIX_RE.fullmatch(v)
                if not match:
                    return cls("text")
                suffixes.add(match.group(2))
            return cls("text", suffixes=tuple(sorted(suffixes)))
        return cls()


_NUMBER_SUFFIX_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)")


# -- reading values ---------------------------------------------------------------------------
_ARABIC_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_CN_NUMBER_RE = re.compile(r"[0-9.零〇一壹二贰两兩三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟万萬亿]+")
_CURRENCY_RE = re.compile(r"^(?:¥|rmb|cny)?\s*(.+?)\s*(?:元|块钱|块|rmb|cny)?$", re.I)
_RANGE_RE = re.compile(r"\d\s*(?:-|~|到|至)\s*\d|以上|以下|小于|大于|不到|左右")


def _number_text(text: str) -> Decimal | None:
    """A number written with Arabic digits (「5,999」「15.6」) or Chinese numerals (「五千」
    「1.5万」); no k/w shorthand, so 「65W」 stays a wattage, not 650000."""
    compact = normalize_chars(text).strip().replace(" ", "")
    if _ARABIC_RE.fullmatch(compact):
        try:
            return Decimal(compact.replace(",", ""))
        except InvalidOperation:
            return None
    if _CN_NUMBER_RE.fullmatch(compact):
        return parse_decimal(compact)
    return None


def _number_of(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        return _number_text(value)
    return None


def _amount(value: Any) -> Decimal | None:
    """A price: a number, with ¥ / 元 / 块 around it allowed."""
    if isinstance(value, str):
        match = _CURRENCY_RE.match(normalize_chars(value).strip())
        return _number_text(match.group(1)) if match else None
    return _number_of(value)


def _plain(number: Decimal) -> int | float:
    """An integral number as int (16, not 16.0), else a float, as the seed catalog writes them."""
    return int(number) if number == number.to_integral_value() else float(number)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "、".join(t for v in value if (t := _text(v)))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and math.isfinite(value):
        return str(_plain(Decimal(repr(value))))
    text = str(value).strip()
    return text or None


_LIST_SPLIT_RE = re.compile(r"\s*[|｜、,，;；]\s*")


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        out = []
        for v in value:
            out.extend(_items(v))
        return out
    if isinstance(value, str):
        return [p for p in _LIST_SPLIT_RE.split(value.strip()) if p]
    return [value]


_TRUE = {"是", "有", "支持", "true", "yes", "y", "1", "√", "✓", "✔", "对", "带"}
_FALSE = {"否", "无", "没有", "不支持", "false", "no", "n", "0", "×", "✗", "✘", "不带"}


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    folded = _fold(value)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


# Unit words merchants write, per unit of our schema (compared case-folded).
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "英寸": ("英寸", "寸", "inch", "inches", "in", '"', "”", "''"),
    "kg": ("kg", "公斤", "千克", "kgs"),
    "g": ("g", "克"),
    "小时": ("小时", "个小时", "h", "hr", "hrs", "hour", "hours"),
    "分钟": ("分钟", "min", "mins", "minutes", "分"),
    "天": ("天", "日", "days", "day"),
    "mAh": ("mah", "毫安", "毫安时"),
    "Hz": ("hz", "赫兹"),
    "W": ("w", "瓦"),
    "mm": ("mm", "毫米"),
    "米": ("米", "m"),
    "L": ("l", "升"),
    "dB": ("db", "分贝"),
    "㎡": ("㎡", "m²", "m2", "平方米", "平米"),
    "GB": ("gb", "g"),
    "TB": ("tb", "t"),
}
# Another unit that converts: (written, ours) -> factor.
UNIT_CONVERSIONS: dict[tuple[str, str], Decimal] = {
    ("g", "kg"): Decimal("0.001"),
    ("kg", "g"): Decimal(1000),
    ("分钟", "小时"): Decimal(1) / Decimal(60),
    ("小时", "分钟"): Decimal(60),
    ("TB", "GB"): Decimal(1024),
}


def _unit_words(unit: str) -> list[tuple[str, Decimal]]:
    """(word, factor) pairs that may follow a number of this unit, longest word first."""
    pairs = [(w, Decimal(1)) for w in (unit, *UNIT_WORDS.get(unit, ()))]
    for (written, ours), factor in UNIT_CONVERSIONS.items():
        if ours == unit:
            pairs += [(w, factor) for w in (written, *UNIT_WORDS.get(written, ()))]
    return sorted({(_fold(w), f) for w, f in pairs if w}, key=lambda p: -len(p[0]))


_HEADER_UNIT_RE = re.compile(r"[（(]\s*([^（）()]+?)\s*[)）]\s*$")


def _with_header_unit(value: Any, column: str, spec: _Spec | None) -> Any:
    """A bare number under a header that names its unit (「重量(g)」「attr:屏幕尺寸(英寸)」) reads
    in that unit: 1500 under 「重量(g)」 is 1.5 for a kg key. Only units the key's own unit
    takes or converts from count; 「重量(净重)」 is no unit and changes nothing."""
    match = _HEADER_UNIT_RE.search(column)
    if spec is None or not spec.unit or not match or _number_of(value) is None:
        return value
    unit = _fold(match.group(1))
    if unit not in {word for word, _ in _unit_words(spec.unit)}:
        return value
    return f"{_text(value)}{match.group(1).strip()}"


class _Unfit(ValueError):
    """An attribute value that does not fit its key; the message says why, in Chinese."""


def _coerce_number(value: Any, unit: str | None) -> int | float:
    number = _number_of(value)
    if number is None and isinstance(value, str):
        text = _fold(normalize_chars(value))
        for word, factor in _unit_words(unit) if unit else ():
            if text.endswith(word) and (number := _number_text(text[: -len(word)])) is not None:
                number = number * factor
                break
    if number is None:
        shown = f"（单位 {unit}）" if unit else ""
        if isinstance(value, str) and _RANGE_RE.search(normalize_chars(value)):
            raise _Unfit(f"「{value}」是一个范围，不是一个数{shown}")
        raise _Unfit(f"「{_text(value)}」不是一个数{shown}")
    return _plain(number)


def _coerce_text(value: Any, shape: _Shape) -> str:
    text = _text(value)
    if text is None:
        raise _Unfit("是空的")
    if not shape.suffixes:
        return text
    bare = _number_text(text)
    if bare is not None and len(shape.suffixes) == 1:
        return f"{_plain(bare)}{shape.suffixes[0]}"
    match = _NUMBER_SUFFIX_RE.fullmatch(normalize_chars(text))
    if not match:
        return text
    number, unit = match.groups()
    for suffix in shape.suffixes:
        if unit.casefold() == suffix.casefold():
            return f"{number}{suffix}"
    sizes = {"KB", "MB", "GB", "TB"}
    if set(shape.suffixes) <= sizes and unit.upper() in {"K", "M", "G", "T"}:
        return f"{number}{unit.upper()}B"
    return text


def _coerce_list(value: Any, shape: _Shape) -> list[Any]:
    out: list[Any] = []
    for item in _items(value):
        if shape.numeric_elements and (number := _number_of(item)) is not None:
            out.append(_plain(number))
        else:
            text = _text(item)
            if text:
                out.append(text)
    if not out:
        raise _Unfit("是空的")
    return list(dict.fromkeys(out))


def _coerce_attribute(value: Any, spec: _Spec | None, shape: _Shape) -> Any:
    kind = spec.type if spec else shape.kind
    if kind == "number":
        return _coerce_number(value, spec.unit if spec else None)
    if kind == "bool":
        result = _bool(value)
        if result is None:
            raise _Unfit(f"「{_text(value)}」不是 是/否")
        return result
    if kind == "list":
        return _coerce_list(value, shape)
    if kind == "text" or spec is not None:
        return _coerce_text(value, shape)
    # a key unknown to the schema and not yet stored: as written
    if isinstance(value, list):
        return [v for v in value if v is not None]
    return value


# -- the plan ---------------------------------------------------------------------------------
class RowStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Importer:
    """Who imports: ``actor`` (the account's username, for the audit log), ``role``
    ("merchant" or "admin") and ``merchant_id`` (a merchant's own; for an admin, the merchant
    of new products whose row names none)."""

    actor: str
    role: str
    merchant_id: str | None = None


@dataclass(frozen=True)
class RowResult:
    """One row's outcome. ``product`` is what would be stored (created, updated, unchanged),
    ``before`` the stored product (updated, unchanged), ``changes`` the fields that differ."""

    row: int
    status: RowStatus
    sku: str | None = None
    title: str | None = None
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    product: Product | None = None
    before: Product | None = None

    def to_dict(self, include_products: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "row": self.row,
            "status": self.status.value,
            "sku": self.sku,
            "title": self.title,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "changes": list(self.changes),
        }
        if include_products:
            data["product"] = self.product.to_dict() if self.product else None
            data["before"] = self.before.to_dict() if self.before else None
        return data


@dataclass(frozen=True)
class ImportReport:
    """The dry run's answer, and (``applied``) what an apply did.

    ``base_version`` is the catalog version the plan was made against; ``version`` the
    catalog version after applying (None before)."""

    importer: Importer
    rows: tuple[RowResult, ...]
    warnings: tuple[str, ...] = ()
    new_brands: tuple[str, ...] = ()
    base_version: int = 0
    source: Mapping[str, Any] = field(default_factory=dict)
    applied: bool = False
    version: int | None = None

    def count(self, status: RowStatus) -> int:
        return sum(r.status is status for r in self.rows)

    @property
    def created(self) -> int:
        return self.count(RowStatus.CREATED)

    @property
    def updated(self) -> int:
        return self.count(RowStatus.UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(RowStatus.UNCHANGED)

    @property
    def rejected(self) -> int:
        return self.count(RowStatus.REJECTED)

    @property
    def rejected_rows(self) -> tuple[RowResult, ...]:
        return tuple(r for r in self.rows if r.status is RowStatus.REJECTED)

    @property
    def summary(self) -> str:
        done = "已" if self.applied else "将"
        text = (
            f"{done}新建 {self.created} 个商品、更新 {self.updated} 个，{self.unchanged} 个没有变化"
        )
        if self.rejected:
            text += f"；{self.rejected} 行有问题，整个文件不会导入，请修改后重新上传"
        return text

    def to_dict(self, include_products: bool = False) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "summary": self.summary,
            "counts": {
                "created": self.created,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "rejected": self.rejected,
            },
            "rows": [r.to_dict(include_products) for r in self.rows],
            "warnings": list(self.warnings),
            "new_brands": list(self.new_brands),
            "base_version": self.base_version,
            "version": self.version,
            "source": dict(self.source),
        }


def derive_sku(merchant_id: str, brand: str, title: str, model: str | None = None) -> str:
    """A stable sku for a row without one: ``IMP-<MERCHANT>-<12 hex>`` from the merchant, brand,
    title and model with width, case and spaces folded, so the same product imported again
    (even retyped as 「Ｌｅｎｏｖｏ」) gets the same sku. Renaming a product gives a new sku:
    files that rename products carry a sku column."""
    basis = "\x1f".join(_fold(part or "") for part in (merchant_id, brand, title, model))
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:12].upper()
    prefix = re.sub(r"[^A-Za-z0-9]", "", merchant_id).upper()[:16] or "X"
    return f"IMP-{prefix}-{digest}"


_SKU_RE = re.compile(r"[^\s/\\?#%\"'<>]+")
_IMAGE_RE = re.compile(r"(?:https?://|/)\S+", re.I)


def _row_values(
    source: SourceRow, mapping: ImportMapping, targets: Mapping[str, tuple[str, ...]]
) -> dict[str, list[tuple[str, Any]]]:
    """Per target, the (column, value) pairs of one row, value maps applied, empties dropped."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for column, column_targets in targets.items():
        value = source.values.get(column)
        table = mapping.values.get(column)
        if table is not None and value is not None:
            value = _mapped_value(value, table)
        if value is None or value == "" or value == []:
            continue
        for target in column_targets:
            found.setdefault(target, []).append((column, value))
    return found


def _mapped_value(value: Any, table: Mapping[str, Any]) -> Any:
    if isinstance(value, list):
        out = []
        for v in value:
            mapped = _mapped_value(v, table)
            out.extend(mapped if isinstance(mapped, list) else [mapped])
        return [v for v in out if v not in (None, "")]
    key = _text(value) or ""
    if key in table:
        mapped = table[key]
        return _cell(mapped) if isinstance(mapped, str) else mapped
    folded = {_fold(k): v for k, v in table.items()}
    if _fold(key) in folded:
        mapped = folded[_fold(key)]
        return _cell(mapped) if isinstance(mapped, str) else mapped
    return value


class _RowCheck:
    """Collects a row's reasons and warnings, each prefixed 「第 N 行：」."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.reasons: list[str] = []
        self.warnings: list[str] = []

    def reject(self, text: str) -> None:
        self.reasons.append(f"第 {self.number} 行：{text}")

    def warn(self, text: str) -> None:
        self.warnings.append(f"第 {self.number} 行：{text}")


def _scalar(values: Mapping[str, list[tuple[str, Any]]], target: str) -> Any:
    pairs = values.get(target) or []
    return pairs[0][1] if pairs else None


def _check_targets(targets: Mapping[str, tuple[str, ...]]) -> None:
    owners: dict[str, list[str]] = {}
    for column, column_targets in targets.items():
        for target in column_targets:
            owners.setdefault(target, []).append(column)
    for target, columns in owners.items():
        if len(columns) > 1 and target not in _LIST_FIELDS | _JOINED_FIELDS:
            if target.startswith(ATTR_PREFIX):
                continue  # checked per row: several columns may feed a list attribute
            name = _FIELD_NAMES_CN.get(target, target)
            raise MappingError(
                "bad_mapping",
                f"列「{'」「'.join(columns)}」都映射到了{name}（{target}），只能保留一列",
            )


def plan_import(
    source: Any,
    rows: ImportFile | Sequence[Mapping[str, Any]],
    mapping: ImportMapping | Mapping[str, Any] | None,
    importer: Importer,
    words: SensitiveWords | None = None,
) -> ImportReport:
    """The dry run: what importing ``rows`` with ``mapping`` would do, row by row. Changes
    nothing. ``source`` is a ``CatalogStore`` (read once, as a snapshot), a
    ``CatalogSnapshot``, a ``CatalogView`` or a ``ProductGraph``; ``rows`` an ``ImportFile`` or
    plain dicts (numbered from 1). Raises ``MappingError`` for a mapping that cannot work for the
    whole file and ``ImportRefused`` (``forbidden``) for an importer who may not import.
    ``words``: the shop's sensitive words; a row whose shopper-visible text has one is rejected."""
    if importer.role not in ("merchant", "admin"):
        raise ImportRefused("forbidden", "只有商家和管理员可以导入商品")
    if importer.role == "merchant" and not importer.merchant_id:
        raise ImportRefused("forbidden", "这个商家账号没有绑定商家编号，不能导入商品")
    if not isinstance(mapping, ImportMapping):
        mapping = ImportMapping.from_dict(mapping)
    file = rows if isinstance(rows, ImportFile) else _file_from_dicts(rows)
    catalog = _Catalog.of(source)

    warnings: list[str] = []
    fixed_category = None
    if mapping.category:
        fixed_category = catalog.resolve_category(mapping.category)
        if fixed_category is None or fixed_category not in catalog.leaves:
            raise MappingError(
                "bad_mapping", f"映射指定的类目「{mapping.category}」不存在或不是末级类目"
            )
    targets = {c: mapping.targets_for(c) for c in file.columns}
    targets = {c: t for c, t in targets.items() if t}
    _check_targets(targets)
    mapped = {t for ts in targets.values() for t in ts}
    missing = [f for f in ("title", "price") if f not in mapped]
    if "category" not in mapped and fixed_category is None:
        missing.append("category")
    if missing:
        names = "、".join(f"{_FIELD_NAMES_CN[f]}（{f}）" for f in missing)
        raise MappingError("missing_required", f"没有列映射到必填字段：{names}")
    unmapped = [c for c in file.columns if c not in targets and c not in mapping.columns]
    if unmapped:
        warnings.append(f"这些列没有映射，已忽略：{'、'.join(unmapped)}")
    absent = [c for c in mapping.columns if c not in file.columns]
    if absent:
        warnings.append(f"映射里的这些列不在文件中：{'、'.join(absent)}")

    planner = _Planner(catalog, mapping, importer, fixed_category)
    results = [planner.row(source_row, targets) for source_row in file.rows]
    results = planner.reject_duplicates(results)
    if words is not None:
        results = [_reject_sensitive(result, words) for result in results]

    new_brands: dict[str, int] = Counter()
    unknown_keys: Counter[tuple[str, str]] = Counter()
    for result, info in zip(results, planner.infos, strict=True):
        if result.status is RowStatus.REJECTED:
            continue
        if info.new_brand:
            new_brands[info.new_brand] += 1
        for key in info.unknown_keys:
            unknown_keys[(result.product.category, key)] += 1  # type: ignore[union-attr]
    for brand, count in new_brands.items():
        warnings.append(f"品牌「{brand}」不在品牌库中，导入时会新建（{count} 行）")
    for (category, key), count in unknown_keys.items():
        warnings.append(f"属性「{key}」不在「{category}」的属性表中，已按原样保存（{count} 行）")
    return ImportReport(
        importer=importer,
        rows=tuple(results),
        warnings=tuple(warnings),
        new_brands=tuple(new_brands),
        base_version=catalog.version,
        source=file.describe(),
    )


def shopper_visible_text(product: Product) -> list[str]:
    """The texts of a product a shopper reads: on cards, the product page and in answers."""
    texts = [product.title, product.brand, product.description, product.model or ""]
    texts += [*product.tags, *product.aliases, product.series or ""]
    for value in product.attributes.values():
        values = value if isinstance(value, list | tuple) else [value]
        texts += [v for v in values if isinstance(v, str)]
    return [t for t in texts if t]


def _reject_sensitive(result: RowResult, words: SensitiveWords) -> RowResult:
    if result.status is RowStatus.REJECTED or result.product is None:
        return result
    found = [hit.text for text in shopper_visible_text(result.product) for hit in words.find(text)]
    if not found:
        return result
    reason = f"第 {result.row} 行：包含不允许的词「{'」「'.join(dict.fromkeys(found))}」"
    return replace(result, status=RowStatus.REJECTED, reasons=(*result.reasons, reason))


def _file_from_dicts(rows: Sequence[Mapping[str, Any]]) -> ImportFile:
    out = [_object_row(number, item) for number, item in enumerate(rows, start=1)]
    columns = dict.fromkeys(key for row in out for key in row.values)
    return ImportFile("json", tuple(columns), tuple(out))


@dataclass
class _RowInfo:
    new_brand: str | None = None
    unknown_keys: tuple[str, ...] = ()


class _Planner:
    def __init__(
        self,
        catalog: _Catalog,
        mapping: ImportMapping,
        importer: Importer,
        fixed_category: str | None,
    ) -> None:
        self.catalog = catalog
        self.mapping = mapping
        self.importer = importer
        self.fixed_category = fixed_category
        self.infos: list[_RowInfo] = []

    def row(self, source: SourceRow, targets: Mapping[str, tuple[str, ...]]) -> RowResult:
        info = _RowInfo()
        self.infos.append(info)
        check = _RowCheck(source.number)
        if source.problem:
            return RowResult(source.number, RowStatus.REJECTED, reasons=(source.problem,))
        values = _row_values(source, self.mapping, targets)
        fields: dict[str, Any] = {}

        title = _text(_scalar(values, "title"))
        if not title:
            check.reject("缺少标题（title）")
        elif len(title) > _LENGTHS["title"]:
            check.reject(f"标题太长（{len(title)} 个字，最多 {_LENGTHS['title']} 个字）")
        fields["title"] = title
        category = self._category(values, check)
        fields["category"] = category
        price = self._price(values, check)
        fields["price"] = price
        merchant_id = self._merchant(values, check)
        brand = self._brand(values, title, check, info)
        fields["brand"] = brand
        for name in ("model", "series", "image"):
            value = self._short_text(values, name, check)
            if value is not None:
                fields[name] = value
        model = fields.get("model")
        if "image" in fields and not _IMAGE_RE.fullmatch(fields["image"]):
            check.reject(f'图片地址应以 http:// 或 https:// 开头（"{fields["image"][:60]}"）')
        for name in ("tags", "aliases"):
            items = [t for _, v in values.get(name, []) for i in _items(v) if (t := _text(i))]
            if items:
                fields[name] = tuple(dict.fromkeys(items))
        description = "；".join(t for _, v in values.get("description", []) if (t := _text(v)))
        if len(description) > MAX_TEXT_CHARS:
            check.reject(f"描述太长（{len(description)} 个字，最多 {MAX_TEXT_CHARS} 个字）")
        if description:
            fields["description"] = description
        stock = self._stock(values, check)
        if stock is not None:
            fields["stock"] = stock
        rating = self._rating(values, check)
        if rating is not None:
            fields["rating"] = rating
        attributes, unknown = self._attributes(values, category, check)
        info.unknown_keys = unknown

        # a new product's merchant: the row's, else the importer's (an admin's default)
        default_merchant = self.importer.merchant_id
        if default_merchant not in self.catalog.merchants:
            default_merchant = None
        sku = self._sku(values, merchant_id or default_merchant, brand, title, model, check)
        existing = self.catalog.products.get(sku) if sku else None
        merchant = self.importer.role == "merchant"
        if existing is not None and merchant and existing.merchant_id != self.importer.merchant_id:
            check.reject(f"SKU「{sku}」是其他商家的商品，不能修改")
        if merchant_id is None:  # an admin's row naming none: an existing product keeps its own
            merchant_id = existing.merchant_id if existing is not None else default_merchant
        if merchant_id is None and not check.reasons:
            check.reject(
                "没有商家编号（merchant_id）：请在文件里填写，或用绑定了商家的管理员账号导入"
            )
        if check.reasons:
            return RowResult(
                source.number,
                RowStatus.REJECTED,
                sku=sku,
                title=title,
                reasons=tuple(check.reasons),
                warnings=tuple(check.warnings),
            )
        fields["merchant_id"] = merchant_id
        return self._outcome(source.number, sku, fields, attributes, existing, check)

    # -- fields --
    def _category(self, values: Mapping[str, list], check: _RowCheck) -> str | None:
        written = _text(_scalar(values, "category"))
        if written is None:
            if self.fixed_category is None:
                check.reject("缺少类目（category）")
            return self.fixed_category
        category = self.catalog.resolve_category(written)
        if category is None:
            check.reject(f"类目「{written}」不存在")
        elif category not in self.catalog.leaves:
            check.reject(
                f"类目「{written}」不是末级类目，请写到具体类目，如「{self._a_leaf(category)}」"
            )
        return category

    def _a_leaf(self, parent: str) -> str:
        return (self.catalog.children.get(parent) or sorted(self.catalog.leaves) or [""])[0]

    def _price(self, values: Mapping[str, list], check: _RowCheck) -> float | None:
        raw = _scalar(values, "price")
        if raw is None:
            check.reject("缺少价格（price）")
            return None
        number = _amount(raw)
        if number is None:
            check.reject(f'价格不是数字（"{_text(raw)}"）')
            return None
        if number < 0:
            check.reject(f'价格不能是负数（"{_text(raw)}"）')
            return None
        if number >= Decimal("1e10"):
            check.reject(f'价格太大（"{_text(raw)}"）')
            return None
        rounded = round(number, 2)
        if rounded != number:
            check.warn(f"价格「{_text(raw)}」按两位小数记为 {rounded}")
        return float(rounded)

    def _merchant(self, values: Mapping[str, list], check: _RowCheck) -> str | None:
        written = _text(_scalar(values, "merchant_id"))
        if self.importer.role == "merchant":
            if written is not None and written != self.importer.merchant_id:
                check.reject(f"不能为其他商家（{written}）导入商品")
            return self.importer.merchant_id
        if written is not None and written not in self.catalog.merchants:
            check.reject(f"商家编号「{written}」不存在")
        return written  # an admin's row: None when it names no merchant (see row())

    def _brand(
        self, values: Mapping[str, list], title: str | None, check: _RowCheck, info: _RowInfo
    ) -> str | None:
        written = _text(_scalar(values, "brand"))
        if written is None:
            found = self.catalog.brand_in_title(title) if title else None
            if found:
                check.warn(f"没有填写品牌，按标题记为「{found}」")
                return found
            if DEFAULT_BRAND not in self.catalog.brands:
                info.new_brand = DEFAULT_BRAND
            return DEFAULT_BRAND
        brand = self.catalog.resolve_brand(written)
        if brand is not None:
            return brand
        if len(written) > _LENGTHS["brand"]:
            check.reject(f"品牌名太长（最多 {_LENGTHS['brand']} 个字）")
            return None
        if not self.mapping.create_brands:
            check.reject(f"品牌「{written}」不在品牌库中")
            return None
        info.new_brand = written
        return written

    def _short_text(self, values: Mapping[str, list], name: str, check: _RowCheck) -> str | None:
        text = _text(_scalar(values, name))
        if text is not None and len(text) > _LENGTHS[name]:
            check.reject(f"{_FIELD_NAMES_CN[name]}太长（最多 {_LENGTHS[name]} 个字）")
        return text

    def _stock(self, values: Mapping[str, list], check: _RowCheck) -> int | None:
        raw = _scalar(values, "stock")
        if raw is None:
            return None
        text = _text(raw) or ""
        number = _number_of(raw)
        if number is None and isinstance(raw, str):
            number = _number_text(re.sub(r"(件|个|台|只|套|盒|瓶|双|pcs)$", "", text, flags=re.I))
        if number is None or number < 0 or number != number.to_integral_value():
            check.reject(f'库存应是不小于 0 的整数（"{text}"）')
            return None
        if number > MAX_STOCK:
            check.reject(f'库存太大（"{text}"）')
            return None
        return int(number)

    def _rating(self, values: Mapping[str, list], check: _RowCheck) -> float | None:
        raw = _scalar(values, "rating")
        if raw is None:
            return None
        text = _text(raw) or ""
        number = _number_of(raw)
        if number is None and isinstance(raw, str):
            number = _number_text(re.sub(r"(分|星)$", "", text))
        if number is None or not 0 <= number <= 5:
            check.reject(f'评分应是 0 到 5 之间的数（"{text}"）')
            return None
        return float(number)

    def _attributes(
        self, values: Mapping[str, list], category: str | None, check: _RowCheck
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        if category is None:
            return {}, ()
        specs = self.catalog.schema.get(category, {})
        gathered: dict[str, list[Any]] = {}
        for target, pairs in values.items():
            if not target.startswith(ATTR_PREFIX):
                continue
            key = self.catalog.attribute_key(category, target[len(ATTR_PREFIX) :])
            spec = specs.get(key)
            gathered.setdefault(key, []).extend(
                _with_header_unit(value, column, spec) for column, value in pairs
            )
        attributes: dict[str, Any] = {}
        unknown = []
        for key, raws in gathered.items():
            spec = specs.get(key)
            shape = self.catalog.shape(category, key)
            if spec is None:
                unknown.append(key)
            is_list = (spec.type if spec else shape.kind) == "list"
            if len(raws) > 1 and not is_list:
                check.reject(f"属性「{key}」有 {len(raws)} 个值（来自多列），只能有一个")
                continue
            raw = raws if is_list else raws[0]
            try:
                attributes[key] = _coerce_attribute(raw, spec, shape)
            except _Unfit as unfit:
                check.warn(f"属性「{key}」{unfit}，未导入该属性")
        return attributes, tuple(unknown)

    def _sku(
        self,
        values: Mapping[str, list],
        merchant_id: str | None,
        brand: str | None,
        title: str | None,
        model: str | None,
        check: _RowCheck,
    ) -> str | None:
        written = _text(_scalar(values, "sku"))
        if written is not None:
            if len(written) > _LENGTHS["sku"] or not _SKU_RE.fullmatch(written):
                check.reject(f"SKU「{written[:70]}」不能含空格和 / \\ ? # % 引号，最长 64 个字符")
                return None
            return written
        if merchant_id is None or brand is None or title is None:
            return None
        return derive_sku(merchant_id, brand, title, model)

    # -- outcome --
    def _outcome(
        self,
        number: int,
        sku: str,
        fields: dict[str, Any],
        attributes: dict[str, Any],
        existing: Product | None,
        check: _RowCheck,
    ) -> RowResult:
        warnings = tuple(check.warnings)
        if existing is None:
            product = Product(
                sku=sku,
                title=fields["title"],
                brand=fields["brand"],
                category=fields["category"],
                price=fields["price"],
                stock=fields.get("stock", DEFAULT_STOCK),
                rating=fields.get("rating", DEFAULT_RATING),
                merchant_id=fields["merchant_id"],
                attributes=attributes,
                tags=fields.get("tags", ()),
                description=fields.get("description", DEFAULT_DESCRIPTION),
                model=fields.get("model"),
                series=fields.get("series"),
                aliases=fields.get("aliases", ()),
                image=fields.get("image"),
            )
            return RowResult(
                number, RowStatus.CREATED, sku, product.title, (), warnings, (), product, None
            )
        merged = {name: getattr(existing, name) for name in PRODUCT_FIELDS}
        merged.update(fields)
        merged["attributes"] = {**existing.attributes, **attributes}
        product = Product(**merged, revision=existing.revision)
        changes = tuple(
            name
            for name in PRODUCT_FIELDS
            if name != "sku" and _differs(getattr(product, name), getattr(existing, name))
        )
        status = RowStatus.UPDATED if changes else RowStatus.UNCHANGED
        return RowResult(
            number, status, sku, product.title, (), warnings, changes, product, existing
        )

    def reject_duplicates(self, results: list[RowResult]) -> list[RowResult]:
        """A sku seen in an earlier row rejects the later row (the earlier one stands)."""
        first: dict[str, int] = {}
        out = []
        for result in results:
            if result.sku and result.sku in first:
                reason = f"第 {result.row} 行：SKU「{result.sku}」与第 {first[result.sku]} 行重复"
                if _derived(result.sku):
                    reason += "（品牌、标题和型号都相同）"
                result = replace(
                    result,
                    status=RowStatus.REJECTED,
                    reasons=(*result.reasons, reason),
                    product=None,
                    before=None,
                    changes=(),
                )
            elif result.sku:
                first[result.sku] = result.row
            out.append(result)
        return out


def _derived(sku: str) -> bool:
    return sku.startswith("IMP-")


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return round(float(a), 2) != round(float(b), 2)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return dict(a) != dict(b)
    return a != b


# -- apply ------------------------------------------------------------------------------------
def apply_import(
    store: CatalogStore, plan: ImportReport, importer: Importer | None = None
) -> ImportReport:
    """Writes a plan in ONE transaction: new brands, created and updated products, one audit
    entry per written product, one catalog version bump (so every process reloads). All or
    nothing: if any write fails, nothing changes.

    Refused (``ImportRefused``, nothing written) when the plan has rejected rows
    (``rows_rejected``: fix the file or the mapping and upload again), was made for another
    importer or already applied (``forbidden``), or the catalog changed under it since the dry
    run: a product to create exists now, or one to update was saved since (``conflict``; plan
    again). A plan with nothing to write succeeds without bumping the version.
    """
    if importer is not None and importer != plan.importer:
        raise ImportRefused("forbidden", "这份导入预览是为另一个账号生成的")
    if plan.applied:
        raise ImportRefused("forbidden", "这份导入已经执行过了")
    if plan.rejected:
        first = "；".join(r for row in plan.rejected_rows[:3] for r in row.reasons[:1])
        more = "等" if plan.rejected > 3 else ""
        raise ImportRefused(
            "rows_rejected",
            f"有 {plan.rejected} 行没有通过检查（{first}{more}），整个文件都没有导入；"
            "请修改文件或映射后重新上传",
        )
    writes = [r for r in plan.rows if r.status in (RowStatus.CREATED, RowStatus.UPDATED)]
    try:
        with store.session() as session:
            written = _write(session, plan, writes)
    except IntegrityError:
        # another import created the same sku between our check and the commit
        raise ImportRefused(
            "conflict", "导入期间商品目录被其他操作修改了，请重新预览后再导入"
        ) from None
    rows = tuple(
        replace(r, product=written[r.sku])
        if r.status in (RowStatus.CREATED, RowStatus.UPDATED) and r.sku in written
        else r
        for r in plan.rows
    )
    return replace(plan, rows=rows, applied=True, version=store.version())


def _write(session: Session, plan: ImportReport, writes: list[RowResult]) -> dict[str, Product]:
    """The writes of ``apply_import`` inside its transaction; raises to roll everything back."""
    written: dict[str, Product] = {}
    actor = plan.importer.actor[:64]
    for name in plan.new_brands:
        if session.get(Brand, name) is None:
            session.add(Brand(name=name, aliases=[], origin=None))
    session.flush()
    for result in writes:
        product = result.product
        assert product is not None and result.sku is not None
        if result.status is RowStatus.CREATED:
            if session.get(ProductRow, result.sku) is not None:
                raise ImportRefused(
                    "conflict", f"商品「{result.sku}」在预览之后已被创建，请重新预览后再导入"
                )
            session.add(ProductRow(**_columns(product), revision=1))
            stored = replace(product, revision=1)
        else:
            row = session.get(ProductRow, result.sku, with_for_update=True)
            before = result.before
            if row is None or before is None or row.revision != before.revision:
                raise ImportRefused(
                    "conflict", f"商品「{result.sku}」在预览之后被修改或删除了，请重新预览后再导入"
                )
            for name, value in _columns(product).items():
                if name in result.changes:
                    setattr(row, name, value)
            row.revision += 1
            stored = replace(product, revision=row.revision)
        written[result.sku] = stored
        session.add(
            AuditEntry(
                actor=actor,
                action=AUDIT_CREATE if result.status is RowStatus.CREATED else AUDIT_UPDATE,
                target=result.sku,
                merchant_id=stored.merchant_id,
                detail={
                    "before": result.before.to_dict() if result.before else None,
                    "after": stored.to_dict(),
                    "via": "import",
                    "file": plan.source.get("filename"),
                    "row": result.row,
                    "changes": list(result.changes),
                },
            )
        )
    session.flush()
    if writes or plan.new_brands:
        CatalogStore.bump_version(session)
    return written


def _columns(product: Product) -> dict[str, Any]:
    """A product as the products table's columns (JSON-ready lists and dicts)."""
    data = product.to_dict()
    return {name: data[name] for name in PRODUCT_FIELDS}


# -- export -----------------------------------------------------------------------------------
EXPORT_COLUMNS = (
    "sku",
    "title",
    "brand",
    "category",
    "price",
    "stock",
    "rating",
    "merchant_id",
    "model",
    "series",
    "tags",
    "aliases",
    "image",
    "description",
)


_FORMULA_STARTS = frozenset("=+-@")


def _export_value(value: Any) -> str:
    # The commonest types first, tested exactly: a 10,000-product export formats 300,000 values.
    kind = type(value)
    if kind is str:
        return _export_text(value) if value[:1] in _FORMULA_STARTS else value
    if kind is int:
        return str(value)
    if kind is float and abs(value) < 1e15:  # finite; its repr is exact below 1e15
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return str(_plain(Decimal(repr(float(value)) if isinstance(value, float) else value)))
    if isinstance(value, list | tuple):
        return "|".join([_export_value(v) for v in value])
    return _export_text(str(value))


def _export_text(text: str) -> str:
    # Excel runs a cell that starts with = + - @ as a formula; a leading ' keeps it text
    # (the reader drops it again).
    if text[:1] in ("=", "+", "@") or (text[:1] == "-" and _number_text(text) is None):
        return "'" + text
    return text


def _csv_bytes(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    # UTF-8 with BOM: Excel opens it as UTF-8 (without the BOM it guesses GBK and garbles Chinese)
    return buffer.getvalue().encode("utf-8-sig")


def export_csv(
    source: Any, merchant_id: str | None = None, *, category: str | None = None
) -> bytes:
    """The catalog (a merchant's products, or all for ``merchant_id=None``) as a CSV that Excel
    opens and that ``plan_import`` reads back without a mapping, as ``unchanged``: our field
    names as headers, attributes as ``attr:<key>`` columns, lists joined with ``|``, yes/no as
    是/否, sorted by sku. ``source``: a store, snapshot, view or graph."""
    catalog = _Catalog.of(source)
    products = sorted(
        (
            p
            for p in catalog.products.values()
            if (merchant_id is None or p.merchant_id == merchant_id)
            and (category is None or p.category == category)
        ),
        key=lambda p: p.sku,
    )
    keys: dict[str, None] = {}
    for p in products:
        for key in catalog.schema.get(p.category, {}):
            if key in p.attributes:
                keys.setdefault(key, None)
    for p in products:
        for key in p.attributes:
            keys.setdefault(key, None)
    header = [*EXPORT_COLUMNS, *(EXPORT_ATTR_PREFIX + k for k in keys)]
    lines: list[list[str]] = [header]
    # Fields read straight off the product (to_dict's deep copy was half the time of a
    # 10,000-product export), and only the attribute columns a product has are visited.
    column = {k: i for i, k in enumerate(keys)}
    blank = [""] * len(keys)
    for p in products:
        cells = blank.copy()
        for key, value in p.attributes.items():
            cells[column[key]] = _export_value(value)
        lines.append([_export_value(getattr(p, name)) for name in EXPORT_COLUMNS] + cells)
    return _csv_bytes(lines)


_TEMPLATE_HINTS = {
    "sku": "# 说明（此行导入时跳过）SKU 可留空：按商家、品牌、标题和型号自动生成",
    "title": "必填",
    "brand": "品牌名或别名；新品牌会自动创建",
    "price": "必填，单位元，如 5999",
    "stock": f"整数，留空为 {DEFAULT_STOCK}",
    "rating": f"0 到 5，留空为 {DEFAULT_RATING:g}",
    "model": "型号，如 Mate 60 Pro",
    "series": "系列",
    "tags": "多个用 | 分隔，如 学生|轻薄",
    "aliases": "顾客的叫法，多个用 | 分隔",
    "image": "图片地址，https:// 开头",
    "description": "商品描述",
}


def template_csv(category: str, view: Any) -> bytes:
    """A blank file for one category: our field columns and the category's attribute columns
    (``attr:<key>(<unit>)``), then a hint row starting with 「# 」 (skipped on import) that says
    what each column takes: required or not, the unit, 是/否, ``|`` for lists, a value the
    catalog already uses. UTF-8 with BOM, like ``export_csv``."""
    catalog = _Catalog.of(view)
    resolved = catalog.resolve_category(category)
    if resolved is None or resolved not in catalog.leaves:
        raise MappingError("unknown_category", f"类目「{category}」不存在或不是末级类目")
    specs = catalog.schema.get(resolved, {})
    columns = [c for c in EXPORT_COLUMNS if c != "merchant_id"]
    header = list(columns)
    hints = [_TEMPLATE_HINTS.get(c, "") for c in columns]
    hints[columns.index("category")] = f"必填，如 {resolved}"
    for key, spec in specs.items():
        unit = f"({spec.unit})" if spec.unit else ""
        header.append(f"{EXPORT_ATTR_PREFIX}{key}{unit}")
        hints.append(_attribute_hint(spec, catalog.shape(resolved, key), catalog, resolved))
    return _csv_bytes([header, hints])


def _attribute_hint(spec: _Spec, shape: _Shape, catalog: _Catalog, category: str) -> str:
    if spec.type == "number":
        return f"数字，单位 {spec.unit}" if spec.unit else "数字"
    if spec.type == "bool":
        return "是 或 否"
    example = ""
    for p in catalog.products.values():
        if p.category == category and p.attributes.get(spec.key) not in (None, "", []):
            example = _export_value(p.attributes[spec.key])
            break
    if spec.type == "list":
        return f"多个用 | 分隔，如 {example}" if example else "多个用 | 分隔"
    if shape.suffixes:
        return f"如 {example}（数字加 {'/'.join(shape.suffixes)}）"
    return f"如 {example}" if example else "文字"

"""The merchant's bulk import (knowledge_graph/catalog_import.py): readers, mapping, the dry-run
report, the all-or-nothing apply, export and template, and RiSAWOZ's real PC table."""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from knowledge_graph.catalog_import import (
    DEFAULT_BRAND,
    MAX_BYTES,
    MAX_ROWS,
    Importer,
    ImportFileError,
    ImportMapping,
    ImportRefused,
    MappingError,
    RowStatus,
    apply_import,
    derive_sku,
    export_csv,
    plan_import,
    read_import_file,
    suggest_mapping,
    template_csv,
)
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import AuditEntry

SHOP1 = Importer(actor="shop1", role="merchant", merchant_id="m001")
SHOP2 = Importer(actor="shop2", role="merchant", merchant_id="m002")
ADMIN = Importer(actor="root", role="admin", merchant_id="m001")

HEADER = ["商品名称", "品牌", "类目", "价格", "库存", "屏幕尺寸", "颜色", "5G"]
NEW_PHONE = [
    "荣耀 X50 8GB+256GB 典雅黑",
    "荣耀",
    "手机",
    "1399",
    "50",
    "6.78英寸",
    "典雅黑|雨后初晴",
    "是",
]
# The mini catalog's 小米14 at a new price: an update by sku.
XIAOMI_ROW = {"sku": "PH-XM-14-256", "title": "小米14 12GB+256GB 白色 徕卡光学", "category": "手机", "price": 3799}  # fmt: skip


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def products(store: CatalogStore) -> dict[str, object]:
    return {p.sku: p for p in store.snapshot().products}


def audit_entries(store: CatalogStore) -> list[AuditEntry]:
    with store.session() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# -- readers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("encoding", "found"),
    [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("gbk", "gb18030"), ("utf-16", "utf-16")],
)
def test_csv_in_every_encoding_excel_writes(mini_store, encoding, found):
    data = csv_bytes([HEADER, NEW_PHONE], encoding)
    file = read_import_file(data, filename="商品.csv")
    assert (file.format, file.encoding) == ("csv", found)
    assert file.columns == tuple(HEADER)
    mapping = suggest_mapping(file, "手机", mini_store.snapshot())
    report = plan_import(mini_store, file, mapping, SHOP1)
    assert (report.created, report.rejected) == (1, 0)
    product = report.rows[0].product
    assert product.title == "荣耀 X50 8GB+256GB 典雅黑" and product.price == 1399.0
    assert product.attributes == {"屏幕尺寸": 6.78, "颜色": ["典雅黑", "雨后初晴"], "5G": True}
    assert report.rows[0].row == 2  # the header is row 1, as in Excel


def test_tab_separated_text_is_read_too(mini_store):
    data = "\n".join("\t".join(r) for r in [HEADER, NEW_PHONE]).encode("utf-8")
    file = read_import_file(data, filename="export.txt")
    assert file.columns == tuple(HEADER) and file.rows[0].values["价格"] == "1399"


def test_xlsx_made_with_openpyxl(mini_store):
    data = xlsx_bytes(
        [
            ["商品名称", "品牌", "类目", "价格", "库存", "屏幕尺寸"],
            ["荣耀 X50", "HONOR", "智能手机", 1399.5, 50, 6.78],
            [None, None, None, None, None, None],  # an empty row in the middle is skipped
            ["荣耀 Magic6", "荣耀", "手机", "4,399", 8.0, "6.8"],
        ]
    )
    file = read_import_file(data, filename="商品.xlsx")
    assert file.format == "xlsx" and [r.number for r in file.rows] == [2, 4]
    mapping = ImportMapping(columns={"商品名称": "title", "品牌": "brand", "类目": "category",
                                     "价格": "price", "库存": "stock", "屏幕尺寸": "attributes.屏幕尺寸"})  # fmt: skip
    report = plan_import(mini_store, file, mapping, SHOP1)
    assert report.created == 2 and report.rejected == 0
    first, second = (r.product for r in report.rows)
    assert (first.price, first.stock, first.attributes) == (1399.5, 50, {"屏幕尺寸": 6.78})
    assert (second.price, second.stock, second.attributes) == (4399.0, 8, {"屏幕尺寸": 6.8})
    # neither is a brand of the mini catalog, and nothing says HONOR is 荣耀: each row names
    # a new brand, and the report says so before anything is written
    assert set(report.new_brands) == {"HONOR", "荣耀"}


@pytest.mark.parametrize("wrapped", [False, True])
def test_json_list_or_products_object(mini_store, wrapped):
    items = [
        {"title": "荣耀 X50", "brand": "荣耀", "category": "手机", "price": 1399,
         "attributes": {"屏幕尺寸": 6.78, "颜色": ["典雅黑"]}, "tags": ["学生", "续航"]},
        {"title": "耐克 Vomero 17", "brand": "Nike", "category": "跑鞋", "price": "¥999"},
    ]  # fmt: skip
    document = {"products": items} if wrapped else items
    file = read_import_file(json.dumps(document, ensure_ascii=False).encode(), filename="p.json")
    assert file.format == "json" and "attributes.屏幕尺寸" in file.columns
    report = plan_import(mini_store, file, None, SHOP1)
    assert report.created == 2, report.to_dict()
    phone, shoe = (r.product for r in report.rows)
    assert phone.attributes == {"屏幕尺寸": 6.78, "颜色": ["典雅黑"]}
    assert phone.tags == ("学生", "续航")
    assert (shoe.brand, shoe.category, shoe.price) == ("耐克", "跑步鞋", 999.0)


def test_format_is_detected_without_a_name_and_old_xls_is_refused():
    assert read_import_file(b'[{"title": "x"}]').format == "json"
    assert read_import_file(xlsx_bytes([["title"], ["x"]])).format == "xlsx"
    assert read_import_file(b"title,price\nx,1\n").format == "csv"
    with pytest.raises(ImportFileError) as refused:
        read_import_file(b"\xd0\xcf\x11\xe0 old excel", filename="商品.xls")
    assert refused.value.code == "unsupported_format" and ".xlsx" in refused.value.message


def test_size_and_row_limits_are_clear_errors():
    with pytest.raises(ImportFileError) as too_big:
        read_import_file(b"a" * (MAX_BYTES + 1), filename="big.csv")
    assert too_big.value.code == "file_too_large" and "5 MB" in too_big.value.message
    rows = [["title", "category", "price"]] + [
        [f"商品{i}", "手机", "1"] for i in range(MAX_ROWS + 1)
    ]
    with pytest.raises(ImportFileError) as too_long:
        read_import_file(csv_bytes(rows), filename="long.csv")
    assert too_long.value.code == "too_many_rows" and str(MAX_ROWS) in too_long.value.message
    assert len(read_import_file(csv_bytes(rows[:-1]), filename="ok.csv").rows) == MAX_ROWS


def test_bad_files_are_explained():
    with pytest.raises(ImportFileError, match="JSON 格式有误"):
        read_import_file(b'[{"title": }]', filename="a.json")
    with pytest.raises(ImportFileError, match="出现了两次"):
        read_import_file("价格,价格\n1,2\n".encode(), filename="a.csv")
    with pytest.raises(ImportFileError) as not_xlsx:
        read_import_file(b"PK\x03\x04 broken", filename="a.xlsx")
    assert not_xlsx.value.code == "bad_xlsx"


# -- mapping ----------------------------------------------------------------------------------
def test_suggested_mapping_from_headers_attributes_and_values(mini_view):
    columns = ["商品名称", "品牌", "售价", "库存", "屏幕尺寸", "电池容量(mAh)", "机身颜色", "产地"]
    mapping = suggest_mapping(columns, "手机", mini_view)
    assert mapping.columns == {
        "商品名称": ("title",), "品牌": ("brand",), "售价": ("price",), "库存": ("stock",),
        "屏幕尺寸": ("attributes.屏幕尺寸",), "电池容量(mAh)": ("attributes.电池容量",),
        "机身颜色": ("attributes.颜色",), "产地": ("ignore",),
    }  # fmt: skip
    assert mapping.category == "手机"
    # a column named nothing we know, whose values are brands, is the brand
    file = read_import_file(
        csv_bytes([["名字", "厂家X", "价"], ["a", "huawei", "1"], ["b", "Apple", "2"]])
    )
    assert suggest_mapping(file, None, mini_view).columns["厂家X"] == ("brand",)


def test_mapping_errors_name_the_problem(mini_store):
    with pytest.raises(MappingError, match="映射目标「价钱」不存在"):
        ImportMapping(columns={"价格": "价钱"})
    file = read_import_file(csv_bytes([HEADER, NEW_PHONE]))
    with pytest.raises(MappingError) as missing:
        plan_import(mini_store, file, {"商品名称": "title"}, SHOP1)
    assert missing.value.code == "missing_required"
    assert "价格（price）" in missing.value.message and "类目（category）" in missing.value.message
    with pytest.raises(MappingError, match="都映射到了"):
        plan_import(mini_store, file, {"商品名称": "title", "品牌": "title"}, SHOP1)
    assert ImportMapping.from_dict({"columns": {"a": "attr:内存"}}).columns == {
        "a": ("attributes.内存",)
    }
    assert ImportMapping.from_dict({"价格": "price"}).columns == {"价格": ("price",)}


def test_value_maps_and_a_fixed_category(mini_store):
    rows = [["名称", "产品类别", "价格", "支持5G"], ["测试机 A", "智能机", "999", "Y"],
            ["测试机 B", "", "1099", "N"]]  # fmt: skip
    mapping = ImportMapping(
        columns={
            "名称": "title",
            "产品类别": "category",
            "价格": "price",
            "支持5G": "attributes.5G",
        },
        values={"产品类别": {"智能机": "手机"}, "支持5G": {"Y": "是", "N": "否"}},
        category="手机",
    )
    report = plan_import(mini_store, read_import_file(csv_bytes(rows)), mapping, SHOP1)
    assert [(r.product.category, r.product.attributes) for r in report.rows] == [
        ("手机", {"5G": True}),
        ("手机", {"5G": False}),
    ]


# -- rows -------------------------------------------------------------------------------------
def test_rejected_rows_say_why_in_chinese(mini_store):
    rows = [
        ["title", "brand", "category", "price", "stock", "rating"],
        ["好手机", "华为", "手机", "约五千", "", ""],
        ["", "华为", "手机", "100", "", ""],
        ["好电脑", "华为", "电脑", "100", "", ""],
        ["好手机2", "华为", "手机", "-1", "", ""],
        ["好手机3", "华为", "手机", "五千", "十", "6"],
        ["好手机4", "华为", "手机", "¥4,999.00", "2.5", ""],
    ]
    report = plan_import(mini_store, read_import_file(csv_bytes(rows)), None, SHOP1)
    reasons = {r.row: r.reasons for r in report.rows}
    assert reasons[2] == ('第 2 行：价格不是数字（"约五千"）',)
    assert reasons[3] == ("第 3 行：缺少标题（title）",)
    assert reasons[4] == ("第 4 行：类目「电脑」不存在",)
    assert reasons[5] == ('第 5 行：价格不能是负数（"-1"）',)
    assert reasons[6] == ('第 6 行：评分应是 0 到 5 之间的数（"6"）',)  # 五千 and 十 are read
    assert reasons[7] == ('第 7 行：库存应是不小于 0 的整数（"2.5"）',)
    assert report.rejected == 6 and report.created == 0


def test_new_product_defaults_and_derived_sku(mini_store):
    rows = [["title", "category", "price", "model"], ["华为 nova 12", "手机", "2499", "nova 12"]]
    report = plan_import(mini_store, read_import_file(csv_bytes(rows)), None, SHOP1)
    product = report.rows[0].product
    assert (product.stock, product.rating, product.description) == (0, 0.0, "")
    assert product.brand == "华为"  # read off the title
    assert product.merchant_id == "m001"
    assert product.sku == derive_sku("m001", "华为", "华为 nova 12", "nova 12")
    assert product.sku.startswith("IMP-M001-") and len(product.sku) == len("IMP-M001-") + 12
    # the same record retyped (full-width, other case, spaces) derives the same sku
    assert derive_sku("m001", "华为", "华为  NOVA 12", "ｎｏｖａ 12") == product.sku
    assert derive_sku("m002", "华为", "华为 nova 12", "nova 12") != product.sku
    no_brand = plan_import(
        mini_store, [{"title": "散装坚果", "category": "手机", "price": 1}], None, SHOP1
    )
    assert no_brand.rows[0].product.brand == DEFAULT_BRAND
    assert no_brand.new_brands == (DEFAULT_BRAND,)


def test_brands_by_alias_new_brands_created_or_refused(mini_store):
    rows = [{"title": "A", "brand": "ＨＵＡＷＥＩ", "category": "手机", "price": 1},
            {"title": "B", "brand": "一加", "category": "手机", "price": 2},
            {"title": "C", "brand": "苹果（Apple）", "category": "手机", "price": 3}]  # fmt: skip
    report = plan_import(mini_store, rows, None, SHOP1)
    assert [r.product.brand for r in report.rows] == ["华为", "一加", "苹果"]
    assert report.new_brands == ("一加",)
    assert any("品牌「一加」不在品牌库中，导入时会新建" in w for w in report.warnings)
    applied = apply_import(mini_store, report, SHOP1)
    view = CatalogService(mini_store).current()
    assert "一加" in view.graph.brands and applied.version == view.version
    unknown = {"title": "D", "brand": "真我", "category": "手机", "price": 1}
    strict = {"columns": {}, "create_brands": False}
    refused = plan_import(mini_store, [*rows[:2], unknown], strict, SHOP1)
    assert refused.rows[2].reasons == ("第 3 行：品牌「真我」不在品牌库中",)


def test_attributes_follow_the_schema_and_the_stored_spelling(mini_store):
    row = {
        "title": "测试手机", "brand": "华为", "category": "手机", "price": 1,
        "attributes": {"屏幕尺寸": "6.1寸", "重量": "0.2kg", "电池容量": "5,000毫安", "5G": "支持",
                       "存储容量": "512g", "颜色": "黑色、白色", "防水": "IP68"},
    }  # fmt: skip
    report = plan_import(mini_store, [row], None, SHOP1)
    result = report.rows[0]
    assert result.status is RowStatus.CREATED, result.reasons
    assert result.product.attributes == {
        "屏幕尺寸": 6.1, "重量": 200, "电池容量": 5000, "5G": True,
        "存储容量": "512GB",  # the catalog writes 存储容量 as "256GB"
        "颜色": ["黑色", "白色"], "防水": "IP68",
    }  # fmt: skip
    assert report.warnings == ("属性「防水」不在「手机」的属性表中，已按原样保存（1 行）",)
    # a value that does not fit is left out with a warning, the row still goes in
    bad = dict(row, attributes={"屏幕尺寸": "6-7英寸", "重量": "15cm", "5G": "也许"})
    result = plan_import(mini_store, [bad], None, SHOP1).rows[0]
    assert result.status is RowStatus.CREATED and result.product.attributes == {}
    assert result.warnings == (
        "第 1 行：属性「屏幕尺寸」「6-7英寸」是一个范围，不是一个数（单位 英寸），未导入该属性",
        "第 1 行：属性「重量」「15cm」不是一个数（单位 g），未导入该属性",
        "第 1 行：属性「5G」「也许」不是 是/否，未导入该属性",
    )


def test_a_unit_in_the_header_applies_to_bare_numbers(mini_store):
    rows = [
        ["title", "brand", "category", "price", "重量(kg)", "电池(毫安)", "屏幕尺寸(对角线)"],
        ["# 说明", "", "", "", "整机重量", "", ""],  # a hint row: skipped
        ["#1 热销", "华为", "手机", "1", "0.2", "5000", "6.5"],  # a title, not a hint
        ["华为 畅享 70", "华为", "手机", "1", "0.2", "5000", "6.5"],
    ]
    mapping = {"title": "title", "brand": "brand", "category": "category", "price": "price",
               "重量(kg)": "attributes.重量", "电池(毫安)": "attributes.电池容量",
               "屏幕尺寸(对角线)": "attributes.屏幕尺寸"}  # fmt: skip
    report = plan_import(mini_store, read_import_file(csv_bytes(rows)), mapping, SHOP1)
    assert [(r.row, r.title) for r in report.rows] == [(3, "#1 热销"), (4, "华为 畅享 70")]
    for result in report.rows:
        # 0.2 under 「重量(kg)」 is 200 g; 「对角线」 is no unit and changes nothing
        assert result.product.attributes == {"重量": 200, "电池容量": 5000, "屏幕尺寸": 6.5}


def test_a_flat_mapping_may_name_a_column_category(mini_store):
    mapping = ImportMapping.from_dict({"category": "category"})
    assert mapping.columns == {"category": ("category",)} and mapping.category is None
    structured = ImportMapping.from_dict({"category": "手机", "columns": {"名称": "title"}})
    assert structured.category == "手机"


def test_duplicate_skus_in_one_file_reject_the_later_row(mini_store):
    rows = [{"sku": "NEW-1", "title": "A", "category": "手机", "price": 1},
            {"sku": "NEW-1", "title": "B", "category": "手机", "price": 2},
            {"title": "C", "brand": "华为", "category": "手机", "price": 3},
            {"title": "C", "brand": "HUAWEI", "category": "手机", "price": 4}]  # fmt: skip
    report = plan_import(mini_store, rows, None, SHOP1)
    assert [r.status for r in report.rows] == [RowStatus.CREATED, RowStatus.REJECTED] * 2
    assert report.rows[1].reasons == ("第 2 行：SKU「NEW-1」与第 1 行重复",)
    assert report.rows[3].reasons[0].endswith("与第 3 行重复（品牌、标题和型号都相同）")


# -- merchants --------------------------------------------------------------------------------
def test_a_merchant_never_writes_another_merchants_products(mini_store):
    rows = [
        dict(XIAOMI_ROW),  # m001's phone
        {"title": "耐克 Pegasus 41", "category": "跑步鞋", "price": 999, "merchant_id": "m001"},
        {"sku": "SH-NK-PEG40-42", "title": "耐克 Pegasus 40 男子跑步鞋", "category": "跑步鞋", "price": 799},
    ]  # fmt: skip
    report = plan_import(mini_store, rows, None, SHOP2)
    assert [r.status for r in report.rows] == [
        RowStatus.REJECTED,
        RowStatus.REJECTED,
        RowStatus.UPDATED,
    ]
    assert report.rows[0].reasons == ("第 1 行：SKU「PH-XM-14-256」是其他商家的商品，不能修改",)
    assert report.rows[1].reasons == ("第 2 行：不能为其他商家（m001）导入商品",)
    # an admin may write anyone's, and may name the merchant
    admin = plan_import(mini_store, rows, None, ADMIN)
    assert [r.status for r in admin.rows] == [
        RowStatus.UPDATED,
        RowStatus.CREATED,
        RowStatus.UPDATED,
    ]
    assert admin.rows[1].product.merchant_id == "m001"
    assert admin.rows[2].product.merchant_id == "m002"  # an existing product keeps its merchant
    with pytest.raises(ImportRefused) as forbidden:
        plan_import(mini_store, rows, None, Importer("cs", "staff"))
    assert forbidden.value.code == "forbidden"


def test_a_plan_is_applied_only_by_its_importer(mini_store):
    plan = plan_import(mini_store, [XIAOMI_ROW], None, SHOP1)
    with pytest.raises(ImportRefused) as refused:
        apply_import(mini_store, plan, SHOP2)
    assert refused.value.code == "forbidden"


# -- dry run and apply ------------------------------------------------------------------------
def test_dry_run_changes_nothing(mini_store):
    version, before = mini_store.version(), products(mini_store)
    file = read_import_file(csv_bytes([HEADER, NEW_PHONE]))
    report = plan_import(
        mini_store, file, suggest_mapping(file, "手机", mini_store.snapshot()), SHOP1
    )
    assert report.created == 1 and not report.applied and report.base_version == version
    assert mini_store.version() == version and products(mini_store) == before
    assert audit_entries(mini_store) == []


def test_apply_writes_exactly_the_plan_once(mini_store):
    version, before = mini_store.version(), products(mini_store)
    rows = [
        {"title": "荣耀 X50", "brand": "华为", "category": "手机", "price": 1399, "stock": 5},
        dict(XIAOMI_ROW),  # price 3999 -> 3799
        {"sku": "PH-HW-M60-256", "title": "华为 Mate 60 12GB+256GB 南糯紫", "category": "手机", "price": 5499},
    ]  # fmt: skip
    plan = plan_import(mini_store, rows, None, SHOP1)
    assert [r.status for r in plan.rows] == [
        RowStatus.CREATED,
        RowStatus.UPDATED,
        RowStatus.UNCHANGED,
    ]
    assert plan.rows[1].changes == ("price",)
    assert plan.summary == "将新建 1 个商品、更新 1 个，1 个没有变化"

    done = apply_import(mini_store, plan, SHOP1)
    assert done.applied and done.version == version + 1 == mini_store.version()
    after = products(mini_store)
    created = plan.rows[0].product.sku
    assert set(after) - set(before) == {created}
    assert after[created].stock == 5 and after[created].revision == 1
    assert after["PH-XM-14-256"].price == 3799.0
    assert after["PH-XM-14-256"].revision == before["PH-XM-14-256"].revision + 1
    untouched = set(before) - {"PH-XM-14-256"}
    assert all(after[sku] == before[sku] for sku in untouched)
    entries = audit_entries(mini_store)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("shop1", "create", created),
        ("shop1", "update", "PH-XM-14-256"),
    ]
    assert [(e.merchant_id, e.detail["via"], e.detail["row"]) for e in entries] == [
        ("m001", "import", 1),
        ("m001", "import", 2),
    ]
    assert entries[0].detail["before"] is None and entries[0].detail["after"]["price"] == 1399.0
    assert entries[1].detail["before"]["price"] == 3999.0
    assert entries[1].detail["after"]["price"] == 3799.0 and entries[1].detail["changes"] == [
        "price"
    ]
    # the chat side: a fresh view of the catalog has the new product and the new price
    view = CatalogService(mini_store).current()
    assert [p.sku for p in view.graph.filter(category="手机", max_price=1500)] == [created]
    assert view.graph.product("PH-XM-14-256").price == 3799.0


def test_a_file_with_one_bad_row_is_refused_whole(mini_store):
    version, before = mini_store.version(), products(mini_store)
    rows = [dict(XIAOMI_ROW), {"title": "荣耀 X50", "category": "手机", "price": "一千多"}]
    plan = plan_import(mini_store, rows, None, SHOP1)
    assert (plan.updated, plan.rejected) == (1, 1)
    with pytest.raises(ImportRefused) as refused:
        apply_import(mini_store, plan, SHOP1)
    assert refused.value.code == "rows_rejected"
    assert '第 2 行：价格不是数字（"一千多"）' in refused.value.message
    assert mini_store.version() == version and products(mini_store) == before


def test_a_failing_write_rolls_back_the_whole_import(mini_store):
    rows = [
        {"title": f"新手机 {i}", "brand": "华为", "category": "手机", "price": 1000 + i}
        for i in range(3)
    ]
    plan = plan_import(mini_store, [*rows, dict(XIAOMI_ROW)], None, SHOP1)
    assert (plan.created, plan.updated) == (3, 1)
    # someone saves the 小米14 after the dry run: the last write of the import conflicts
    mini_store.update_product("PH-XM-14-256", {"stock": 3})
    version, before, log = (
        mini_store.version(),
        products(mini_store),
        len(audit_entries(mini_store)),
    )
    with pytest.raises(ImportRefused) as conflict:
        apply_import(mini_store, plan, SHOP1)
    assert conflict.value.code == "conflict"
    assert mini_store.version() == version and products(mini_store) == before  # no new phones
    assert len(audit_entries(mini_store)) == log


def test_importing_the_same_file_again_changes_nothing(mini_store):
    data = csv_bytes([HEADER, NEW_PHONE])
    file = read_import_file(data)
    mapping = suggest_mapping(file, "手机", mini_store.snapshot())
    first = apply_import(mini_store, plan_import(mini_store, file, mapping, SHOP1), SHOP1)
    assert first.created == 1
    version, before = mini_store.version(), products(mini_store)
    again = plan_import(mini_store, read_import_file(data), mapping, SHOP1)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert again.rows[0].sku == first.rows[0].sku
    apply_import(mini_store, again, SHOP1)
    assert mini_store.version() == version and products(mini_store) == before


def test_an_applied_plan_cannot_be_applied_twice(mini_store):
    done = apply_import(mini_store, plan_import(mini_store, [XIAOMI_ROW], None, SHOP1), SHOP1)
    with pytest.raises(ImportRefused):
        apply_import(mini_store, done, SHOP1)


# -- export and template ----------------------------------------------------------------------
@pytest.mark.parametrize(("merchant", "importer"), [("m001", SHOP1), (None, ADMIN)])
def test_export_then_import_is_unchanged(mini_store, merchant, importer):
    data = export_csv(mini_store, merchant)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    file = read_import_file(data, filename="export.csv")
    assert "attr:屏幕尺寸" in file.columns
    expected = {p.sku for p in mini_store.snapshot().products if merchant in (None, p.merchant_id)}
    report = plan_import(mini_store, file, None, importer)
    assert {r.sku for r in report.rows} == expected
    assert report.unchanged == len(expected), [
        r.to_dict() for r in report.rows if r.status != "unchanged"
    ]
    assert report.warnings == ()


def test_template_lists_the_category_attributes_with_units(mini_view, mini_store):
    data = template_csv("智能手机", mini_view)
    header, hints = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:4] == ["sku", "title", "brand", "category"]
    assert (
        "attr:屏幕尺寸(英寸)" in header and "attr:电池容量(mAh)" in header and "attr:5G" in header
    )
    assert hints[0].startswith("#") and hints[header.index("title")] == "必填"
    assert hints[header.index("attr:5G")] == "是 或 否"
    assert hints[header.index("attr:存储容量")].startswith("如 ")
    # filled in, the template imports without a mapping; its hint row is skipped
    row = {name: "" for name in header} | {
        "title": "华为 Pura 70", "brand": "华为", "category": "手机", "price": "5499",
        "attr:屏幕尺寸(英寸)": "6.6", "attr:5G": "是",
    }  # fmt: skip
    filled = data + csv_bytes([[row[name] for name in header]], "utf-8")
    report = plan_import(mini_store, read_import_file(filled, filename="t.csv"), None, SHOP1)
    assert [r.row for r in report.rows] == [3] and report.created == 1
    assert report.rows[0].product.attributes == {"屏幕尺寸": 6.6, "5G": True}
    with pytest.raises(MappingError):
        template_csv("手机数码", mini_view)  # not a leaf category


# -- the seed catalog and RiSAWOZ's PC table ------------------------------------------------------
@cache
def seed_catalog_json() -> str:
    from data.generate_catalog import build_catalog

    return json.dumps(build_catalog(), ensure_ascii=False)


@pytest.fixture()
def seed_store(tmp_path) -> CatalogStore:
    """The full seed catalog (as `daogou db init` loads it) in a private SQLite file."""
    store = CatalogStore.from_url(f"sqlite:///{tmp_path / 'seed.db'}")
    store.create_schema()
    store.load_catalog(json.loads(seed_catalog_json()))
    return store


def test_the_whole_seed_catalog_round_trips(seed_store):
    report = plan_import(seed_store, read_import_file(export_csv(seed_store, None)), None, ADMIN)
    assert report.unchanged == len(seed_store.snapshot().products) > 800
    assert report.rejected == report.created == report.updated == 0


RISAWOZ_PC = Path("/work/shared/data/catalogs/risawoz/pc_db.json")

# RiSAWOZ's PC table (pc_db.json, MIT) into our 笔记本电脑. 价格区间 repeats 价格; CPU is the
# short form of CPU型号; 待机时长 is a range (「7-9小时」), not our 续航 in hours; 游戏性能 has no
# key of ours. 裸机重量 is mostly a range too: the exact ones (「2kg」) go in, ranges are
# reported. 产品类别 笔记本 is an alias of 笔记本电脑; 台式机 and 一体机 are no category of the shop.
RISAWOZ_PC_MAPPING = ImportMapping(
    columns={
        "商品名称": ("title", "model"),
        "品牌": "brand",
        "产品类别": "category",
        "价格": "price",
        "系列": "series",
        "CPU型号": "attributes.处理器",
        "内存容量": "attributes.内存",
        "硬盘容量": "attributes.硬盘",
        "屏幕尺寸": "attributes.屏幕尺寸",
        "显卡型号": "attributes.显卡",
        "显卡类别": "attributes.独立显卡",
        "裸机重量": "attributes.重量",
        "系统": "attributes.操作系统",
        "色系": "attributes.颜色",
        "分类": "tags",
        "特性": "description",
        "CPU": "ignore",
        "价格区间": "ignore",
        "游戏性能": "ignore",
        "待机时长": "ignore",
    },
    values={
        "显卡类别": {"独立显卡": "是", "集成显卡": "否", "核芯显卡": "否"},
        "显卡型号": {"其他": ""},
        "分类": {
            "轻薄本": "轻薄",
            "游戏本": "游戏",
            "常规笔记本": "",
            "商用电脑": "商务",
            "游戏电脑": "游戏",
        },
    },
)
GEEK_SHOP = Importer(actor="geek", role="merchant", merchant_id="m002")  # the seed's laptop shop


@pytest.mark.skipif(not RISAWOZ_PC.exists(), reason=f"RiSAWOZ's PC table is not at {RISAWOZ_PC}")
def test_risawoz_pc_table_into_laptops(seed_store):
    records = json.loads(RISAWOZ_PC.read_text(encoding="utf-8"))
    assert len(records) == 50
    laptops = [r for r in records if r["产品类别"] == "笔记本"]
    assert len(laptops) == 28  # the other 22 are desktops (台式机) and all-in-ones (一体机)

    # the whole file: the laptops would go in, the desktops have no category here
    whole = plan_import(seed_store, read_import_file(RISAWOZ_PC.read_bytes(), filename="pc_db.json"),
                        RISAWOZ_PC_MAPPING, GEEK_SHOP)  # fmt: skip
    assert (whole.created, whole.rejected) == (28, 22)
    assert {r.reasons[0].split("：", 1)[1] for r in whole.rejected_rows} == {
        "类目「台式机」不存在",
        "类目「一体机」不存在",
    }
    with pytest.raises(ImportRefused):
        apply_import(seed_store, whole, GEEK_SHOP)

    # the merchant keeps the laptops only and uploads again
    version = seed_store.version()
    data = json.dumps(laptops, ensure_ascii=False).encode("utf-8")
    plan = plan_import(seed_store, read_import_file(data, filename="laptops.json"), RISAWOZ_PC_MAPPING, GEEK_SHOP)  # fmt: skip
    assert (plan.created, plan.updated, plan.rejected) == (28, 0, 0)
    assert plan.new_brands == ("宏碁",)  # Acer is no seed brand; the other five are
    done = apply_import(seed_store, plan, GEEK_SHOP)
    assert done.version == version + 1

    by_title = {p.title: p for p in seed_store.snapshot().products if p.merchant_id == "m002"}
    yoga = by_title["联想YOGA C740"]
    assert (yoga.brand, yoga.category, yoga.price, yoga.model, yoga.series) == (
        "联想", "笔记本电脑", 7999.0, "联想YOGA C740", "联想 - YOGA"
    )  # fmt: skip
    assert yoga.attributes == {
        "处理器": "i7-10710u",
        "内存": "16GB",
        "硬盘": "1T SSD",
        "屏幕尺寸": 14,
        "独立显卡": False,
        "操作系统": "Windows 10",
        "颜色": ["灰色系"],
    }  # fmt: skip  (显卡 「其他」 is left empty, 重量 「1-1.5KG」 is a range)
    assert yoga.tags == ("轻薄",) and yoga.description == "背光键盘，指纹识别，PCIE高速固态硬盘"
    assert (yoga.stock, yoga.rating) == (0, 0.0)
    acer = by_title["宏碁（Acer）蜂鸟FUN"]
    assert (acer.brand, acer.price) == ("宏碁", 4088.0)
    assert acer.attributes == {
        "处理器": "i5-10210U", "内存": "8GB", "硬盘": "512GB SSD", "屏幕尺寸": 14, "显卡": "MX250",
        "独立显卡": True, "操作系统": "Windows 10", "颜色": ["银色系"],
    }  # fmt: skip
    macbook = by_title["Apple 2019款 MacBook Pro 16英寸"]
    assert (macbook.brand, macbook.price, macbook.attributes["重量"]) == ("苹果", 20688.0, 2)
    assert macbook.attributes["屏幕尺寸"] == 16

    # what the chat sees: a fresh view of the catalog finds them under the shopper's filters
    view = CatalogService(seed_store).current()
    assert "宏碁" in view.graph.brands
    found = view.graph.filter(category="笔记本电脑", brands=["宏碁"], max_price=4100)
    assert [p.title for p in found] == ["宏碁（Acer）蜂鸟FUN"]
    lenovo = view.graph.filter(
        category="笔记本电脑", brands=["联想"], min_price=7999, max_price=7999
    )
    assert "联想YOGA C740" in [p.title for p in lenovo]
    # and the chat's linker, on the raw message, knows the new brand and the new model
    brand = [m for m in view.linker.link("宏碁的笔记本有吗") if m.kind == "brand"]
    assert [m.value for m in brand] == ["宏碁"]
    named = [m for m in view.linker.link("联想YOGA C740多少钱") if m.kind == "product"]
    assert [m.skus for m in named] == [(yoga.sku,)]
    # and importing the same laptops again changes nothing
    again = plan_import(seed_store, read_import_file(data, filename="laptops.json"), RISAWOZ_PC_MAPPING, GEEK_SHOP)  # fmt: skip
    assert again.unchanged == 28


def test_suggested_mapping_for_the_risawoz_headers(seed_store):
    columns = ["品牌", "产品类别", "分类", "内存容量", "屏幕尺寸", "CPU", "价格区间", "系列", "商品名称",
               "系统", "游戏性能", "CPU型号", "裸机重量", "显卡类别", "显卡型号", "特性", "色系", "待机时长",
               "硬盘容量", "价格"]  # fmt: skip
    suggested = suggest_mapping(columns, "笔记本", seed_store.snapshot()).columns
    assert suggested["商品名称"] == ("title",) and suggested["价格"] == ("price",)
    assert suggested["品牌"] == ("brand",) and suggested["产品类别"] == ("category",)
    assert suggested["分类"] == ("ignore",)  # 产品类别 took category
    assert suggested["系列"] == ("series",)
    assert suggested["内存容量"] == ("attributes.内存",)
    assert suggested["屏幕尺寸"] == ("attributes.屏幕尺寸",)
    assert suggested["CPU"] == ("attributes.处理器",)
    assert suggested["系统"] == ("attributes.操作系统",)
    assert suggested["裸机重量"] == ("attributes.重量",)
    assert suggested["硬盘容量"] == ("attributes.硬盘",)


def test_rows_with_the_shops_sensitive_words_are_rejected(mini_store):
    from cn_text.sensitive import SensitiveWords

    words = SensitiveWords.parse("[fraud]\n刷单\nre:加\\s*微信\\s*返")
    rows = [
        {"title": "小米 Redmi 13C 4GB+128GB", "category": "手机", "price": 699, "brand": "小米"},
        {"title": "华为 畅享70", "category": "手机", "price": 999, "brand": "华为",
         "description": "下单后加 微信返现20元"},
        {"title": "荣耀 X50 刷 单专用", "category": "手机", "price": 1099, "brand": "荣耀"},
    ]  # fmt: skip
    report = plan_import(mini_store, rows, None, SHOP1, words)
    statuses = [r.status.value for r in report.rows]
    assert statuses == ["created", "rejected", "rejected"]
    assert report.rows[1].reasons[-1] == "第 2 行：包含不允许的词「加 微信返」"
    assert report.rows[2].reasons[-1] == "第 3 行：包含不允许的词「刷 单」"

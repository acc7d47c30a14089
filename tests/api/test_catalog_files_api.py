"""The merchant's catalog files over the API: import with a dry run, then applied atomically;
export and template downloads; only merchants and admins."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from web.accounts import create_account
from web.app import create_app

PASSWORD = "correct-horse-9"
ROWS = "商品名称,品牌,价格,库存,存储容量\n小米 Redmi Note 13 8GB+256GB,小米,1299,30,256GB\n"


@pytest.fixture()
def app(mini_services):
    create_account(mini_services.store, "m1", PASSWORD, "merchant", "m001")
    create_account(mini_services.store, "staff1", PASSWORD, "staff")
    return create_app(mini_services)


def bearer(app, username: str) -> TestClient:
    login = TestClient(app).post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    return TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def upload(client: TestClient, content: bytes, *, dry_run: bool, mapping: dict | None = None):
    return client.post(
        f"/api/products/import?dry_run={'true' if dry_run else 'false'}",
        files={"file": ("新品.csv", content, "text/csv")},
        data={"mapping": json.dumps(mapping or {"category": "手机"})},
    )


def test_dry_run_reports_and_changes_nothing_then_apply_writes(app, mini_services):
    m1 = bearer(app, "m1")
    before = mini_services.catalog.current()
    preview = upload(m1, ROWS.encode("gbk"), dry_run=True)
    assert preview.status_code == 200, preview.text
    report = preview.json()
    [row] = report["rows"]
    assert row["status"] == "created" and row["product"]["price"] == 1299.0
    assert mini_services.store.version() == before.version  # nothing written
    applied = upload(m1, ROWS.encode("gbk"), dry_run=False)
    assert applied.status_code == 200 and applied.json()["applied"] is True
    sku = applied.json()["rows"][0]["sku"]
    product = mini_services.catalog.current().graph.products[sku]
    assert (product.price, product.stock, product.merchant_id) == (1299.0, 30, "m001")
    assert product.attributes["存储容量"] == "256GB"
    again = upload(m1, ROWS.encode("utf-8-sig"), dry_run=True).json()
    assert [r["status"] for r in again["rows"]] == ["unchanged"]


def test_one_bad_row_refuses_the_whole_import_with_the_report(app, mini_services):
    m1 = bearer(app, "m1")
    version = mini_services.store.version()
    bad = (ROWS + "华为 不存在的手机,华为,五千多,3,512GB\n").encode("utf-8")
    refused = upload(m1, bad, dry_run=False)
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"]["code"] == "rows_rejected"
    statuses = [r["status"] for r in body["report"]["rows"]]
    assert statuses == ["created", "rejected"]
    assert "价格" in " ".join(body["report"]["rows"][1]["reasons"])
    assert mini_services.store.version() == version


def test_export_and_template_downloads(app):
    m1 = bearer(app, "m1")
    export = m1.get("/api/products/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    text = export.content.decode("utf-8-sig")
    assert "PH-XM-14-256" in text and "SH-NK-PEG40-42" not in text  # m002's shoe is not ours
    template = m1.get("/api/products/template", params={"category": "手机"})
    assert template.status_code == 200 and "attr:" in template.content.decode("utf-8-sig")
    assert m1.get("/api/products/template", params={"category": "飞机"}).status_code == 400


def test_export_follows_the_catalog_after_an_edit(app):
    m1 = bearer(app, "m1")
    first = m1.get("/api/products/export").content
    assert m1.get("/api/products/export").content == first  # the same version: the same file
    assert m1.patch("/api/products/PH-XM-14-256", json={"price": 3333}).status_code == 200
    text = m1.get("/api/products/export").content.decode("utf-8-sig")
    [row] = [line for line in text.splitlines() if line.startswith("PH-XM-14-256,")]
    assert row.split(",")[4] == "3333"  # the price column, not the cached file of before


def test_files_need_a_merchant(app):
    assert TestClient(app).get("/api/products/export").status_code == 401
    staff = bearer(app, "staff1")
    assert upload(staff, ROWS.encode(), dry_run=True).status_code == 403
    assert staff.get("/api/products/export").status_code == 403


def test_bad_uploads_are_client_errors(app):
    m1 = bearer(app, "m1")
    assert upload(m1, b"\x00\x01garbage", dry_run=True).status_code == 400
    response = m1.post(
        "/api/products/import",
        files={"file": ("a.csv", ROWS.encode(), "text/csv")},
        data={"mapping": "{not json"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_mapping"
    big = b"a" * (5 * 1024 * 1024 + 10)
    assert upload(m1, big, dry_run=True).status_code == 413


def test_an_import_with_a_sensitive_word_is_refused_row_by_row(app, mini_services):
    m1 = bearer(app, "m1")
    version = mini_services.store.version()
    rows = ROWS + "小米 Redmi 13C 刷单返现版,小米,699,10,128GB\n"
    preview = upload(m1, rows.encode("utf-8"), dry_run=True).json()
    assert [r["status"] for r in preview["rows"]] == ["created", "rejected"]
    assert "刷单" in " ".join(preview["rows"][1]["reasons"])
    refused = upload(m1, rows.encode("utf-8"), dry_run=False)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "rows_rejected"
    assert mini_services.store.version() == version

"""The merchant console's pages (web/routes/merchant_pages.py) on the mini catalog: a merchant
sees and edits their own products only, a foreign product's page is the 403 page, anonymous
visitors go to the login page, and product or user text is escaped."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from web.accounts import create_account
from web.app import create_app
from web.routes.merchant_pages import audit_changes, price_value

PASSWORD = "correct-horse-9"
PHONE = "PH-XM-14-256"  # merchant m001
SHOE = "SH-NK-PEG40-42"  # merchant m002
PAGES = ("/console/products", "/console/products/new", "/console/import", "/console/audit")


@pytest.fixture()
def app(mini_services):
    store = mini_services.store
    create_account(store, "admin", PASSWORD, "admin")
    create_account(store, "staff1", PASSWORD, "staff")
    create_account(store, "m1", PASSWORD, "merchant", "m001")
    create_account(store, "m2", PASSWORD, "merchant", "m002")
    return create_app(mini_services)


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = client.cookies["csrf_token"]
    return client


def skus_listed(html: str) -> set[str]:
    return set(re.findall(r'<tr class="product-row" data-sku="([^"]+)"', html))


@pytest.mark.parametrize("path", [*PAGES, "/console/accounts", f"/console/products/{PHONE}"])
def test_anonymous_visitors_go_to_the_login_page(app, path):
    response = TestClient(app, follow_redirects=False).get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=/console/")


@pytest.mark.parametrize("path", [*PAGES, "/console/accounts", f"/console/products/{PHONE}"])
def test_staff_gets_the_403_page(app, path):
    response = signed_in(app, "staff1").get(path)
    assert response.status_code == 403
    assert "没有权限" in response.text and "text/html" in response.headers["content-type"]


def test_the_list_shows_the_merchants_own_products_only(app, mini_store):
    m1 = signed_in(app, "m1")
    page = m1.get("/console/products")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    own = {p.sku for p in mini_store.list_products(limit=100).items if p.merchant_id == "m001"}
    assert skus_listed(page.text) == own and SHOE not in page.text
    assert 'class="active" aria-current="page">商品' in page.text and "新建商品" in page.text
    # m2 sees only the shoe; the admin sees everything, or one merchant's with the filter
    assert skus_listed(signed_in(app, "m2").get("/console/products").text) == {SHOE}
    admin = signed_in(app, "admin")
    assert skus_listed(admin.get("/console/products").text) == own | {SHOE}
    assert skus_listed(admin.get("/console/products?merchant=m002").text) == {SHOE}
    # a merchant cannot widen their list with the admin's filter
    assert skus_listed(m1.get("/console/products?merchant=m002").text) == own


def test_search_filters_and_paging(app):
    m1 = signed_in(app, "m1")
    assert skus_listed(m1.get("/console/products", params={"q": "Mate 60 Pro"}).text) == {
        "PH-HW-M60P-256",
        "PH-HW-M60P-512",
    }
    assert skus_listed(m1.get("/console/products", params={"category": "手机配件"}).text) == {
        "AC-CASE-IP15"
    }
    assert skus_listed(m1.get("/console/products", params={"brand": "小米"}).text) == {PHONE}
    # the merchant's shoe search finds nothing of theirs
    assert "没有符合条件的商品" in m1.get("/console/products", params={"q": "耐克"}).text


def test_paging_links(app, monkeypatch):
    from web.routes import merchant_pages

    monkeypatch.setattr(merchant_pages, "PAGE_SIZE", 2)
    m1 = signed_in(app, "m1")
    first = m1.get("/console/products")
    assert len(skus_listed(first.text)) == 2 and "第 1 / 3 页" in first.text
    last = m1.get("/console/products", params={"page": 3})
    assert len(skus_listed(last.text)) == 2 and "第 3 / 3 页" in last.text
    assert skus_listed(first.text).isdisjoint(skus_listed(last.text))


def test_rows_carry_the_revision_for_inline_edits(app, mini_store):
    m1 = signed_in(app, "m1")
    row = m1.get(f"/console/products/{PHONE}/row")
    product = mini_store.get_product(PHONE).product
    assert row.status_code == 200
    assert f'data-revision="{product.revision}"' in row.text
    assert f'value="{price_value(product.price)}"' in row.text
    assert signed_in(app, "m2").get(f"/console/products/{PHONE}/row").status_code == 403


def test_own_product_form_with_the_category_attribute_editor(app, mini_store):
    page = signed_in(app, "m1").get(f"/console/products/{PHONE}")
    assert page.status_code == 200
    product = mini_store.get_product(PHONE).product
    assert product.title in page.text and f'data-revision="{product.revision}"' in page.text
    # one input per attribute of 手机 (number with unit, text, bool, list)
    for key in ("屏幕尺寸", "电池容量", "存储容量", "重量", "5G", "颜色"):
        assert f'data-attr-key="{key}"' in page.text
    assert 'data-attr-key="屏幕尺寸" data-attr-type="number"' in page.text
    assert 'data-attr-key="5G" data-attr-type="bool"' in page.text
    assert "mAh" in page.text and "删除这件商品" in page.text and "添加关系" in page.text
    # its relations, with the other products' titles
    assert "可替代" in page.text or "同系列" in page.text


def test_a_foreign_products_page_is_403(app):
    response = signed_in(app, "m1").get(f"/console/products/{SHOE}")
    assert response.status_code == 403 and "没有权限" in response.text
    assert signed_in(app, "m1").get(f"/console/products/{SHOE}/relations").status_code == 403
    assert signed_in(app, "admin").get(f"/console/products/{SHOE}").status_code == 200


def test_new_product_form_and_attribute_fragment(app):
    m1 = signed_in(app, "m1")
    page = m1.get("/console/products/new", params={"category": "手机配件"})
    assert page.status_code == 200 and 'data-mode="new"' in page.text
    assert 'data-attr-key="适配机型"' in page.text
    fragment = m1.get("/console/products/attributes", params={"category": "跑步鞋"})
    assert fragment.status_code == 200 and 'id="attr-editor"' in fragment.text
    assert "<html" not in fragment.text


def test_product_text_is_escaped(app, mini_services):
    store = mini_services.store
    evil = "<script>alert(1)</script>"
    product = store.get_product(PHONE).product
    store.update_product(PHONE, {"title": evil, "description": evil}, product.revision, "m1")
    m1 = signed_in(app, "m1")
    for path in ("/console/products", f"/console/products/{PHONE}", "/console/audit"):
        html = m1.get(path).text
        assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_audit_page_shows_who_when_and_the_fields_changed(app, mini_services):
    m1 = signed_in(app, "m1")
    revision = mini_services.store.get_product(PHONE).product.revision
    edited = m1.patch(f"/api/products/{PHONE}", json={"price": 3888, "revision": revision})
    assert edited.status_code == 200, edited.text
    shoe = mini_services.store.get_product(SHOE).product
    mini_services.store.update_product(SHOE, {"stock": 1}, shoe.revision, "m2")
    page = m1.get("/console/audit")
    assert page.status_code == 200
    assert "m1" in page.text and "价格" in page.text and "3888" in page.text and PHONE in page.text
    assert SHOE not in page.text  # m2's product
    admin = signed_in(app, "admin").get("/console/audit").text
    assert SHOE in admin and PHONE in admin


def test_audit_changes_field_by_field(mini_store):
    product = mini_store.get_product(PHONE).product
    mini_store.update_product(
        PHONE,
        {"price": 4299.0, "attributes": {**product.attributes, "5G": False}},
        product.revision,
        "m1",
    )
    [record], _ = mini_store.audit_log(target=PHONE, limit=1)
    changes = {c["field"]: (c["before"], c["after"]) for c in audit_changes(record)}
    assert changes["价格"] == (price_value(product.price), "4299")
    assert changes["属性 · 5G"][1] == "否"


def test_accounts_page_is_for_admins(app):
    assert signed_in(app, "m1").get("/console/accounts").status_code == 403
    page = signed_in(app, "admin").get("/console/accounts")
    assert page.status_code == 200
    for name in ("admin", "staff1", "m1", "m2"):
        assert f'data-username="{name}"' in page.text
    assert "新建账号" in page.text and "生成重置码" in page.text


def test_import_page_links_templates_and_export(app):
    page = signed_in(app, "m1").get("/console/import")
    assert page.status_code == 200
    assert "/api/products/export" in page.text and "/api/products/template" in page.text
    assert "识别字段" in page.text and "确认导入" in page.text


def test_an_unknown_product_is_a_404_page(app):
    response = signed_in(app, "m1").get("/console/products/NO-SUCH-SKU")
    assert response.status_code == 404 and "没有找到商品 NO-SUCH-SKU" in response.text
    assert "text/html" in response.headers["content-type"]

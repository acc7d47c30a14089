"""Product images over the API, and the shop's sensitive words in product texts.

A merchant uploads an image of their own product: the product's `image` becomes the served URL
(an audited edit the chat sees), the URL answers WebP bytes of the bounded size, cached for good,
the storefront's card shows the thumbnail and the product page the large one; replacing and
removing it delete the old files. Other merchants, staff and strangers cannot; bad files are
refused with the reason. Product create and edit refuse shopper-visible text with a sensitive
word, naming the field and the word. Every test works on the mini catalog's private copy and a
private var/ (tests/conftest.py)."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.test_console_auth_api import PASSWORD, signed_in
from web import media
from web.accounts import create_account
from web.app import create_app

PHONE = "PH-XM-14-256"  # merchant m001
PHONE_TITLE = "小米14 12GB+256GB 白色 徕卡光学"
SHOE = "SH-NK-PEG40-42"  # merchant m002
ORIGIN = "http://testserver"
SENSITIVE = "[fraud]\n刷单\nre:加\\s*微信\\s*返\n"


@pytest.fixture()
def app(mini_services, tmp_path):
    store = mini_services.store
    create_account(store, "admin", PASSWORD, "admin")
    create_account(store, "staff1", PASSWORD, "staff")
    create_account(store, "m1", PASSWORD, "merchant", "m001")
    create_account(store, "m2", PASSWORD, "merchant", "m002")
    app = create_app(mini_services)
    words = tmp_path / "sensitive_words.txt"
    words.write_text(SENSITIVE, encoding="utf-8")
    app.state.web.sensitive_words_file = words
    return app


@pytest.fixture()
def folder(mini_services):
    return mini_services.settings.var_dir / "media" / "products"


def png(size=(1200, 900), colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def upload(client: TestClient, sku: str, data: bytes, name="photo.png", **form):
    return client.post(
        f"/api/products/{sku}/image", files={"file": (name, data, "image/png")}, data=form
    )


def served(client: TestClient, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert "immutable" in response.headers["cache-control"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "WEBP"
    return image


def test_merchant_uploads_and_the_shop_serves_it(app, mini_services, folder):
    m1 = signed_in(app, "m1")
    before = m1.get(f"/api/products/{PHONE}").json()
    assert before["image"] is None

    response = upload(m1, PHONE, png())
    assert response.status_code == 200, response.text
    body = response.json()
    url = body["image"]
    assert url.startswith("/media/products/") and url.endswith(".webp")
    assert body["revision"] == before["revision"] + 1
    assert m1.get(f"/api/products/{PHONE}").json()["image"] == url
    # the chat's graph sees it, as with any edit; the audit log records who set it
    assert mini_services.catalog.current().graph.products[PHONE].image == url
    [entry] = m1.get("/api/audit", params={"sku": PHONE}).json()["items"]
    assert (entry["actor"], entry["before"]["image"], entry["after"]["image"]) == ("m1", None, url)

    anonymous = TestClient(app)
    assert served(anonymous, url).size == (800, 600)
    thumbnail = media.thumbnail_url(url)
    assert served(anonymous, thumbnail).size == (320, 240)
    name = url.removeprefix("/media/products/")
    assert sorted(p.name for p in folder.iterdir()) == sorted([name, thumbnail.split("/")[-1]])

    # the storefront's card shows the thumbnail, the product page the large image
    grid = anonymous.get("/").text
    assert f'<img src="{thumbnail}" alt="{PHONE_TITLE}"' in grid
    page = anonymous.get(f"/products/{PHONE}").text
    assert f'<img src="{url}" alt="{PHONE_TITLE}"' in page


def test_replacing_and_removing_delete_the_old_files(app, folder):
    m1 = signed_in(app, "m1")
    first = upload(m1, PHONE, png(colour=(200, 40, 40))).json()["image"]
    second = upload(m1, PHONE, png((600, 1200), colour=(40, 40, 200))).json()["image"]
    assert second != first
    assert TestClient(app).get(first).status_code == 404
    assert served(TestClient(app), second).size == (400, 800)
    assert len(list(folder.iterdir())) == 2

    removed = m1.delete(f"/api/products/{PHONE}/image")
    assert removed.status_code == 200 and removed.json()["image"] is None
    assert m1.get(f"/api/products/{PHONE}").json()["image"] is None
    assert TestClient(app).get(second).status_code == 404
    assert list(folder.iterdir()) == []
    # the storefront is back to its placeholder
    assert (
        f'aria-label="{PHONE_TITLE}（暂无图片）"' in TestClient(app).get(f"/products/{PHONE}").text
    )


def test_deleting_the_product_deletes_its_image(app, folder):
    m1 = signed_in(app, "m1")
    upload(m1, PHONE, png())
    assert len(list(folder.iterdir())) == 2
    assert m1.delete(f"/api/products/{PHONE}").status_code == 204
    assert list(folder.iterdir()) == []


def test_only_the_owner_or_an_admin_may_change_it(app, mini_services, folder):
    m2, staff = signed_in(app, "m2"), signed_in(app, "staff1")
    for client, status in ((m2, 403), (staff, 403), (TestClient(app), 401)):
        assert upload(client, PHONE, png()).status_code == status
        assert client.delete(f"/api/products/{PHONE}/image").status_code == status
    assert mini_services.catalog.current().graph.products[PHONE].image is None
    assert list(folder.iterdir()) == []
    # an admin may; and a merchant's own image stays when another merchant tries to remove it
    assert upload(signed_in(app, "admin"), SHOE, png()).status_code == 200
    shoe_image = m2.get(f"/api/products/{SHOE}").json()["image"]
    assert signed_in(app, "m1").delete(f"/api/products/{SHOE}/image").status_code == 403
    assert m2.get(f"/api/products/{SHOE}").json()["image"] == shoe_image


def test_unknown_product_csrf_and_bearer(app, folder):
    m1 = signed_in(app, "m1")
    missing = upload(m1, "NOPE-404", png())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "product_not_found"
    assert m1.delete("/api/products/NOPE-404/image").status_code == 404
    no_token = m1.post(
        f"/api/products/{PHONE}/image",
        files={"file": ("a.png", png(), "image/png")},
        headers={"X-CSRF-Token": ""},
    )
    assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrf_failed"
    assert list(folder.iterdir()) == []
    token = (
        TestClient(app)
        .post("/api/auth/login", json={"username": "m1", "password": PASSWORD})
        .json()["token"]
    )
    script = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert upload(script, PHONE, png()).status_code == 200


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.7 not an image", 422, "not_an_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 422, "not_an_image"),
        (png()[:500], 422, "broken_image"),
        (b"\xff" * (media.MAX_UPLOAD_BYTES + 1), 413, "image_too_large"),
    ],
    ids=["pdf-named-png", "png-magic-only", "truncated", "over-8-mb"],
)
def test_bad_files_are_refused_and_change_nothing(app, folder, data, status, code):
    m1 = signed_in(app, "m1")
    revision = m1.get(f"/api/products/{PHONE}").json()["revision"]
    response = upload(m1, PHONE, data)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    product = m1.get(f"/api/products/{PHONE}").json()
    assert (product["image"], product["revision"]) == (None, revision)
    assert list(folder.iterdir()) == []


def test_a_stale_revision_is_refused_and_leaves_no_files(app, folder):
    m1 = signed_in(app, "m1")
    revision = m1.get(f"/api/products/{PHONE}").json()["revision"]
    assert m1.patch(f"/api/products/{PHONE}", json={"stock": 3}).status_code == 200
    stale = upload(m1, PHONE, png(), revision=str(revision))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    assert m1.get(f"/api/products/{PHONE}").json()["image"] is None
    assert list(folder.iterdir()) == []
    current = upload(m1, PHONE, png(), revision=str(revision + 1))
    assert current.status_code == 200 and current.json()["revision"] == revision + 2


def test_another_products_file_cannot_be_borrowed(app):
    m1, m2 = signed_in(app, "m1"), signed_in(app, "m2")
    shoe_image = upload(m2, SHOE, png()).json()["image"]
    borrowed = m1.patch(f"/api/products/{PHONE}", json={"image": shoe_image})
    assert borrowed.status_code == 422 and borrowed.json()["error"]["code"] == "invalid_image"
    # an image from elsewhere (as an import brings) is kept and shown as it is
    foreign = "https://img.example.com/xiaomi14.jpg"
    assert m1.patch(f"/api/products/{PHONE}", json={"image": foreign}).json()["image"] == foreign
    assert f'<img src="{foreign}" alt="{PHONE_TITLE}"' in TestClient(app).get("/").text


def test_media_serves_files_only_from_its_folder(app):
    anonymous = TestClient(app)
    for path in (
        "/media/",
        "/media/products/",
        "/media/../mini.db",
        "/media/%2e%2e/mini.db",
        "/media/products/%2e%2e/%2e%2e/mini.db",
        "/media/products/" + "0" * 32 + ".webp",
    ):
        response = anonymous.get(path)
        assert response.status_code == 404, path
        assert b"SQLite" not in response.content


# -- sensitive words in what shoppers read ------------------------------------------------------


NEW_SHOE = {
    "sku": "SH-TEST-NEW-41",
    "title": "新锐 跑鞋 41码",
    "brand": "新锐运动",
    "category": "跑步鞋",
    "price": 499,
    "attributes": {"尺码": [41]},
}


def test_create_refuses_a_sensitive_title_naming_field_and_word(app):
    m2 = signed_in(app, "m2")
    response = m2.post("/api/products", json={**NEW_SHOE, "title": "新锐跑鞋 刷单专用"})
    assert response.status_code == 422
    assert response.json() == {
        "error": {"code": "sensitive_words", "message": "商品名称包含不允许的词：「刷单」"}
    }
    assert m2.get(f"/api/products/{NEW_SHOE['sku']}").status_code == 404
    assert m2.post("/api/products", json=NEW_SHOE).status_code == 201


def test_edit_refuses_sensitive_description_and_attribute_values(app):
    m1 = signed_in(app, "m1")
    before = m1.get(f"/api/products/{PHONE}").json()
    response = m1.patch(
        f"/api/products/{PHONE}",
        json={
            "description": "下单后加 微信返现 20 元",
            "attributes": {**before["attributes"], "颜色": ["白色", "刷 单特供色"]},
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "sensitive_words"
    assert error["message"] == (
        "商品描述包含不允许的词：「加 微信返」；属性「颜色」包含不允许的词：「刷 单」"
    )
    after = m1.get(f"/api/products/{PHONE}").json()
    assert (after["description"], after["attributes"], after["revision"]) == (
        before["description"],
        before["attributes"],
        before["revision"],
    )
    # fields the edit leaves alone are not checked again; clean text passes
    assert m1.patch(f"/api/products/{PHONE}", json={"description": "徕卡光学，拍照清晰"}).is_success


def test_sensitive_words_in_tags_and_admin_writes_too(app):
    admin = signed_in(app, "admin")
    response = admin.patch(f"/api/products/{SHOE}", json={"tags": ["运动", "刷单"]})
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "标签包含不允许的词：「刷单」"

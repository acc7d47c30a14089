"""Product images in Debian's Chromium: a merchant chooses a photo on the product form, the
preview shows the stored image at once, the products list, the storefront's card and the
product page show it (thumbnail, thumbnail, large image), a file that is not an image is
refused with the reason, and 移除图片 brings the placeholder back.

Nothing here needs Rasa: the web app alone, on the mini catalog (tests/fixtures.py) in a private
folder, served by uvicorn in this process without its start-up work (the storefront's grid and
the console need no search model). Screenshots: var/screenshots/product-image-*.png.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from daogou.container import Services
from daogou.launcher import free_port
from tests.browser.conftest import _context
from web.accounts import create_account
from web.app import create_app
from web.media import thumbnail_url

PASSWORD = "merchant-pass-9"
PHONE = "PH-XM-14-256"  # merchant m001
TITLE = "小米14 12GB+256GB 白色 徕卡光学"


class Shop:
    def __init__(self, services: Services, url: str) -> None:
        self.services, self.web_url = services, url

    def image(self) -> str | None:
        return self.services.store.get_product(PHONE).product.image

    def files(self) -> list[str]:
        return sorted(
            p.name for p in (self.services.settings.var_dir / "media" / "products").iterdir()
        )


@pytest.fixture()
def shop(mini_services: Services) -> Iterator[Shop]:
    create_account(mini_services.store, "m1", PASSWORD, "merchant", "m001")
    port = free_port()
    config = uvicorn.Config(
        create_app(mini_services), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="web-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start"
    try:
        yield Shop(mini_services, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture()
def shop_page(browser: Browser, shop: Shop) -> Iterator[Page]:
    context = _context(browser, shop, phone=False)  # type: ignore[arg-type]  # needs web_url only
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def photo(path: Path) -> Path:
    """A 1600x1200 photo: red left half, blue right half."""
    image = Image.new("RGB", (1600, 1200), (40, 60, 200))
    image.paste((220, 40, 40), (0, 0, 800, 1200))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


def natural_width(locator) -> int:
    expect(locator).to_be_visible()
    locator.evaluate("img => img.decode()")
    return locator.evaluate("img => img.naturalWidth")


def test_merchant_uploads_sees_it_everywhere_then_removes_it(shop, shop_page, screenshot, tmp_path):
    page = shop_page
    page.goto(f"/console/products/{PHONE}")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.get_by_label("用户名").fill("m1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/console/login" not in url and url.endswith(PHONE))

    preview = page.locator("#image-preview")
    expect(preview).to_contain_text("暂无图片")
    expect(page.get_by_role("button", name="移除图片")).to_be_hidden()

    # a file that is not an image: refused with the reason, nothing stored
    text_file = tmp_path / "说明.png"
    text_file.write_text("这不是图片", encoding="utf-8")
    page.locator("#image-file").set_input_files(str(text_file))
    expect(page.locator("#image-status")).to_have_text(
        "这不是图片文件：请上传 JPEG、PNG、WebP 或 GIF 图片"
    )
    assert shop.image() is None and shop.files() == []

    # a photo: the preview shows the stored large image
    page.locator("#image-file").set_input_files(str(photo(tmp_path / "xiaomi.jpg")))
    stored = preview.locator("img")
    expect(stored).to_have_attribute("src", re.compile(r"^/media/products/[0-9a-f]{32}\.webp$"))
    url = shop.image()
    assert url is not None and stored.get_attribute("src") == url
    assert natural_width(stored) == 800
    expect(page.locator("#image-status")).to_be_empty()
    expect(page.locator("#toast")).to_contain_text("图片已更新")
    expect(page.get_by_role("button", name="移除图片")).to_be_visible()
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    screenshot(page, "product-image-form-desktop")

    # the form saves on the revision the upload left: no conflict
    page.locator("#product-form").get_by_label("库存（件）").fill("42")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("已保存")
    assert shop.services.store.get_product(PHONE).product.stock == 42

    thumbnail = thumbnail_url(url)
    page.goto("/console/products")
    row_image = page.locator(f'tr.product-row[data-sku="{PHONE}"] .row-thumb img')
    expect(row_image).to_have_attribute("src", thumbnail)
    assert natural_width(row_image) == 320
    screenshot(page, "product-image-list-desktop")

    page.goto("/")
    card_image = page.locator(f'.card[data-sku="{PHONE}"] .card-media img')
    expect(card_image).to_have_attribute("src", thumbnail)
    expect(card_image).to_have_attribute("alt", TITLE)
    assert natural_width(card_image) == 320
    page.goto(f"/products/{PHONE}")
    large = page.locator(".product-media img")
    expect(large).to_have_attribute("src", url)
    expect(large).to_have_attribute("alt", TITLE)
    assert natural_width(large) == 800
    screenshot(page, "product-image-product-page-desktop")

    # removed: the placeholder is back everywhere, the files are gone
    page.goto(f"/console/products/{PHONE}")
    page.get_by_role("button", name="移除图片").click()
    expect(preview).to_contain_text("暂无图片")
    expect(page.get_by_role("button", name="移除图片")).to_be_hidden()
    assert shop.image() is None and shop.files() == []
    page.goto(f"/products/{PHONE}")
    expect(page.locator(".product-media .ph")).to_have_attribute(
        "aria-label", f"{TITLE}（暂无图片）"
    )

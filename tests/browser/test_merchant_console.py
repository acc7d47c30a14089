"""The merchant console in Debian's Chromium against the real web app, Rasa and action server:
a merchant logs in through the login page, edits a price in the list and the chat widget on the
storefront answers the new exact price; an edit conflict reloads the row; the product form
(attributes, relations, create and delete); the RiSAWOZ laptops imported through the page with
its preview; the audit log, the accounts page and the role checks of the pages.

The system here runs on its own copy of the test catalog (a temporary SQLite file, made with
SQLite's backup API from var/test's database) and its own private folder var/bench/merchant/,
so nothing it writes reaches the repository or the other browser tests' catalog.
Screenshots: var/screenshots/merchant-*.png (desktop 1280x800, phone 390x844).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from daogou.launcher import free_port, on_free_ports, running_bot, start, wait_healthy
from daogou.nlu.botprep import model_path
from daogou.settings import load_settings
from knowledge_graph.store import CatalogStore, NotFound
from tests.browser.conftest import PHONE, System, _context, _web_app
from tests.browser.test_widget import ask, bot_rows, open_widget, wait_for_reply
from web.accounts import create_account

PRIVATE = "merchant"  # var/bench/merchant/: this module's tracker database, endpoints, logs
PASSWORD = "merchant-pass-9"
MERCHANT = ("geek_shop", "m002")  # 极客电脑影音专营店: the seed's laptop shop
OTHER_MERCHANT = ("digital_shop", "m001")
LAPTOP = "NB-LN-X1CARBON2024-32G1TB"  # m002's ThinkPad X1 Carbon 2024, the only one of its model
FOREIGN = "PH-HW-MATE60PRO-256"  # m001's Mate 60 Pro
NEW_PRICE = "12345"
RISAWOZ_PC = Path("/work/shared/data/catalogs/risawoz/pc_db.json")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The browser fixture's system, on a private copy of the catalog database."""
    base = load_settings()
    if not model_path(base).exists():
        pytest.fail(f"no trained model at {model_path(base)}: run `make test` (it trains first)")
    if not base.database_url.startswith("sqlite:///"):
        pytest.skip("the merchant console's browser tests copy a SQLite catalog")
    copy = tmp_path_factory.mktemp("merchant-console") / "catalog.db"
    source = sqlite3.connect(
        f"file:{base.database_url.removeprefix('sqlite:///')}?mode=ro", uri=True
    )
    target = sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()
    store = CatalogStore.from_url(f"sqlite:///{copy}")
    for (username, merchant), role in ((MERCHANT, "merchant"), (OTHER_MERCHANT, "merchant")):
        create_account(store, username, PASSWORD, role, merchant)
    create_account(store, "boss", PASSWORD, "admin")
    create_account(store, "agent", PASSWORD, "staff")

    settings = dataclasses.replace(
        on_free_ports(base), web_port=free_port(), database_url=f"sqlite:///{copy}"
    )
    folder = settings.var_dir / "bench" / PRIVATE
    settings = dataclasses.replace(settings, tracker_db_url=f"sqlite:///{folder / 'tracker.db'}")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAOGOU_WEB_PORT", str(settings.web_port))
        web = _web_app(settings)
        web_process = start(web, folder / "logs")
        try:
            with running_bot(settings, private=PRIVATE):
                wait_healthy(web, web_process, timeout=300)
                yield System(settings, f"http://127.0.0.1:{settings.web_port}", store)
        finally:
            if web_process.poll() is None:
                web_process.terminate()
                try:
                    web_process.wait(timeout=15)
                except Exception:
                    web_process.kill()


def log_in(page: Page, username: str, path: str = "/console/products") -> None:
    """Through the login page, as a person would: the console sends them back to `path`."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    # the login page sends the user back to the page's path (its query is not carried)
    bare = path.split("?")[0]
    page.wait_for_url(lambda url: "/console/login" not in url and url.endswith(bare))
    if "?" in path:
        page.goto(path)


def row(page: Page, sku: str):
    return page.locator(f'tr.product-row[data-sku="{sku}"]')


def toast_text(page: Page) -> str:
    box = page.locator("#toast")
    expect(box).to_be_visible()
    return box.inner_text()


def test_price_edited_in_the_list_is_what_the_chat_answers(system, page, context, screenshot):
    log_in(page, MERCHANT[0])
    expect(page.locator("h1")).to_have_text("商品")
    # only the merchant's own products, and the console's navigation of a merchant
    skus = page.locator("tr.product-row").evaluate_all("rows => rows.map(r => r.dataset.sku)")
    assert skus and all(system.product(s).merchant_id == MERCHANT[1] for s in skus)
    expect(page.locator(".console-nav")).not_to_contain_text("对话记录")
    screenshot(page, "merchant-products-desktop")

    page.get_by_label("搜索").fill("X1 Carbon")
    page.get_by_role("button", name="筛选").click()
    line = row(page, LAPTOP)
    expect(line).to_be_visible()
    line.locator('input[name="price"]').fill(NEW_PRICE)
    expect(line).to_have_class(re.compile("dirty"))
    line.get_by_role("button", name="保存").click()
    expect(page.locator("#toast")).to_contain_text("已保存")
    saved_at = time.monotonic()
    assert system.product(LAPTOP).price == float(NEW_PRICE)
    expect(line.get_by_role("button")).to_have_text("已保存")

    # the shopper asks on the storefront: the catalog reloads within about a second
    shopper = context.browser.new_context(base_url=system.web_url, locale="zh-CN")
    try:
        chat = shopper.new_page()
        open_widget(chat)
        time.sleep(max(0.0, 1.5 - (time.monotonic() - saved_at)))
        before = bot_rows(chat)
        ask(chat, "ThinkPad X1 Carbon 2024多少钱")
        wait_for_reply(chat, before)
        replies = chat.locator(".dg-row.dg-bot:not(.dg-greeting)")
        text = " ".join(replies.nth(i).inner_text() for i in range(before, replies.count()))
        assert re.search(r"12,?345", text), text
        screenshot(chat, "merchant-price-in-chat-desktop")
    finally:
        shopper.close()


def test_an_edit_conflict_reloads_the_row(system, page):
    log_in(page, MERCHANT[0], f"/console/products?q={LAPTOP}")
    line = row(page, LAPTOP)
    expect(line).to_be_visible()
    # someone else saves the product after the page was loaded
    current = system.product(LAPTOP)
    system.store.update_product(LAPTOP, {"stock": 77}, current.revision, actor="someone_else")
    line.locator('input[name="stock"]').fill("5")
    line.locator('input[name="stock"]').press("Enter")
    expect(page.locator("#toast")).to_contain_text("这件商品刚被别人修改过")
    expect(row(page, LAPTOP).locator('input[name="stock"]')).to_have_value("77")
    assert system.product(LAPTOP).stock == 77  # nothing overwritten
    # the reloaded row carries the new revision: the next edit goes through
    fresh = row(page, LAPTOP)
    fresh.locator('input[name="stock"]').fill("76")
    fresh.get_by_role("button", name="保存").click()
    expect(page.locator("#toast")).to_contain_text("已保存")
    assert system.product(LAPTOP).stock == 76


def test_product_form_attributes_relations_create_and_delete(system, page, screenshot):
    """The attribute editor of 笔记本电脑 (number with unit, text, yes/no, list), a relation
    through the product picker, then a new product created and deleted with confirmation."""
    log_in(page, MERCHANT[0], f"/console/products/{LAPTOP}")
    form = page.locator("#product-form")
    product = system.product(LAPTOP)
    expect(form.get_by_label("商品名称")).to_have_value(product.title)
    editor = page.locator("#attr-editor")
    spec_keys = editor.locator("[data-attr-key]").evaluate_all(
        "inputs => inputs.map(i => i.dataset.attrKey + ':' + i.dataset.attrType)"
    )
    assert spec_keys and all(":" in k for k in spec_keys)
    assert "重量:number" in spec_keys and "独立显卡:bool" in spec_keys
    expect(editor.locator(".attr-field", has_text="重量")).to_contain_text("kg")
    editor.locator('input[data-attr-key="重量"]').fill("1.08")
    form.get_by_label("标签").fill("轻薄、商务")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("已保存")
    saved = system.product(LAPTOP)
    assert saved.attributes["重量"] == 1.08 and saved.tags == ("轻薄", "商务")
    assert saved.revision == product.revision + 1

    # a relation through the product picker
    relations = page.locator("#relation-form")
    relations.get_by_label("关系").select_option("ALTERNATIVE_TO")
    relations.get_by_label("关联的商品").fill("小新Pro 14")
    pick = page.locator("#picker-results li[role=option]").first
    expect(pick).to_be_visible()
    picked_title = pick.locator(".pick-title").inner_text()
    pick.click()
    relations.get_by_role("button", name="添加关系").click()
    expect(page.locator("#relations-list")).to_contain_text(picked_title)
    detail = system.store.get_product(LAPTOP)
    assert any(r.type == "ALTERNATIVE_TO" for r in detail.relations)
    page.evaluate(
        "window.scrollTo({top: 0, behavior: 'instant'})"
    )  # the sticky header stays at the top of the shot
    screenshot(page, "merchant-product-form-desktop", full_page=True)

    # a new product in another category, with that category's attribute editor, then deleted
    page.goto("/console/products/new")
    new = page.locator("#product-form")
    new.locator('select[name="category"]').select_option("笔记本电脑")
    expect(page.locator("#attr-editor")).to_contain_text("屏幕尺寸")
    new.get_by_label("商品名称").fill("测试本 Air 13 <b>粗体</b>")
    new.get_by_label("商品编号（SKU）").fill("NB-TEST-AIR13")
    new.get_by_label("品牌").fill("联想")
    new.get_by_label("价格（元）").fill("3999")
    new.get_by_label("库存（件）").fill("3")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/console/products/NB-TEST-AIR13")
    created = system.product("NB-TEST-AIR13")
    assert (created.merchant_id, created.price, created.stock) == (MERCHANT[1], 3999.0, 3)
    expect(page.locator(".crumbs")).to_contain_text("<b>粗体</b>")  # shown as text
    page.get_by_role("button", name="删除这件商品").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    screenshot(page, "merchant-delete-dialog-desktop")
    dialog.get_by_role("button", name="确定删除").click()
    page.wait_for_url("**/console/products")
    with pytest.raises(NotFound):
        system.product("NB-TEST-AIR13")


def _upload_and_suggest(page: Page, path: Path) -> None:
    page.locator('input[name="file"]').set_input_files(str(path))
    page.get_by_label("默认品类").select_option("笔记本电脑")
    page.get_by_role("button", name="识别字段").click()
    expect(page.locator("#mapping-panel")).to_be_visible()


def _mapping(page: Page) -> dict[str, str]:
    return page.locator("#mapping-rows select").evaluate_all(
        "ss => Object.fromEntries(ss.map(s => [s.dataset.column, s.value]))"
    )


@pytest.mark.skipif(not RISAWOZ_PC.exists(), reason=f"RiSAWOZ's PC table is not at {RISAWOZ_PC}")
def test_risawoz_laptops_imported_through_the_page(system, page, screenshot, tmp_path):
    records = json.loads(RISAWOZ_PC.read_text(encoding="utf-8"))
    laptops = [r for r in records if r["产品类别"] == "笔记本"]
    assert (len(records), len(laptops)) == (50, 28)
    laptops_file = tmp_path / "laptops.json"
    laptops_file.write_text(json.dumps(laptops, ensure_ascii=False), encoding="utf-8")
    before = {p.sku for p in system.store.snapshot().products}

    log_in(page, MERCHANT[0], "/console/import")
    # the whole table first: the preview rejects the 22 desktops and all-in-ones
    _upload_and_suggest(page, RISAWOZ_PC)
    mapping = _mapping(page)
    assert mapping["商品名称"] == "title" and mapping["价格"] == "price"
    assert mapping["品牌"] == "brand" and mapping["产品类别"] == "category"
    assert mapping["内存容量"] == "attributes.内存"
    page.get_by_role("button", name="预览导入结果").click()
    preview = page.locator("#preview-panel")
    expect(preview).to_be_visible()
    expect(preview.locator('[data-count="rejected"]')).to_have_text("22")
    expect(preview.locator('[data-count="created"]')).to_have_text("28")
    expect(page.locator("#rejected-rows")).to_contain_text("类目「台式机」不存在")
    expect(page.get_by_role("button", name="确认导入")).to_be_disabled()
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    screenshot(page, "merchant-import-rejected-desktop", full_page=True)

    # the laptops only, with the mapping corrected by hand: 特性 is the description
    _upload_and_suggest(page, laptops_file)
    page.locator('#mapping-rows select[data-column="特性"]').select_option("description")
    page.locator('#mapping-rows select[data-column="价格区间"]').select_option("ignore")
    page.locator('#mapping-rows select[data-column="待机时长"]').select_option("ignore")  # a range
    page.get_by_role("button", name="预览导入结果").click()
    expect(preview.locator('[data-count="rejected"]')).to_have_text("0")
    expect(preview.locator('[data-count="created"]')).to_have_text("28")
    expect(page.locator("#change-rows tr")).to_have_count(28)
    assert {p.sku for p in system.store.snapshot().products} == before  # a preview writes nothing
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    screenshot(page, "merchant-import-preview-desktop", full_page=True)
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#done-panel")).to_be_visible()
    expect(page.locator("#done-summary")).to_contain_text("已新建 28 个商品")

    imported = [p for p in system.store.snapshot().products if p.sku not in before]
    assert len(imported) == 28 and {p.merchant_id for p in imported} == {MERCHANT[1]}
    yoga = next(p for p in imported if p.title == "联想YOGA C740")
    assert yoga.price == 7999.0 and yoga.description.startswith("背光键盘")

    page.goto("/console/products?q=联想YOGA C740")
    expect(row(page, yoga.sku)).to_be_visible()
    page.goto("/console/products?brand=宏碁")
    expect(page.locator("tr.product-row")).to_have_count(sum(p.brand == "宏碁" for p in imported))


def test_audit_log_shows_the_fields_changed(system, page, screenshot):
    log_in(page, MERCHANT[0], f"/console/audit?sku={LAPTOP}")
    table = page.locator(".audit-table")
    expect(table).to_be_visible()
    expect(table).to_contain_text(MERCHANT[0])
    expect(table).to_contain_text("价格")
    screenshot(page, "merchant-audit-desktop")
    page.goto("/console/audit")
    expect(page.locator(".audit-table")).not_to_contain_text(FOREIGN)


def test_accounts_page_for_the_admin(system, page, screenshot):
    log_in(page, "boss", "/console/accounts")
    form = page.locator("#account-form")
    form.get_by_label("用户名").fill("new_shop")
    form.get_by_label("初始密码（至少 8 位）").fill("new-shop-pass")
    form.get_by_label("角色").select_option("merchant")
    form.locator('select[name="merchant_id"]').select_option("m003")
    form.get_by_role("button", name="创建账号").click()
    new_row = page.locator('tr.account-row[data-username="new_shop"]')
    expect(new_row).to_be_visible()
    expect(new_row).to_contain_text("悦动运动旗舰店")
    new_row.get_by_role("button", name="停用").click()
    expect(page.locator('tr.account-row[data-username="new_shop"]')).to_contain_text("已停用")
    page.locator('tr.account-row[data-username="new_shop"]').get_by_role(
        "button", name="生成重置码"
    ).click()
    code = page.locator("#reset-code-value")
    expect(code).not_to_be_empty()
    screenshot(page, "merchant-accounts-desktop")
    page.get_by_role("button", name="我已记下").click()
    expect(code).to_be_empty()


def test_pages_check_the_role(system, page, screenshot):
    log_in(page, "agent", "/console/password")
    response = page.goto("/console/products")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("没有权限")
    screenshot(page, "merchant-forbidden-desktop")
    page.context.clear_cookies()
    log_in(page, MERCHANT[0])
    assert page.goto("/console/accounts").status == 403
    assert page.goto(f"/console/products/{FOREIGN}").status == 403
    assert page.goto(f"/console/products/{LAPTOP}").status == 200


def test_phone_layouts(system, browser: Browser, screenshot):
    context = _context(browser, system, phone=True)
    try:
        phone = context.new_page()
        log_in(phone, MERCHANT[0])
        expect(phone.locator("tr.product-row").first).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"the list is wider than the phone: {width}px"
        screenshot(phone, "merchant-products-phone")
        phone.goto(f"/console/products/{LAPTOP}")
        screenshot(phone, "merchant-product-form-phone", full_page=True)
        phone.goto("/console/import")
        screenshot(phone, "merchant-import-phone")
        phone.goto("/console/audit")
        screenshot(phone, "merchant-audit-phone")
    finally:
        context.close()

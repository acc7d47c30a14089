"""An admin reveals a masked message in the transcript (「显示原文」, a reason, the original under
the masked bubble, the entry in 「原文查看记录」) in Debian's Chromium against the running system
(conftest.py); a staff member's transcript offers no such button. Screenshot:
var/screenshots/staff-unmask.png."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from tests.unit.test_review_tracker import History
from web.accounts import create_account
from web.review.fake_history import append_events, create_events_table

RUN = uuid.uuid4().hex[:8]
PASSWORD = "correct-horse-9"
ADMIN, STAFF = f"admin-{RUN}", f"staff-{RUN}"
CAROL = f"carol-{RUN}"
TYPED = "我的手机号是13912345678，到了打给我"


def log_in(page: Page, path: str, username: str) -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/console/login\?"))
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: url.split("?")[0].endswith(path))


def test_an_admin_reveals_a_masked_message_with_a_reason(system, browser, context, screenshot):
    create_account(system.store, ADMIN, PASSWORD, "admin")
    create_account(system.store, STAFF, PASSWORD, "staff")
    engine = create_engine(system.settings.tracker_db_url)
    create_events_table(engine)
    t = time.time() - 600
    h = History()
    h.session(CAROL, t)
    h.user(CAROL, t + 1, TYPED, "inform", 0.8)
    h.bot(CAROL, t + 1.2, "好的，已记下。")
    append_events(engine, h.saved())
    engine.dispose()

    page = context.new_page()
    path = f"/console/conversations/{CAROL}"
    log_in(page, path, ADMIN)
    bubble = page.locator(".msg.shopper [data-text]")
    expect(bubble).to_have_text("我的手机号是139****5678，到了打给我")
    expect(page.locator("[data-unmask]")).to_have_count(1)  # the bot's reply has nothing masked
    page.click("[data-unmask]")
    dialog = page.locator("#unmask-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("button[type=submit]").click()  # no reason: the browser refuses
    expect(dialog).to_be_visible()
    page.fill("[data-unmask-reason]", "顾客来电，核对收货手机号")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".msg.shopper [data-original]")).to_have_text(f"原文：{TYPED}")
    expect(bubble).to_have_text("我的手机号是139****5678，到了打给我")  # the bubble stays masked
    expect(page.locator("[data-unmask]")).to_have_count(0)
    entry = page.locator("[data-unmask-log] li").first
    expect(entry).to_contain_text(ADMIN)
    expect(entry).to_contain_text("原因：顾客来电，核对收货手机号")
    screenshot(page, "staff-unmask")
    page.reload()
    expect(page.locator("[data-unmask-log] li").first).to_contain_text("顾客来电，核对收货手机号")
    assert "13912345678" not in page.content()  # revealed once, not kept in the page

    staff_context = browser.new_context(base_url=system.web_url, locale="zh-CN")
    staff = staff_context.new_page()
    log_in(staff, path, STAFF)
    expect(staff.locator(".msg.shopper [data-text]")).to_have_text(
        "我的手机号是139****5678，到了打给我"
    )
    expect(staff.locator("[data-unmask]")).to_have_count(0)
    expect(staff.locator("#unmask-dialog")).to_have_count(0)
    staff_context.close()

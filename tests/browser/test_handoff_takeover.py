"""A staff member takes over a shopper's conversation, in two browsers against the running system
(conftest.py): the shopper in the storefront's widget asks for a person; the request appears on
the staff's desk (/console/handoffs, web/routes/handoff_pages.py, static/console/handoffs.js)
without a reload, with the navigation's badge and, in a hidden tab, the blinking title; staff
take it and talk (text, a canned reply, a product card), the paused bot stays silent while the
shopper writes, staff hand back and the bot answers with product cards again.
Screenshots: var/screenshots/staff-handoffs-{desktop,phone}.png.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from knowledge_graph import handoff as h
from knowledge_graph.handoff import HandoffQueue
from tests.browser.conftest import System, _context
from tests.browser.test_staff_console import PASSWORD, console_errors, log_in
from tests.browser.test_widget import (
    QUESTION,
    REPLY_TIMEOUT,
    ask,
    cards_of,
    open_widget,
)
from web.accounts import create_account

RUN = uuid.uuid4().hex[:8]
STAFF = f"desk-{RUN}"
GREETING = "您好，我是客服小王，请问有什么可以帮您？"
RETURN_QUESTION = "你好，我想问下退货"
CARD_SKU = "PH-HW-MATE60PRO-256"
CANNED = ("退货说明", "七天内未拆封的商品可以无理由退货，请在订单页申请。")
SILENCE_SECONDS = 5
# Read by the web app at start-up (daogou.settings.service_hours), before `system` starts it:
# always in service, so the request waits for staff whatever the hour of the test run.
os.environ["DAOGOU_SERVICE_HOURS"] = ""


@pytest.fixture(scope="module")
def staff_account(system: System) -> str:
    create_account(system.store, STAFF, PASSWORD, "staff")
    return STAFF


@pytest.fixture()
def quiet_queue(system: System) -> None:
    """What an earlier run left in var/test's database (a request still waiting, its canned
    reply) does not count here."""
    queue = HandoffQueue(system.store)
    for record in queue.list((h.WAITING,), limit=None)[0]:
        queue.expire(record.id, "timeout")
    for reply in h.canned_replies(system.store):
        if reply.title == CANNED[0]:
            h.delete_canned_reply(system.store, reply.id)


@pytest.fixture()
def desk(browser: Browser, system: System, staff_account: str, quiet_queue: None) -> Iterator[Page]:
    """The staff member's desk, signed in, in a browser of its own."""
    context = _context(browser, system, phone=False)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    logged = console_errors(page)
    log_in(page, "/console/handoffs", staff_account)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the desk: {errors}"
    assert logged == [], f"errors in the desk's console: {logged}"


def hide(page: Page, hidden: bool) -> None:
    """The tab in the background (or back): headless Chromium's tabs are always visible."""
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


def shopper_bot_rows(page: Page) -> int:
    """The bot's messages in the widget, staff messages left out."""
    return page.locator(".dg-row.dg-bot:not(.dg-greeting):not(.dg-staff)").count()


def events_after(tracker: dict, text: str) -> list[dict]:
    events = tracker["events"]
    at = max(i for i, e in enumerate(events) if e["event"] == "user" and e.get("text") == text)
    return events[at + 1 :]


def test_shopper_to_staff_and_back(system: System, page: Page, desk: Page, browser, screenshot):
    expect(desk.locator("h1")).to_have_text("人工接待")
    expect(desk.locator("[data-live-state]")).to_have_text("实时更新中")
    badge = desk.locator("[data-handoff-badge]")
    expect(badge).to_be_hidden()
    desk.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads
    hide(desk, True)

    # The shopper asks for a person.
    sender = open_widget(page)
    ask(page, "转人工")
    expect(page.locator(".dg-row.dg-bot .dg-msg").last).to_contain_text(
        "转接人工客服", timeout=REPLY_TIMEOUT
    )

    # It appears on the desk at once, with the badge and the blinking title.
    item = desk.locator(f'[data-queue="waiting"] .queue-item[data-sender="{sender}"]')
    expect(item).to_be_visible(timeout=15_000)
    expect(item.locator(".place")).to_have_text("第 1 位")
    expect(item.locator(".last")).to_have_text("转人工")
    expect(badge).to_have_text("1")
    expect(badge).to_be_visible()
    desk.wait_for_function("() => document.title.startsWith('(1) 新的人工请求')")
    hide(desk, False)
    expect(desk).to_have_title("人工接待 · 导购控制台")
    handoff_id = int(item.get_attribute("data-handoff-id") or 0)
    assert HandoffQueue(system.store).get(handoff_id).sender_id == sender

    # Staff open it and take it: the shopper's widget says a person is here.
    item.locator("[data-open]").click()
    transcript = desk.locator("[data-transcript]")
    expect(transcript.locator(".msg.shopper .bubble").last).to_have_text("转人工")
    expect(desk.locator("[data-panel-meta]")).to_contain_text("等待接待")
    desk.locator("[data-take]").click()
    expect(desk.locator("[data-panel-meta]")).to_contain_text("人工接待中")
    expect(desk.locator("[data-release]")).to_be_visible()
    expect(
        desk.locator(f'[data-queue="active"] .queue-item[data-sender="{sender}"] .owner')
    ).to_have_text("我在接待")
    expect(badge).to_be_hidden()
    expect(page.locator(".dg-banner")).to_have_text("人工客服已接入")

    # Enter while a pinyin candidate is picked sends nothing; Enter after it does.
    box = desk.locator("[data-message]")
    box.fill("nihao")
    box.evaluate(
        """box => box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter',
            keyCode: 229, which: 229, isComposing: true, bubbles: true, cancelable: true}))"""
    )
    expect(box).to_have_value("nihao")
    box.fill(GREETING)
    box.press("Enter")
    expect(box).to_have_value("")
    staff_in_widget = page.locator(".dg-row.dg-staff .dg-msg")
    expect(staff_in_widget.last).to_have_text(GREETING)
    assert staff_in_widget.count() == 1  # 「nihao」 never went out
    expect(transcript.locator(".msg.staff .bubble").last).to_have_text(GREETING)
    expect(transcript.locator(".msg.staff .who").last).to_contain_text(f"客服 {STAFF}")

    # A canned reply, saved here and clicked into the box, then a product card by SKU.
    desk.locator(".canned-add summary").click()
    desk.fill("[data-canned-form] input[name=title]", CANNED[0])
    desk.fill("[data-canned-form] textarea[name=text]", CANNED[1])
    desk.locator("[data-canned-form] button[type=submit]").click()
    canned = desk.locator(".canned-use", has_text=CANNED[0])
    canned.last.click()
    expect(box).to_have_value(CANNED[1])
    box.press("Enter")
    expect(staff_in_widget.last).to_have_text(CANNED[1])
    desk.fill("[data-sku]", CARD_SKU)
    desk.locator("[data-send-card]").click()
    product = system.product(CARD_SKU)
    card = page.locator(f".dg-card[data-sku='{CARD_SKU}']").last
    expect(card.locator(".dg-card-title")).to_have_text(product.title)
    expect(transcript.locator(f".card-mini[data-sku='{CARD_SKU}'] .card-title")).to_have_text(
        product.title
    )

    # The shopper writes: staff see it live, the paused bot says nothing.
    bot_before = shopper_bot_rows(page)
    ask(page, RETURN_QUESTION)
    expect(transcript.locator(".msg.shopper .bubble").last).to_have_text(RETURN_QUESTION)
    active_item = desk.locator(f'.queue-item[data-sender="{sender}"]')
    expect(active_item.locator(".last")).to_have_text(RETURN_QUESTION)
    time.sleep(SILENCE_SECONDS)
    assert shopper_bot_rows(page) == bot_before
    assert [
        e for e in events_after(system.tracker(sender), RETURN_QUESTION) if e["event"] == "bot"
    ] == []
    assert desk.evaluate("() => window.__sameDocument") is True  # never reloaded
    screenshot(desk, "staff-handoffs-desktop")

    # The same desk on a phone: the conversation, with a way back to the queue.
    phone_context = _context(browser, system, phone=True)
    try:
        phone = phone_context.new_page()
        log_in(phone, "/console/handoffs", STAFF)
        phone.goto(f"/console/handoffs?id={handoff_id}")
        expect(phone.locator("[data-transcript] .msg.shopper .bubble").last).to_have_text(
            RETURN_QUESTION
        )
        expect(phone.locator(".handoff-queue")).to_be_hidden()
        screenshot(phone, "staff-handoffs-phone")
        phone.locator("[data-back]").click()
        expect(phone.locator(f'.queue-item[data-sender="{sender}"]')).to_be_visible()
        screenshot(phone, "staff-handoffs-phone-queue")
    finally:
        phone_context.close()

    # The canned reply is removed again; staff hand back, and the bot answers with cards again.
    desk.locator(f'.canned-remove[title="删除「{CANNED[0]}」"]').click()
    expect(desk.locator(".canned-use", has_text=CANNED[0])).to_have_count(0)
    desk.locator("[data-release]").click()
    expect(desk.locator("[data-panel-meta]")).to_contain_text("已结束")
    expect(desk.locator(f'.queue-item[data-sender="{sender}"]')).to_have_count(0)
    expect(page.locator(".dg-banner")).to_be_hidden()
    assert HandoffQueue(system.store).get(handoff_id).status == h.CLOSED
    cards_before = page.locator(".dg-card").count()
    ask(page, QUESTION)
    expect(page.locator(".dg-card")).not_to_have_count(cards_before, timeout=REPLY_TIMEOUT)
    new_cards = cards_of(page)[cards_before:]
    assert new_cards
    for shown in new_cards:
        found = system.product(shown["sku"])
        assert (found.brand, found.category) == ("华为", "手机") and found.price <= 3000, shown

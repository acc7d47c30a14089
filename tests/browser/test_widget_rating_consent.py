"""The widget's rating after a handoff (issue #16) and its consent notice (issue #19), in Debian's
Chromium against the running system (conftest.py). Each test is a new browser profile, so a new
shopper; handoffs are written into the system's catalog database for that shopper alone, and
the staff messages are pushed through Rasa as the console pushes them."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from knowledge_graph import consent
from knowledge_graph.handoff import ENDED_TEXT, HandoffQueue
from tests.browser.test_widget import (
    QUESTION,
    REPLY_TIMEOUT,
    ask,
    bot_rows,
    open_widget,
    wait_for_reply,
)


def test_consent_is_asked_once_does_not_block_the_chat_and_can_be_changed(
    system, page: Page, context: BrowserContext, screenshot
):
    sender = open_widget(page)
    notice = page.locator(".dg-consent")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("浏览和聊天记录")
    expect(notice).to_contain_text("个性化推荐")
    switch = page.locator(".dg-pref-switch")
    expect(switch).not_to_be_checked()
    screenshot(page, "widget-consent")
    # The chat goes on while the question is open; nothing is stored until the shopper answers.
    before = bot_rows(page)
    ask(page, QUESTION)
    wait_for_reply(page, before)
    assert consent.decision(system.store, sender) is None

    page.locator(".dg-consent-yes").click()
    expect(notice).to_be_hidden()
    expect(switch).to_be_checked()
    stored = consent.decision(system.store, sender)
    assert stored is not None and stored.granted is True

    page.reload()  # asked once: the answer is the web app's, not the page's
    expect(page.locator(".dg-panel")).to_be_visible()
    expect(switch).to_be_checked()
    expect(notice).to_be_hidden()

    page.locator(".dg-pref").click()  # changed later with the switch
    expect(page.locator(".dg-note").last).to_have_text("已关闭个性化推荐，只为您显示通用推荐")
    expect(switch).not_to_be_checked()
    assert consent.is_granted(system.store, sender) is False

    other = context.browser.new_context(
        base_url=system.web_url, viewport={"width": 1280, "height": 800}
    )
    try:
        other.add_cookies(context.cookies())  # the same shopper on another device
        second = other.new_page()
        assert open_widget(second) == sender
        expect(second.locator(".dg-pref-switch")).not_to_be_checked()
        expect(second.locator(".dg-consent")).to_be_hidden()
    finally:
        other.close()


def chatting(page: Page) -> str:
    """The widget open after one exchange: staff messages are pushed to the shopper's latest
    channel, which Rasa knows from their last message."""
    sender = open_widget(page)
    before = bot_rows(page)
    ask(page, "你好")
    wait_for_reply(page, before)
    return sender


def released_handoff(system, sender: str) -> int:
    """A request a staff member took and released (the queue's side of the console)."""
    queue = HandoffQueue(system.store)
    record = queue.request(sender, "转人工")
    queue.take(record.id, "staff-browser")
    queue.release(record.id, "staff-browser")
    return record.id


def test_after_a_handoff_the_shopper_rates_it_once(system, page: Page, screenshot):
    sender = chatting(page)
    handoff_id = released_handoff(system, sender)
    system.push(sender, None, {"type": "handoff", "state": "started", "agent": "staff-browser"})
    expect(page.locator(".dg-banner")).to_be_visible(timeout=REPLY_TIMEOUT)
    system.push(sender, "您好，我是客服小王，已为您处理好了。")
    ended = {"type": "handoff", "state": "ended", "handoff_id": handoff_id}
    system.push(sender, ENDED_TEXT, ended)

    card = page.locator(".dg-rate")
    expect(card).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(card).to_contain_text("请为本次人工服务打分")
    stars = card.locator(".dg-star")
    assert stars.evaluate_all("s => s.map(b => b.getAttribute('aria-label'))") == [
        "1 星：很不满意",
        "2 星：不满意",
        "3 星：一般",
        "4 星：满意",
        "5 星：非常满意",
    ]
    screenshot(page, "widget-handoff-rating")
    # By keyboard: Tab reaches the stars, the arrows move, Enter picks.
    stars.first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(card).to_have_text("感谢您的评价！")
    assert HandoffQueue(system.store).get(handoff_id).rating == 4

    page.reload()  # the goodbye is in the history again, the question is not
    expect(page.locator(".dg-row.dg-bot .dg-msg").last).to_have_text(ENDED_TEXT)
    expect(page.locator(".dg-rate")).to_have_count(0)


def test_a_rating_waiting_in_the_history_is_asked_after_a_reload_and_never_without_staff(
    system, page: Page
):
    sender = chatting(page)
    # A request nobody took: even a marker that it ended, without a staff member having
    # joined, asks for nothing.
    queue = HandoffQueue(system.store)
    expired = queue.request(sender, "转人工")
    queue.expire(expired.id, "timeout")
    queue.back_to_bot(expired.id)
    gone = {"type": "handoff", "state": "ended", "handoff_id": expired.id}
    system.push(sender, "好的，智能助手继续为您服务。", gone)
    expect(page.locator(".dg-row.dg-bot .dg-msg").last).to_have_text(
        "好的，智能助手继续为您服务。", timeout=REPLY_TIMEOUT
    )
    expect(page.locator(".dg-rate")).to_have_count(0)
    handoff_id = released_handoff(system, sender)
    system.push(sender, None, {"type": "handoff", "state": "started", "agent": "staff-browser"})
    expect(page.locator(".dg-banner")).to_be_visible(timeout=REPLY_TIMEOUT)
    system.push(sender, ENDED_TEXT, {"type": "handoff", "state": "ended", "handoff_id": handoff_id})
    expect(page.locator(".dg-rate")).to_have_count(1, timeout=REPLY_TIMEOUT)
    assert page.locator(".dg-rate").get_attribute("data-handoff") == str(handoff_id)

    page.reload()  # not rated yet: the history names it, so the question comes back once
    expect(page.locator(".dg-rate")).to_have_count(1, timeout=REPLY_TIMEOUT)
    page.locator(".dg-star[data-rating='2']").click()
    expect(page.locator(".dg-rate")).to_have_text("感谢您的评价！")
    assert HandoffQueue(system.store).get(handoff_id).rating == 2
    assert HandoffQueue(system.store).get(expired.id).rating is None

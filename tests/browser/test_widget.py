"""The chat widget (web/static/widget/) on the storefront, in Debian's Chromium, against the real
web app, Rasa and action server (conftest.py): cards that are catalog products, quick replies,
Chinese IME composition, a reload and a second tab, a dropped connection, staff handoff, the
product page's metadata, the cart, and a phone-sized screen. Screenshots: var/screenshots/."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from web.routes.storefront import stock_text, yuan

QUESTION = "有没有三千以内的华为手机"
REPLY_TIMEOUT = 90_000  # ms: a turn on 2 cores while other services load


def open_widget(page: Page, path: str = "/") -> str:
    """The page with the widget open and connected; the shopper's sender id."""
    page.goto(path)
    if not page.locator(".dg-panel").is_visible():
        page.locator(".dg-bubble").click()
    expect(page.locator(".dg-panel")).to_be_visible()
    page.wait_for_function("() => window.DaogouWidget && window.DaogouWidget.connected")
    return page.evaluate("() => window.DaogouWidget.senderId")


def ask(page: Page, text: str) -> None:
    box = page.locator(".dg-input")
    box.fill(text)
    box.press("Enter")


def bot_rows(page: Page) -> int:
    return page.locator(".dg-row.dg-bot:not(.dg-greeting)").count()


def wait_for_reply(page: Page, before: int) -> None:
    page.wait_for_function(
        "n => document.querySelector('#daogou-widget').shadowRoot"
        ".querySelectorAll('.dg-row.dg-bot:not(.dg-greeting)').length > n",
        arg=before,
        timeout=REPLY_TIMEOUT,
    )


def cards_of(page: Page) -> list[dict]:
    return page.locator(".dg-card").evaluate_all(
        """cards => cards.map(c => ({
            sku: c.dataset.sku,
            title: c.querySelector('.dg-card-title').textContent,
            price: c.querySelector('.dg-card-price').textContent,
            rating: c.querySelector('.dg-rating').textContent,
            stock: c.querySelector('.dg-stock').textContent,
            placeholder: !!c.querySelector('.dg-ph'),
            buttons: [...c.querySelectorAll('.dg-btn')].map(b => b.textContent),
        }))"""
    )


def events_posted(page: Page) -> list[dict]:
    """The bodies of the page's POST /api/events, as they are sent."""
    posted: list[dict] = []

    def record(request) -> None:
        if request.method == "POST" and request.url.endswith("/api/events"):
            posted.append(request.post_data_json)

    page.on("request", record)
    return posted


def user_turns(tracker: dict) -> list[dict]:
    return [e for e in tracker["events"] if e["event"] == "user"]


def ask_for_phones(page: Page) -> list[dict]:
    ask(page, QUESTION)
    expect(page.locator(".dg-card").first).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(page.locator(".dg-quick .dg-chip").first).to_be_visible(timeout=REPLY_TIMEOUT)
    return cards_of(page)


def test_cards_are_the_catalogs_products_with_quick_replies(system, page, screenshot):
    posted = events_posted(page)
    sender = open_widget(page)
    assert re.fullmatch(r"s-[\w-]{22}", sender), sender  # the web app's signed identity

    cards = ask_for_phones(page)
    assert cards
    for card in cards:
        product = system.product(card["sku"])  # NotFound fails: every card is in the catalog
        assert (product.brand, product.category) == ("华为", "手机"), card
        assert product.price <= 3000, card
        assert card["title"] == product.title, card
        assert card["price"] == yuan(product.price), card  # ¥ and the exact catalog price
        assert card["rating"] == f"★ {product.rating:.1f}", card
        assert card["stock"] == stock_text(product.stock), card
        assert card["placeholder"] == (product.image is None), card
        assert card["buttons"] == ["详情", "看相似", "加入购物车"], card
    # The bot's answer text came with the cards.
    assert page.locator(".dg-row.dg-bot:not(.dg-greeting) .dg-msg").count() >= 1
    chips = page.locator(".dg-quick .dg-chip").all_inner_texts()
    assert chips and all(chip.strip() for chip in chips)

    # Cards that were on screen were posted as impressions of this shopper, from the widget.
    deadline = time.monotonic() + 10
    while not any(e and e.get("type") == "impression" for e in posted):
        assert time.monotonic() < deadline, f"no impression posted: {posted}"
        page.wait_for_timeout(200)
    for event in posted:
        assert event["user_id"] == sender and event["source"] == "widget", event
        assert event["sku"] in {c["sku"] for c in cards}, event
    screenshot(page, "widget-desktop")


def test_quick_reply_sends_its_payload_and_shows_its_title(system, page):
    sender = open_widget(page)
    ask_for_phones(page)
    chip = page.locator(".dg-quick .dg-chip").first
    title = chip.inner_text().strip()
    before = bot_rows(page)
    chip.click()
    expect(page.locator(".dg-row.dg-user .dg-msg").last).to_have_text(title)
    wait_for_reply(page, before)
    # The conversation got the button's payload, not its title.
    events = system.tracker(sender)["events"]
    shown = next(
        b for e in events if e["event"] == "bot"
        for b in (e.get("data") or {}).get("buttons") or [] if b["title"] == title
    )  # fmt: skip
    texts = [e.get("text") for e in user_turns({"events": events})]
    assert texts == [QUESTION, shown["payload"]], texts


def test_enter_while_composing_chinese_sends_nothing(system, page):
    sender = open_widget(page)
    box = page.locator(".dg-input")
    box.click()
    # Chrome and Firefox: keydown Enter during the composition (isComposing, keyCode 229).
    box.evaluate(
        """ta => {
            ta.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
            ta.value = 'sanqian';
            ta.dispatchEvent(new CompositionEvent('compositionupdate', {data: 'sanqian'}));
            ta.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter',
                keyCode: 229, which: 229, isComposing: true, bubbles: true, cancelable: true}));
        }"""
    )
    # Safari: compositionend first, then the Enter's keydown (keyCode 229, not isComposing).
    box.evaluate(
        """ta => {
            ta.value = '三千';
            ta.dispatchEvent(new CompositionEvent('compositionend', {data: '三千'}));
            ta.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter',
                keyCode: 229, which: 229, bubbles: true, cancelable: true}));
            ta.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter',
                keyCode: 13, which: 13, bubbles: true, cancelable: true}));
        }"""
    )
    # A real composition through the DevTools protocol, and Enter pressed while it is open.
    cdp = page.context.new_cdp_session(page)
    box.fill("")
    box.focus()
    cdp.send("Input.imeSetComposition", {"text": "huawei", "selectionStart": 6, "selectionEnd": 6})
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert page.locator(".dg-row.dg-user").count() == 0  # nothing was sent
    assert page.locator(".dg-typing").is_hidden()
    cdp.send("Input.insertText", {"text": "华为"})  # the candidate is picked
    assert user_turns(system.tracker(sender)) == []

    # Enter once the composition is over sends.
    page.wait_for_timeout(200)
    box.fill("华为手机")
    box.press("Enter")
    expect(page.locator(".dg-row.dg-user .dg-msg")).to_have_text(["华为手机"])


def test_reload_and_second_tab_keep_the_conversation(system, page, screenshot):
    sender = open_widget(page)
    cards = ask_for_phones(page)

    page.reload()
    expect(page.locator(".dg-panel")).to_be_visible()  # it stays open across the reload
    page.wait_for_function("() => window.DaogouWidget.connected")
    assert page.evaluate("() => window.DaogouWidget.senderId") == sender

    second = page.context.new_page()
    assert open_widget(second, "/") == sender
    # A message from the second tab continues the same conversation.
    before = bot_rows(second)
    ask(second, "有256G的吗")
    wait_for_reply(second, before)
    assert [e["text"] for e in user_turns(system.tracker(sender))] == [QUESTION, "有256G的吗"]
    second.close()

    # The history came back after the reload: the question and the same cards.
    if page.request.get("/api/widget/history").status == 404:
        pytest.xfail("GET /api/widget/history is not served yet")
    expect(page.locator(".dg-row.dg-user .dg-msg").first).to_have_text(QUESTION)
    restored = page.locator(".dg-carousel").first.locator(".dg-card")
    assert restored.evaluate_all("cs => cs.map(c => c.dataset.sku)") == [c["sku"] for c in cards]
    screenshot(page, "widget-after-reload")


def test_dropped_connection_shows_reconnecting_and_comes_back(system, page):
    sender = open_widget(page)
    status = page.locator(".dg-status")
    expect(status).to_be_hidden()
    # The reconnection may take well under a second: record what the status bar showed.
    page.evaluate(
        """() => {
            const bar = document.querySelector('#daogou-widget').shadowRoot.querySelector('.dg-status');
            window.__shown = [];
            new MutationObserver(() => { if (!bar.hidden) window.__shown.push(bar.textContent); })
                .observe(bar, {attributes: true, childList: true, subtree: true});
        }"""
    )
    page.evaluate("() => window.DaogouWidget.socket.io.engine.close()")  # the transport drops
    page.wait_for_function("() => window.__shown.length > 0")
    page.wait_for_function("() => window.DaogouWidget.connected", timeout=20_000)
    expect(status).to_be_hidden()
    assert page.evaluate("() => window.__shown") == ["重新连接中…"]
    assert page.evaluate("() => window.DaogouWidget.senderId") == sender
    before = bot_rows(page)
    ask(page, QUESTION)
    wait_for_reply(page, before)
    assert [e["text"] for e in user_turns(system.tracker(sender))] == [QUESTION]


def test_staff_handoff_banner_and_text_only_rendering(system, page, screenshot):
    sender = open_widget(page)
    ask_for_phones(page)
    banner = page.locator(".dg-banner")
    expect(banner).to_be_hidden()

    system.push(sender, None, {"type": "handoff", "state": "started"})
    expect(banner).to_have_text("人工客服已接入")
    hostile = '<img src=x onerror="window.__pwned=1">您好，我是客服小王'
    system.push(sender, hostile)
    staff = page.locator(".dg-row.dg-staff .dg-msg").last
    expect(staff).to_have_text(hostile)  # shown as text, not markup
    assert page.locator(".dg-row.dg-staff img").count() == 0
    # Staff recommend products: real ones, and one whose fields carry markup.
    real = [p.to_dict() for p in system.store.list_products(category="手机", limit=5).items]
    hostile_card = {"sku": "X-1", "title": "<b>粗体</b>", "brand": "<i>", "category": "手机",
                    "price": 1, "rating": 5, "stock": 1, "image": "javascript:alert(1)"}  # fmt: skip
    system.push(sender, None, {"type": "products", "items": [*real, hostile_card]})
    card = page.locator(".dg-card[data-sku='X-1']")
    expect(card.locator(".dg-card-title")).to_have_text("<b>粗体</b>")
    assert card.locator("img").count() == 0  # a javascript: image is no image
    assert page.evaluate("() => window.__pwned") is None
    screenshot(page, "widget-handoff")

    system.push(sender, None, {"type": "handoff", "state": "ended"})
    expect(banner).to_be_hidden()
    expect(page.locator(".dg-note").last).to_contain_text("导购助手继续为您服务")


def test_product_page_sends_the_product_as_metadata(system, page, screenshot):
    sku = "PH-HW-MATE60PRO-256"
    product = system.product(sku)
    page.goto(f"/products/{sku}")
    expect(page.locator("h1")).to_have_text(product.title)
    expect(page.locator(".product .price")).to_have_text(yuan(product.price))
    screenshot(page, "product-desktop")

    page.locator(".ask-open").click()
    page.wait_for_function("() => window.DaogouWidget.connected")
    sender = page.evaluate("() => window.DaogouWidget.senderId")
    before = bot_rows(page)
    ask(page, "这款多少钱")
    wait_for_reply(page, before)
    said = user_turns(system.tracker(sender))[-1]
    assert said["text"] == "这款多少钱"
    assert said["metadata"].get("product_sku") == sku, said["metadata"]
    # 「这款」 is the product on the page, with its price from the catalog.
    expect(page.locator(f".dg-card[data-sku='{sku}']").last).to_be_visible()
    expect(page.locator(".dg-log")).to_contain_text(f"{product.price:g}元")

    assert page.goto("/products/NO-SUCH-SKU").status == 404
    expect(page.locator("h1")).to_have_text("没有找到这件商品")


def test_card_buttons_cart_similar_and_detail(system, page, screenshot):
    posted = events_posted(page)
    sender = open_widget(page)
    page.evaluate(
        """() => {
            window.__events = [];
            window.addEventListener('daogou:add-to-cart', e => window.__events.push(e.detail));
            window.DaogouWidget.onAddToCart = (detail, product) => { window.__callback = [detail, product]; };
        }"""
    )
    cards = ask_for_phones(page)
    first = page.locator(".dg-card").first
    first.locator(".dg-cart").click()
    url = f"{system.web_url}/products/{cards[0]['sku']}"
    assert page.evaluate("() => window.__events") == [{"sku": cards[0]["sku"], "url": url}]
    detail, product = page.evaluate("() => window.__callback")
    assert detail == {"sku": cards[0]["sku"], "url": url} and product["title"] == cards[0]["title"]
    expect(page.locator("#cart-count")).to_have_text("1")  # the demo cart listened
    page.locator("#cart-button").click()
    expect(page.locator(".cart-item .cart-title")).to_have_text([cards[0]["title"]])
    expect(page.locator("#cart-total")).to_have_text(cards[0]["price"])
    screenshot(page, "storefront-cart-desktop")
    page.locator(".cart-close").click()
    assert {"user_id": sender, "sku": cards[0]["sku"], "type": "add_to_cart",
            "source": "widget"} in posted  # fmt: skip

    first.locator(".dg-similar").click()
    expect(page.locator(".dg-row.dg-user .dg-msg").last).to_have_text(
        f"看看和{cards[0]['title']}类似的"
    )
    first.locator(".dg-detail").click()
    page.wait_for_url(url)
    expect(page.locator("h1")).to_have_text(cards[0]["title"])
    assert {"user_id": sender, "sku": cards[0]["sku"], "type": "click",
            "source": "widget"} in posted  # fmt: skip


def test_storefront_grid_desktop(system, page, screenshot):
    page.goto("/")
    cards = page.locator(".grid .card")
    expect(cards.first).to_be_visible()
    first_sku = cards.first.get_attribute("data-sku")
    product = system.product(first_sku)
    expect(cards.first.locator(".card-price")).to_have_text(yuan(product.price))
    expect(page.locator(".dg-bubble")).to_be_visible()
    screenshot(page, "storefront-desktop")
    page.goto("/?q=三千以内的华为手机")
    for sku in page.locator(".grid .card").evaluate_all("cs => cs.map(c => c.dataset.sku)"):
        found = system.product(sku)
        assert found.brand == "华为" and found.price <= 3000, sku


def test_phone_layout_is_full_screen(system, phone_page, screenshot):
    page = phone_page
    page.goto("/")
    expect(page.locator(".grid .card").first).to_be_visible()
    screenshot(page, "storefront-phone")
    page.locator(".dg-bubble").click()
    page.wait_for_function("() => window.DaogouWidget.connected")
    box = page.locator(".dg-panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    expect(page.locator(".dg-bubble")).to_be_hidden()
    ask_for_phones(page)
    screenshot(page, "widget-phone")
    page.locator(".dg-close").click()
    expect(page.locator(".dg-bubble")).to_be_visible()


def test_without_the_identity_endpoints_a_local_id_stands_in(system, page):
    """Development without GET /api/widget/session and /history (404): a random id kept in
    localStorage, the same after a reload; no token, which this Rasa refuses, so the widget
    keeps saying it reconnects rather than failing."""
    for path in ("**/api/widget/session", "**/api/widget/history*"):
        page.route(path, lambda route: route.fulfill(status=404, json={"error": {}}))
    page.goto("/")
    page.locator(".dg-bubble").click()
    page.wait_for_function("() => window.DaogouWidget.senderId")
    sender = page.evaluate("() => window.DaogouWidget.senderId")
    assert re.fullmatch(r"web-[0-9a-f]{16}", sender), sender
    assert page.evaluate("() => localStorage.getItem('daogou_sender_id')") == sender
    expect(page.locator(".dg-status")).to_have_text("重新连接中…")
    expect(page.locator(".dg-status")).to_be_visible()
    page.reload()
    page.wait_for_function("() => window.DaogouWidget.senderId")
    assert page.evaluate("() => window.DaogouWidget.senderId") == sender

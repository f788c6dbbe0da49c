"""The storefront chat widget in headless Chromium: a signed-in shopper asks in Japanese on the storefront,
gets the tracking link, asks for a person, and the agent finds the ticket in the console with the bot's
summary beside the chat."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import (
    SHOP,
    YAMATO_NUMBER,
    BrowserSession,
    LiveApp,
    open_browser,
    screenshot,
    sign_in,
)
from tests.browser.widget_fixtures import Storefront, storefront  # noqa: F401 - registers the fixture
from tests.factories import session_token

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)


def test_a_shopper_asks_in_japanese_gets_the_tracking_link_then_a_person_and_the_agent_sees_it(
    live_app: LiveApp,
    storefront: Storefront,  # noqa: F811 - the imported fixture
    wide: BrowserSession,
    browser: Browser,
) -> None:
    # given: the shop's storefront with the widget's one script tag, the shopper signed in
    shopper = open_browser(browser, width=1100, height=800, locale="ja-JP")
    page = shopper.page
    page.goto(storefront.base_url)
    launcher = page.locator('[data-role="launcher"]')
    expect(launcher).to_have_text("チャットで問い合わせ")
    # the theme's CSS does not reach inside the widget
    assert launcher.evaluate("b => getComputedStyle(b).fontFamily") != "serif"
    launcher.click()
    panel = page.locator('[data-role="panel"]')
    expect(panel).to_be_visible()
    expect(page.locator('[data-role="visitor"]')).to_be_hidden()

    # when: she asks where her order is, in Japanese
    page.locator('[data-role="input"]').fill("注文#1002はいつ届きますか？")
    page.locator('[data-role="send"]').click()

    # then: the bot answers with the Yamato tracking link, clickable
    bot = page.locator('li[data-author="bot"]')
    expect(bot.first).to_contain_text(YAMATO_NUMBER, timeout=15_000)
    link = bot.first.locator("a", has_text=re.compile(YAMATO_NUMBER))
    expect(link).to_have_attribute(
        "href", re.compile(rf"^https://[^/]*kuronekoyamato\.co\.jp/.*{YAMATO_NUMBER}")
    )
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    screenshot(page, "widget-tracking-answer")

    # when: she asks for a person
    page.locator('[data-role="input"]').fill("担当者と話したいです")
    page.locator('[data-role="send"]').click()
    expect(bot).to_have_count(2, timeout=15_000)
    handoff_notice = bot.nth(1).inner_text()
    screenshot(page, "widget-handoff")

    # then: the agent finds the ticket in the console, the bot's replies and its summary for agents beside it
    console = wide.page
    sign_in(console, live_app)
    row = console.locator(".ticket-row").first
    expect(row).to_be_visible()
    row.click()
    expect(console.locator(".message-customer .message-body").first).to_have_text(
        "注文#1002はいつ届きますか？"
    )
    expect(console.locator(".message-bot .message-body").first).to_contain_text(YAMATO_NUMBER)
    # beside the bot's answer, the decision behind it
    decision = console.locator(".message-bot .decision").first
    # in words in the agent's language (English here), the code kept on the element
    intent = decision.locator('[data-field="decision-intent"]')
    expect(intent).to_have_text("Where is my order?")
    expect(intent).to_have_attribute("data-code", "order_status")
    expect(decision.locator('[data-field="decision-order"]')).to_have_text("#1002")
    verification = decision.locator('[data-field="decision-verification"]')
    expect(verification).to_have_text("Signed in on the storefront")
    expect(verification).to_have_attribute("data-code", "storefront")
    expect(
        console.locator(".message-bot .decision").nth(1).locator('[data-field="decision-intent"]')
    ).to_have_text("Asks for a person")
    expect(console.locator(".message-bot .message-body").nth(1)).to_have_text(handoff_notice.split("\n")[-1])
    summary = console.locator(".message-note .message-body")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text("#1002")
    screenshot(console, "widget-ticket-in-console")

    # and: an agent's reply reaches the open widget
    console.locator('[data-role="reply-body"]').fill("担当の佐藤です。お調べいたします。")
    console.locator('[data-role="reply-send"]').click()
    expect(page.locator('li[data-author="agent"]')).to_contain_text("お調べいたします", timeout=10_000)
    screenshot(page, "widget-agent-reply")
    assert not shopper.errors, shopper.errors
    shopper.context.close()


def test_the_merchant_edits_a_reply_with_a_live_preview_and_a_bad_template_is_refused(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: the embedded admin's reply editor (App Bridge cannot load here; the page's token is used)
    page = wide.page
    page.route(
        "https://cdn.shopify.com/**", lambda route: route.fulfill(body="", content_type="text/javascript")
    )
    page.goto(f"{live_app.base_url}/app?shop={SHOP}&locale=en&id_token={session_token(SHOP)}")
    page.locator('[data-role="replies-link"]').click()
    page.wait_for_url("**/app/replies**")
    expect(page.locator('[data-role="template-key"] option[value="order_in_transit"]')).to_have_count(1)
    page.select_option('[data-role="template-key"]', "order_in_transit")
    page.select_option('[data-role="template-language"]', "ja")
    expect(page.locator('[data-role="template-body"]')).to_have_value(re.compile("order_name"))

    # when: she picks a real order and types
    page.fill('[data-role="order-search"]', "1002")
    expect(page.locator('[data-role="order"] option:checked')).to_have_text("#1002")
    page.fill('[data-role="template-body"]', "{{ order_name }} は発送済みです。{{ tracking_text }}")

    # then: the preview renders against that order, tracking number included
    preview = page.locator('[data-role="preview"]')
    expect(preview).to_contain_text("#1002 は発送済みです。")
    expect(preview).to_contain_text(YAMATO_NUMBER)
    screenshot(page, "replies-preview")

    # a broken template is refused with the error shown, and nothing is saved
    page.fill('[data-role="template-body"]', "{{ order_name }} {% if %}")
    expect(page.locator('[data-role="preview-error"]')).to_be_visible()
    page.click('[data-role="save"]')
    expect(page.locator('[data-role="save-message"]')).to_contain_text("Not saved")
    screenshot(page, "replies-refused")

    # switching the stock auto-reply off is kept
    stock = page.locator('input[data-intent="stock"]')
    stock.uncheck()
    expect(page.locator('[data-role="settings-message"]')).to_have_text("Saved.")
    page.reload()
    expect(page.locator('input[data-intent="stock"]')).not_to_be_checked()

"""The inbox in headless Chromium, in English and Japanese: each ticket's channel and first-response target
in the list, the channel and tag filters, tags added and removed on the open ticket, and a saved reply
inserted filled in (customer, order and its state, agent) then sent, which assigns the ticket to the agent.
Screenshots of each language go to ``tests/browser/artifacts/``."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.helpdesk.saved_replies import create_saved_reply
from shop_app.models import Shop
from shop_app.shops.installation import get_shop
from tests.browser.conftest import SHOP, BrowserSession, LiveApp, screenshot, sign_in

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)

WORDS = {
    "en": {
        "web_chat": "web chat",
        "api": "API",
        "via": "via web chat",
        "due": "Reply by",
        "title": "Order update",
    },
    "ja": {
        "web_chat": "Webチャット",
        "api": "API",
        "via": "Webチャット",
        "due": "までに返信",
        "title": "注文のご案内",
    },
}
BODIES = {
    "en": "Hello {{ customer_name }}, your order {{ order_number }} is {{ order_status }}. {{ agent_name }}",
    "ja": "{{ customer_name }}様\nご注文{{ order_number }}は「{{ order_status }}」です。{{ agent_name }}",
}


async def _saved_replies(app: LiveApp) -> None:
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = await get_shop(session, SHOP)
            assert isinstance(shop, Shop) and shop.id is not None
            for locale, body in BODIES.items():
                await create_saved_reply(
                    session,
                    shop_id=shop.id,
                    locale=locale,
                    title=WORDS[locale]["title"],
                    body=body,
                    agent_id=None,
                )
    finally:
        await engine.dispose()


def _api_ticket(app: LiveApp) -> None:
    with app.api() as client:
        answer = client.post(
            "/api/v1/tickets",
            json={
                "contact": {"name": "Ken Bot"},
                "channel": "api",
                "subject": "From the chatbot",
                "message": "Hi",
            },
        )
    assert answer.status_code == 201, answer.text


def _row(page: Page, subject: str) -> Locator:
    return page.locator(".ticket-row", has_text=subject)


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_channels_tags_and_saved_replies_in_the_console(
    live_app: LiveApp, wide: BrowserSession, locale: str
) -> None:
    # given a web chat from a customer with orders, a ticket from a bot by the API, and saved replies
    live_app.open_ticket(
        name="Hanako Yamada", email="hanako@example.jp", subject="Where is my tea?", message="Order #1002?"
    )
    _api_ticket(live_app)
    live_app.run(_saved_replies(live_app))
    words = WORDS[locale]
    page = wide.page
    sign_in(page, live_app)
    if locale != "en":  # the browser asks for English; the agent switches to Japanese
        page.click(f'[data-lang="{locale}"]')
    expect(page.locator("html")).to_have_attribute("lang", locale)

    # then each row says its channel and when its first answer is due
    tea = _row(page, "Where is my tea?")
    expect(tea.locator('[data-field="channel"]')).to_have_text(words["web_chat"])
    expect(tea.locator('[data-field="channel"]')).to_have_attribute("data-channel", "web_chat")
    expect(_row(page, "From the chatbot").locator('[data-field="channel"]')).to_have_text(words["api"])
    expect(tea.locator(".due")).to_contain_text(words["due"])

    # when the agent filters by channel
    page.select_option('[data-role="channel-filter"]', "api")
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(_row(page, "From the chatbot")).to_have_count(1)
    page.select_option('[data-role="channel-filter"]', "")
    expect(page.locator(".ticket-row")).to_have_count(2)

    # and tags the tea ticket (typed in any case), then filters by a tag
    tea.click()
    expect(page.locator('.conversation-title [data-field="channel"]')).to_contain_text(words["via"])
    tag_input = page.locator('[data-role="tag-input"]')
    for typed in ("VIP", "配送", "late"):
        tag_input.fill(typed)
        tag_input.press("Enter")
        expect(page.locator('[data-role="tag-chips"] .tag', has_text=typed.lower())).to_have_count(1)
    page.locator('[data-role="tag-chips"] .tag[data-tag="late"] .tag-remove').click()
    expect(page.locator('[data-role="tag-chips"] .tag')).to_have_count(2)
    expect(tea.locator(".row-tags .tag")).to_have_text(["vip", "配送"])
    page.fill('[data-role="tag-filter"]', "ＶＩＰ")  # full-width: the same tag
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(_row(page, "Where is my tea?")).to_have_count(1)

    # and inserts the saved reply in its language: filled in for this customer, her newest order, the agent
    page.select_option('[data-role="saved-reply"]', label=words["title"])
    reply_box = page.locator('[data-role="reply-body"]')
    expect(reply_box).to_have_value(re.compile(r"Hanako.*#1002.*Aoi", re.S))
    screenshot(page, f"console-inbox-{locale}")

    # and sends it: the ticket is now the agent's, its first answer given
    page.click('[data-role="reply-send"]')
    expect(page.locator(".message-agent .message-body")).to_contain_text("#1002")
    expect(page.locator('[data-role="assignee"] option:checked')).to_contain_text("Aoi")
    expect(tea.locator(".due")).to_be_hidden()
    assert wide.errors == []

"""The profile card as a Chatwoot dashboard app, in headless Chromium: the simulated Chatwoot (devchatwoot)
and the app each serve HTTP, connected as a merchant connects them. A Japanese shopper asks in the Chatwoot
widget where their order is and proves it with its email; the bot answers in the conversation; the agent
opens the conversation in Chatwoot and the card, framed beside it and given the conversation by
postMessage as Chatwoot does, shows the customer, the order, its items and its tracking link, in Japanese.
Screenshots go to ``tests/browser/artifacts/``."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from devchatwoot.server import create_chatwoot_app
from devchatwoot.state import Account, ChatwootState, Conversation, User
from shop_app.dev.chatwoot import connect_account
from tests.browser.conftest import SHOP, YAMATO_NUMBER, LiveApp, open_browser, screenshot
from tests.factories import session_token

QUESTION = "#1002 の注文はいつ届きますか？ メールは hanako@example.jp です"


@dataclass
class Chatwoot:
    base_url: str
    state: ChatwootState
    account: Account
    user: User


async def _ask(chatwoot: Chatwoot) -> Conversation:
    state, account = chatwoot.state, chatwoot.account
    inbox = next(iter(account.inboxes.values()))
    contact = state.add_contact(account, name="山田 花子", email="hanako@example.jp")
    async with state.lock:
        chat, _ = await state.contact_says(account, inbox, contact, QUESTION)
    return chat


@pytest.fixture
def chatwoot(live_app: LiveApp) -> Iterator[Chatwoot]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_chatwoot_app(base_url=base_url)
    state: ChatwootState = app.state.chatwoot
    account = state.add_account("東京茶舗")
    found = Chatwoot(
        base_url, state, account, state.add_user(account, name="佐藤 葵", email="aoi@example.jp")
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", ws="none", http="h11", lifespan="on", timeout_graceful_shutdown=1
        )
    )
    serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), live_app.loop)
    try:
        while not server.started:
            assert not serving.done(), serving.exception()
            threading.Event().wait(0.05)
        inbox = live_app.run(connect_account(live_app.settings, state, account, found.user, shop_domain=SHOP))
        assert inbox is not None
        yield found
    finally:
        server.should_exit = True
        serving.result(timeout=15)
        sock.close()


@pytest.mark.slow
def test_the_dashboard_app_shows_the_card_inside_chatwoot_in_japanese(
    browser: Browser, live_app: LiveApp, chatwoot: Chatwoot
) -> None:
    # given: the shopper asked in the Chatwoot widget and proved the order with its email
    chat = live_app.run(_ask(chatwoot))
    agent = open_browser(browser, width=1280, height=900, locale="ja-JP")
    agent.context.set_default_timeout(20_000)
    page = agent.page
    try:
        # then: the bot's answer reached the Chatwoot conversation
        url = f"{chatwoot.base_url}/app/accounts/{chatwoot.account.id}/conversations/{chat.display_id}"
        for _ in range(100):
            if any(m.sender_type == "agent_bot" for m in chat.messages):
                break
            threading.Event().wait(0.1)
        page.goto(f"{url}?as={chatwoot.user.id}")
        expect(page.locator('[data-role="messages"] li', has_text="#1002")).to_have_count(2)
        # and the card, framed beside it, shows the customer's order in Japanese
        card = page.frame_locator("iframe.dashboard-app")
        expect(card.locator('[data-role="profile"]')).to_be_visible()
        expect(card.locator("h1")).to_contain_text("Hanako Yamada")
        order = card.locator('article[data-order="#1002"]')
        expect(order).to_contain_text("Sencha Gift Box")
        expect(order.locator("a", has_text=YAMATO_NUMBER)).to_have_attribute(
            "href", f"https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={YAMATO_NUMBER}"
        )
        expect(card.locator("body")).to_contain_text("注文")
        expect(card.locator('[data-role="reason"]')).to_contain_text("注文#1002で本人確認")
        screenshot(page, "chatwoot-dashboard-app-card-ja")
        assert agent.errors == []
    finally:
        agent.context.close()


@pytest.mark.slow
def test_the_card_ignores_a_message_from_another_origin(
    browser: Browser, live_app: LiveApp, chatwoot: Chatwoot
) -> None:
    agent = open_browser(browser, width=420, height=700, locale="ja-JP")
    try:
        connector_url = chatwoot.account.dashboard_apps[0]["content"][0]["url"]
        page = agent.page
        # opened directly (not framed by Chatwoot): a message the page posts to itself has its own origin
        page.goto(connector_url)
        page.evaluate(
            """() => window.postMessage(JSON.stringify({event: "appContext", data: {conversation: {id: 1},
            contact: {email: "hanako@example.jp"}}}), "*")"""
        )
        page.wait_for_timeout(500)
        expect(page.locator('[data-role="waiting"]')).to_be_visible()
        expect(page.locator('[data-role="profile"]')).to_have_count(0)
    finally:
        agent.context.close()


@pytest.mark.slow
def test_the_merchant_tests_and_pauses_chatwoot_on_the_connectors_page_in_japanese(
    browser: Browser, live_app: LiveApp, chatwoot: Chatwoot
) -> None:
    merchant = open_browser(browser, width=1200, height=1000, locale="ja-JP")
    merchant.page.route("https://cdn.shopify.com/**", lambda route: route.abort())
    page = merchant.page
    try:
        query = urlencode({"shop": SHOP, "id_token": session_token(SHOP, lifetime=900), "locale": "ja"})
        page.goto(f"{live_app.base_url}/app/connectors?{query}", wait_until="domcontentloaded")
        section = page.locator('[data-role="connector"][data-vendor="chatwoot"]')
        expect(section.locator('[data-field="state"]')).to_have_text("連携中")
        expect(section.locator('input[data-url="bot"]')).to_have_value(
            re.compile("/connectors/chatwoot/hook/")
        )
        expect(section.locator("label", has_text="エージェントボットのアクセストークン")).to_have_count(1)
        expect(section.locator("label", has_text="ボットURL")).to_have_count(1)
        assert "admin.connectors" not in section.inner_text()  # every word is in the catalogue
        expect(section.locator('input[name="bot_token"]')).to_have_value("")  # never shown again
        expect(section.locator('input[name="bot_token"]')).to_have_attribute(
            "placeholder", re.compile("保存済み")
        )
        # test connection: the simulated Chatwoot accepts the tokens
        section.locator('[data-action="check"]').click()
        expect(section.locator('[data-role="message"]')).to_contain_text("接続できました")
        screenshot(page, "admin-connectors-chatwoot-ja")
        # pause: the state says so, and resume comes back
        section.locator('[data-action="pause"]').click()
        expect(section.locator('[data-field="state"]')).to_contain_text("一時停止中")
        section.locator('[data-action="resume"]').click()
        expect(section.locator('[data-field="state"]')).to_have_text("連携中")
        assert [e for e in merchant.errors if "Failed to load resource" not in e] == []
    finally:
        merchant.context.close()

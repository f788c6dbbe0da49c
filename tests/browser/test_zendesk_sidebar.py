"""The Zendesk sidebar, end to end in headless Chromium: the simulated Zendesk (devzendesk) and the app each
serve HTTP, connected as a merchant connects them. A shopper asks in Japanese where their order is; the bot's
public comment appears in the ticket; the agent opens the ticket, Zendesk posts the signed URL into the app's
sidebar, and our card shows the customer's order in Japanese inside Zendesk's page; a shipment webhook from
the store then reaches the open card live."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from devzendesk.config import ZendeskConfig
from devzendesk.server import create_zendesk_app
from devzendesk.state import ZendeskState
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.dev.zendesk import connect_account
from shop_app.encryption import Cipher
from shop_app.models import Shop
from shop_app.settings import Secret, Settings
from shop_app.shops.installation import get_shop
from tests.browser.conftest import (
    SHOP,
    YAMATO_NUMBER,
    LiveApp,
    fulfillment_update,
    open_browser,
    screenshot,
)

QUESTION = "#1002 の注文はいつ届きますか？ メールは hanako@example.jp です"


@pytest.fixture
def zendesk_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def settings(settings: Settings, zendesk_socket: socket.socket) -> Settings:
    zendesk = f"http://127.0.0.1:{zendesk_socket.getsockname()[1]}"
    # the card token is an HS256 JWT keyed with the session secret: at least 32 bytes, as in production
    return replace(
        settings,
        zendesk_zaf_sdk_url=f"{zendesk}/zaf_sdk.min.js",
        session_secret=Secret("browser-" + "s" * 32),
    )


async def _connect(settings: Settings, account: ZendeskState) -> None:
    """The shop connects its Zendesk account, as the embedded admin does; Zendesk gets the webhook, the
    triggers and the app's sidebar address."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = await get_shop(session, SHOP)
            assert isinstance(shop, Shop)
            cipher = Cipher(settings.encryption_keys)
            await connect_account(session, settings=settings, cipher=cipher, shop=shop, account=account)
    finally:
        await engine.dispose()


@pytest.fixture
def zendesk(live_app: LiveApp, zendesk_socket: socket.socket) -> Iterator[ZendeskState]:
    config = ZendeskConfig(port=zendesk_socket.getsockname()[1], subdomain="tokyotea")
    app = create_zendesk_app(config)
    account: ZendeskState = app.state.zendesk
    live_app.run(_connect(live_app.settings, account))
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", ws="none", http="h11", lifespan="on", timeout_graceful_shutdown=1
        )
    )
    serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[zendesk_socket]), live_app.loop)
    try:
        while not server.started:
            assert not serving.done(), serving.exception()
            threading.Event().wait(0.05)
        yield account
    finally:
        server.should_exit = True
        serving.result(timeout=15)


@pytest.mark.slow
def test_the_zendesk_sidebar_shows_the_card_in_japanese_inside_zendesks_ticket_page(
    browser: Browser, live_app: LiveApp, zendesk: ZendeskState
) -> None:
    # given: a shopper asks in Japanese where their order is: Zendesk's trigger calls the app, the bot answers
    with httpx.Client(base_url=zendesk.config.base_url, timeout=20) as http:
        opened = http.post(
            "/_devzendesk/tickets",
            json={"requester_email": "hanako@example.jp", "requester_name": "佐藤 花子", "body": QUESTION},
        )
        assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["id"]
    agent = open_browser(browser, width=1200, height=900, locale="ja-JP")
    agent.context.set_default_timeout(20_000)
    page = agent.page
    try:
        # when: the agent opens the ticket in Zendesk
        page.goto(f"{zendesk.config.base_url}/agent/tickets/{ticket_id}")
        # then: the bot's public comment is in the thread (reload until its reply has arrived)
        bot = page.locator(f'#thread li.public[data-author="{zendesk.admin.id}"]')
        for _ in range(40):
            if bot.count():
                break
            threading.Event().wait(0.25)
            page.reload()
        expect(bot).to_contain_text("#1002")
        # and the sidebar, loaded by Zendesk's signed URL, shows our card in Japanese
        sidebar = page.frame_locator("#app-sidebar")
        card = sidebar.locator('[data-role="card"][data-loaded="true"]')
        expect(card).to_contain_text("#1002")
        expect(sidebar.locator("html")).to_have_attribute("lang", "ja")
        expect(card).to_contain_text("123456789012")
        screenshot(page, "zendesk-sidebar-card-ja")
        # when: the store says the parcel was delivered, with a second tracking number (Shopify's webhook)
        frame = page.frame(name="app-sidebar")
        assert frame is not None
        frame.evaluate("window.__stillTheSameCard = true")
        expect(sidebar.locator("body[data-live='true']")).to_have_count(1)
        second = "987654321098"
        live_app.webhook(
            "fulfillments/update",
            fulfillment_update(shipment_status="delivered", tracking_numbers=[YAMATO_NUMBER, second]),
        )
        # then: the open card shows it, live, without being loaded again
        expect(card).to_contain_text(second, timeout=10_000)
        assert frame.evaluate("window.__stillTheSameCard") is True
        screenshot(page, "zendesk-sidebar-card-live-ja")
        assert agent.errors == []
    finally:
        agent.context.close()


@pytest.mark.slow
def test_the_zendesk_sidebar_speaks_the_agents_zendesk_language_not_the_shops(
    browser: Browser, live_app: LiveApp, zendesk: ZendeskState
) -> None:
    # given: a Japanese shop, and an agent whose Zendesk speaks English (the app framework's
    # currentUser.locale), in a browser set to Japanese
    zendesk.agent.locale = "en-US"
    with httpx.Client(base_url=zendesk.config.base_url, timeout=20) as http:
        opened = http.post(
            "/_devzendesk/tickets",
            json={"requester_email": "hanako@example.jp", "requester_name": "佐藤 花子", "body": QUESTION},
        )
        assert opened.status_code == 201, opened.text
    agent = open_browser(browser, width=1200, height=900, locale="ja-JP")
    agent.context.set_default_timeout(20_000)
    page = agent.page
    try:
        # when: the agent opens the ticket
        page.goto(f"{zendesk.config.base_url}/agent/tickets/{opened.json()['id']}")
        # then: the card is in English: its words, its dates and the page's language
        sidebar = page.frame_locator("#app-sidebar")
        card = sidebar.locator('[data-role="card"][data-loaded="true"]')
        expect(card).to_contain_text("#1002")
        expect(card.locator("h2").first).to_have_text("Orders")
        expect(sidebar.locator("html")).to_have_attribute("lang", "en")
        screenshot(page, "zendesk-sidebar-card-en-agent")
        assert agent.errors == []
    finally:
        agent.context.close()

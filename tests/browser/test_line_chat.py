"""A shopper on LINE, end to end in headless Chromium: the simulated LINE platform (devline) and the app each
serve HTTP, connected as in ``shop-app dev``. The shopper adds the shop on the LINE chat page and asks in
Japanese where their order is; the bot answers with its order card; they ask for a person; the agent
answers from the console, and the answer appears on the LINE page. Screenshots go to
``tests/browser/artifacts/``."""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from devline.config import ChannelConfig, LineConfig, new_user_id
from devline.server import create_line_app
from shop_app.channels.line.connections import connect_line, webhook_url
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.encryption import Cipher
from shop_app.models import Shop
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop
from tests.browser.conftest import SHOP, BrowserSession, LiveApp, open_browser, screenshot, sign_in

CHANNEL_SECRET = secrets.token_hex(16)
ACCESS_TOKEN = secrets.token_urlsafe(64)
QUESTION = "#1002 の注文はいつ届きますか？ メールは hanako@example.jp です"
AGENT_ANSWER = "担当の佐藤です。明日の午前中にお届けの予定です。"


@pytest.fixture
def line_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def settings(settings: Settings, line_socket: socket.socket) -> Settings:
    line = f"http://127.0.0.1:{line_socket.getsockname()[1]}"
    return replace(settings, line_api_url=line, line_data_api_url=line, line_access_url=line)


async def _connect(settings: Settings) -> ChannelConfig:
    """The shop connects its LINE channel, as the embedded admin does; the platform gets the same channel."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = await get_shop(session, SHOP)
            assert isinstance(shop, Shop)
            connection = await connect_line(
                session,
                shop=shop,
                cipher=Cipher(settings.encryption_keys),
                channel_id="2000000001",
                channel_secret=CHANNEL_SECRET,
                access_token=ACCESS_TOKEN,
            )
            return ChannelConfig(
                channel_id=connection.channel_id,
                channel_secret=CHANNEL_SECRET,
                access_tokens=(ACCESS_TOKEN,),
                bot_user_id=new_user_id(),
                basic_id="@tokyotea",
                display_name="Tokyo Tea",
                webhook_url=webhook_url(settings, connection),
            )
    finally:
        await engine.dispose()


@pytest.fixture
def line_platform(live_app: LiveApp, line_socket: socket.socket) -> Iterator[str]:
    channel = live_app.run(_connect(live_app.settings))
    config = LineConfig(port=line_socket.getsockname()[1], channels=(channel,))
    server = uvicorn.Server(
        uvicorn.Config(
            create_line_app(config),
            log_level="warning",
            ws="none",
            http="h11",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[line_socket]), live_app.loop)
    try:
        while not server.started:
            assert not serving.done(), serving.exception()
            threading.Event().wait(0.05)
        yield f"{config.base_url}/chat/{channel.channel_id}"
    finally:
        server.should_exit = True
        serving.result(timeout=15)


def bubble(page: Page, sender: str, text: str) -> Any:
    return page.locator(f'[data-role="conversation"] li[data-sender="{sender}"]', has_text=text)


@contextmanager
def shopper_and_agent(browser: Browser) -> Iterator[tuple[BrowserSession, BrowserSession]]:
    """A shopper's phone (Japanese, narrow) and an agent's browser, each waiting up to 20 s."""
    shopper = open_browser(browser, width=420, height=900, locale="ja-JP")
    agent = open_browser(browser)
    shopper.context.set_default_timeout(20_000)
    agent.context.set_default_timeout(20_000)
    try:
        yield shopper, agent
    finally:
        shopper.context.close()
        agent.context.close()


def befriend(line: Page, line_platform: str) -> None:
    """A new LINE user opens the chat and adds the shop as a friend: the app greets them."""
    line.goto(f"{line_platform}/{new_user_id()}")
    line.locator('[data-role="follow"]').click()
    expect(bubble(line, "bot", "友だち追加いただきありがとうございます")).to_be_visible()


@pytest.mark.slow
def test_a_shopper_on_line_gets_a_card_then_a_person_answers_from_the_console(
    browser: Browser, live_app: LiveApp, line_platform: str
) -> None:
    with shopper_and_agent(browser) as (shopper, agent):
        line = shopper.page
        # given: the shopper opens LINE and adds the shop as a friend: the app greets them
        befriend(line, line_platform)

        # when: they ask in Japanese where their order is, with its email
        line.fill('input[name="text"]', QUESTION)
        line.press('input[name="text"]', "Enter")
        expect(bubble(line, "user", QUESTION)).to_be_visible()

        # then: the bot answers with the order's card: its state, items and a tracking button
        card = line.locator('[data-role="flex-card"]', has_text="ご注文 #1002")
        expect(card).to_be_visible()
        expect(card).to_contain_text("配送中")
        expect(card).to_contain_text("Sencha Gift Box Large")
        expect(card.locator("a", has_text="追跡")).to_have_attribute("href", re.compile("123456789012"))
        quick = line.locator('[data-role="quick-reply"]')
        expect(quick).to_have_count(3)
        screenshot(line, "line-chat-order-card-ja")

        # when: they ask for a person with the quick reply
        quick.filter(has_text="担当者と話す").click()
        expect(bubble(line, "user", "担当者と話す")).to_be_visible()
        expect(bubble(line, "bot", "担当者")).to_have_count(1, timeout=20_000)

        # then: the agent sees the LINE conversation in the console and answers it
        sign_in(agent.page, live_app)
        agent.page.locator(".ticket-row", has_text=QUESTION[:10]).first.click()
        agent.page.fill('[data-role="reply-body"]', AGENT_ANSWER)
        agent.page.click('[data-role="reply-send"]')
        expect(agent.page.locator(".message-agent .message-body")).to_have_text(AGENT_ANSWER)

        # and the answer appears on the shopper's LINE page, pushed by the app
        expect(bubble(line, "bot", AGENT_ANSWER)).to_be_visible()
        screenshot(line, "line-chat-agent-answer-ja")
        assert shopper.errors == [] and agent.errors == []


@pytest.mark.slow
def test_a_picture_sent_on_line_opens_from_the_console_and_goes_when_the_shopper_unsends_it(
    browser: Browser, live_app: LiveApp, line_platform: str
) -> None:
    with shopper_and_agent(browser) as (shopper, agent):
        line = shopper.page
        # given: a friend of the shop sends a picture of what arrived
        befriend(line, line_platform)
        line.locator('[data-role="image"]').click()
        expect(bubble(line, "user", "（画像）")).to_be_visible()

        # then: the agent sees it handed to them, and opens the picture from the conversation
        sign_in(agent.page, live_app)
        agent.page.click('[data-lang="ja"]')
        agent.page.locator(".ticket-row", has_text="画像").first.click()
        picture = agent.page.locator('.message-customer [data-field="attachments"] a')
        expect(picture).to_have_text("画像を開く")
        href = picture.get_attribute("href")
        assert href is not None and href.startswith("/line/content/")
        opened = agent.page.request.get(live_app.base_url + href)
        assert opened.status == 200 and opened.headers["content-type"] == "image/png"
        screenshot(agent.page, "console-line-picture-ja")

        # when: the shopper unsends it on LINE
        line.locator('li[data-sender="user"] [data-role="unsend"]').click()
        expect(line.locator(".bubble.unsent")).to_have_text("メッセージの送信を取り消しました")

        # then: the console shows it was unsent, live, and the picture no longer opens
        expect(agent.page.locator(".message-customer .message-body").first).to_have_text(
            "（お客様がLINEで送信を取り消したメッセージです）"
        )
        expect(picture).to_have_count(0)
        assert agent.page.request.get(live_app.base_url + href).status == 404
        screenshot(agent.page, "console-line-unsent-ja")
        assert shopper.errors == [] and agent.errors == []

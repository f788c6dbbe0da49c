# ruff: noqa: F811  (the browser fixtures are imported from tests/browser/conftest.py)
"""A person plays the LINE user in headless Chromium, in Japanese and in English: adds the bot as a friend,
writes, sees the typing indicator while the bot works, the bot's answer with a Flex card and its tracking
button, and taps the quick replies. The bot is a small fake behind the webhook that answers through the
platform's real API over HTTP. Screenshots go to ``tests/browser/artifacts/``."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devline.config import LineConfig
from devline.server import create_line_app
from tests.browser.conftest import browser, playwright, screenshot  # noqa: F401  (fixtures)
from tests.devline.conftest import ACCESS_TOKEN, CHANNEL_ID, SECOND_USER_ID, USER_ID, channel_configs

TRACKING_URL = "https://track.example/123456789012"
WORDS = {
    "ja": {
        "welcome": "友だち追加ありがとうございます",
        "question": "注文 #1002 はどこですか？",
        "answer": "ご注文 #1002 は配送中です。<b>明日</b>お届け予定です。",
        "status": "注文状況",
        "status_answer": "ただいま配送中です。",
        "handoff": "担当者と話す",
        "handoff_answer": "担当者におつなぎします。少々お待ちください。",
        "track": "配送状況を見る",
        "shipping": "配送中",
        "follow": "友だち追加",
        "send": "送信",
        "typing": "入力中…",
    },
    "en": {
        "welcome": "Thanks for adding us as a friend",
        "question": "Where is my order #1002?",
        "answer": "Your order #1002 is on its way. <b>Tomorrow</b> it arrives.",
        "status": "Order status",
        "status_answer": "It is on its way.",
        "handoff": "Talk to a person",
        "handoff_answer": "A person will answer shortly.",
        "track": "Track the parcel",
        "shipping": "On its way",
        "follow": "Add friend",
        "send": "Send",
        "typing": "typing…",
    },
}


def order_card(words: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "flex",
        "altText": words["answer"],
        "contents": {
            "type": "bubble",
            "header": {
                "type": "box",
                "layout": "vertical",
                "contents": [{"type": "text", "text": "#1002", "weight": "bold", "size": "lg"}],
            },
            "body": {
                "type": "box",
                "layout": "vertical",
                "contents": [
                    {"type": "text", "text": words["shipping"]},
                    {"type": "separator"},
                    {
                        "type": "box",
                        "layout": "horizontal",
                        "contents": [
                            {"type": "text", "text": "Sencha ×2"},
                            {"type": "text", "text": "¥6,400"},
                        ],
                    },
                ],
            },
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "action": {"type": "uri", "label": words["track"], "uri": TRACKING_URL},
                    }
                ],
            },
        },
    }


def quick_replies(words: dict[str, str]) -> dict[str, Any]:
    return {
        "items": [
            {
                "type": "action",
                "action": {"type": "message", "label": words["status"], "text": words["status"]},
            },
            {
                "type": "action",
                "action": {
                    "type": "postback",
                    "label": words["handoff"],
                    "data": "handoff",
                    "displayText": words["handoff"],
                },
            },
        ]
    }


@dataclass
class ShopBot:
    """Answers webhooks at once and does its work afterwards, through the platform's API, as a bot should."""

    api_url: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    async def webhook(self, request: Request) -> Response:
        for event in json.loads(await request.body())["events"]:
            task = asyncio.create_task(self.handle(event))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return Response(status_code=200)

    async def handle(self, event: dict[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
        user_id = event["source"]["userId"]
        async with httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=10) as api:
            language = (await api.get(f"/v2/bot/profile/{user_id}")).json().get("language", "en")
            words = WORDS[language]

            async def call(path: str, body: dict[str, Any]) -> None:
                answer = await api.post(path, json=body)
                if answer.status_code >= 300:
                    self.failures.append(f"{path} {answer.status_code} {answer.text}")

            token = event.get("replyToken")
            if event["type"] == "follow":
                await call(
                    "/v2/bot/message/reply",
                    {"replyToken": token, "messages": [{"type": "text", "text": words["welcome"]}]},
                )
            elif event["type"] == "message" and event["message"].get("text") == words["status"]:
                text = {"type": "text", "text": words["status_answer"], "quickReply": quick_replies(words)}
                await call("/v2/bot/message/reply", {"replyToken": token, "messages": [text]})
            elif event["type"] == "message":
                await call("/v2/bot/chat/loading/start", {"chatId": user_id, "loadingSeconds": 20})
                await self.release.wait()
                card = {**order_card(words), "quickReply": quick_replies(words)}
                messages = [{"type": "text", "text": words["answer"]}, card]
                await call("/v2/bot/message/reply", {"replyToken": token, "messages": messages})
            elif event["type"] == "postback" and event["postback"]["data"] == "handoff":
                await call(
                    "/v2/bot/message/push",
                    {"to": user_id, "messages": [{"type": "text", "text": words["handoff_answer"]}]},
                )


@dataclass
class LivePlatform:
    base_url: str
    bot: ShopBot
    loop: asyncio.AbstractEventLoop

    def release_the_bot(self) -> None:
        self.loop.call_soon_threadsafe(self.bot.release.set)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_platform() -> Iterator[LivePlatform]:
    sock = _free_socket()
    port = sock.getsockname()[1]
    bot = ShopBot(api_url=f"http://127.0.0.1:{port}")
    bot_app = Starlette(routes=[Route("/webhook", bot.webhook, methods=["POST"])])
    outgoing = httpx.AsyncClient(transport=httpx.ASGITransport(app=bot_app))
    config = LineConfig(port=port, channels=channel_configs("http://bot.test/webhook"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="devline-browser-test", daemon=True)
    thread.start()
    server = uvicorn.Server(
        uvicorn.Config(
            create_line_app(config, http=outgoing),
            log_level="warning",
            ws="none",
            http="h11",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), loop)
    try:
        while not server.started:
            assert not serving.done(), serving.exception()
            threading.Event().wait(0.05)
        yield LivePlatform(base_url=config.base_url, bot=bot, loop=loop)
    finally:
        server.should_exit = True
        serving.result(timeout=15)
        asyncio.run_coroutine_threadsafe(outgoing.aclose(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        sock.close()
    assert bot.failures == []


def bubble(page: Page, sender: str, text: str) -> Any:
    return page.locator(f'[data-role="conversation"] li[data-sender="{sender}"]', has_text=text)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "locale", "user_id"), [("ja", "ja-JP", USER_ID), ("en", "en-US", SECOND_USER_ID)]
)
def test_a_person_chats_with_the_bot_on_the_line_page(
    browser: Browser, live_platform: LivePlatform, language: str, locale: str, user_id: str
) -> None:
    words = WORDS[language]
    context = browser.new_context(viewport={"width": 420, "height": 900}, locale=locale)
    context.set_default_timeout(8_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        # given: the chat page in the browser's language
        page.goto(f"{live_platform.base_url}/chat/{CHANNEL_ID}/{user_id}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        follow = page.locator('[data-role="follow"]')
        expect(follow).to_have_text(words["follow"])

        # when: the person adds the bot as a friend, the bot welcomes them
        follow.click()
        expect(bubble(page, "bot", words["welcome"])).to_be_visible()
        expect(page.locator('[data-role="send-form"] button[type="submit"]')).to_have_text(words["send"])
        expect(follow).to_be_hidden()
        expect(page.locator('[data-role="empty"]')).to_be_hidden()

        # when: they ask about their order, the bot shows it is typing while it works
        page.fill('input[name="text"]', words["question"])
        page.press('input[name="text"]', "Enter")
        expect(bubble(page, "user", words["question"])).to_be_visible()
        typing = page.locator('[data-role="typing"]')
        expect(typing).to_be_visible()
        expect(typing).to_contain_text(words["typing"])
        live_platform.release_the_bot()

        # then: the answer (its markup shown as text) and the order card with its tracking button
        expect(bubble(page, "bot", words["answer"])).to_be_visible()
        assert page.locator('[data-role="conversation"] b').count() == 0
        card = page.locator('[data-role="flex-card"]')
        expect(card).to_be_visible()
        expect(card.locator(".flex-header")).to_have_text("#1002")
        expect(card.locator(".flex-body")).to_contain_text(words["shipping"])
        track = card.locator(f'a[href="{TRACKING_URL}"]')
        expect(track).to_have_text(words["track"])
        expect(typing).to_be_hidden()
        quick = page.locator('[data-role="quick-reply"]')
        expect(quick).to_have_count(2)
        screenshot(page, f"devline-chat-{language}")

        # when: they tap the message quick reply, it is sent as their message and answered
        quick.filter(has_text=words["status"]).click()
        expect(bubble(page, "user", words["status"])).to_be_visible()
        expect(bubble(page, "bot", words["status_answer"])).to_be_visible()

        # when: they tap the postback quick reply, its display text shows and a pushed answer arrives
        page.locator('[data-role="quick-reply"]', has_text=words["handoff"]).click()
        expect(bubble(page, "user", words["handoff"])).to_be_visible()
        expect(bubble(page, "bot", words["handoff_answer"])).to_be_visible()
        expect(page.locator('[data-role="quick-reply"]')).to_have_count(0)
        screenshot(page, f"devline-chat-{language}-handoff")
        assert errors == []
    finally:
        context.close()

"""The simulated LINE platform built in-process with a fake clock, two channels, and a fake bot that records
the webhooks it is sent and answers them with the statuses it is told."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devline.config import ChannelConfig, LineConfig
from devline.server import create_line_app
from devline.state import LineState

# LINE's published bodies and signature vector, kept beside the project as the Shopify reference is
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "platform-reference" / "line"
CHANNEL_ID = "2000000001"
CHANNEL_SECRET = "0123456789abcdef0123456789abcdef"
ACCESS_TOKEN = "hinode-line-access-token-0123456789"
BOT_USER_ID = "U" + "b" * 32
OTHER_CHANNEL_ID = "2000000002"
OTHER_SECRET = "fedcba9876543210fedcba9876543210"
OTHER_TOKEN = "northwind-line-access-token-987654"
OTHER_BOT_USER_ID = "U" + "c" * 32
WEBHOOK_URL = "http://bot.test/webhook"
USER_ID = "U" + "1" * 32
SECOND_USER_ID = "U" + "2" * 32
START = 1_795_000_000.0  # 2026-11-18


def reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / name).read_text())
    return data


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Received:
    headers: httpx.Headers
    body: bytes

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.body)["events"]
        return events


@dataclass
class FakeBot:
    """Receives webhooks: answers ``statuses`` in turn (then the last one) and keeps what arrived."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)

    async def webhook(self, request: Request) -> Response:
        self.received.append(Received(httpx.Headers(request.headers.raw), await request.body()))
        status = self.statuses[min(len(self.received) - 1, len(self.statuses) - 1)]
        return Response(status_code=status)

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/webhook", self.webhook, methods=["POST"])])

    def events(self) -> list[dict[str, Any]]:
        return [event for received in self.received for event in received.events]


def channel_configs(webhook_url: str = WEBHOOK_URL) -> tuple[ChannelConfig, ...]:
    return (
        ChannelConfig(
            channel_id=CHANNEL_ID,
            channel_secret=CHANNEL_SECRET,
            access_tokens=(ACCESS_TOKEN,),
            bot_user_id=BOT_USER_ID,
            basic_id="@hinode",
            display_name="ひので アパレル",
            webhook_url=webhook_url,
        ),
        ChannelConfig(
            channel_id=OTHER_CHANNEL_ID,
            channel_secret=OTHER_SECRET,
            access_tokens=(OTHER_TOKEN,),
            bot_user_id=OTHER_BOT_USER_ID,
            basic_id="@northwind",
            display_name="Northwind Goods",
            webhook_url=webhook_url,
        ),
    )


class BotNetwork(httpx.AsyncBaseTransport):
    """The network the platform sees: ``bot.test`` is the fake bot; every other host is unreachable."""

    def __init__(self, bot: FakeBot) -> None:
        self._bot = httpx.ASGITransport(app=bot.asgi())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "bot.test":
            raise httpx.ConnectError("unreachable", request=request)
        return await self._bot.handle_async_request(request)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def config() -> LineConfig:
    return LineConfig(channels=channel_configs(), webhook_time_scale=1e-6)  # a day of redeliveries in 0.1 s


@pytest.fixture
async def line_app(config: LineConfig, clock: FakeClock, bot: FakeBot) -> AsyncIterator[Starlette]:
    outgoing = httpx.AsyncClient(transport=BotNetwork(bot))
    try:
        yield create_line_app(config, http=outgoing, clock=clock)
    finally:
        await outgoing.aclose()


@pytest.fixture
def state(line_app: Starlette) -> LineState:
    line: LineState = line_app.state.line
    return line


@pytest.fixture
async def client(line_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=line_app), base_url="http://devline.test"
    ) as http:
        yield http


def bearer(token: str = ACCESS_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def delivering(state: LineState) -> AsyncIterator[None]:
    async with anyio.create_task_group() as group:
        group.start_soon(state.webhooks.run)
        try:
            yield
            await state.webhooks.wait_idle(timeout_seconds=5)
        finally:
            group.cancel_scope.cancel()


async def user_does(
    client: httpx.AsyncClient, *actions: dict[str, Any], channel_id: str = CHANNEL_ID
) -> list[dict[str, Any]]:
    """Users act (``{"userId": …, "type": …}``); the webhook events made, queued together."""
    answer = await client.post(f"/_devline/channels/{channel_id}/events", json={"events": list(actions)})
    assert answer.status_code == 202, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


async def friend(client: httpx.AsyncClient, user_id: str = USER_ID, channel_id: str = CHANNEL_ID) -> None:
    await user_does(client, {"userId": user_id, "type": "follow"}, channel_id=channel_id)


async def delivered_reply_token(
    client: httpx.AsyncClient, state: LineState, text: str = "注文 #1002 はどこ？", user_id: str = USER_ID
) -> str:
    """A friend writes; the event is delivered; its reply token."""
    await friend(client, user_id)
    [event] = await user_does(client, {"userId": user_id, "type": "text", "text": text})
    async with delivering(state):
        pass
    token: str = event["replyToken"]
    return token

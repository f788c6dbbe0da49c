"""The two LINE-connected shops of ``tests/line`` wired to the simulated LINE platform (``devline``) instead
of a fake: the app's Messaging API calls are answered by devline (tokens, reply tokens, pushes recorded in
each user's chat), and devline delivers its signed webhooks to the app, all in process. A shopper acts as
on the chat page (``says``, ``blocks``) and reads what the shop sent them (``bot_texts``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from devline.config import ChannelConfig, LineConfig
from devline.server import create_line_app
from devline.state import LineState
from shop_app.channels.line.connections import connect_line
from shop_app.database import transaction
from shop_app.models import LineConnection, Shop
from tests.conftest import FakeShopify
from tests.factories import seed_shipped_order
from tests.helpdesk.conftest import ALPHA, BETA, Desk
from tests.line.conftest import SECRETS, TOKENS

CHANNEL_IDS = {ALPHA: "1650000000", BETA: "1650000001"}


@dataclass
class DevLineDesk:
    desk: Desk
    line: Starlette
    http: httpx.AsyncClient  # to devline, as the chat page and its control API are reached

    @property
    def state(self) -> LineState:
        state: LineState = self.line.state.line
        return state

    async def act(self, user_id: str, *actions: dict[str, Any], shop: str = ALPHA) -> None:
        """The user acts in LINE; devline delivers the webhook to the app, which handles it."""
        answer = await self.http.post(
            f"/_devline/channels/{CHANNEL_IDS[shop]}/events",
            json={"events": [{"userId": user_id, **action} for action in actions]},
        )
        assert answer.status_code == 202, answer.text
        await self.settle()

    async def says(self, user_id: str, text: str, *, shop: str = ALPHA) -> None:
        """Befriends the shop's account (once) and writes ``text``."""
        channel = self.state.channels[CHANNEL_IDS[shop]]
        befriend = (
            [] if user_id in channel.users and channel.users[user_id].following else [{"type": "follow"}]
        )
        await self.act(user_id, *befriend, {"type": "text", "text": text}, shop=shop)

    async def blocks(self, user_id: str, *, shop: str = ALPHA) -> None:
        await self.act(user_id, {"type": "unfollow"}, shop=shop)

    async def settle(self) -> None:
        """Devline's webhooks delivered, then the app's jobs (replies, pushes) done."""
        async with anyio.create_task_group() as group:
            group.start_soon(self.state.webhooks.run)
            await self.state.webhooks.wait_idle(timeout_seconds=10)
            group.cancel_scope.cancel()
        await self.desk.state["jobs"].drain()

    async def bot_messages(self, user_id: str, *, shop: str = ALPHA) -> list[dict[str, Any]]:
        """The LINE messages the shop's account sent the user, as their chat shows them."""
        answer = await self.http.get(f"/_devline/channels/{CHANNEL_IDS[shop]}/users/{user_id}/messages")
        assert answer.status_code == 200, answer.text
        return [entry["message"] for entry in answer.json()["entries"] if entry["sender"] == "bot"]

    async def bot_texts(self, user_id: str, *, shop: str = ALPHA) -> list[str]:
        return [
            message["text"]
            for message in await self.bot_messages(user_id, shop=shop)
            if message.get("type") == "text"
        ]

    async def seed_order(self, shop: str = ALPHA) -> None:
        await seed_shipped_order(self.desk.services.sessions, shop_id=self.desk.shop_ids[shop])


@pytest.fixture
async def devline_desk(desk: Desk, shopify: FakeShopify) -> AsyncIterator[DevLineDesk]:
    async def to_app(request: httpx.Request) -> httpx.Response:
        # devline's webhook, delivered to the running app
        return await desk.client.request(
            request.method, request.url.path, content=await request.aread(), headers=request.headers
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(to_app)) as outgoing:
        line = create_line_app(LineConfig(channels=(), webhook_time_scale=1e-6), http=outgoing)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=line), base_url="http://devline.test"
        ) as http:

            async def to_line(request: httpx.Request) -> httpx.Response:
                # the app's Messaging API calls, answered by devline
                answer = await http.request(
                    request.method,
                    request.url.path,
                    params=request.url.params,
                    content=request.content,
                    headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
                )
                await answer.aread()
                return answer

            shopify.handler = to_line
            state: LineState = line.state.line
            async with transaction(desk.services.sessions) as session:
                for domain in (ALPHA, BETA):
                    shop = await session.get_one(Shop, desk.shop_ids[domain])
                    shop.name = "アルファ" if domain == ALPHA else "Beta"
                    shop.primary_locale = "ja" if domain == ALPHA else "en"
                    shop.country_code = "JP"
                    shop.iana_timezone = "Asia/Tokyo"
                    state.add_channel(
                        ChannelConfig(
                            channel_id=CHANNEL_IDS[domain],
                            channel_secret=SECRETS[domain],
                            access_tokens=(TOKENS[domain],),
                            bot_user_id="U" + ("a" if domain == ALPHA else "b") * 32,
                            basic_id=f"@{domain.split('.')[0]}",
                            display_name=shop.name,
                        )
                    )
                    connection: LineConnection = await connect_line(
                        session,
                        shop=shop,
                        cipher=desk.services.cipher,
                        channel_id=CHANNEL_IDS[domain],
                        channel_secret=SECRETS[domain],
                        access_token=TOKENS[domain],
                    )
                    channel = state.channels[CHANNEL_IDS[domain]]
                    app_url = str(desk.client.base_url).rstrip("/")
                    channel.webhook_url = f"{app_url}/line/webhook/{connection.webhook_key}"
            yield DevLineDesk(desk=desk, line=line, http=http)

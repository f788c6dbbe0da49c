"""Two shops connected to LINE, and a fake LINE platform built from LINE's documented answers: the app's
outgoing calls reach it through the test transport (no network)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from integrations.line.signatures import sign
from shop_app.channels.line.connections import connect_line
from shop_app.database import transaction
from shop_app.models import LineConnection, Shop
from shop_app.settings import Settings
from tests.conftest import FakeShopify
from tests.factories import seed_shipped_order
from tests.helpdesk.conftest import ALPHA, BETA, Desk
from tests.helpdesk.conftest import desk as desk

LINE_API = "https://api.line.test"
LINE_DATA_API = "https://api-data.line.test"
LINE_ACCESS = "https://access.line.test"
SECRETS = {ALPHA: "alpha-channel-secret-0123456789ab", BETA: "beta-channel-secret-0123456789abc"}
TOKENS = {ALPHA: "alpha-access-token-SECRET", BETA: "beta-access-token-SECRET"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(
        settings, line_api_url=LINE_API, line_data_api_url=LINE_DATA_API, line_access_url=LINE_ACCESS
    )


@dataclass
class FakeLine:
    """LINE's Messaging API as documented: bearer tokens checked, reply tokens single-use, LINE's error
    shapes. ``fail_next`` queues answers to give before the normal one (a 429, a 500)."""

    tokens: set[str] = field(default_factory=lambda: set(TOKENS.values()))
    reply_tokens: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict[str, Any], httpx.Headers]] = field(default_factory=list)
    fail_next: list[httpx.Response] = field(default_factory=list)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    link_tokens: dict[str, str] = field(default_factory=dict)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if not url.startswith((LINE_API, LINE_DATA_API)):
            return httpx.Response(404, json={"errors": "Not Found"})
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        self.calls.append((path, body, request.headers))
        rid = {"x-line-request-id": f"req-{len(self.calls)}"}
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return httpx.Response(401, json={"message": "Authentication failed."}, headers=rid)
        if self.fail_next:
            return self.fail_next.pop(0)
        if path == "/v2/bot/info":
            return httpx.Response(200, json={"userId": "Ubot", "basicId": "@shop", "displayName": "Shop Bot"})
        if path == "/v2/bot/message/reply":
            token = body.get("replyToken")
            if token not in self.reply_tokens:
                return httpx.Response(400, json={"message": "Invalid reply token"}, headers=rid)
            self.reply_tokens.discard(token)
            return httpx.Response(200, json={"sentMessages": [{"id": "1"}]}, headers=rid)
        if path == "/v2/bot/message/push":
            return httpx.Response(200, json={"sentMessages": [{"id": "2"}]}, headers=rid)
        if path == "/v2/bot/chat/loading/start":
            return httpx.Response(202, json={}, headers=rid)
        if path.startswith("/v2/bot/profile/"):
            user_id = path.rsplit("/", 1)[-1]
            profile = self.profiles.get(user_id, {"displayName": f"LINE {user_id[-4:]}", "language": "ja"})
            return httpx.Response(200, json={"userId": user_id, **profile}, headers=rid)
        if path.endswith("/linkToken"):
            token = secrets.token_urlsafe(24)
            self.link_tokens[token] = path.split("/")[4]
            return httpx.Response(200, json={"linkToken": token}, headers=rid)
        if path.endswith("/content"):
            return httpx.Response(200, content=b"\x89PNG fake", headers={"content-type": "image/png", **rid})
        return httpx.Response(404, json={"message": "Not found"}, headers=rid)

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [body for path, body, _ in self.calls if path == f"/v2/bot/message/{kind}"]

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.calls]


@dataclass
class LineDesk:
    desk: Desk
    line: FakeLine
    keys: dict[str, str]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.desk.client

    def event(
        self, user_id: str, *, kind: str = "message", text: str | None = "こんにちは", **extra: Any
    ) -> dict[str, Any]:
        reply_token = secrets.token_hex(16)
        self.line.reply_tokens.add(reply_token)
        event: dict[str, Any] = {
            "type": kind,
            "mode": "active",
            "timestamp": int(datetime.now(UTC).timestamp() * 1000),
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": "01" + secrets.token_hex(12).upper(),
            "deliveryContext": {"isRedelivery": False},
            "replyToken": reply_token,
        }
        if kind == "message":
            event["message"] = {
                "id": str(secrets.randbelow(10**15)),
                "type": "text",
                "text": text,
                "quoteToken": "q",
            }
        if kind == "unfollow":
            del event["replyToken"]
        event.update(extra)
        return event

    async def post(
        self,
        events: list[dict[str, Any]],
        *,
        shop: str = ALPHA,
        secret: str | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        body = json.dumps({"destination": "U" + "0" * 32, "events": events}).encode()
        signature = sign(body, channel_secret=secret or SECRETS[shop])
        return await self.client.post(
            f"/line/webhook/{key or self.keys[shop]}",
            content=body,
            headers={"x-line-signature": signature, "content-type": "application/json"},
        )

    async def settle(self) -> None:
        await self.desk.state["jobs"].drain()

    async def count(self, table: type[Any]) -> int:
        async with self.desk.services.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(table))).scalar_one())

    async def seed_order(self, shop: str = ALPHA) -> None:
        await seed_shipped_order(self.desk.services.sessions, shop_id=self.desk.shop_ids[shop])


@pytest.fixture
async def line_desk(desk: Desk, shopify: FakeShopify) -> LineDesk:
    line = FakeLine()
    shopify.handler = line
    keys: dict[str, str] = {}
    async with transaction(desk.services.sessions) as session:
        for domain in (ALPHA, BETA):
            shop = await session.get_one(Shop, desk.shop_ids[domain])
            shop.name = "アルファ" if domain == ALPHA else "Beta"
            shop.primary_locale = "ja" if domain == ALPHA else "en"
            shop.country_code = "JP"
            shop.iana_timezone = "Asia/Tokyo"
            connection: LineConnection = await connect_line(
                session,
                shop=shop,
                cipher=desk.services.cipher,
                channel_id="1650000000" if domain == ALPHA else "1650000001",
                channel_secret=SECRETS[domain],
                access_token=TOKENS[domain],
            )
            keys[domain] = connection.webhook_key
    return LineDesk(desk=desk, line=line, keys=keys)

"""Two shops, each connected to its own simulated Zendesk account (devzendesk, in-process): the app's calls
to Zendesk reach the account through the test transport, and the account's webhooks reach the app's
in-process client. Nothing leaves the process."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from devzendesk.config import ZendeskConfig
from devzendesk.server import create_zendesk_app
from devzendesk.state import ZendeskState
from devzendesk.webhooks import deliver_pending
from shop_app.database import transaction
from shop_app.dev.zendesk import connect_account
from shop_app.models import Shop
from shop_app.settings import Secret, Settings
from tests.conftest import FakeShopify
from tests.factories import seed_shipped_order
from tests.helpdesk.conftest import ALPHA, BETA, Desk

SUBDOMAINS = {ALPHA: "alpha", BETA: "beta"}
ZAF_SDK = "https://zendesk.sdk.test/zaf_sdk.min.js"


def base_url(shop: str) -> str:
    return f"https://{SUBDOMAINS[shop]}.zendesk.test"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # the card token is an HS256 JWT keyed with the session secret: at least 32 bytes, as in production
    return replace(settings, zendesk_zaf_sdk_url=ZAF_SDK, session_secret=Secret("zendesk-tests-" + "s" * 32))


@dataclass
class ZendeskDesk:
    desk: Desk
    apps: dict[str, Starlette]
    accounts: dict[str, ZendeskState]
    http: dict[str, httpx.AsyncClient]
    handoff_groups: dict[str, int]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.desk.client

    async def settle(self) -> None:
        """Until quiet: the app's jobs run, and the webhooks Zendesk queued meanwhile (our own comments fire
        the public-comment trigger too) are delivered."""
        for _ in range(10):
            await self.desk.state["jobs"].drain()
            if not any(account.pending for account in self.accounts.values()):
                return
            for account in self.accounts.values():
                await deliver_pending(account, self.desk.client)
        raise AssertionError("the app and Zendesk kept calling each other")

    async def customer_writes(
        self, text: str, *, shop: str = ALPHA, email: str = "hanako@example.jp", name: str = "山田 花子"
    ) -> int:
        """A shopper opens a ticket (our trigger fires, the webhook is delivered, the bot's job runs)."""
        answer = await self.http[shop].post(
            "/_devzendesk/tickets",
            json={"requester_email": email, "requester_name": name, "subject": text[:30], "body": text},
        )
        assert answer.status_code == 201, answer.text
        await self.settle()
        return int(answer.json()["id"])

    async def comment(
        self, ticket_id: int, text: str, *, author: str = "requester", shop: str = ALPHA
    ) -> None:
        answer = await self.http[shop].post(
            f"/_devzendesk/tickets/{ticket_id}/comments", json={"body": text, "author": author}
        )
        assert answer.status_code == 201, answer.text
        await self.settle()

    def ticket(self, ticket_id: int, shop: str = ALPHA) -> Any:
        return self.accounts[shop].tickets[ticket_id]

    def bot_comments(self, ticket_id: int, shop: str = ALPHA) -> list[Any]:
        account = self.accounts[shop]
        return [c for c in account.tickets[ticket_id].comments if c.author_id == account.admin.id]

    async def count(self, table: type[Any]) -> int:
        async with self.desk.services.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(table))).scalar_one())

    async def seed_order(self, shop: str = ALPHA) -> None:
        await seed_shipped_order(self.desk.services.sessions, shop_id=self.desk.shop_ids[shop])


async def connect(desk: Desk, shopify: FakeShopify, settings: Settings) -> ZendeskDesk:
    apps: dict[str, Starlette] = {}
    accounts: dict[str, ZendeskState] = {}
    http: dict[str, httpx.AsyncClient] = {}
    groups: dict[str, int] = {}
    async with transaction(desk.services.sessions) as session:
        for domain in (ALPHA, BETA):
            shop = await session.get_one(Shop, desk.shop_ids[domain])
            shop.name = "アルファ" if domain == ALPHA else "Beta"
            shop.primary_locale = "ja" if domain == ALPHA else "en"
            shop.country_code = "JP"
            shop.iana_timezone = "Asia/Tokyo"
            app = create_zendesk_app(
                ZendeskConfig(public_url=base_url(domain), subdomain=SUBDOMAINS[domain]), http=desk.client
            )
            account: ZendeskState = app.state.zendesk
            await connect_account(
                session, settings=settings, cipher=desk.services.cipher, shop=shop, account=account
            )
            apps[domain], accounts[domain], groups[domain] = app, account, account.returns_group
            http[domain] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=base_url(domain)
            )

    async def zendesk_api(request: httpx.Request) -> httpx.Response:
        for domain, client in http.items():
            if str(request.url).startswith(base_url(domain)):
                answer = await client.send(
                    httpx.Request(
                        request.method, request.url, headers=request.headers, content=request.content
                    )
                )
                await answer.aread()
                return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
        return httpx.Response(404, json={"errors": "Not Found"})

    shopify.handler = zendesk_api
    return ZendeskDesk(desk=desk, apps=apps, accounts=accounts, http=http, handoff_groups=groups)


def webhook_body(ticket_id: int, requester_id: int, kind: str = "public_comment") -> bytes:
    return json.dumps({"kind": kind, "ticket_id": str(ticket_id), "requester_id": str(requester_id)}).encode()

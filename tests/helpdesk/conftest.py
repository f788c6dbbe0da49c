"""A running app with two shops, each with an admin, an agent and an API key: the helpdesk API's callers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shop_app.database import transaction
from shop_app.helpdesk.agents import add_membership, create_agent
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.models import Role, Shop
from shop_app.runtime import Services
from shop_app.settings import Settings
from tests.conftest import FakeShopify, running_app
from tests.factories import installed_shop

ALPHA = "alpha.myshopify.com"
BETA = "beta.myshopify.com"
PASSWORD = "correct horse battery"


@dataclass
class Desk:
    client: httpx.AsyncClient
    services: Services
    state: dict[str, Any]
    shop_ids: dict[str, int] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    agent_ids: dict[str, int] = field(default_factory=dict)

    def key(self, shop: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_keys[shop]}"}

    def client_from(self, address: str) -> httpx.AsyncClient:
        """Another browser, connecting from ``address`` to the same running app (own cookie jar)."""
        transport = self.client._transport
        assert isinstance(transport, httpx.ASGITransport)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=transport.app, client=(address, 50_000)),
            base_url=str(self.client.base_url),
        )

    async def sign_in(self, email: str, shop: str = ALPHA, password: str = PASSWORD) -> dict[str, str]:
        """Signs in on the shared client (cookie jar); returns the CSRF header writes need."""
        answer = await self.client.post(
            "/api/v1/session", json={"shop": shop, "email": email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return {"X-CSRF-Token": answer.json()["csrf_token"]}

    async def open_ticket(self, shop: str = ALPHA, **fields: Any) -> dict[str, Any]:
        body = {"contact": {"name": "Hanako", "email": "hanako@example.com"}, "message": "Where is my order?"}
        body.update(fields)
        answer = await self.client.post("/api/v1/tickets", json=body, headers=self.key(shop))
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


@pytest.fixture
async def desk(settings: Settings, shopify: FakeShopify) -> AsyncIterator[Desk]:
    async with shopify.client() as http, running_app(settings, http) as (client, state):
        services: Services = state["services"]
        found = Desk(client=client, services=services, state=state)
        for domain in (ALPHA, BETA):
            shop = await installed_shop(services.sessions, services.cipher, domain)
            assert shop.id is not None
            found.shop_ids[domain] = shop.id
            async with transaction(services.sessions) as session:
                _row, key = await create_api_key(session, shop=shop, name="bot")
                found.api_keys[domain] = key
        async with transaction(services.sessions) as session:
            shops = {d: await session.get_one(Shop, i) for d, i in found.shop_ids.items()}
            for email, name, shop, role in (
                ("admin@alpha.test", "Aiko Admin", ALPHA, Role.ADMIN),
                ("agent@alpha.test", "Akira Agent", ALPHA, Role.AGENT),
                ("agent@beta.test", "Ben Beta", BETA, Role.AGENT),
            ):
                agent = await create_agent(session, email=email, name=name, password=PASSWORD)
                await add_membership(session, shop=shops[shop], agent=agent, role=role)
                assert agent.id is not None
                found.agent_ids[email] = agent.id
        yield found

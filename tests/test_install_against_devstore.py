"""The app installed into the simulated store end to end, in one process with no sockets: a browser walks
the authorization code grant, the app registers its webhooks over Admin GraphQL, refreshes its expiring
token, and processes what the store sends (uninstall, compliance requests), each side verifying the
other's signatures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from devstore.config import StoreConfig
from devstore.server import create_store_app
from integrations.shopify.errors import ShopifyUnauthorized
from shop_app.main import create_app
from shop_app.mirror.webhooks.subscriptions import register_webhook_subscriptions
from shop_app.models import ComplianceAudit, CustomerDataExport, Shop, ShopStatus
from shop_app.runtime import Services, admin_client
from shop_app.settings import Settings
from shop_app.shops.access_tokens import AccessTokens
from shop_app.shops.installation import get_shop
from tests.conftest import TEST_API_KEY, TEST_API_SECRET, with_lifespan_state

APP_HOST = "app.test"
APP_URL = f"https://{APP_HOST}"
STORE_HOST = "store.test"
SHOP = "hinode-apparel.myshopify.com"
OTHER_SHOP = "northwind-goods.myshopify.com"


class HostRouter(httpx.AsyncBaseTransport):
    """Sends each request to the in-process ASGI app serving its host, as DNS and TCP would."""

    def __init__(self) -> None:
        self.hosts: dict[str, httpx.ASGITransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.hosts[request.url.host].handle_async_request(request)


@dataclass
class World:
    browser: httpx.AsyncClient
    services: Services
    jobs: Any
    store: Any

    async def until(self, check: Callable[[], Awaitable[bool]], *, seconds: float = 10.0) -> None:
        for _ in range(int(seconds / 0.02)):
            await self.jobs.drain()
            if await check():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the condition never held")

    async def shop(self, domain: str) -> Shop | None:
        async with self.services.sessions() as session:
            return await get_shop(session, domain)


@asynccontextmanager
async def world(settings: Settings, data_dir: Path) -> AsyncIterator[World]:
    router = HostRouter()
    store_config = StoreConfig(
        data_dir=data_dir,
        public_url=f"http://{STORE_HOST}",
        apps={TEST_API_KEY: TEST_API_SECRET},
        compliance_urls={TEST_API_KEY: f"{APP_URL}/webhooks/compliance"},
        app_urls={TEST_API_KEY: f"{APP_URL}/app"},
        auto_approve=True,
        orders=30,
        customers=10,
        products=5,
        webhook_time_scale=0.0001,
    )
    app_settings = replace(
        settings,
        app_url=f"{APP_URL}",
        shop_url_template=f"http://{STORE_HOST}/s/{{shop}}",
        register_webhooks=True,
    )
    async with (
        httpx.AsyncClient(transport=router) as store_http,
        httpx.AsyncClient(transport=router) as app_http,
        httpx.AsyncClient(transport=router, follow_redirects=True) as browser,
    ):
        store_app = create_store_app(store_config, http=store_http)
        app = create_app(app_settings, http=app_http)
        async with store_app.router.lifespan_context(store_app), app.router.lifespan_context(app) as state:
            assert state is not None
            router.hosts[STORE_HOST] = httpx.ASGITransport(app=store_app)
            router.hosts[APP_HOST] = httpx.ASGITransport(app=with_lifespan_state(app, dict(state)))
            # A Shopify Plus store's restore rate keeps the first sync short; throttling tests set their own.
            limits = await browser.post(f"http://{STORE_HOST}/_devstore/throttle", json={"restoreRate": 1000})
            assert limits.status_code == 200
            yield World(
                browser=browser, services=state["services"], jobs=state["jobs"], store=store_app.state
            )


@pytest.fixture
async def installed(settings: Settings, tmp_path: Path) -> AsyncIterator[World]:
    async with world(settings, tmp_path / "store") as running:
        for domain in (SHOP, OTHER_SHOP):
            page = await running.browser.get(f"{APP_URL}/auth/install", params={"shop": domain})
            assert page.status_code == 200
            assert page.url.path == "/app"
        await running.jobs.drain()
        yield running


def _subscriptions(world: World, shop: str) -> set[tuple[str, str]]:
    return {
        (doc["topic"], doc["uri"]) for doc in world.store.store.records.iter_type(shop, "WebhookSubscription")
    }


async def test_install_registers_the_toml_topics_once(installed: World) -> None:
    expected = {
        (topic.replace("/", "_").upper(), f"{APP_URL}{installed.services.app_config.uri_for(topic)}")
        for topic in installed.services.app_config.topics
    }
    assert _subscriptions(installed, SHOP) == expected
    shop = await installed.shop(SHOP)
    assert shop is not None
    assert shop.status == ShopStatus.INSTALLED

    created_again = await register_webhook_subscriptions(installed.services, shop=shop)

    assert created_again == []
    assert _subscriptions(installed, SHOP) == expected


async def test_expiring_token_is_refreshed_and_the_old_one_stops_working(installed: World) -> None:
    shop = await installed.shop(SHOP)
    assert shop is not None
    services = installed.services
    old_token = await services.access_tokens.for_shop(shop)
    eager = AccessTokens(
        services.sessions, cipher=services.cipher, oauth=services.oauth, margin_seconds=10_000
    )

    new_token = await eager.for_shop(shop)

    assert new_token != old_token
    assert await services.access_tokens.for_shop(shop) == new_token
    query = "{ shop { name myshopifyDomain } }"
    result = await admin_client(services, shop).execute(query)
    assert result.data["shop"]["myshopifyDomain"] == SHOP

    async def old() -> str:
        return old_token

    stale = replace_token(admin_client(services, shop), old)
    with pytest.raises(ShopifyUnauthorized):
        await stale.execute(query)


def replace_token(client: Any, token: Callable[[], Awaitable[str]]) -> Any:
    client._access_token = token
    return client


async def test_store_uninstall_reaches_the_app_and_keeps_the_other_shop(installed: World) -> None:
    await installed.store.activity.uninstall_app(SHOP, TEST_API_KEY)

    async def uninstalled() -> bool:
        shop = await installed.shop(SHOP)
        return shop is not None and shop.status == ShopStatus.UNINSTALLED

    await installed.until(uninstalled)
    other = await installed.shop(OTHER_SHOP)
    assert other is not None
    assert other.status == ShopStatus.INSTALLED


async def test_store_compliance_requests_are_carried_out(installed: World) -> None:
    shop = await installed.shop(SHOP)
    assert shop is not None

    await installed.store.activity.send_compliance(SHOP, "customers/data_request", client_id=TEST_API_KEY)

    async def exported() -> bool:
        async with installed.services.sessions() as session:
            return bool((await session.execute(select(CustomerDataExport))).scalars().all())

    await installed.until(exported)

    await installed.store.activity.send_compliance(SHOP, "customers/redact", client_id=TEST_API_KEY)

    async def redacted() -> bool:
        async with installed.services.sessions() as session:
            audits = (await session.execute(select(ComplianceAudit.topic))).scalars().all()
        return "customers/redact" in audits

    await installed.until(redacted)
    async with installed.services.sessions() as session:
        exports = (await session.execute(select(CustomerDataExport))).scalars().all()
    assert exports == []  # the redacted customer's export went with them

    await installed.store.activity.send_compliance(SHOP, "shop/redact", client_id=TEST_API_KEY)

    async def erased() -> bool:
        return await installed.shop(SHOP) is None

    await installed.until(erased)
    assert await installed.shop(OTHER_SHOP) is not None

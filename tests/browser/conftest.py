"""The real app under uvicorn on a free port and a fresh database, seeded with one Japanese shop (a customer,
orders, a Yamato shipment without a URL, variants with stock, an agent, an API key), driven by Debian's
headless Chromium through Playwright. Screenshots go to ``tests/browser/artifacts/``."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.encryption import Cipher
from shop_app.helpdesk.agents import add_membership, create_agent
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.main import create_app
from shop_app.models import (
    Customer,
    Fulfillment,
    InventoryLevel,
    Location,
    Order,
    OrderLineItem,
    Product,
    ProductVariant,
    Role,
    Shop,
)
from shop_app.settings import Settings
from tests.factories import installed_shop, webhook_headers

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SHOP = "tokyo-tea.myshopify.com"
OTHER_SHOP = "osaka-sweets.myshopify.com"
AGENT_EMAIL = "aoi@tokyo-tea.test"
AGENT_NAME = "Aoi Sato"
PASSWORD = "green tea every morning"
CUSTOMER_ID = 7_001
NEW_ORDER_ID = 8_002
OLD_ORDER_ID = 8_001
FULFILLMENT_ID = 3_001
VARIANT_ID = 9_001
INVENTORY_ITEM_ID = 9_101
YAMATO_NUMBER = "123456789012"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
STARTUP_TIMEOUT_SECONDS = 15.0

T = TypeVar("T")


@dataclass
class LiveApp:
    """The app serving HTTP on ``base_url``; ``run`` executes a coroutine on the server's event loop."""

    base_url: str
    settings: Settings
    loop: asyncio.AbstractEventLoop
    api_key: str = ""

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=10
        )

    def open_ticket(self, *, name: str, email: str, subject: str, message: str) -> dict[str, Any]:
        with self.api() as client:
            answer = client.post(
                "/api/v1/tickets",
                json={
                    "contact": {"name": name, "email": email},
                    "channel": "web_chat",
                    "subject": subject,
                    "message": message,
                },
            )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def webhook(self, topic: str, payload: dict[str, Any], shop: str = SHOP) -> None:
        body = json.dumps(payload).encode()
        answer = httpx.post(
            f"{self.base_url}/webhooks",
            content=body,
            headers=webhook_headers(topic=topic, shop=shop, body=body),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _seed(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    cipher = Cipher(settings.encryption_keys)
    try:
        shop = await installed_shop(sessions, cipher, SHOP)
        other = await installed_shop(sessions, cipher, OTHER_SHOP)
        async with transaction(sessions) as session:
            shop = await session.get_one(Shop, shop.id)
            shop.name = "Tokyo Tea"
            shop.country_code = "JP"
            shop.currency_code = "JPY"
            shop.iana_timezone = "Asia/Tokyo"
            shop.primary_locale = "ja"
            agent = await create_agent(session, email=AGENT_EMAIL, name=AGENT_NAME, password=PASSWORD)
            await add_membership(session, shop=shop, agent=agent, role=Role.ADMIN)
            _row, key = await create_api_key(session, shop=shop, name="storefront chat")
            assert shop.id is not None and other.id is not None
            await _seed_mirror(session, shop_id=shop.id)
            # the same customer id in another shop: never shown in this shop's console
            session.add(_customer(other.id, first_name="Other", last_name="Shop", email="hanako@example.jp"))
        return key
    finally:
        await engine.dispose()


def _customer(shop_id: int, **fields: Any) -> Customer:
    values: dict[str, Any] = {
        "shop_id": shop_id,
        "shopify_id": CUSTOMER_ID,
        "updated_at": NOW,
        "created_at": NOW - timedelta(days=400),
        **fields,
    }
    return Customer(**values)


async def _seed_mirror(session: AsyncSession, *, shop_id: int) -> None:
    session.add(
        _customer(
            shop_id,
            first_name="Hanako",
            last_name="Yamada",
            email="hanako@example.jp",
            phone="+819012345678",
            tags=["VIP"],
            amount_spent="12800.00",
            currency="JPY",
            orders_count=2,
        )
    )
    product = Product(shop_id=shop_id, shopify_id=6_001, title="Sencha Gift Box", updated_at=NOW)
    session.add(Location(shop_id=shop_id, shopify_id=501, name="Tokyo warehouse"))
    session.add(
        InventoryLevel(
            shop_id=shop_id,
            inventory_item_shopify_id=INVENTORY_ITEM_ID,
            location_shopify_id=501,
            available=3,
            on_hand=5,
            committed=2,
            incoming=0,
            updated_at=NOW,
        )
    )
    address = {
        "name": "山田 花子",
        "zip": "150-0001",
        "province": "東京都",
        "city": "渋谷区",
        "address1": "神宮前1-2-3",
    }
    orders = {
        shopify_id: Order(
            shop_id=shop_id,
            shopify_id=shopify_id,
            name=name,
            customer_shopify_id=CUSTOMER_ID,
            email="hanako@example.jp",
            created_at=created,
            updated_at=created,
            financial_status="PAID",
            fulfillment_status="FULFILLED",
            currency="JPY",
            total_price="6400.00",
            subtotal_price="6400.00",
            shipping_address={"country_code": "JP", "country": "Japan", **address},
            custom_attributes=attributes,
        )
        for shopify_id, name, created, attributes in (
            (OLD_ORDER_ID, "#1001", NOW - timedelta(days=60), []),
            (
                NEW_ORDER_ID,
                "#1002",
                NOW - timedelta(days=2),
                [["配送希望日", "2026-11-22"], ["配達時間帯", "14-16"]],
            ),
        )
    }
    session.add(product)
    session.add_all(orders.values())
    await session.flush()  # the children below point at these rows' ids
    assert product.id is not None
    session.add(
        ProductVariant(
            shop_id=shop_id,
            shopify_id=VARIANT_ID,
            product_id=product.id,
            title="Large",
            sku="SEN-L",
            price="3200.00",
            inventory_policy="DENY",
            inventory_item_shopify_id=INVENTORY_ITEM_ID,
            updated_at=NOW,
        )
    )
    for shopify_id, order in orders.items():
        assert order.id is not None
        session.add(
            OrderLineItem(
                shop_id=shop_id,
                shopify_id=shopify_id * 10,
                order_id=order.id,
                title="Sencha Gift Box",
                variant_title="Large",
                sku="SEN-L",
                quantity=2,
                variant_shopify_id=VARIANT_ID,
                product_shopify_id=product.shopify_id,
                unit_price="3200.00",
                currency="JPY",
            )
        )
    shipped = NOW - timedelta(days=1)
    new_order_id = orders[NEW_ORDER_ID].id
    assert new_order_id is not None
    session.add(
        Fulfillment(
            shop_id=shop_id,
            shopify_id=FULFILLMENT_ID,
            order_id=new_order_id,
            status="SUCCESS",
            display_status="IN_TRANSIT",
            created_at=shipped,
            updated_at=shipped,
            in_transit_at=shipped,
            # still ahead by the real clock the live app answers with (a passed estimate is a late order)
            estimated_delivery_at=max(NOW, datetime.now(UTC)) + timedelta(days=1),
            tracking=[{"company": "Yamato Transport", "number": YAMATO_NUMBER, "url": None}],
            events=[
                {
                    "id": 1,
                    "status": "IN_TRANSIT",
                    "happened_at": shipped.isoformat(),
                    "message": "Left the Tokyo depot",
                }
            ],
            line_items=[[NEW_ORDER_ID * 10, 2]],
        )
    )


def fulfillment_update(**changes: Any) -> dict[str, Any]:
    """A ``fulfillments/update`` body for the seeded Yamato shipment, as Shopify's REST webhook sends it."""
    body: dict[str, Any] = {
        "id": FULFILLMENT_ID,
        "order_id": NEW_ORDER_ID,
        "status": "success",
        "created_at": (NOW - timedelta(days=1)).isoformat(),
        "updated_at": datetime.now(UTC).isoformat(),
        "tracking_company": "Yamato Transport",
        "tracking_number": YAMATO_NUMBER,
        "tracking_numbers": [YAMATO_NUMBER],
        "tracking_url": None,
        "tracking_urls": [],
        "shipment_status": "in_transit",
        "location_id": None,
        "line_items": [{"id": NEW_ORDER_ID * 10, "quantity": 2, "variant_id": VARIANT_ID}],
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{FULFILLMENT_ID}",
    }
    body.update(changes)
    return body


@pytest.fixture
def live_app(settings: Settings) -> Iterator[LiveApp]:
    sock = _free_socket()
    port = sock.getsockname()[1]
    settings = replace(settings, app_url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="browser-test-app", daemon=True)
    thread.start()
    app = LiveApp(base_url=settings.app_url, settings=settings, loop=loop)
    server: uvicorn.Server | None = None
    try:
        app.api_key = app.run(_seed(settings))
        config = uvicorn.Config(
            create_app(settings),
            log_level="warning",
            ws="none",
            http="h11",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), loop)
        deadline = loop.time() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            assert not serving.done(), serving.exception()
            assert loop.time() < deadline, "the app did not start"
            threading.Event().wait(0.05)
        yield app
    finally:
        if server is not None:
            server.should_exit = True
            serving.result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        sock.close()


# Module scope, not session: the sync driver holds its event loop as this thread's running loop until it
# stops, and async tests elsewhere in the run need the thread free.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: run ./scripts/test (it installs it with apt-get)"
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield browser
    browser.close()


@dataclass
class BrowserSession:
    context: BrowserContext
    page: Page
    errors: list[str]


def open_browser(
    browser: Browser, *, width: int = 1280, height: int = 860, locale: str = "en-US"
) -> BrowserSession:
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(8_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return BrowserSession(context=context, page=page, errors=errors)


@pytest.fixture
def wide(browser: Browser, live_app: LiveApp) -> Iterator[BrowserSession]:
    session = open_browser(browser)
    yield session
    session.context.close()


@pytest.fixture
def narrow(browser: Browser, live_app: LiveApp) -> Iterator[BrowserSession]:
    session = open_browser(browser, width=400, height=820)
    yield session
    session.context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def sign_in(page: Page, app: LiveApp, *, screenshot_as: str | None = None) -> None:
    page.goto(f"{app.base_url}/console")
    page.wait_for_url("**/console/login")
    page.fill('input[name="shop"]', SHOP)
    page.fill('input[name="email"]', AGENT_EMAIL)
    page.fill('input[name="password"]', PASSWORD)
    if screenshot_as:
        screenshot(page, screenshot_as)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{app.base_url}/console")
    page.wait_for_selector('[data-role="live"][data-state="live"]')

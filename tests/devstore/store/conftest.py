"""The store built in-process on a temporary data dir, a fake clock, and a fake app that records the
webhooks the store sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstore.activity import StoreActivity
from devstore.config import StoreConfig
from devstore.server import close_store_state, create_store_app, generate_missing
from devstore.state import StoreState

CLIENT_ID = "store-test-client-0123456789abcdef"
CLIENT_SECRET = "shpss_store_test_secret_0123456789"
HINODE = "hinode-apparel.myshopify.com"
NORTHWIND = "northwind-goods.myshopify.com"
START = 1_795_000_000.0  # 2026-11-18


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


@dataclass
class FakeApp:
    """Receives webhooks: answers ``statuses`` in turn (then the last one) and keeps what arrived."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)

    async def webhook(self, request: Request) -> Response:
        self.received.append(Received(httpx.Headers(request.headers.raw), await request.body()))
        status = self.statuses[min(len(self.received) - 1, len(self.statuses) - 1)]
        return Response(status_code=status)

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/webhooks", self.webhook, methods=["POST"]),
                Route("/webhooks/compliance", self.webhook, methods=["POST"]),
            ]
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_app() -> FakeApp:
    return FakeApp()


@pytest.fixture
def config(tmp_path: Path) -> StoreConfig:
    return StoreConfig(
        data_dir=tmp_path / "store",
        apps={CLIENT_ID: CLIENT_SECRET},
        compliance_urls={CLIENT_ID: "http://app.test/webhooks/compliance"},
        webhook_time_scale=0.00002,  # 56 s → about 1 ms
        seed=7,
        orders=80,
        customers=25,
        products=8,
    )


@pytest.fixture
async def store_app(config: StoreConfig, clock: FakeClock, fake_app: FakeApp) -> AsyncIterator[Starlette]:
    outgoing = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_app.asgi()))
    app = create_store_app(config, http=outgoing, clock=clock)
    try:
        yield app
    finally:
        await close_store_state(app.state.store, close_http=True)


@pytest.fixture
def state(store_app: Starlette) -> StoreState:
    store: StoreState = store_app.state.store
    return store


@pytest.fixture
def activity(store_app: Starlette) -> StoreActivity:
    changes: StoreActivity = store_app.state.activity
    return changes


@pytest.fixture
def seeded(state: StoreState) -> StoreState:
    generate_missing(state)
    return state


@pytest.fixture
async def client(store_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=store_app), base_url="http://127.0.0.1:8081"
    ) as http:
        yield http


def subscribe(state: StoreState, shop: str, topic_enum: str, uri: str = "http://app.test/webhooks") -> str:
    """A webhook subscription as the GraphQL layer stores it."""
    number = state.records.next_id(shop, "WebhookSubscription")
    gid = f"gid://shopify/WebhookSubscription/{number}"
    state.records.put(
        shop,
        {
            "id": gid,
            "topic": topic_enum,
            "uri": uri,
            "format": "JSON",
            "includeFields": [],
            "filter": None,
            "createdAt": "2026-11-18T00:00:00Z",
            "updatedAt": "2026-11-18T00:00:00Z",
            "apiVersion": {"handle": "2026-07"},
            "_clientId": CLIENT_ID,
        },
    )
    return gid


def install(state: StoreState, shop: str = HINODE) -> Any:
    return state.tokens.issue_tokens(shop=shop, client_id=CLIENT_ID, scope="read_orders")

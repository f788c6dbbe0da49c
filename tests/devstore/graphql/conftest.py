"""A store's GraphQL surface in-process: records on disk, stand-ins for tokens and webhooks, a fake clock."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from devstore.graphql_api import AdminGraphQL
from devstore.records import RecordStore
from tests.devstore.graphql.factories import (
    SHOP_A,
    SHOP_B,
    customer_doc,
    location_doc,
    order_doc,
    product_doc,
    shop_doc,
)

TOKEN_A = "shpat_token_for_app_a"
TOKEN_B = "shpat_token_for_app_b"
EXPIRED_TOKEN = "shpat_expired"
CLIENT_A = "client-a"
CLIENT_B = "client-b"
ORDERS_IN_SHOP_A = 30


@dataclass(frozen=True)
class AccessCheck:
    client_id: str | None
    expired: bool = False


class FakeTokens:
    def __init__(self) -> None:
        self.tokens = {
            (SHOP_A, TOKEN_A): AccessCheck(CLIENT_A),
            (SHOP_A, TOKEN_B): AccessCheck(CLIENT_B),
            (SHOP_B, TOKEN_A): AccessCheck(CLIENT_A),
            (SHOP_A, EXPIRED_TOKEN): AccessCheck(CLIENT_A, expired=True),
        }

    def lookup_access_token(self, shop: str, token: str) -> AccessCheck:
        return self.tokens.get((shop, token), AccessCheck(None))


@dataclass
class FakeWebhooks:
    emitted: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def emit(self, shop: str, topic: str, payload: dict[str, Any]) -> None:
        self.emitted.append((shop, topic, payload))


@dataclass
class FakeConfig:
    data_dir: pathlib.Path


@dataclass
class FakeState:
    config: FakeConfig
    records: RecordStore
    tokens: FakeTokens
    webhooks: FakeWebhooks


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def records(tmp_path: pathlib.Path) -> RecordStore:
    store = RecordStore(tmp_path / "store.db")
    store.put(SHOP_A, shop_doc(SHOP_A, 1))
    store.put_many(SHOP_A, [customer_doc(n) for n in (1, 2, 3)])
    store.put_many(SHOP_A, [order_doc(n, customer=None if n % 6 == 0 else 1 + n % 3) for n in range(1, 31)])
    store.put(SHOP_A, product_doc())
    store.put(SHOP_A, location_doc())
    store.put(SHOP_B, shop_doc(SHOP_B, 2))
    store.put_many(SHOP_B, [order_doc(n) for n in (501, 502)])
    yield store  # type: ignore[misc]
    store.close()


@pytest.fixture
def state(tmp_path: pathlib.Path, records: RecordStore) -> FakeState:
    return FakeState(FakeConfig(tmp_path), records, FakeTokens(), FakeWebhooks())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(state: FakeState, clock: FakeClock) -> AdminGraphQL:
    return AdminGraphQL(state, clock=clock, wall_clock=lambda: datetime(2026, 11, 22, 9, 0, tzinfo=UTC))


@pytest.fixture
async def client(api: AdminGraphQL) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=Starlette(routes=api.routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://store.test") as client:
        yield client
    await api.bulk.wait_idle()


class Graphql:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        shop: str = SHOP_A,
        token: str | None = TOKEN_A,
        version: str = "2026-07",
    ) -> httpx.Response:
        headers = {} if token is None else {"X-Shopify-Access-Token": token}
        body = {"query": query, "variables": variables or {}}
        return await self.client.post(
            f"/s/{shop}/admin/api/{version}/graphql.json", json=body, headers=headers
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


@pytest.fixture
def graphql(client: httpx.AsyncClient) -> Graphql:
    return Graphql(client)

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.errors import GraphQLError, ShopifyUnauthorized, ShopifyUnavailable
from tests.conftest import FakeShopify

QUERY = "query { shop { name } }"
ENDPOINT = "https://alpha.myshopify.com/admin/api/2026-07/graphql.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def ok(
    *, requested: float = 50, available: float = 1950, maximum: float = 2000, restore: float = 100
) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": {"shop": {"name": "Alpha"}},
            "extensions": {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": requested,
                    "throttleStatus": {
                        "maximumAvailable": maximum,
                        "currentlyAvailable": available,
                        "restoreRate": restore,
                    },
                }
            },
        },
    )


def throttled() -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 50,
                    "actualQueryCost": None,
                    "throttleStatus": {
                        "maximumAvailable": 2000,
                        "currentlyAvailable": 10,
                        "restoreRate": 100,
                    },
                }
            },
        },
    )


def answers(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(shopify: FakeShopify, clock: FakeClock) -> AsyncIterator[AdminGraphQLClient]:
    async def token() -> str:
        return "shpat_alpha"

    async with shopify.client() as http:
        yield AdminGraphQLClient(
            http,
            shop_url="https://alpha.myshopify.com",
            api_version="2026-07",
            access_token=token,
            clock=clock,
            sleep=clock.sleep,
            max_attempts=4,
        )


async def test_query_is_posted_with_the_access_token(
    client: AdminGraphQLClient, shopify: FakeShopify
) -> None:
    shopify.handler = answers(ok())
    result = await client.execute(QUERY, {"first": 1})
    [request] = shopify.requests
    assert str(request.url) == ENDPOINT
    assert request.headers["X-Shopify-Access-Token"] == "shpat_alpha"
    assert json.loads(request.content) == {"query": QUERY, "variables": {"first": 1}}
    assert result.data == {"shop": {"name": "Alpha"}}
    assert result.cost is not None and result.cost.restore_rate == 100


@pytest.mark.parametrize(("restore_rate", "expected_wait"), [(100, 0.8), (1000, 0.08), (50, 1.6)])
async def test_client_paces_itself_from_the_throttle_status(
    client: AdminGraphQLClient,
    shopify: FakeShopify,
    clock: FakeClock,
    restore_rate: float,
    expected_wait: float,
) -> None:
    shopify.handler = answers(ok(requested=100, available=20, restore=restore_rate), ok())
    await client.execute(QUERY)
    assert clock.sleeps == []
    await client.execute(QUERY)
    assert clock.sleeps == [pytest.approx(expected_wait)]
    assert len(shopify.requests) == 2


async def test_client_does_not_wait_when_the_bucket_has_room(
    client: AdminGraphQLClient, shopify: FakeShopify, clock: FakeClock
) -> None:
    shopify.handler = answers(ok(requested=100, available=1500), ok())
    await client.execute(QUERY)
    await client.execute(QUERY)
    assert clock.sleeps == []


async def test_throttled_answer_is_retried(
    client: AdminGraphQLClient, shopify: FakeShopify, clock: FakeClock
) -> None:
    shopify.handler = answers(throttled(), ok())
    result = await client.execute(QUERY)
    assert result.data == {"shop": {"name": "Alpha"}}
    assert len(shopify.requests) == 2
    assert client.throttled_count == 1
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(0.4)


async def test_429_is_retried_after_retry_after(
    client: AdminGraphQLClient, shopify: FakeShopify, clock: FakeClock
) -> None:
    shopify.handler = answers(httpx.Response(429, headers={"Retry-After": "2.5"}), ok())
    result = await client.execute(QUERY)
    assert result.data["shop"]["name"] == "Alpha"
    assert len(shopify.requests) == 2
    assert clock.sleeps[0] >= 2.5


async def test_503_is_retried(client: AdminGraphQLClient, shopify: FakeShopify, clock: FakeClock) -> None:
    shopify.handler = answers(httpx.Response(503), ok())
    await client.execute(QUERY)
    assert len(shopify.requests) == 2
    assert len(clock.sleeps) == 1


async def test_transport_error_is_retried(
    client: AdminGraphQLClient, shopify: FakeShopify, clock: FakeClock
) -> None:
    shopify.handler = answers(httpx.ConnectError("reset"), httpx.ReadTimeout("slow"), ok())
    await client.execute(QUERY)
    assert len(shopify.requests) == 3
    assert len(clock.sleeps) == 2


async def test_repeated_failures_give_up_with_shopify_unavailable(
    client: AdminGraphQLClient, shopify: FakeShopify
) -> None:
    shopify.handler = lambda _request: httpx.Response(503)
    with pytest.raises(ShopifyUnavailable):
        await client.execute(QUERY)
    assert len(shopify.requests) == 4


async def test_401_raises_without_retrying(
    client: AdminGraphQLClient, shopify: FakeShopify, clock: FakeClock
) -> None:
    shopify.handler = answers(httpx.Response(401, json={"errors": "Invalid API key or access token"}))
    with pytest.raises(ShopifyUnauthorized):
        await client.execute(QUERY)
    assert len(shopify.requests) == 1
    assert clock.sleeps == []


async def test_graphql_errors_other_than_throttling_raise(
    client: AdminGraphQLClient, shopify: FakeShopify
) -> None:
    body: dict[str, Any] = {
        "errors": [{"message": "Field 'x' doesn't exist", "extensions": {"code": "undefinedField"}}]
    }
    shopify.handler = answers(httpx.Response(200, json=body))
    with pytest.raises(GraphQLError) as caught:
        await client.execute(QUERY)
    assert caught.value.codes == ("undefinedField",)
    assert len(shopify.requests) == 1


REFUSED = httpx.Response(
    401, json={"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
)


class RotatingTokens:
    """A token source the client tells about refusals: each first refusal makes the next token."""

    def __init__(self) -> None:
        self.tokens = ["shpat_first", "shpat_second"]
        self.refusals: list[tuple[str, bool]] = []

    async def current(self) -> str:
        return self.tokens[0]

    async def refused(self, token: str, *, again: bool) -> None:
        self.refusals.append((token, again))
        if not again:
            self.tokens.pop(0)


def refusing_client(http: httpx.AsyncClient, tokens: RotatingTokens, clock: FakeClock) -> AdminGraphQLClient:
    return AdminGraphQLClient(
        http,
        shop_url="https://alpha.myshopify.com",
        api_version="2026-07",
        access_token=tokens.current,
        token_refused=tokens.refused,
        clock=clock,
        sleep=clock.sleep,
        max_attempts=4,
    )


async def test_a_401_is_told_to_the_token_source_and_retried_once_with_the_new_token(
    shopify: FakeShopify, clock: FakeClock
) -> None:
    tokens = RotatingTokens()
    shopify.handler = answers(REFUSED, ok())
    async with shopify.client() as http:
        result = await refusing_client(http, tokens, clock).execute(QUERY)

    assert result.data == {"shop": {"name": "Alpha"}}
    assert tokens.refusals == [("shpat_first", False)]
    sent = [request.headers["X-Shopify-Access-Token"] for request in shopify.requests]
    assert sent == ["shpat_first", "shpat_second"]
    assert clock.sleeps == []


async def test_a_refreshed_token_refused_again_is_told_again_and_raised(
    shopify: FakeShopify, clock: FakeClock
) -> None:
    tokens = RotatingTokens()
    shopify.handler = answers(REFUSED, REFUSED)
    async with shopify.client() as http:
        with pytest.raises(ShopifyUnauthorized) as caught:
            await refusing_client(http, tokens, clock).execute(QUERY)

    assert caught.value.status_code == 401
    assert tokens.refusals == [("shpat_first", False), ("shpat_second", True)]
    assert len(shopify.requests) == 2


async def test_a_403_is_not_a_refused_token(shopify: FakeShopify, clock: FakeClock) -> None:
    tokens = RotatingTokens()
    shopify.handler = answers(httpx.Response(403, json={"errors": "Forbidden"}))
    async with shopify.client() as http:
        with pytest.raises(ShopifyUnauthorized):
            await refusing_client(http, tokens, clock).execute(QUERY)

    assert tokens.refusals == []
    assert len(shopify.requests) == 1

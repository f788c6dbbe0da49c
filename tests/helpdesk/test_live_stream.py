"""``GET /api/v1/events`` served by a real uvicorn: an authenticated client gets its own shop's events as
server-sent events (with a reconnect hint and keep-alive comments); no credentials, 401; the stream ends
cleanly when the client leaves, when its lifetime is up, or when the server stops."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from shop_app.database import transaction
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.live_events import EventKind, LiveEvent
from shop_app.main import create_app
from shop_app.models import Shop
from shop_app.routes import live
from shop_app.runtime import Services
from shop_app.settings import Settings
from tests.conftest import FakeShopify, with_lifespan_state
from tests.factories import installed_shop

ALPHA = "alpha.myshopify.com"
BETA = "beta.myshopify.com"
READ_SECONDS = 5.0

Block = dict[str, list[str]]


@dataclass
class Served:
    url: str
    services: Services
    server: uvicorn.Server
    task: asyncio.Task[None]
    alpha: Shop
    beta: Shop
    alpha_key: str
    beta_key: str

    async def publish(self, shop: Shop, kind: str, data: dict[str, object]) -> None:
        assert shop.id is not None
        await self.services.events.publish(LiveEvent(shop.id, kind, data))

    def subscribers(self, shop: Shop) -> int:
        assert shop.id is not None
        count: int = self.services.events.subscriber_count(shop.id)  # type: ignore[attr-defined]
        return count


async def api_key(services: Services, shop: Shop) -> str:
    async with transaction(services.sessions) as session:
        _, key = await create_api_key(session, shop=shop, name="live test")
    return key


@asynccontextmanager
async def serve(settings: Settings, http: httpx.AsyncClient) -> AsyncIterator[Served]:
    """The app on a free port of 127.0.0.1 (its lifespan run here, so the test shares its services)."""
    app = create_app(settings, http=http)
    async with app.router.lifespan_context(app) as state:
        assert state is not None
        services: Services = state["services"]
        alpha = await installed_shop(services.sessions, services.cipher, ALPHA)
        beta = await installed_shop(services.sessions, services.cipher, BETA)
        config = uvicorn.Config(
            with_lifespan_state(app, dict(state)),
            host="127.0.0.1",
            port=0,
            lifespan="off",
            log_level="warning",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield Served(
                url=f"http://127.0.0.1:{port}",
                services=services,
                server=server,
                task=task,
                alpha=alpha,
                beta=beta,
                alpha_key=await api_key(services, alpha),
                beta_key=await api_key(services, beta),
            )
        finally:
            server.should_exit = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout=10)
            if not task.done():
                server.force_exit = True
                await task


@pytest.fixture
async def served(settings: Settings, shopify: FakeShopify) -> AsyncIterator[Served]:
    async with shopify.client() as http, serve(settings, http) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as http:
        yield http


class EventStream:
    """Reads a response as server-sent event blocks (``field -> values``; comments under ``""``)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def _block(self) -> Block:
        block: Block = {}
        async for line in self.lines:
            if line == "":
                if block:
                    return block
                continue
            name, _, value = line.partition(":")
            block.setdefault(name, []).append(value.removeprefix(" "))
        raise EOFError("the stream ended")

    async def next(self) -> Block:
        return await asyncio.wait_for(self._block(), timeout=READ_SECONDS)

    async def next_event(self) -> Block:
        """The next block that is an event, skipping keep-alive comments."""
        while True:
            block = await self.next()
            if "event" in block:
                return block


@asynccontextmanager
async def events(client: httpx.AsyncClient, served: Served, key: str) -> AsyncIterator[EventStream]:
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    async with client.stream("GET", f"{served.url}/api/v1/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        stream = EventStream(response)
        first = await stream.next()  # sent once the stream is subscribed
        assert first["retry"] == [str(live.RECONNECT_MILLISECONDS)]
        yield stream


async def test_a_published_event_reaches_the_stream_of_its_shop_only(
    served: Served, client: httpx.AsyncClient
) -> None:
    async with (
        events(client, served, served.alpha_key) as alpha,
        events(client, served, served.beta_key) as beta,
    ):
        # when
        await served.publish(
            served.beta, EventKind.STOCK_CHANGED, {"variant_ids": [5], "inventory_item_ids": [6]}
        )
        await served.publish(served.alpha, EventKind.ORDERS_CHANGED, {"customer_ids": [1], "order_ids": [2]})
        await served.publish(served.alpha, EventKind.MESSAGE_CREATED, {"ticket_id": 3, "message_id": 4})

        # then
        first, second = await alpha.next_event(), await alpha.next_event()
        theirs = await beta.next_event()
    assert first["event"] == ["orders.changed"]
    assert json.loads(first["data"][0]) == {"customer_ids": [1], "order_ids": [2]}
    assert second["event"] == ["message.created"]
    assert json.loads(second["data"][0]) == {"ticket_id": 3, "message_id": 4}
    assert theirs["event"] == ["stock.changed"]
    assert json.loads(theirs["data"][0]) == {"variant_ids": [5], "inventory_item_ids": [6]}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer shpk_not-a-real-key"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no credentials", "unknown api key", "not a bearer"],
)
async def test_the_stream_answers_401_without_valid_credentials(
    served: Served, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get(
        f"{served.url}/api/v1/events", headers={"Accept": "text/event-stream", **headers}
    )

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] in {"not_signed_in", "invalid_api_key", "invalid_authorization"}
    assert served.subscribers(served.alpha) == 0


async def test_a_quiet_stream_sends_keep_alive_comments(
    served: Served, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.2)
    async with events(client, served, served.alpha_key) as alpha:
        comment = await alpha.next()
    assert set(comment) == {""}
    assert comment[""][0].startswith("ping")


async def test_a_client_that_leaves_is_unsubscribed(served: Served, client: httpx.AsyncClient) -> None:
    async with events(client, served, served.alpha_key):
        assert served.subscribers(served.alpha) == 1

    for _ in range(250):
        if served.subscribers(served.alpha) == 0:
            break
        await asyncio.sleep(0.02)
    assert served.subscribers(served.alpha) == 0


async def test_the_stream_ends_when_its_lifetime_is_up_so_the_browser_authenticates_again(
    served: Served, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "STREAM_LIFETIME_SECONDS", 0.5)
    async with events(client, served, served.alpha_key) as alpha:
        with pytest.raises(EOFError):
            await alpha.next_event()
    assert served.subscribers(served.alpha) == 0


async def test_the_stream_ends_cleanly_when_the_server_stops(
    served: Served, client: httpx.AsyncClient
) -> None:
    async with events(client, served, served.alpha_key) as alpha:
        # when
        served.server.should_exit = True

        # then: the stream ends by itself, and the server finishes without being forced
        with pytest.raises(EOFError):
            await alpha.next_event()
    await asyncio.wait_for(asyncio.shield(served.task), timeout=10)
    assert not served.server.force_exit

"""Claims on webhook deliveries are short leases renewed while their holder works: after a crash the next
process takes the deliveries over a lease later (no process can tell that another machine's process
died, but a dead one stops renewing), and a live process keeps what it holds however long it works."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace

import httpx
import pytest

from shop_app.database import transaction
from shop_app.mirror.webhooks.inbox import claim_deliveries, unfinished_delivery_ids
from shop_app.models import DeliveryStatus
from shop_app.settings import Settings
from tests.app.conftest import ALPHA, PAYLOADS, RunningApp, TwoShops
from tests.conftest import FakeShopify, running_app
from tests.factories import installed_shop

LEASE_SECONDS = 1.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, webhook_lease_seconds=LEASE_SECONDS)


async def _until(check: Callable[[], Awaitable[bool]], *, seconds: float = 60.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def test_deliveries_a_dead_process_held_are_processed_by_the_next_one(
    settings: Settings, shopify: FakeShopify
) -> None:
    body = (PAYLOADS / "CustomersCreate.json").read_bytes()
    async with shopify.client() as http:
        # given: three deliveries stored and claimed by a process that then died (killed mid-burst: its
        # claims stay `processing`, nobody renews or finishes them)
        async with running_app(settings, http) as (client, state):
            first = RunningApp(client=client, services=state["services"], jobs=state["jobs"])
            shop = await installed_shop(first.services.sessions, first.services.cipher, ALPHA)
            await first.pause_jobs()
            for n in range(3):
                response = await first.webhook("customers/create", ALPHA, body, event_id=f"event-{n}")
                assert response.status_code == 200
            ids = [d.id for d in await first.deliveries(shop) if d.id is not None]
            async with transaction(first.services.sessions) as session:
                held = await claim_deliveries(
                    session, ids, holder="a-process-that-died", lease_seconds=settings.webhook_lease_seconds
                )
            assert len(held) == 3
            assert {d.status for d in await first.deliveries(shop)} == {DeliveryStatus.PROCESSING}

        # when: another process starts (here, or on any other machine)
        async with running_app(settings, http) as (client, state):
            second = RunningApp(client=client, services=state["services"], jobs=state["jobs"])

            async def all_done() -> bool:
                return {d.status for d in await second.deliveries(shop)} == {DeliveryStatus.DONE}

            # then: it takes them over once the dead holder's lease has run out, not 300 s later
            await _until(all_done)
            deliveries = await second.deliveries(shop)
            assert [d.attempts for d in deliveries] == [2, 2, 2]
            assert {d.claimed_by for d in deliveries} == {None}


async def test_a_live_process_keeps_its_claims_however_long_it_works(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    # given: a refund whose processing reads the order back from Shopify, and Shopify answering slowly
    arrived, answer = asyncio.Event(), asyncio.Event()

    async def slow_shopify(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await answer.wait()
        return httpx.Response(200, json={"data": {"nodes": []}})

    shopify.handler = slow_shopify
    refund = (PAYLOADS / "Refund.json").read_bytes()
    assert (await app.webhook("refunds/create", ALPHA, refund)).status_code == 200
    await asyncio.wait_for(arrived.wait(), 30)
    [delivery] = await app.deliveries(shops.alpha)
    assert delivery.status == DeliveryStatus.PROCESSING and delivery.id is not None

    # when: several leases go by while it works, and another process sweeps the inbox
    await asyncio.sleep(3 * LEASE_SECONDS)
    async with transaction(app.services.sessions) as session:
        offered = await unfinished_delivery_ids(session, older_than_seconds=0)
        taken = await claim_deliveries(session, [delivery.id], holder="another-process")

    # then: nothing of what the live process holds is offered or taken
    assert offered == []
    assert taken == []
    answer.set()
    await app.drain()
    [after] = await app.deliveries(shops.alpha)
    assert after.status == DeliveryStatus.DONE
    assert after.attempts == 1
    assert json.loads(shopify.requests[0].content)["query"]

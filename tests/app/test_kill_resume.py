"""A web process killed outright (``kill -9``: no shutdown, no flush) in the middle of a burst of webhooks:
every webhook it answered 200 was durable before the answer, and is applied exactly once after a restart;
Shopify re-sends what was not acknowledged (and, at least once, some it was), each stored once; an older
version of a record that arrives after a newer one never overwrites it."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import make_engine, make_session_factory
from shop_app.encryption import Cipher
from shop_app.models import Customer
from shop_app.settings import Settings
from tests.app.conftest import PAYLOADS
from tests.app.test_graceful_stop import applying
from tests.app.test_graceful_stop import stored as deliveries_stored
from tests.app.test_serving import SHOP, served
from tests.factories import installed_shop, webhook_headers

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CUSTOMERS = 150  # two versions each: 300 deliveries
KILL_AFTER_ACKNOWLEDGED = 80
FIRST_VERSION = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Delivery:
    event_id: str
    topic: str
    customer_id: int
    version: int

    def body(self) -> bytes:
        body = json.loads((PAYLOADS / "CustomersCreate.json").read_bytes())
        body["id"] = self.customer_id
        body["admin_graphql_api_id"] = f"gid://shopify/Customer/{self.customer_id}"
        body["email"] = f"v{self.version}.shopper{self.customer_id}@example.jp"
        body["updated_at"] = (FIRST_VERSION + timedelta(hours=self.version)).isoformat()
        return json.dumps(body).encode()


def burst() -> list[Delivery]:
    """Each customer created (version 1) and updated (version 2), shuffled: some updates come first."""
    deliveries = [
        Delivery(str(uuid.uuid4()), topic, 7_000_000 + n, version)
        for n in range(CUSTOMERS)
        for topic, version in (("customers/create", 1), ("customers/update", 2))
    ]
    random.Random(19).shuffle(deliveries)
    return deliveries


async def send(client: httpx.AsyncClient, delivery: Delivery) -> bool:
    """Whether the app acknowledged the webhook (200); anything else Shopify would send again."""
    body = delivery.body()
    headers = webhook_headers(topic=delivery.topic, shop=SHOP, body=body, event_id=delivery.event_id)
    try:
        answer = await client.post("/webhooks", content=body, headers=headers)
    except httpx.TransportError:
        return False
    return answer.status_code == 200


@dataclass
class Stored:
    per_event: dict[str, int]  # rows per event id
    done: int
    emails: dict[int, str | None]  # the mirror: customer id → email


async def stored(settings: Settings) -> Stored:
    per_event, done, _ = await deliveries_stored(settings)
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            customers = await session.execute(select(col(Customer.shopify_id), col(Customer.email)))
            emails = {int(shopify_id): email for shopify_id, email in customers}
    finally:
        await engine.dispose()
    return Stored(per_event=per_event, done=done, emails=emails)


@pytest.mark.timeout(300)
async def test_kill_9_mid_burst_loses_nothing_acknowledged_and_applies_each_delivery_once(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the killed process's claims run out soon, so the restarted one takes them over within the test
    monkeypatch.setenv("SHOP_APP_WEBHOOK_LEASE_SECONDS", "3")
    engine = make_engine(settings.database_url)
    try:
        await installed_shop(make_session_factory(engine), Cipher(settings.encryption_keys), SHOP)
    finally:
        await engine.dispose()
    deliveries = burst()
    acknowledged: set[str] = set()

    # given: a burst of webhooks; when: the server is killed (SIGKILL) once some have been acknowledged
    with served(settings, tmp_path, level="INFO") as first, applying(settings, tmp_path):
        killed = asyncio.Event()
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=first.url, limits=limits, timeout=30) as client:

            async def one(delivery: Delivery) -> None:
                if killed.is_set():
                    return  # the server is gone: Shopify will send it again later
                if await send(client, delivery) and not killed.is_set():
                    acknowledged.add(delivery.event_id)
                    if len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED:
                        killed.set()
                        os.kill(first.process.pid, signal.SIGKILL)

            await asyncio.gather(*(one(d) for d in deliveries))
        exit_code = await asyncio.to_thread(first.process.wait, 30)
    after_kill = await stored(settings)

    # then Shopify re-sends what was not acknowledged, and a few it had, to the restarted process
    resend = [d for d in deliveries if d.event_id not in acknowledged]
    resend += [d for d in deliveries if d.event_id in acknowledged][:10]
    with served(settings, tmp_path, level="INFO") as second, applying(settings, tmp_path):
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            answers = await asyncio.gather(*(send(client, d) for d in resend))
        deadline = time.monotonic() + 90
        while (state := await stored(settings)).done < len(deliveries) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # another process applies them: polling its database is all we have

    assert killed.is_set() and exit_code == -signal.SIGKILL
    assert KILL_AFTER_ACKNOWLEDGED <= len(acknowledged) < len(deliveries)  # the kill came mid-burst
    assert acknowledged <= set(after_kill.per_event), "an acknowledged webhook was lost"
    assert all(answers)
    every_event = {d.event_id for d in deliveries}
    assert set(state.per_event) == every_event and set(state.per_event.values()) == {
        1
    }  # none lost or doubled
    assert state.done == len(deliveries)  # each applied (a re-claimed one's first try never committed)
    # the newest version of every customer, whichever version arrived last
    assert state.emails == {
        d.customer_id: f"v2.shopper{d.customer_id}@example.jp" for d in deliveries if d.version == 2
    }

"""A web process told to stop (SIGTERM, as systemd and container runtimes do) in the middle of a burst of
webhooks stops accepting, finishes what it accepted and exits within its bound: every webhook it answered
200 is stored, once; Shopify re-sends the rest (and, at least once, some it already had) to the next
process, and each is stored exactly once and applied."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from shop_app.database import make_engine, make_session_factory
from shop_app.encryption import Cipher
from shop_app.models import Customer, DeliveryStatus, WebhookDelivery
from shop_app.settings import Settings
from tests.app.conftest import PAYLOADS
from tests.app.test_serving import SHOP, _environment, served
from tests.conftest import PROJECT_ROOT
from tests.factories import installed_shop, webhook_headers

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BURST = 300
STOP_AFTER_ACKNOWLEDGED = 60
SHUTDOWN_SECONDS = 5  # SHOP_APP_SHUTDOWN_TIMEOUT_SECONDS for the stopped process
EXIT_BOUND_SECONDS = SHUTDOWN_SECONDS + 10


def customer_body(customer_id: int) -> bytes:
    body = json.loads((PAYLOADS / "CustomersCreate.json").read_bytes())
    body["id"] = customer_id
    body["admin_graphql_api_id"] = f"gid://shopify/Customer/{customer_id}"
    body["email"] = f"shopper{customer_id}@example.jp"
    return json.dumps(body).encode()


async def send(client: httpx.AsyncClient, event_id: str, customer_id: int) -> bool:
    """Whether the app acknowledged the webhook (200); anything else Shopify would send again."""
    body = customer_body(customer_id)
    headers = webhook_headers(topic="customers/create", shop=SHOP, body=body, event_id=event_id)
    try:
        answer = await client.post("/webhooks", content=body, headers=headers)
    except httpx.TransportError:
        return False
    return answer.status_code == 200


async def stored(settings: Settings) -> tuple[dict[str, int], int, int]:
    """Deliveries per event id, how many are applied, and the customers mirrored."""
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            rows = await session.execute(
                select(col(WebhookDelivery.event_id), func.count()).group_by(col(WebhookDelivery.event_id))
            )
            per_event = {event_id: int(count) for event_id, count in rows}
            done = (
                await session.execute(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(col(WebhookDelivery.status) == DeliveryStatus.DONE)
                )
            ).scalar_one()
            customers = (await session.execute(select(func.count()).select_from(Customer))).scalar_one()
        return per_event, int(done), int(customers)
    finally:
        await engine.dispose()


def start_worker(settings: Settings, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    with (tmp_path / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "shop_app", "worker", "--concurrency", "4"],
            env=_environment(settings, tmp_path, "INFO"),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )


@contextmanager
def applying(settings: Settings, tmp_path: Path) -> Iterator[None]:
    """On PostgreSQL a `shop-app worker` applies what the web process stored (on SQLite it does it itself)."""
    if settings.is_sqlite:
        yield
        return
    worker = start_worker(settings, tmp_path, "worker")
    try:
        yield
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=30)


async def test_sigterm_mid_burst_loses_nothing_and_doubles_nothing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(settings.database_url)
    try:
        await installed_shop(make_session_factory(engine), Cipher(settings.encryption_keys), SHOP)
    finally:
        await engine.dispose()
    monkeypatch.setenv("SHOP_APP_SHUTDOWN_TIMEOUT_SECONDS", str(SHUTDOWN_SECONDS))
    events = {str(uuid.uuid4()): 5_000_000 + n for n in range(BURST)}
    acknowledged: set[str] = set()

    # given: a burst of webhooks; when: SIGTERM arrives once some have been acknowledged
    with served(settings, tmp_path, level="INFO") as first:
        stopping = asyncio.Event()
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=first.url, limits=limits, timeout=30) as client:

            async def one(event_id: str, customer_id: int) -> None:
                if await send(client, event_id, customer_id):
                    acknowledged.add(event_id)
                    if len(acknowledged) >= STOP_AFTER_ACKNOWLEDGED and not stopping.is_set():
                        stopping.set()
                        os.kill(first.process.pid, signal.SIGTERM)

            told = time.monotonic()
            await asyncio.gather(*(one(e, c) for e, c in events.items()))
        exit_code = await asyncio.to_thread(first.process.wait, EXIT_BOUND_SECONDS)
        exited_after = time.monotonic() - told
    after_stop, _, _ = await stored(settings)

    # then Shopify re-sends what was not acknowledged, and a few it had, to the next process
    resend = [e for e in events if e not in acknowledged] + sorted(acknowledged)[:10]
    with served(settings, tmp_path, level="INFO") as second, applying(settings, tmp_path):
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            answers = await asyncio.gather(*(send(client, e, events[e]) for e in resend))
        deadline = time.monotonic() + 60
        while (state := await stored(settings))[1] < BURST and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # another process applies them: polling its database is all we have
    per_event, done, customers = state

    # uvicorn shuts down gracefully, then re-raises the signal it caught: an exit by SIGTERM, which
    # systemd counts as a clean stop
    assert stopping.is_set() and exit_code in (0, -signal.SIGTERM) and exited_after < EXIT_BOUND_SECONDS
    assert "Application shutdown complete" in first.output()
    assert STOP_AFTER_ACKNOWLEDGED <= len(acknowledged) < BURST  # the stop came mid-burst
    assert acknowledged <= set(after_stop), "an acknowledged webhook was lost"
    assert all(answers)
    assert set(per_event) == set(events) and set(per_event.values()) == {1}  # none lost, none doubled
    assert done == BURST and customers == BURST  # each applied once


async def test_a_worker_told_to_stop_mid_backlog_finishes_or_leaves_its_jobs_and_the_next_applies_the_rest(
    settings: Settings, tmp_path: Path
) -> None:
    if settings.is_sqlite:
        pytest.skip("job workers are PostgreSQL's (on SQLite the web process applies what it stores)")
    engine = make_engine(settings.database_url)
    try:
        await installed_shop(make_session_factory(engine), Cipher(settings.encryption_keys), SHOP)
    finally:
        await engine.dispose()
    events = {str(uuid.uuid4()): 6_000_000 + n for n in range(BURST)}

    # given: a backlog of stored webhooks, every one acknowledged
    with served(settings, tmp_path, level="INFO") as web:
        async with httpx.AsyncClient(base_url=web.url, timeout=30) as client:
            answers = await asyncio.gather(*(send(client, e, c) for e, c in events.items()))
        assert all(answers)

        # when: a worker starts on it and is told to stop (SIGTERM) once it has applied some
        first = start_worker(settings, tmp_path, "first-worker")
        try:
            deadline = time.monotonic() + 120
            while (await stored(settings))[1] < BURST // 10 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # another process applies them: its database is all we see
            first.send_signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(first.wait, EXIT_BOUND_SECONDS)
        finally:
            if first.poll() is None:
                first.kill()
        _, done_at_stop, _ = await stored(settings)

        # then: the next worker applies the rest, each delivery once
        second = start_worker(settings, tmp_path, "second-worker")
        try:
            deadline = time.monotonic() + 120
            while (state := await stored(settings))[1] < BURST and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        finally:
            second.send_signal(signal.SIGINT)
            await asyncio.to_thread(second.wait, EXIT_BOUND_SECONDS)
    per_event, done, customers = state

    assert exit_code in (0, -signal.SIGTERM)
    assert BURST // 10 <= done_at_stop < BURST, "the stop did not come mid-backlog"
    assert set(per_event) == set(events) and set(per_event.values()) == {1}
    assert done == BURST and customers == BURST

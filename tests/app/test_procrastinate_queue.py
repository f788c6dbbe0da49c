"""On PostgreSQL, background work runs on procrastinate: the same tasks, queued in the database and run by
a worker process (here a worker run in the test until the queue is empty)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from shop_app.jobs.procrastinate_queue import ProcrastinateQueue
from shop_app.models import DeliveryStatus, ShopStatus
from shop_app.settings import JobEngine, Settings
from shop_app.shops.installation import get_shop
from tests.conftest import REFERENCE, FakeShopify, running_app
from tests.factories import installed_shop, webhook_headers


@pytest.fixture
def postgres_settings(settings: Settings, migrated_postgres: str | None) -> Settings:
    if migrated_postgres is None:
        pytest.skip("procrastinate runs on PostgreSQL: set TEST_DATABASE_URL (CI does)")
    return replace(settings, job_engine=JobEngine.PROCRASTINATE)


async def test_webhook_is_queued_in_postgres_and_processed_by_a_worker(
    postgres_settings: Settings, shopify: FakeShopify
) -> None:
    body = (REFERENCE / "webhook-payloads" / "AppUninstalled.json").read_bytes()
    async with shopify.client() as http, running_app(postgres_settings, http) as (client, state):
        services, jobs = state["services"], state["jobs"]
        assert isinstance(jobs, ProcrastinateQueue)
        await installed_shop(services.sessions, services.cipher, "alpha.myshopify.com")
        await installed_shop(services.sessions, services.cipher, "beta.myshopify.com")

        response = await client.post(
            "/webhooks",
            content=body,
            headers=webhook_headers(topic="app/uninstalled", shop="alpha.myshopify.com", body=body),
        )
        assert response.status_code == 200
        async with services.sessions() as session:  # durable before the answer
            stored = (await session.execute(text("SELECT status FROM webhook_deliveries"))).scalars().all()
        assert stored == [DeliveryStatus.PENDING]

        # its job is queued after the answer, by the dispatcher
        await state["dispatch"].flush()
        async with services.sessions() as session:
            queued = await session.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'process_webhooks'")
            )
            alpha = await get_shop(session, "alpha.myshopify.com")
        assert queued == 1
        assert alpha is not None
        assert alpha.status == ShopStatus.INSTALLED  # nothing runs until a worker takes the job

        await jobs.drain()

        async with services.sessions() as session:
            alpha = await get_shop(session, "alpha.myshopify.com")
            beta = await get_shop(session, "beta.myshopify.com")
            statuses = (await session.execute(text("SELECT status FROM webhook_deliveries"))).scalars().all()
        assert alpha is not None
        assert alpha.status == ShopStatus.UNINSTALLED
        assert beta is not None
        assert beta.status == ShopStatus.INSTALLED
        assert statuses == [DeliveryStatus.DONE]

"""Concurrent mirror writes lock what they share in one order, so they wait instead of deadlocking.

Found by ``bench/workers.py`` on PostgreSQL: two workers' webhook batches held versions of the same orders
in different orders, each locked one and waited for the other's, PostgreSQL aborted one ("deadlock
detected"), and its deliveries were retried (claimed twice). A batch now writes its records in key order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.webhooks.processing import in_key_order
from shop_app.models import Shop
from tests.sync.test_mirror_writes import SYNCED, T1, T2, order

pytestmark = pytest.mark.anyio
T3 = T2 + timedelta(minutes=5)


@pytest.fixture
async def shop_sessions(database_url: str) -> AsyncIterator[tuple[SessionFactory, int]]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        shop = Shop(domain="locks.myshopify.com")
        session.add(shop)
        await session.flush()
        assert shop.id is not None
        shop_id = shop.id
    yield sessions, shop_id
    await engine.dispose()


def test_a_batch_writes_its_records_in_key_order_and_versions_of_one_record_keep_theirs() -> None:
    given = [order(1003, T1), order(1001, T2), order(1003, T2), order(1002, T1), order(1001, T1)]
    ordered = in_key_order(given)
    assert [(o.shopify_id, o.updated_at) for o in ordered] == [
        (1001, T2), (1001, T1), (1002, T1), (1003, T1), (1003, T2)
    ]  # fmt: skip
    items = [(7, "orders/updated", order(1002)), (8, "orders/create", order(1001))]
    assert [delivery for delivery, _, _ in in_key_order(items, key=lambda item: item[2])] == [8, 7]


async def test_two_batches_sharing_orders_in_opposite_orders_wait_for_each_other_without_deadlock(
    shop_sessions: tuple[SessionFactory, int], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks and deadlock detection are PostgreSQL's (SQLite has one writer)")
    sessions, shop_id = shop_sessions
    async with transaction(sessions) as session:
        await mirror_writes.upsert_orders(
            session, shop_id=shop_id, orders=[order(1001, T1), order(1002, T1)], synced_at=SYNCED
        )

    async def other_batch(started: asyncio.Event) -> None:
        # given 1002 before 1001 (as the webhooks arrived): unordered, it would lock 1002 and then wait
        # for 1001
        async with transaction(sessions) as session:
            started.set()
            arrived = [order(1002, T3), order(1001, T3)]
            await mirror_writes.upsert_orders(
                session, shop_id=shop_id, orders=in_key_order(arrived), synced_at=SYNCED
            )

    async with transaction(sessions) as first:
        await mirror_writes.upsert_orders(
            session=first, shop_id=shop_id, orders=[order(1001, T2)], synced_at=SYNCED
        )
        started = asyncio.Event()
        other = asyncio.create_task(other_batch(started))
        await started.wait()
        await _until_a_session_waits_for_a_lock(sessions)
        # the first batch goes on to the other order: with the other batch holding it, a deadlock
        await mirror_writes.upsert_orders(
            session=first, shop_id=shop_id, orders=[order(1002, T2)], synced_at=SYNCED
        )
    await other

    async with sessions() as session:
        rows = (
            await session.execute(
                text("SELECT shopify_id, updated_at FROM orders WHERE shop_id = :s"), {"s": shop_id}
            )
        ).all()
    assert dict(rows) == {1001: T3, 1002: T3}


async def _until_a_session_waits_for_a_lock(sessions: SessionFactory) -> None:
    """Until another session of this database waits for a row lock (the other batch is blocked)."""
    for _ in range(1000):
        async with sessions() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the other batch never waited for a lock")

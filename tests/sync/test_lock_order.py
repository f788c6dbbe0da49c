"""Concurrent mirror writes lock what they share in one order, so they wait instead of deadlocking.

Found by ``bench/workers.py`` on PostgreSQL: two workers' webhook batches held versions of the same orders
in different orders, each locked one and waited for the other's, PostgreSQL aborted one ("deadlock
detected"), and its deliveries were retried (claimed twice). The writers now write rows in key order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.mirror import writes as mirror_writes
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


async def test_an_upsert_writes_its_rows_in_key_order_whatever_order_it_was_given(
    shop_sessions: tuple[SessionFactory, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, shop_id = shop_sessions
    written: list[list[int]] = []
    execute = AsyncSession.execute

    async def recording(self: AsyncSession, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        if isinstance(params, list) and params and "shopify_id" in params[0] and "number" in params[0]:
            written.append([row["shopify_id"] for row in params])
        return await execute(self, statement, params, **kwargs)

    monkeypatch.setattr(AsyncSession, "execute", recording)
    async with transaction(sessions) as session:
        await mirror_writes.upsert_orders(
            session, shop_id=shop_id, orders=[order(1003), order(1001), order(1002)], synced_at=SYNCED
        )
    assert [shopify_id for statement in written for shopify_id in statement] == [1001, 1002, 1003]


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
        # given 1002 before 1001: unordered, it would lock 1002 and then wait for 1001
        async with transaction(sessions) as session:
            started.set()
            await mirror_writes.upsert_orders(
                session, shop_id=shop_id, orders=[order(1002, T3), order(1001, T3)], synced_at=SYNCED
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

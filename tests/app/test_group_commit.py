"""The webhook inbox's group commit: the answer waits for the one shared durable write and nothing else;
the jobs are queued afterwards by the dispatcher, in chunks; SQLite's writers take turns, the inbox's
INSERTs first."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import SessionFactory, WriteTurns, make_engine, make_session_factory, write_turns
from shop_app.encryption import Cipher
from shop_app.jobs.dispatch import Dispatcher
from shop_app.jobs.tasks import TaskName
from shop_app.mirror.webhooks.inbox import IncomingWebhook
from shop_app.mirror.webhooks.inbox_writer import InboxWriter
from shop_app.models import DeliveryStatus, WebhookDelivery
from shop_app.settings import Settings
from tests.factories import installed_shop

pytestmark = pytest.mark.anyio


class RecordingQueue:
    """A job queue that records what it is given; ``blocked`` holds every call until set."""

    def __init__(self) -> None:
        self.jobs: list[tuple[TaskName, dict[str, Any]]] = []
        self.blocked = asyncio.Event()
        self.blocked.set()
        self.fail_next = False

    async def enqueue(self, task: TaskName, **kwargs: Any) -> None:
        await self.enqueue_many(task, [kwargs])

    async def enqueue_many(self, task: TaskName, jobs: list[dict[str, Any]]) -> None:
        await self.blocked.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the job database is away")
        self.jobs.extend((task, kwargs) for kwargs in jobs)

    async def drain(self) -> None:
        return None


def webhook(n: int) -> IncomingWebhook:
    return IncomingWebhook(
        topic="orders/updated",
        event_id=f"event-{n}",
        webhook_id=f"webhook-{n}",
        api_version="2026-07",
        triggered_at=None,
        body=json.dumps({"id": n}),
    )


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[SessionFactory]:
    engine = make_engine(settings.database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def test_each_request_is_answered_once_its_delivery_is_committed_though_queueing_its_job_hangs(
    sessions: SessionFactory, settings: Settings
) -> None:
    shop = await installed_shop(sessions, Cipher(settings.encryption_keys), "alpha.myshopify.com")
    assert shop.id is not None
    queue = RecordingQueue()
    queue.blocked.clear()  # the job database does not answer
    dispatch = Dispatcher(queue, chunk=2)
    dispatch.start()
    writer = InboxWriter(
        sessions, on_stored=lambda ids: dispatch.add(TaskName.PROCESS_WEBHOOKS, "delivery_ids", ids)
    )
    writer.start()
    try:
        ids = await asyncio.wait_for(
            asyncio.gather(*(writer.submit(shop.id, webhook(n)) for n in range(5))), timeout=30
        )
        again = await asyncio.wait_for(writer.submit(shop.id, webhook(0)), timeout=30)

        # every request had its answer, each delivery is durable, and no job was queued yet
        assert None not in ids and len(set(ids)) == 5 and again is None
        async with sessions() as session:
            stored = (
                await session.execute(
                    select(col(WebhookDelivery.id), col(WebhookDelivery.status)).where(
                        col(WebhookDelivery.shop_id) == shop.id
                    )
                )
            ).all()
        assert sorted(stored) == sorted((i, DeliveryStatus.PENDING) for i in ids)
        assert queue.jobs == []

        # once the job database answers, the jobs follow: the ids in chunks, each once
        queue.blocked.set()
        await dispatch.flush(at_most_seconds=30)
        queued = [i for task, kwargs in queue.jobs for i in kwargs["delivery_ids"]]
        assert {task for task, _ in queue.jobs} == {TaskName.PROCESS_WEBHOOKS}
        assert sorted(queued) == sorted(i for i in ids if i is not None)
        assert all(len(kwargs["delivery_ids"]) <= 2 for _, kwargs in queue.jobs)
    finally:
        await writer.stop()
        queue.blocked.set()
        await dispatch.stop()


async def test_a_failed_queueing_is_logged_and_the_dispatcher_goes_on() -> None:
    queue = RecordingQueue()
    dispatch = Dispatcher(queue, chunk=100)
    dispatch.start()
    try:
        queue.fail_next = True
        dispatch.add(TaskName.PROCESS_LINE_EVENTS, "event_ids", [1, 2])
        await dispatch.flush(at_most_seconds=10)
        dispatch.add(TaskName.PROCESS_LINE_EVENTS, "event_ids", [3])
        await dispatch.flush(at_most_seconds=10)
    finally:
        await dispatch.stop()
    # the first batch's rows are left to the inbox sweep; the next is queued
    assert queue.jobs == [(TaskName.PROCESS_LINE_EVENTS, {"event_ids": [3]})]


async def test_a_stopping_dispatcher_queues_what_it_was_given() -> None:
    queue = RecordingQueue()
    dispatch = Dispatcher(queue, chunk=3)
    dispatch.start()
    dispatch.add(TaskName.PROCESS_WEBHOOKS, "delivery_ids", list(range(7)))
    await dispatch.stop()
    assert [kwargs["delivery_ids"] for _, kwargs in queue.jobs] == [[0, 1, 2], [3, 4, 5], [6]]


async def test_urgent_writers_take_the_next_turn_before_others_already_waiting() -> None:
    turns = WriteTurns()
    order: list[str] = []

    async def write(name: str, *, urgent: bool = False) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            await asyncio.sleep(0)

    async with turns.turn():
        waiting = [
            asyncio.create_task(write("processing 1")),
            asyncio.create_task(write("processing 2")),
        ]
        await asyncio.sleep(0)
        waiting.append(asyncio.create_task(write("inbox", urgent=True)))
        await asyncio.sleep(0)
        order.append("holder")
    await asyncio.gather(*waiting)
    assert order == ["holder", "inbox", "processing 1", "processing 2"]


async def test_a_waiter_cancelled_as_its_turn_comes_passes_the_turn_on() -> None:
    turns = WriteTurns()
    async with turns.turn():
        cancelled = asyncio.create_task(turns.turn().__aenter__())
        later_ran = asyncio.Event()

        async def later() -> None:
            async with turns.turn():
                later_ran.set()

        next_one = asyncio.create_task(later())
        await asyncio.sleep(0)
        cancelled.cancel()
    await asyncio.wait_for(next_one, timeout=5)
    assert later_ran.is_set()
    async with asyncio.timeout(5), turns.turn():  # and the turns are free again
        pass


async def test_sqlite_engines_on_one_file_share_its_turns(
    settings: Settings, sessions: SessionFactory
) -> None:
    other = make_engine(settings.database_url)
    try:
        same_file = write_turns(make_session_factory(other))
        if settings.is_sqlite:
            assert same_file is not None and same_file is write_turns(sessions)
        else:
            assert same_file is None and write_turns(sessions) is None
    finally:
        await other.dispose()

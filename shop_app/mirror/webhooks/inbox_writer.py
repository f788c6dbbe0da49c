"""Group commit for the webhook inbox.

Each request hands its delivery to the writer and waits; the writer stores everything that arrived
meanwhile in one transaction (one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING) and wakes the
requests as soon as it has committed: the 200 waits for that one durable write, shared with the deliveries
around it, and nothing else. Under load this turns hundreds of small transactions a second into a few large
ones; when idle a batch is a single delivery and adds no delay.

Turning stored deliveries into work happens after the answers: ``on_stored`` is called with the new ids
once the requests have been woken, and must not wait for anything (the lifespan hands them to a
``jobs.dispatch.Dispatcher``, which queues their jobs in batches). A process killed in between loses no
delivery: it is in the inbox, pending, and the inbox sweep queues it.

On SQLite the writer is given an engine of its own (``database.make_writer_engine``): its connection is
not shared with the reads and the processing, so the INSERTs never queue behind them in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from shop_app.database import SessionFactory, transaction
from shop_app.mirror.webhooks.inbox import IncomingWebhook, record_deliveries

logger = logging.getLogger(__name__)

MAX_BATCH = 500

OnStored = Callable[[list[int]], None]


@dataclass(slots=True)
class _Pending:
    shop_id: int
    webhook: IncomingWebhook
    result: asyncio.Future[int | None]


class InboxWriter:
    def __init__(self, sessions: SessionFactory, *, on_stored: OnStored, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._on_stored = on_stored
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def submit(self, shop_id: int, webhook: IncomingWebhook) -> int | None:
        """The stored delivery's id once committed, or None when the event was already received."""
        if self._task is None or self._task.done():
            raise RuntimeError("the inbox writer is not running")
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._idle.clear()
        self._queue.put_nowait(_Pending(shop_id, webhook, future))
        return await future

    async def wait_idle(self, *, at_most_seconds: float) -> None:
        """Wait (a bounded time) until no delivery is waiting to be stored: background work that shares
        the database connection lets the webhooks' answers go first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), at_most_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            self._queue.get_nowait().result.cancel()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)
            if self._queue.empty():
                self._idle.set()

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            async with transaction(self._sessions, urgent=True) as session:
                stored = await record_deliveries(session, [(p.shop_id, p.webhook) for p in batch])
        except Exception as error:
            logger.exception("storing webhook deliveries failed count=%s", len(batch))
            for pending in batch:
                if not pending.result.done():
                    pending.result.set_exception(error)
            return
        for pending in batch:
            if not pending.result.done():
                pending.result.set_result(stored.get((pending.shop_id, pending.webhook.event_id)))
        ids = list(stored.values())
        if ids:
            try:
                self._on_stored(ids)
            except Exception:
                # The deliveries are durable; the periodic sweep starts their processing.
                logger.exception("queueing stored webhook deliveries failed count=%s", len(ids))

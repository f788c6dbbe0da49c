"""Work queued after the answer: stored rows turned into jobs in batches, by a step of its own.

A webhook's 200 waits for its row to be durable and nothing else; the row's job is queued afterwards, here.
``add`` never waits. In-process, where queueing is a put in memory, it queues at once (so a queue drained
right after the answer sees the job). On PostgreSQL it notes the ids, and one background task queues what
accumulated meanwhile in one ``batch_defer`` round trip. The ids are cut into jobs of ``chunk`` ids, so
that any number of ``shop-app worker`` processes share a burst.

Nothing is lost when queueing fails or the process dies before it: the rows are in their inbox, pending,
and the inbox sweeps queue them (in-process at start and every lease; on workers every 15 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from shop_app.jobs.queues import InProcessQueue, JobQueue
from shop_app.jobs.tasks import TaskName

logger = logging.getLogger(__name__)

JOB_CHUNK = 100  # ids per job: big enough to batch the processing, small enough to spread a burst
STOP_FLUSH_SECONDS = 5.0


class Dispatcher:
    def __init__(self, jobs: JobQueue, *, chunk: int = JOB_CHUNK) -> None:
        self._jobs = jobs
        self._chunk = max(1, chunk)
        self._pending: dict[tuple[TaskName, str], list[int]] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def add(self, task: TaskName, argument: str, ids: list[int]) -> None:
        """Queue ``task(argument=ids)`` soon, in jobs of at most ``chunk`` ids; returns at once."""
        if not ids:
            return
        if isinstance(self._jobs, InProcessQueue):
            for job in self._chunks(argument, ids):
                self._jobs.enqueue_nowait(task, **job)
            return
        self._pending.setdefault((task, argument), []).extend(ids)
        self._idle.clear()
        self._wake.set()

    def _chunks(self, argument: str, ids: list[int]) -> list[dict[str, Any]]:
        return [{argument: ids[i : i + self._chunk]} for i in range(0, len(ids), self._chunk)]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="job-dispatch")

    async def flush(self, *, at_most_seconds: float = STOP_FLUSH_SECONDS) -> None:
        """Wait (a bounded time) until everything added has been queued."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), at_most_seconds)

    async def stop(self) -> None:
        """Queue what is left (a graceful stop leaves no work to the sweep), then stop."""
        if self._task is not None and not self._task.done():
            await self.flush()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            for (task, argument), ids in pending.items():
                try:
                    await self._jobs.enqueue_many(task, self._chunks(argument, ids))
                except Exception:
                    # the rows are stored: the inbox sweep queues them
                    logger.exception("queueing stored work failed task=%s count=%s", task, len(ids))
            if not self._pending:
                self._idle.set()

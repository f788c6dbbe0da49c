"""Job queues. Both run the same tasks (``shop_app.jobs.tasks``):

- ``InProcessQueue``: asyncio workers inside the app process, for the embedded default (SQLite, no server).
  The durable record of work is the database (e.g. the webhook inbox); a sweep re-queues what a restart
  interrupted.
- ``ProcrastinateQueue``: procrastinate on PostgreSQL, with workers started by ``shop-app worker`` on any
  number of machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from shop_app.jobs.tasks import RetryLater, TaskName, task_for
from shop_app.notices.schedule import NOTICE_INTERVAL_SECONDS
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 30.0
RETRY_BASE_SECONDS = 2.0
MAX_MERGED_DELIVERIES = 1000
MERGE_LINGER_SECONDS = 0.02
# Tasks whose queued jobs a worker folds into the one it takes, by the argument holding their ids
MERGED_IDS = {TaskName.PROCESS_WEBHOOKS: "delivery_ids", TaskName.PROCESS_LINE_EVENTS: "event_ids"}
# Long jobs (a backfill can take minutes) run beside the workers, so webhooks never wait behind them.
BESIDE_WORKERS = frozenset(
    {TaskName.SYNC_SHOP, TaskName.RECONCILE_SHOP, TaskName.RECONCILE_ALL_SHOPS, TaskName.RUN_NOTICES}
)


class JobQueue(Protocol):
    async def enqueue(self, task: TaskName, **kwargs: Any) -> None: ...

    async def enqueue_many(self, task: TaskName, jobs: list[dict[str, Any]]) -> None:
        """Queue one job per arguments, at once (one round trip where the queue is a database)."""

    async def drain(self) -> None:
        """Wait until every queued job has run (tests, and a graceful stop)."""


class InProcessQueue:
    def __init__(
        self, services: Services, *, workers: int = 2, sweep_interval: float = SWEEP_INTERVAL_SECONDS
    ):
        self._services = services
        self._workers = max(1, workers)
        self._sweep_interval = sweep_interval
        self._queue: asyncio.Queue[tuple[TaskName, dict[str, Any], int]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.Task[None]] = set()
        # Set by the lifespan: waits while webhooks are being stored, so their answers go first.
        self.before_webhooks: Callable[[], Awaitable[None]] | None = None
        self._beside: set[asyncio.Task[None]] = set()

    async def enqueue(self, task: TaskName, **kwargs: Any) -> None:
        self.enqueue_nowait(task, **kwargs)

    def enqueue_nowait(self, task: TaskName, **kwargs: Any) -> None:
        self._queue.put_nowait((task, kwargs, 1))

    async def enqueue_many(self, task: TaskName, jobs: list[dict[str, Any]]) -> None:
        for kwargs in jobs:
            self.enqueue_nowait(task, **kwargs)

    def waiting(self) -> dict[str, int]:
        """Jobs waiting to run, by task (for the metrics; a webhook job merged into another counts once)."""
        counts: dict[str, int] = {}
        for name, _kwargs, _attempt in list(self._queue._queue):  # type: ignore[attr-defined]
            counts[name.value] = counts.get(name.value, 0) + 1
        return counts

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"job-worker-{i}") for i in range(self._workers)
        ]
        self._tasks.append(asyncio.create_task(self._sweep(), name="job-sweep"))
        if self._services.settings.reconcile_interval_seconds > 0:
            self._tasks.append(asyncio.create_task(self._reconcile_periodically(), name="job-reconcile"))
        self._tasks.append(asyncio.create_task(self._notices_periodically(), name="job-notices"))

    async def stop(self) -> None:
        for task in [*self._tasks, *self._retries, *self._beside]:
            task.cancel()
        for task in [*self._tasks, *self._retries, *self._beside]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def drain(self) -> None:
        while True:
            await self._queue.join()
            if not self._retries:
                return
            await asyncio.sleep(0.01)

    async def _work(self) -> None:
        while True:
            name, kwargs, attempt = await self._queue.get()
            if name in BESIDE_WORKERS:
                self._run_beside(name, kwargs, attempt)
                continue
            taken = 1
            if name is TaskName.PROCESS_WEBHOOKS:
                if self.before_webhooks is not None:
                    await self.before_webhooks()
                if self._queue.qsize() and len(kwargs["delivery_ids"]) < MAX_MERGED_DELIVERIES:
                    # Under load, let a few more batches arrive so one claim covers them all.
                    await asyncio.sleep(MERGE_LINGER_SECONDS)
            if name in MERGED_IDS:
                kwargs, taken = self._merge_jobs(name, kwargs)
            try:
                await task_for(name)(self._services, **kwargs)
            except RetryLater:
                self._schedule_retry(name, kwargs, attempt)
            except Exception:
                logger.exception("job failed task=%s", name)
            finally:
                for _ in range(taken):
                    self._queue.task_done()

    def _run_beside(self, name: TaskName, kwargs: dict[str, Any], attempt: int) -> None:
        async def run() -> None:
            try:
                await task_for(name)(self._services, **kwargs)
            except RetryLater:
                self._schedule_retry(name, kwargs, attempt)
            except Exception:
                logger.exception("job failed task=%s", name)
            finally:
                self._queue.task_done()

        task = asyncio.create_task(run(), name=f"job-{name}")
        self._beside.add(task)
        task.add_done_callback(self._beside.discard)

    def _merge_jobs(self, name: TaskName, kwargs: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Fold the jobs of the same task queued behind this one into it: one claim and one finish for all
        (LINE's events: one read for the batch, and its users' turns run side by side)."""
        argument = MERGED_IDS[name]
        ids = list(kwargs[argument])
        taken = 1
        others: list[tuple[TaskName, dict[str, Any], int]] = []
        while not self._queue.empty() and len(ids) < MAX_MERGED_DELIVERIES:
            job = self._queue.get_nowait()
            if job[0] is name:
                ids.extend(job[1][argument])
                taken += 1
            else:
                others.append(job)
        for job in others:
            self._queue.put_nowait(job)
            self._queue.task_done()
        return {argument: ids}, taken

    def _schedule_retry(self, name: TaskName, kwargs: dict[str, Any], attempt: int) -> None:
        async def later() -> None:
            await asyncio.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1))
            self._queue.put_nowait((name, kwargs, attempt + 1))

        task = asyncio.create_task(later())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _reconcile_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._services.settings.reconcile_interval_seconds)
            await self.enqueue(TaskName.RECONCILE_ALL_SHOPS)

    async def _notices_periodically(self) -> None:
        while True:
            await asyncio.sleep(NOTICE_INTERVAL_SECONDS)
            await self.enqueue(TaskName.RUN_NOTICES)

    async def _sweep(self) -> None:
        """The inbox sweep, as procrastinate's periodic task runs it on PostgreSQL."""
        while True:
            await asyncio.sleep(self._sweep_interval)
            await self.enqueue(TaskName.SWEEP_WEBHOOK_INBOX)

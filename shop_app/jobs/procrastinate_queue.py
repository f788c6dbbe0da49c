"""The PostgreSQL job engine: procrastinate (jobs in PostgreSQL tables, LISTEN/NOTIFY to wake workers).

Chosen because it needs nothing but the PostgreSQL the app already runs on, is asyncio-native, and gives
retries with backoff, locks and periodic tasks; no broker to deploy or keep in step with the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
from procrastinate import JobContext, PsycopgConnector, RetryStrategy
from procrastinate.app import WorkerOptions

from shop_app.jobs.tasks import RetryLater, TaskName, task_for
from shop_app.notices.schedule import NOTICE_CRON
from shop_app.runtime import Services

MAX_ATTEMPTS = 5


def conninfo(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


# every 15 s (croniter's sixth field is seconds): deliveries a dead worker held are taken over soon after
# their lease ends
SWEEP_CRON = "* * * * * */15"


def reconcile_cron(interval_seconds: float) -> str:
    """Cron for the reconciliation sweep: every N minutes (cron has minutes, not seconds)."""
    minutes = max(1, round(interval_seconds / 60))
    if minutes >= 60:
        return f"0 */{min(23, minutes // 60)} * * *"
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


def build_app(database_url: str, *, reconcile_interval_seconds: float = 900.0) -> procrastinate.App:
    app = procrastinate.App(connector=PsycopgConnector(conninfo=conninfo(database_url)))
    periodic = {TaskName.SWEEP_WEBHOOK_INBOX, TaskName.RECONCILE_ALL_SHOPS, TaskName.RUN_NOTICES}
    for name in TaskName:
        if name in periodic:
            continue
        app.task(
            name=name.value,
            pass_context=True,
            retry=RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=2, retry_exceptions={RetryLater}),
        )(_runner(name))
    app.periodic(cron=SWEEP_CRON, periodic_id=TaskName.SWEEP_WEBHOOK_INBOX.value)(
        app.task(name=TaskName.SWEEP_WEBHOOK_INBOX.value, pass_context=True, queueing_lock="sweep")(_sweep)
    )
    if reconcile_interval_seconds > 0:
        app.periodic(
            cron=reconcile_cron(reconcile_interval_seconds), periodic_id=TaskName.RECONCILE_ALL_SHOPS.value
        )(
            app.task(
                name=TaskName.RECONCILE_ALL_SHOPS.value, pass_context=True, queueing_lock="reconcile_all"
            )(_reconcile_all)
        )
    app.periodic(cron=NOTICE_CRON, periodic_id=TaskName.RUN_NOTICES.value)(
        app.task(name=TaskName.RUN_NOTICES.value, pass_context=True, queueing_lock="notices")(_notices)
    )
    return app


async def _notices(context: JobContext, timestamp: int) -> None:
    services: Services = context.additional_context["services"]
    await task_for(TaskName.RUN_NOTICES)(services)


async def _reconcile_all(context: JobContext, timestamp: int) -> None:
    services: Services = context.additional_context["services"]
    await task_for(TaskName.RECONCILE_ALL_SHOPS)(services)


async def _sweep(context: JobContext, timestamp: int) -> None:
    services: Services = context.additional_context["services"]
    await task_for(TaskName.SWEEP_WEBHOOK_INBOX)(services)


def _runner(name: TaskName) -> Any:
    async def run(context: JobContext, **kwargs: Any) -> None:
        services: Services = context.additional_context["services"]
        await task_for(name)(services, **kwargs)

    run.__name__ = name.value
    return run


class ProcrastinateQueue:
    def __init__(self, services: Services) -> None:
        self._services = services
        # Set by the lifespan: queues what the dispatcher still holds, so a drain sees every job
        self.before_drain: Callable[[], Awaitable[None]] | None = None
        self.app = build_app(
            services.settings.database_url,
            reconcile_interval_seconds=services.settings.reconcile_interval_seconds,
        )

    async def start(self) -> None:
        await self.app.open_async()

    async def stop(self) -> None:
        await self.app.close_async()

    async def enqueue(self, task: TaskName, **kwargs: Any) -> None:
        await self.app.configure_task(name=task.value).defer_async(**kwargs)

    async def enqueue_many(self, task: TaskName, jobs: list[dict[str, Any]]) -> None:
        if jobs:
            await self.app.configure_task(name=task.value).batch_defer_async(*jobs)

    async def drain(self) -> None:
        if self.before_drain is not None:
            await self.before_drain()
        await self.run_worker(wait=False)

    async def run_worker(
        self,
        *,
        wait: bool = True,
        concurrency: int = 4,
        install_signal_handlers: bool | None = None,
        shutdown_graceful_timeout: float | None = None,
    ) -> None:
        """``install_signal_handlers`` defaults to ``wait`` (off where another server owns the signals); a
        stopped worker lets its running jobs finish, for at most ``shutdown_graceful_timeout`` seconds when
        given (each job resumes safely when run again)."""
        options: WorkerOptions = {
            "wait": wait,
            "concurrency": concurrency,
            "install_signal_handlers": wait if install_signal_handlers is None else install_signal_handlers,
            "additional_context": {"services": self._services},
        }
        if shutdown_graceful_timeout is not None:
            options["shutdown_graceful_timeout"] = shutdown_graceful_timeout
        await self.app.run_worker_async(**options)


SCHEMA_PRESENT = "SELECT 1 AS present FROM information_schema.tables WHERE table_name = 'procrastinate_jobs'"


async def apply_schema_if_missing(database_url: str) -> bool:
    """Install procrastinate's tables once; True when it did."""
    app = procrastinate.App(connector=PsycopgConnector(conninfo=conninfo(database_url)))
    async with app.open_async():
        if await app.connector.execute_query_all_async(SCHEMA_PRESENT):
            return False
        await app.schema_manager.apply_schema_async()
        return True


async def job_schema_present(database_url: str) -> bool:
    """Whether procrastinate's tables are installed (``shop-app migrate`` installs them)."""
    app = procrastinate.App(connector=PsycopgConnector(conninfo=conninfo(database_url)))
    async with app.open_async():
        return bool(await app.connector.execute_query_all_async(SCHEMA_PRESENT))

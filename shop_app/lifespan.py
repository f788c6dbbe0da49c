"""Per-process resources (database engine, HTTP client, job queue), built at start and closed at stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypedDict

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.templating import Jinja2Templates

from integrations.public_http import public_only_client
from integrations.shopify.app_config import AppConfig, load_app_config
from integrations.shopify.oauth import OAuthClient
from shop_app.database import (
    SessionFactory,
    make_engine,
    make_session_factory,
    make_writer_engine,
    migrate,
    migration_status,
)
from shop_app.encryption import Cipher
from shop_app.jobs.dispatch import Dispatcher
from shop_app.jobs.procrastinate_queue import ProcrastinateQueue, apply_schema_if_missing, job_schema_present
from shop_app.jobs.queues import SWEEP_INTERVAL_SECONDS, InProcessQueue, JobQueue
from shop_app.jobs.tasks import TaskName
from shop_app.live_events import EventBus, InProcessBus, PostgresBus
from shop_app.mirror.webhooks.inbox_writer import InboxWriter
from shop_app.operations.metrics import process_stopped
from shop_app.runtime import Services
from shop_app.settings import JobEngine, Mode, Settings
from shop_app.shops.access_tokens import AccessTokens
from shop_app.shops.directory import ShopDirectory

logger = logging.getLogger(__name__)
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
WEBHOOKS_FIRST_MAX_WAIT_SECONDS = 0.2


class State(TypedDict):
    services: Services
    jobs: JobQueue
    templates: Jinja2Templates
    inbox: InboxWriter
    dispatch: Dispatcher
    writer_sessions: SessionFactory  # webhooks' inserts (on SQLite a connection of their own)


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    app_config: AppConfig | None = None,
    http: httpx.AsyncClient | None = None,
    listen: bool = True,
) -> AsyncIterator[Services]:
    """``listen=False`` for processes that only publish live events (a worker, ``shop-app sync``): on
    PostgreSQL they open no ``LISTEN`` connection."""
    engine = make_engine(settings.database_url)
    events: EventBus = InProcessBus() if settings.is_sqlite else PostgresBus(engine, listen=listen)
    own_http = http is None
    client = http or httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
    helpdesk = (
        public_only_client(timeout=HTTP_TIMEOUT) if own_http and settings.mode is Mode.PRODUCTION else None
    )
    cipher = Cipher(settings.encryption_keys)
    oauth = OAuthClient(
        client,
        client_id=settings.api_key,
        client_secret=settings.api_secret.reveal(),
        shop_url=settings.shop_url,
    )
    sessions = make_session_factory(engine)
    try:
        await events.start()
        yield Services(
            settings=settings,
            app_config=app_config or load_app_config(settings.app_config_path),
            sessions=sessions,
            cipher=cipher,
            http=client,
            oauth=oauth,
            access_tokens=AccessTokens(
                sessions, cipher=cipher, oauth=oauth, margin_seconds=settings.token_refresh_margin_seconds
            ),
            shop_directory=ShopDirectory(sessions),
            events=events,
            helpdesk_http=helpdesk,
        )
    finally:
        await events.stop()
        if own_http:
            await client.aclose()
        if helpdesk is not None:
            await helpdesk.aclose()
        await engine.dispose()


async def prepare_database(settings: Settings) -> None:
    """Bring the schema up to date: Alembic's migrations, and on PostgreSQL the job queue's tables (what
    ``shop-app migrate`` does, and ``dev`` and ``serve`` on SQLite do before they start)."""
    migrate(settings.database_url)
    if not settings.is_sqlite:
        await apply_schema_if_missing(settings.database_url)


async def database_not_ready(settings: Settings) -> str | None:
    """Why this process must not start on its database (a schema it does not expect), or None."""
    status = migration_status(settings.database_url)
    if not status.applied:
        return "the database has never been migrated"
    if status.pending:
        return f"the database is behind this version ({len(status.pending)} migrations to apply)"
    if not settings.is_sqlite and not await job_schema_present(settings.database_url):
        return "the job queue's tables are missing"
    return None


def job_queue(services: Services) -> InProcessQueue | ProcrastinateQueue:
    if services.settings.job_engine is JobEngine.PROCRASTINATE:
        return ProcrastinateQueue(services)
    # the sweep takes over deliveries a dead process held: once per lease, so at most two leases after
    # the process died
    sweep_interval = min(SWEEP_INTERVAL_SECONDS, services.settings.webhook_lease_seconds)
    return InProcessQueue(services, workers=services.settings.webhook_workers, sweep_interval=sweep_interval)


def build_lifespan(
    settings: Settings,
    *,
    app_config: AppConfig,
    templates: Jinja2Templates,
    http: httpx.AsyncClient | None = None,
) -> Callable[[Starlette], AbstractAsyncContextManager[Any]]:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        async with open_services(settings, app_config=app_config, http=http) as services:
            jobs = job_queue(services)
            await jobs.start()
            if isinstance(jobs, InProcessQueue):
                # deliveries stored before a restart but never processed
                await jobs.enqueue(TaskName.SWEEP_WEBHOOK_INBOX, older_than_seconds=0)

            dispatch = Dispatcher(jobs)
            dispatch.start()
            if isinstance(jobs, ProcrastinateQueue):
                jobs.before_drain = dispatch.flush

            def process(delivery_ids: list[int]) -> None:
                dispatch.add(TaskName.PROCESS_WEBHOOKS, "delivery_ids", delivery_ids)

            writer_engine = make_writer_engine(settings.database_url)
            writer_sessions = make_session_factory(writer_engine) if writer_engine else services.sessions
            inbox = InboxWriter(writer_sessions, on_stored=process)
            inbox.start()
            if isinstance(jobs, InProcessQueue):

                async def webhooks_first() -> None:
                    await inbox.wait_idle(at_most_seconds=WEBHOOKS_FIRST_MAX_WAIT_SECONDS)

                jobs.before_webhooks = webhooks_first
            try:
                async with serving_metrics(services, jobs):
                    yield {
                        "services": services,
                        "jobs": jobs,
                        "templates": templates,
                        "inbox": inbox,
                        "dispatch": dispatch,
                        "writer_sessions": writer_sessions,
                    }
            finally:
                await inbox.stop()
                await dispatch.stop()
                await jobs.stop()
                if writer_engine is not None:
                    await writer_engine.dispose()
                process_stopped()

    return lifespan


class _QuietServer(uvicorn.Server):
    """A server inside another process's server: the signals stay the outer server's."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


@asynccontextmanager
async def serving_metrics(services: Services, jobs: JobQueue | None = None) -> AsyncIterator[None]:
    """``/metrics`` on ``SHOP_APP_METRICS_PORT`` while the block runs. Under ``serve --workers N`` the
    first process to bind the port serves it (each scrape adds up every process's values in multiprocess
    mode); the others go on without it."""
    port = services.settings.metrics_port
    if port is None:
        yield
        return
    from shop_app.routes.metrics import metrics_app

    listener = socket.socket(socket.AF_INET6 if ":" in services.settings.metrics_host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((services.settings.metrics_host, port))
    except OSError as error:
        listener.close()
        logger.info("metrics port taken, served by another process port=%s error=%s", port, error.errno)
        yield
        return
    # log_config None: this process's logging (the app's format, uvicorn's levels and handlers) stays as
    # it is; no access lines for scrapes (set after construction: access_log=False in the constructor
    # would remove the access log's handlers for the whole process)
    config = uvicorn.Config(metrics_app(services, jobs), log_config=None, lifespan="on", ws="none")
    config.access_log = False
    server = _QuietServer(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]), name="metrics-port")
    listening = asyncio.create_task(server.listening.wait())
    await asyncio.wait([serving, listening], return_when=asyncio.FIRST_COMPLETED)
    listening.cancel()
    try:
        yield
    finally:
        server.should_exit = True
        await serving
        listener.close()

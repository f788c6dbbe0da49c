"""Shared fixtures: a migrated database (SQLite per test, or PostgreSQL from TEST_DATABASE_URL), settings
built in code, and the app running in-process with its lifespan, its outgoing HTTP on a fake Shopify."""

from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy import inspect as inspect_database
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from shop_app.database import migrate, sync_url
from shop_app.main import create_app
from shop_app.settings import Secret, Settings, normalise_database_url

# The suite shares two cores with whatever else runs: how long one generated example takes says nothing
# about whether it is right (speed is measured by bench/), so Hypothesis's per-example deadline is off.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")
# Likewise a page's expected state may take longer than Playwright's default 5 s to come when the suite
# loads both cores (a long poll, a job, a webhook between two servers): what is checked is that it comes.
expect.set_options(timeout=20_000)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
REFERENCE = SHARED / "shopify-reference"

TEST_API_KEY = "test-client-id-0123456789abcdef"
TEST_API_SECRET = "shpss_test_secret_0123456789abcdef"
TEST_PREVIOUS_SECRET = "shpss_previous_secret_fedcba9876543210"
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(raw) if raw else None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


def _reset_postgres(url: str) -> None:
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        tables = [t for t in inspect_database(connection).get_table_names() if t != "alembic_version"]
        app_tables = [t for t in tables if not t.startswith("procrastinate_")]
        if app_tables:
            connection.execute(text(f"TRUNCATE {', '.join(app_tables)} RESTART IDENTITY CASCADE"))
        if "procrastinate_jobs" in tables:
            connection.execute(text("DELETE FROM procrastinate_jobs"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str | None) -> str | None:
    if postgres_url is None:
        return None
    from shop_app.cli import migrate as full_migrate

    full_migrate(replace(Settings(), database_url=postgres_url))
    return postgres_url


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path, migrated_postgres: str | None) -> Iterator[str]:
    if migrated_postgres is not None:
        _reset_postgres(migrated_postgres)
        yield migrated_postgres
        return
    path = tmp_path / "app.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        app_url="https://app.example.test",
        api_key=TEST_API_KEY,
        api_secret=Secret(TEST_API_SECRET),
        previous_api_secret=Secret(TEST_PREVIOUS_SECRET),
        encryption_keys=(Secret(TEST_ENCRYPTION_KEY),),
        session_secret=Secret("test-session-secret-0123456789"),
        app_config_path=PROJECT_ROOT / "shopify.app.toml",
        register_webhooks=False,
        webhook_workers=1,
    )


Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class FakeShopify:
    """Records every outgoing request; answers with the handler a test sets (404 when none)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.handler is None:
            return httpx.Response(404, json={"errors": "Not Found"})
        answer = self.handler(request)
        return await answer if inspect.isawaitable(answer) else answer

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


@pytest.fixture
def shopify() -> FakeShopify:
    return FakeShopify()


def with_lifespan_state(app: Starlette, state: dict[str, Any]) -> ASGIApp:
    """ASGITransport runs no lifespan: hand each request the state the lifespan produced."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    return wrapped


@asynccontextmanager
async def running_app(
    settings: Settings, http: httpx.AsyncClient
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    app = create_app(settings, http=http)
    async with app.router.lifespan_context(app) as state:
        assert state is not None
        transport = httpx.ASGITransport(app=with_lifespan_state(app, dict(state)))
        async with httpx.AsyncClient(transport=transport, base_url=settings.app_url) as client:
            yield client, dict(state)


@pytest.fixture
async def app_client(
    settings: Settings, shopify: FakeShopify
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    async with shopify.client() as http, running_app(settings, http) as running:
        yield running

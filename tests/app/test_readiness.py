"""Readiness: /healthz says the process is alive; /readyz says 503 until the database answers, is
migrated to this version and (on PostgreSQL) the job queue's tables answer; a worker serves both on
``--health-port``. Each check is named, without connection strings or error text."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shop_app.cli import serving_health
from shop_app.database import sync_url
from shop_app.lifespan import open_services
from shop_app.operations.readiness import Readiness, readiness
from shop_app.settings import Settings
from tests.app.conftest import RunningApp

pytestmark = pytest.mark.anyio


async def state_of(settings: Settings) -> Readiness:
    async with open_services(settings, listen=False) as services:
        return await readiness(services)


@asynccontextmanager
async def empty_database(settings: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """A database nobody migrated: a new SQLite file, or a new PostgreSQL database beside the test one."""
    if settings.is_sqlite:
        yield replace(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        return
    name = f"readyz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync_url(settings.database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(settings.database_url).set(database=name)
        yield replace(settings, database_url=url.render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_a_migrated_app_is_alive_and_ready(app: RunningApp) -> None:
    alive = await app.client.get("/healthz")
    ready = await app.client.get("/readyz")

    assert alive.status_code == 200 and alive.json() == {"ok": True}
    assert ready.status_code == 200
    expected = {"database": "ok", "migrations": "at head"}
    if not app.services.settings.is_sqlite:
        expected["job_queue"] = "ok"
    assert ready.json() == {"ready": True, "checks": expected}


async def test_a_database_never_migrated_is_not_ready(settings: Settings, tmp_path: Path) -> None:
    async with empty_database(settings, tmp_path) as unmigrated:
        state = await state_of(unmigrated)

    assert not state.ready
    assert state.checks["database"] == "ok"
    assert state.checks["migrations"] == "not migrated"
    if not settings.is_sqlite:
        assert state.checks["job_queue"] == "missing"


async def test_a_database_behind_this_version_is_not_ready(settings: Settings) -> None:
    # given: the database says it stands one revision back
    engine = create_engine(sync_url(settings.database_url))
    with engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = :back"), {"back": "0011"})
    try:
        state = await state_of(settings)
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        engine.dispose()

    assert not state.ready
    assert state.checks["migrations"].startswith("behind (")


async def test_a_database_that_cannot_be_reached_is_not_ready_and_says_no_more(
    settings: Settings, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    if settings.is_sqlite:
        # SQLite's file is on this machine: what cannot be reached is a database server. (A file SQLite
        # cannot open leaves aiosqlite's thread calling back into the closed loop of a finished test.)
        pytest.skip("a database server that does not answer: PostgreSQL")
    url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{closed_port}/test"
    state = await state_of(replace(settings, database_url=url))

    assert not state.ready
    assert state.checks["database"] == "unreachable"
    assert "hunter2" not in repr(state) and str(closed_port) not in repr(state)


async def test_a_worker_serves_both_checks_on_its_health_port(settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with (
        open_services(settings, listen=False) as services,
        serving_health(services, ("127.0.0.1", port)),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        for _ in range(100):  # the server task starts listening on the loop's next turns
            try:
                alive = await client.get("/healthz")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.02)
        ready = await client.get("/readyz")

    assert alive.status_code == 200
    assert ready.status_code == 200 and ready.json()["ready"] is True

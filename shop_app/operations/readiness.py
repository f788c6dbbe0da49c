"""Readiness: whether this process can do its work now, as load balancers and supervisors ask it.

``/healthz`` says the process is alive (it answers at all); ``/readyz`` says it is ready: the database
answers within a bound, its migrations are this code's (not behind), and on PostgreSQL the job queue's
tables answer. Each check is named in the answer with a short state, never a connection string or an
error's text.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shop_app.database import migration_status_of
from shop_app.runtime import Services

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(state in ("ok", "at head") for state in self.checks.values())


async def readiness(services: Services, *, within_seconds: float = CHECK_TIMEOUT_SECONDS) -> Readiness:
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(within_seconds):
            await _check(services, checks)
    except TimeoutError:
        checks.setdefault("database", "timeout")
    except (OSError, DBAPIError):
        checks.setdefault("database", "unreachable")
    for name in ("migrations", *(() if services.settings.is_sqlite else ("job_queue",))):
        checks.setdefault(name, "unknown")
    return Readiness(checks)


async def _check(services: Services, checks: dict[str, str]) -> None:
    async with services.sessions() as session:
        await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        try:
            async with session.begin_nested():
                rows = await session.execute(text("SELECT version_num FROM alembic_version"))
                current = tuple(str(revision) for revision in rows.scalars())
        except DBAPIError:
            current = ()
        checks["migrations"] = _migrations_state(current, services.settings.database_url)
        if not services.settings.is_sqlite:
            try:
                async with session.begin_nested():
                    await session.execute(text("SELECT 1 FROM procrastinate_jobs LIMIT 1"))
                checks["job_queue"] = "ok"
            except DBAPIError:
                checks["job_queue"] = "missing"


def _migrations_state(current: tuple[str, ...], database_url: str) -> str:
    if not current:
        return "not migrated"
    status = migration_status_of(current, database_url)
    if status.pending:
        return f"behind ({len(status.pending)} to apply)"
    return "at head"

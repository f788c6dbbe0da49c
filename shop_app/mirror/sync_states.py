"""Per-shop sync state: the lease that lets one sync run per shop however many workers there are, the
checkpoints a killed process resumes from, and the progress a merchant watches.

The lease is a compare-and-set UPDATE on the ``sync_states`` row (portable to SQLite and PostgreSQL, no
lock held during HTTP calls), like the token refresh lease in ``access_tokens.py``. Every checkpoint is
written by an UPDATE that also requires the lease, in the same transaction as the page's upserts: a
process that lost its lease cannot write a page, and a page is never saved without its checkpoint.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.database import SessionFactory, affected_rows, transaction
from shop_app.models import SyncState

LEASE_SECONDS = 120
LEASE_RENEW_SECONDS = 20.0


class Phase(StrEnum):
    IDLE = "idle"
    BACKFILLING = "backfilling"
    BULK = "bulk"
    RECONCILING = "reconciling"
    FAILED = "failed"


class LeaseLost(Exception):
    """Another process holds the shop's sync lease now; this one must stop writing."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_owner() -> str:
    return secrets.token_hex(8)


async def ensure_sync_state(session: AsyncSession, *, shop_id: int) -> None:
    """Create the shop's row if it has none (concurrent callers are fine)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    values = {
        "shop_id": shop_id,
        "phase": Phase.IDLE.value,
        "progress": {},
        "checkpoints": {},
        "watermarks": {},
        "last_reconcile_report": {},
        "updated_at": now_utc(),
    }
    table = SyncState.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    await session.execute(statement)


async def get_sync_state(session: AsyncSession, *, shop_id: int) -> SyncState | None:
    return await session.get(SyncState, shop_id, populate_existing=True)


async def take_lease(
    sessions: SessionFactory, *, shop_id: int, owner: str, seconds: float = LEASE_SECONDS
) -> bool:
    now = now_utc()
    async with transaction(sessions) as session:
        await ensure_sync_state(session, shop_id=shop_id)
    async with transaction(sessions) as session:
        result = await session.execute(
            update(SyncState)
            .where(
                col(SyncState.shop_id) == shop_id,
                (col(SyncState.lease_until).is_(None))
                | (col(SyncState.lease_until) < now)
                | (col(SyncState.lease_owner) == owner),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        )
    return affected_rows(result) == 1


async def renew_lease(
    sessions: SessionFactory, *, shop_id: int, owner: str, seconds: float = LEASE_SECONDS
) -> bool:
    async with transaction(sessions) as session:
        result = await session.execute(
            update(SyncState)
            .where(col(SyncState.shop_id) == shop_id, col(SyncState.lease_owner) == owner)
            .values(lease_until=now_utc() + timedelta(seconds=seconds))
        )
    return affected_rows(result) == 1


async def release_lease(sessions: SessionFactory, *, shop_id: int, owner: str) -> None:
    async with transaction(sessions) as session:
        await session.execute(
            update(SyncState)
            .where(col(SyncState.shop_id) == shop_id, col(SyncState.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )


async def save_under_lease(session: AsyncSession, *, shop_id: int, owner: str, **values: Any) -> None:
    """Write sync state columns if ``owner`` still holds the lease (else ``LeaseLost``, which rolls back
    the caller's transaction with whatever page it was saving)."""
    result = await session.execute(
        update(SyncState)
        .where(col(SyncState.shop_id) == shop_id, col(SyncState.lease_owner) == owner)
        .values(updated_at=now_utc(), **values)
    )
    if affected_rows(result) != 1:
        raise LeaseLost(f"shop {shop_id} sync lease lost")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def describe(state: SyncState | None, *, now: datetime | None = None) -> dict[str, Any]:
    """The JSON the embedded page and the CLI show."""
    if state is None:
        return {
            "phase": Phase.IDLE.value,
            "running": False,
            "resources": {},
            "rate_per_second": None,
            "eta_seconds": None,
            "started_at": None,
            "finished_at": None,
            "last_error": None,
            "last_webhook_at": None,
            "last_reconciled_at": None,
            "last_reconcile_report": {},
            "backfill_complete": False,
        }
    moment = now or now_utc()
    progress: Mapping[str, Any] = state.progress or {}
    running = state.lease_until is not None and state.lease_until > moment
    resources = {
        name: {"done": int(entry.get("done", 0)), "total": entry.get("total"), "mode": entry.get("mode")}
        for name, entry in (progress.get("resources") or {}).items()
    }
    return {
        "phase": state.phase if running or state.phase == Phase.FAILED else Phase.IDLE.value,
        "running": running,
        "resources": resources,
        "rate_per_second": progress.get("rate_per_second") if running else None,
        "eta_seconds": progress.get("eta_seconds") if running else None,
        "started_at": _iso(state.started_at),
        "finished_at": _iso(state.finished_at),
        "last_error": state.last_error,
        "last_webhook_at": _iso(state.last_webhook_at),
        "last_reconciled_at": _iso(state.last_reconciled_at),
        "last_reconcile_report": state.last_reconcile_report or {},
        "backfill_complete": bool((state.checkpoints or {}).get("completed_at")),
    }

"""LINE's webhook events, stored before LINE is answered: one row per ``webhookEventId`` and shop, so a
redelivered event (same id) is stored, and applied, once. A job applies them; a sweep picks up those whose
job was lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.models import LineEventStatus, LineWebhookEvent
from shop_app.models.base import utcnow

EVENTS = LineWebhookEvent.__table__  # type: ignore[attr-defined]
MAX_SWEPT_EVENTS = 500


@cache
def _insert_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(EVENTS)
        .on_conflict_do_nothing(index_elements=["shop_id", "webhook_event_id"])
        .returning(EVENTS.c.id)
    )


async def record_events(
    session: AsyncSession, *, shop_id: int, events: Sequence[dict[str, Any]]
) -> list[int]:
    """Store the events; the ids of those not received before (a repeat in the same body counts once)."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        event_id = str(event["webhookEventId"])
        rows.setdefault(
            event_id,
            {
                "shop_id": shop_id,
                "webhook_event_id": event_id,
                "status": LineEventStatus.PENDING,
                "event": event,
                "received_at": now,
            },
        )
    if not rows:
        return []
    dialect = (await session.connection()).dialect.name
    result = await session.execute(_insert_statement(dialect), list(rows.values()))
    return sorted(row.id for row in result)


async def take_events(session: AsyncSession, event_ids: Sequence[int]) -> list[int]:
    """Those of the events that still wait, marked done in this transaction (one statement): if it rolls
    back they wait again, for the sweep. Another worker taking the same event waits for this transaction
    (PostgreSQL's row lock; SQLite's one writer) and then finds it done. The inbox keeps no copy of what
    people said: the message now lives in its ticket."""
    if not event_ids:
        return []
    result = await session.execute(
        update(LineWebhookEvent)
        .where(
            col(LineWebhookEvent.id).in_(list(event_ids)),
            col(LineWebhookEvent.status) == LineEventStatus.PENDING,
        )
        .values(status=LineEventStatus.DONE, processed_at=utcnow(), event={})
        .returning(col(LineWebhookEvent.id))
        .execution_options(synchronize_session=False)
    )
    return sorted(event_id for event_id in result.scalars() if event_id is not None)


async def pending_events(session: AsyncSession, event_ids: Sequence[int]) -> list[LineWebhookEvent]:
    """Those of the events that still wait, oldest first (a read: ``take_events`` decides)."""
    rows = await session.execute(
        select(LineWebhookEvent)
        .where(
            col(LineWebhookEvent.id).in_(list(event_ids)),
            col(LineWebhookEvent.status) == LineEventStatus.PENDING,
        )
        .order_by(col(LineWebhookEvent.id))
    )
    return list(rows.scalars())


async def unfinished_event_ids(session: AsyncSession, *, older_than_seconds: float) -> list[int]:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    rows = await session.execute(
        select(col(LineWebhookEvent.id))
        .where(
            col(LineWebhookEvent.status) == LineEventStatus.PENDING,
            col(LineWebhookEvent.received_at) < cutoff,
        )
        .order_by(col(LineWebhookEvent.id))
        .limit(MAX_SWEPT_EVENTS)
    )
    return [event_id for event_id in rows.scalars() if event_id is not None]

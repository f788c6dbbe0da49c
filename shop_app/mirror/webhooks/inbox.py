"""The webhook inbox: deliveries are stored before Shopify gets its 200 and claimed for processing later.

Each delivery is keyed by (shop, event id), so a duplicate is refused by the database itself; processing
claims a row with a compare-and-set UPDATE, so two workers never run one delivery at once.

A claim is a short lease (``LEASE_SECONDS``) that its holder renews while it works (``claims_renewed``).
No process can tell that another machine's process died, but a dead process stops renewing: its
deliveries are claimable again a lease later, and the next inbox sweep (on any process) takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.database import SessionFactory, affected_rows, transaction
from shop_app.models import DeliveryStatus, WebhookDelivery
from shop_app.models.base import utcnow

logger = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
RENEWALS_PER_LEASE = 3  # a holder renews three times a lease: a slow renewal or two does not lose it
MAX_ATTEMPTS = 5
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class IncomingWebhook:
    topic: str
    event_id: str
    webhook_id: str
    api_version: str
    triggered_at: datetime | None
    body: str


DELIVERIES = WebhookDelivery.__table__  # type: ignore[attr-defined]


@cache
def _insert_statement(dialect: str) -> Any:
    """One Core statement per dialect, compiled once: rows that repeat an event id are skipped."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(DELIVERIES)
        .on_conflict_do_nothing(index_elements=["shop_id", "event_id"])
        .returning(DELIVERIES.c.id, DELIVERIES.c.shop_id, DELIVERIES.c.event_id)
    )


async def record_deliveries(
    session: AsyncSession, deliveries: Sequence[tuple[int, IncomingWebhook]]
) -> dict[tuple[int, str], int]:
    """Store deliveries in one statement; ``(shop_id, event_id) → id`` for those not received before.

    A repeated event id (already stored, or twice in this batch) is left out by the database itself.
    """
    if not deliveries:
        return {}
    now = utcnow()
    rows = [
        {
            "shop_id": shop_id,
            "topic": webhook.topic,
            "event_id": webhook.event_id,
            "webhook_id": webhook.webhook_id,
            "api_version": webhook.api_version,
            "triggered_at": webhook.triggered_at,
            "received_at": now,
            "body": webhook.body,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
        }
        for shop_id, webhook in deliveries
    ]
    dialect = (await session.connection()).dialect.name
    result = await session.execute(_insert_statement(dialect), rows)
    return {(row.shop_id, row.event_id): row.id for row in result}


async def record_delivery(session: AsyncSession, *, shop_id: int, webhook: IncomingWebhook) -> int | None:
    """Store one delivery; its id, or None when this event was already received."""
    stored = await record_deliveries(session, [(shop_id, webhook)])
    return stored.get((shop_id, webhook.event_id))


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        DELIVERIES.c.status == DeliveryStatus.PENDING,
        (DELIVERIES.c.status == DeliveryStatus.PROCESSING) & (DELIVERIES.c.claimed_until < now),
    )


def new_holder() -> str:
    """A claim's holder: one per processing run, so renewing touches only that run's claims."""
    return secrets.token_hex(8)


async def claim_deliveries(
    session: AsyncSession,
    delivery_ids: Sequence[int],
    *,
    holder: str,
    lease_seconds: float = LEASE_SECONDS,
) -> list[tuple[int, str]]:
    """Claim what is still to do among these deliveries: ``(id, topic)`` of each one ``holder`` now holds.

    Done ones, ones failed for good and ones another worker holds are left out, so no delivery is
    processed twice at once.
    """
    if not delivery_ids:
        return []
    now = utcnow()
    result = await session.execute(
        DELIVERIES.update()
        .where(DELIVERIES.c.id.in_(delivery_ids), _claimable(now))
        .values(
            status=DeliveryStatus.PROCESSING,
            attempts=DELIVERIES.c.attempts + 1,
            claimed_by=holder,
            claimed_until=now + timedelta(seconds=lease_seconds),
        )
        .returning(DELIVERIES.c.id, DELIVERIES.c.topic)
    )
    return sorted((row.id, row.topic) for row in result)


async def renew_claims(session: AsyncSession, *, holder: str, lease_seconds: float = LEASE_SECONDS) -> int:
    """Extend the lease of every delivery ``holder`` still holds; how many it holds."""
    result = await session.execute(
        DELIVERIES.update()
        .where(DELIVERIES.c.claimed_by == holder, DELIVERIES.c.status == DeliveryStatus.PROCESSING)
        .values(claimed_until=utcnow() + timedelta(seconds=lease_seconds))
    )
    return affected_rows(result)


@asynccontextmanager
async def claims_renewed(
    sessions: SessionFactory, *, holder: str, lease_seconds: float = LEASE_SECONDS
) -> AsyncIterator[None]:
    """Renew ``holder``'s claims in the background while the block runs (the work inside may take far
    longer than a lease: reads from Shopify, a throttled bucket)."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease_seconds / RENEWALS_PER_LEASE)
            try:
                async with transaction(sessions) as session:
                    await renew_claims(session, holder=holder, lease_seconds=lease_seconds)
            except SQLAlchemyError as error:
                # the next renewal may succeed; a lease lost meanwhile only lets a delivery run twice,
                # which every handler allows
                logger.warning("webhook claims not renewed error=%s", type(error).__name__)

    renewer = asyncio.create_task(renew(), name="webhook-claims-renewal")
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer


async def finish_deliveries(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    """Mark processed; the bodies (which may hold personal data) are dropped, the rows kept for dedupe."""
    if not delivery_ids:
        return
    await session.execute(
        DELIVERIES.update()
        .where(DELIVERIES.c.id.in_(delivery_ids))
        .values(
            status=DeliveryStatus.DONE,
            processed_at=utcnow(),
            claimed_by=None,
            claimed_until=None,
            body=None,
            last_error=None,
        )
    )


async def fail_delivery(session: AsyncSession, delivery_id: int, error: str, *, final: bool = False) -> bool:
    """Record a failed attempt; True when it will be retried, False when it has failed for good."""
    delivery = await session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return False
    delivery.last_error = error[:MAX_ERROR_LENGTH]
    delivery.claimed_by = None
    delivery.claimed_until = None
    retry = not final and delivery.attempts < MAX_ATTEMPTS
    delivery.status = DeliveryStatus.PENDING if retry else DeliveryStatus.FAILED
    if not retry:
        delivery.body = None
    session.add(delivery)
    return retry


async def unfinished_delivery_ids(
    session: AsyncSession, *, older_than_seconds: float = 10.0, limit: int = 1000
) -> list[int]:
    """Deliveries to (re)start: pending ones left waiting, and claims that outlived their worker."""
    now = utcnow()
    waiting_since = now - timedelta(seconds=older_than_seconds)
    result = await session.execute(
        select(col(WebhookDelivery.id))
        .where(
            _claimable(now),
            (col(WebhookDelivery.status) != DeliveryStatus.PENDING)
            | (col(WebhookDelivery.received_at) < waiting_since),
        )
        .order_by(col(WebhookDelivery.id))
        .limit(limit)
    )
    return [delivery_id for delivery_id in result.scalars().all() if delivery_id is not None]

"""The webhook inbox: deliveries are stored before Shopify gets its 200 and claimed for processing later.

Each delivery is keyed by (shop, event id), so a duplicate is refused by the database itself; processing
claims a row with a compare-and-set UPDATE, so two workers never run one delivery at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.database import affected_rows
from shop_app.models import DeliveryStatus, WebhookDelivery
from shop_app.models.base import utcnow

CLAIM_SECONDS = 300
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


async def record_delivery(session: AsyncSession, *, shop_id: int, webhook: IncomingWebhook) -> int | None:
    """Store the delivery; its id, or None when this event was already received."""
    values = {
        "shop_id": shop_id,
        "topic": webhook.topic,
        "event_id": webhook.event_id,
        "webhook_id": webhook.webhook_id,
        "api_version": webhook.api_version,
        "triggered_at": webhook.triggered_at,
        "received_at": utcnow(),
        "body": webhook.body,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
    }
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(WebhookDelivery)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["shop_id", "event_id"])
        .returning(col(WebhookDelivery.id))
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def claim_delivery(session: AsyncSession, delivery_id: int) -> WebhookDelivery | None:
    """The delivery, now claimed by the caller; None if done, failed for good, or claimed elsewhere."""
    now = utcnow()
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            or_(
                col(WebhookDelivery.status) == DeliveryStatus.PENDING,
                (col(WebhookDelivery.status) == DeliveryStatus.PROCESSING)
                & (col(WebhookDelivery.claimed_until) < now),
            ),
        )
        .values(
            status=DeliveryStatus.PROCESSING,
            attempts=col(WebhookDelivery.attempts) + 1,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
        )
    )
    if affected_rows(result) != 1:
        return None
    return await session.get(WebhookDelivery, delivery_id, populate_existing=True)


async def finish_delivery(session: AsyncSession, delivery: WebhookDelivery) -> None:
    delivery.status = DeliveryStatus.DONE
    delivery.processed_at = utcnow()
    delivery.claimed_until = None
    delivery.body = None
    delivery.last_error = None
    session.add(delivery)


async def fail_delivery(session: AsyncSession, delivery_id: int, error: str, *, final: bool = False) -> bool:
    """Record a failed attempt; True when it will be retried, False when it has failed for good."""
    delivery = await session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return False
    delivery.last_error = error[:MAX_ERROR_LENGTH]
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
    waiting_since = utcnow() - timedelta(seconds=older_than_seconds)
    result = await session.execute(
        select(col(WebhookDelivery.id))
        .where(
            or_(
                (col(WebhookDelivery.status) == DeliveryStatus.PENDING)
                & (col(WebhookDelivery.received_at) < waiting_since),
                (col(WebhookDelivery.status) == DeliveryStatus.PROCESSING)
                & (col(WebhookDelivery.claimed_until) < utcnow()),
            )
        )
        .order_by(col(WebhookDelivery.id))
        .limit(limit)
    )
    return [row for row in result.scalars().all() if row is not None]

"""The outbox's rows: recorded with their message, claimed by one sender at a time, marked as they go.

Claims are leases (``claimed_until``): a sender that dies mid-send leaves its row to be taken again once
the lease has passed, so a message is never lost; a platform that took the message but whose answer never
came may see it twice, which each sender limits with the platform's own idempotency key where it has one
(LINE's ``X-Line-Retry-Key``, the email's ``Message-ID``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.models import AuthorType, Channel, Message, OutboxMessage, OutboxStatus, Ticket
from shop_app.models.base import utcnow

OUTBOUND_CHANNELS = frozenset({Channel.LINE, Channel.EMAIL, Channel.CHATWOOT, Channel.ZENDESK})
OUTBOUND_AUTHORS = frozenset({AuthorType.AGENT, AuthorType.BOT})
LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 5.0
LONGEST_RETRY_SECONDS = 3600.0  # ten attempts span about three hours


def retry_delay(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from five seconds, at most an hour."""
    return min(FIRST_RETRY_SECONDS * 2.0 ** max(0, attempts - 1), LONGEST_RETRY_SECONDS)


def leaves_by_channel(ticket: Ticket, author_type: AuthorType) -> bool:
    return ticket.channel in OUTBOUND_CHANNELS and author_type in OUTBOUND_AUTHORS


async def record(
    session: AsyncSession, *, ticket: Ticket, message: Message, payload: dict[str, Any] | None = None
) -> OutboxMessage:
    assert ticket.id is not None
    assert message.id is not None
    item = OutboxMessage(
        shop_id=ticket.shop_id,
        ticket_id=ticket.id,
        message_id=message.id,
        channel=ticket.channel,
        payload=dict(payload or {}),
        next_attempt_at=message.created_at,
    )
    session.add(item)
    await session.flush()
    return item


async def for_messages(session: AsyncSession, message_ids: Iterable[int]) -> list[OutboxMessage]:
    ids = list(message_ids)
    if not ids:
        return []
    rows = await session.execute(select(OutboxMessage).where(col(OutboxMessage.message_id).in_(ids)))
    return list(rows.scalars())


async def delivery_states(session: AsyncSession, message_ids: Iterable[int]) -> dict[int, OutboxStatus]:
    """Each message's delivery state, for those that leave by a channel (others are absent)."""
    ids = list(message_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(col(OutboxMessage.message_id), col(OutboxMessage.status)).where(
            col(OutboxMessage.message_id).in_(ids)
        )
    )
    return {message_id: OutboxStatus(status) for message_id, status in rows}


async def due_ids(session: AsyncSession, *, now: datetime | None = None, limit: int = 100) -> list[int]:
    now = now or utcnow()
    rows = await session.execute(
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
            or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    return [outbox_id for outbox_id in rows.scalars() if outbox_id is not None]


async def claim(
    session: AsyncSession, outbox_ids: Iterable[int], *, now: datetime | None = None
) -> list[OutboxMessage]:
    """Take the rows among ``outbox_ids`` that are due and not held by another sender, for a lease. Two
    senders claiming the same row concurrently: the second's conditions no longer hold once the first's
    update committed, so it gets nothing."""
    ids = list(outbox_ids)
    if not ids:
        return []
    now = now or utcnow()
    claimed = await session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(ids),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
            or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
        )
        .values(
            claimed_until=now + timedelta(seconds=LEASE_SECONDS), attempts=col(OutboxMessage.attempts) + 1
        )
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    )
    claimed_ids = list(claimed.scalars())
    if not claimed_ids:
        return []
    rows = await session.execute(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(claimed_ids))
        .order_by(col(OutboxMessage.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


def hold(item: OutboxMessage, *, now: datetime | None = None) -> None:
    """Claim a row this very transaction recorded (nobody else can hold it yet), as ``claim`` would: its
    sender sends it once committed, without another round trip to take it."""
    item.claimed_until = (now or utcnow()) + timedelta(seconds=LEASE_SECONDS)
    item.attempts += 1


async def mark_sent(
    session: AsyncSession, item: OutboxMessage, *, external_id: str | None, now: datetime | None = None
) -> None:
    item.status = OutboxStatus.SENT
    item.external_id = external_id
    item.sent_at = now or utcnow()
    item.claimed_until = None
    item.last_error = None
    session.add(item)
    await session.flush()


async def mark_retry(
    session: AsyncSession,
    item: OutboxMessage,
    *,
    error: str,
    after_seconds: float | None = None,
    now: datetime | None = None,
) -> OutboxStatus:
    """Try again later (the platform's Retry-After if it gave one), or give up after the last attempt."""
    if item.attempts >= MAX_ATTEMPTS:
        return await mark_failed(session, item, error=error)
    delay = after_seconds if after_seconds is not None else retry_delay(item.attempts)
    item.next_attempt_at = (now or utcnow()) + timedelta(seconds=delay)
    item.claimed_until = None
    item.last_error = error[:100]
    session.add(item)
    await session.flush()
    return OutboxStatus.PENDING


async def mark_failed(session: AsyncSession, item: OutboxMessage, *, error: str) -> OutboxStatus:
    item.status = OutboxStatus.FAILED
    item.claimed_until = None
    item.last_error = error[:100]
    session.add(item)
    await session.flush()
    return OutboxStatus.FAILED

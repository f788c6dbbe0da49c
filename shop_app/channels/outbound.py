"""Sending what the outbox holds, by each ticket's channel.

Each channel registers one sender (``register_sender``); ``deliver`` claims due rows, hands each to its
channel's sender outside any transaction, and records what happened. A sender answers ``Sent``,
``RetryAfter`` (the platform or relay is busy or down: the row stays pending, tried again later) or
``GaveUp`` (it can never be sent as it is: the console says so). A sender that raises is retried like one
that answered ``RetryAfter``; only the exception's type is logged, never the message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from shop_app.database import transaction
from shop_app.helpdesk import outbox
from shop_app.live_events import EventKind, LiveEvent
from shop_app.models import Channel, Message, OutboxMessage, OutboxStatus, Ticket
from shop_app.observability.metrics import record_channel_delivery
from shop_app.runtime import Services

logger = logging.getLogger(__name__)
_DELIVERY_OUTCOMES = {OutboxStatus.SENT: "sent", OutboxStatus.PENDING: "retrying"}


@dataclass(frozen=True, slots=True)
class Sent:
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class RetryAfter:
    error: str
    seconds: float | None = None  # the platform's own Retry-After; None: the outbox's backoff


@dataclass(frozen=True, slots=True)
class GaveUp:
    error: str


SendResult = Sent | RetryAfter | GaveUp
Sender = Callable[[Services, OutboxMessage, Message, Ticket], Awaitable[SendResult]]

_SENDERS: dict[Channel, Sender] = {}


def register_sender(channel: Channel, sender: Sender) -> None:
    _SENDERS[channel] = sender


def sender_for(channel: Channel) -> Sender | None:
    return _SENDERS.get(channel)


@dataclass(slots=True)
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


async def deliver(
    services: Services, outbox_ids: Iterable[int] | None = None, *, limit: int = 100
) -> DeliveryReport:
    """Send the given rows (or every due one, at most ``limit``) that no other sender holds."""
    async with transaction(services.sessions) as session:
        ids = list(outbox_ids) if outbox_ids is not None else await outbox.due_ids(session, limit=limit)
        items = await outbox.claim(session, ids)
    report = DeliveryReport()
    for item in items:
        await _deliver_one(services, item, report)
    return report


async def _deliver_one(services: Services, item: OutboxMessage, report: DeliveryReport) -> None:
    assert item.id is not None
    async with services.sessions() as session:
        message = await session.get(Message, item.message_id)
        ticket = await session.get(Ticket, item.ticket_id)
    sender = sender_for(item.channel)
    result: SendResult
    if message is None or ticket is None:
        result = GaveUp("message_gone")
    elif sender is None:
        result = RetryAfter("no_sender")
    else:
        try:
            result = await sender(services, item, message, ticket)
        except Exception as error:  # a sender's bug or outage must not lose the message
            logger.warning(
                "outbox sender failed outbox_id=%s channel=%s error=%s",
                item.id,
                item.channel,
                type(error).__name__,
            )
            result = RetryAfter(f"error_{type(error).__name__}"[:100])
    await record_results(services, [(item, result)], report)


async def record_results(
    services: Services,
    results: Iterable[tuple[OutboxMessage, SendResult]],
    report: DeliveryReport | None = None,
) -> DeliveryReport:
    """What happened to claimed rows, in one transaction; then the console hears of it. A channel that sends
    rows it claimed itself (LINE's bot answers, held in the transaction that wrote them) records here too."""
    report = report if report is not None else DeliveryReport()
    states: list[tuple[OutboxMessage, OutboxStatus]] = []
    async with transaction(services.sessions) as session:
        for item, result in results:
            assert item.id is not None
            row = await session.get(OutboxMessage, item.id)
            if row is None:  # the ticket was removed meanwhile
                continue
            match result:
                case Sent(external_id):
                    await outbox.mark_sent(session, row, external_id=external_id)
                    report.sent.append(item.id)
                    state = OutboxStatus.SENT
                case RetryAfter(code, seconds):
                    state = await outbox.mark_retry(session, row, error=code, after_seconds=seconds)
                    (report.retrying if state == OutboxStatus.PENDING else report.failed).append(item.id)
                case GaveUp(code):
                    state = await outbox.mark_failed(session, row, error=code)
                    report.failed.append(item.id)
            states.append((item, state))
    for item, state in states:
        record_channel_delivery(channel=item.channel, outcome=_DELIVERY_OUTCOMES.get(state, "failed"))
        if state != OutboxStatus.PENDING or item.attempts == 1:
            await services.events.publish(
                LiveEvent(
                    shop_id=item.shop_id,
                    kind=EventKind.TICKET_UPDATED,
                    data={"ticket_id": item.ticket_id, "message_id": item.message_id},
                )
            )
    return report

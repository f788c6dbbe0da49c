"""Sending a ticket's message to the LINE user: with the event's reply token while it is valid (LINE: within
a minute of the event), else, or when LINE says the token is used or expired, by push. A push carries a
retry key derived from the message, so a retried delivery (the outbox's, or after a crash) is sent once.
The outcome says what the outbox should do: sent (LINE's request id), retry after a while, or give up."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.line.client import LineClient
from integrations.line.errors import InvalidReplyToken, LineApiError, LineUnauthorized, LineUnavailable
from integrations.line.messages import LineMessage, batches, text_messages
from shop_app.channels.line.cards import reply_messages
from shop_app.channels.line.connections import connection_for_shop, line_client
from shop_app.channels.outbound import GaveUp, RetryAfter, SendResult, Sent, register_sender
from shop_app.models import AuthorType, Channel, LineUser, Message, OutboxMessage, Ticket
from shop_app.models.base import utcnow
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

# LINE accepts a reply token within a minute of the event; the margin covers the call itself.
REPLY_TOKEN_USABLE_SECONDS = 50
RETRY_KEY_NAMESPACE = uuid.UUID("4f7d3c1e-8a51-4c55-9a55-1c0b3f0d2e61")
DEFAULT_RETRY_SECONDS = 30.0
TOKEN_REFUSED_RETRY_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class LineSent:
    request_id: str | None
    by_reply: bool


@dataclass(frozen=True, slots=True)
class LineRetry:
    seconds: float
    error: str


@dataclass(frozen=True, slots=True)
class LineGaveUp:
    error: str


LineSendOutcome = LineSent | LineRetry | LineGaveUp


def outbound_payload(
    *, reply_token: str | None, received_at: datetime | None, messages: list[LineMessage] | None
) -> dict[str, Any]:
    """What a LINE delivery needs beyond the message's text (kept with the message until it is sent)."""
    payload: dict[str, Any] = {}
    if reply_token and received_at is not None:
        payload["reply_token"] = reply_token
        payload["reply_by"] = (received_at + timedelta(seconds=REPLY_TOKEN_USABLE_SECONDS)).isoformat()
    if messages:
        payload["line_messages"] = messages
    return payload


def retry_key(shop_id: int, message_id: int, part: int) -> str:
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, f"{shop_id}:{message_id}:{part}"))


def event_retry_key(shop_id: int, webhook_event_id: str) -> str:
    """For words sent outside a ticket in answer to one event (a greeting, a link offer)."""
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, f"{shop_id}:event:{webhook_event_id}"))


async def line_user_of(session: AsyncSession, *, ticket: Ticket) -> LineUser | None:
    return (
        await session.execute(
            select(LineUser)
            .where(col(LineUser.shop_id) == ticket.shop_id, col(LineUser.contact_id) == ticket.contact_id)
            .order_by(col(LineUser.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def _messages(message: Message, payload: dict[str, Any], language: str | None) -> list[LineMessage]:
    stored = payload.get("line_messages")
    if isinstance(stored, list) and stored:
        return stored
    if message.author_type == AuthorType.BOT:
        return reply_messages(message.body, language=language)
    return text_messages(message.body)


def _reply_usable(payload: dict[str, Any], now: datetime) -> str | None:
    token = payload.get("reply_token")
    reply_by = payload.get("reply_by")
    if not isinstance(token, str) or not isinstance(reply_by, str):
        return None
    try:
        usable = now < datetime.fromisoformat(reply_by)
    except ValueError:
        return None
    return token if usable else None


async def send_ticket_message(
    services: Services, *, ticket: Ticket, message: Message, payload: dict[str, Any] | None
) -> LineSendOutcome:
    payload = payload or {}
    assert message.id is not None
    async with services.sessions() as session:
        connection = await connection_for_shop(session, shop_id=ticket.shop_id)
        user = await line_user_of(session, ticket=ticket)
    if connection is None or not connection.enabled:
        return LineGaveUp("line_not_connected")
    if user is None:
        return LineGaveUp("line_user_unknown")
    return await send_payload(
        line_client(services, connection),
        shop_id=ticket.shop_id,
        message_id=message.id,
        to=user.line_user_id,
        messages=_messages(message, payload, user.language),
        payload=payload,
    )


async def send_payload(
    client: LineClient,
    *,
    shop_id: int,
    message_id: int,
    to: str,
    messages: list[LineMessage],
    payload: dict[str, Any],
) -> LineSendOutcome:
    """A ticket's message to its LINE user, by reply while the payload's token is usable, in calls of five,
    each push with a retry key of its own."""
    parts = batches(messages)
    return await send_parts(
        client,
        to=to,
        parts=parts,
        reply_token=_reply_usable(payload, utcnow()),
        keys=[retry_key(shop_id, message_id, i) for i in range(len(parts))],
    )


async def send_held(client: LineClient, item: OutboxMessage, *, to: str) -> SendResult:
    """An outbox row the bot's transaction wrote and held (its payload carries the LINE messages): sent
    with what the caller already knows, no database read."""
    payload = dict(item.payload or {})
    stored = payload.get("line_messages")
    messages: list[LineMessage] = stored if isinstance(stored, list) else []
    outcome = await send_payload(
        client, shop_id=item.shop_id, message_id=item.message_id, to=to, messages=messages, payload=payload
    )
    return send_result(outcome)


async def send_parts(
    client: LineClient, *, to: str, parts: list[list[LineMessage]], reply_token: str | None, keys: list[str]
) -> LineSendOutcome:
    """The first call by reply when the token is usable, the rest (or all) by push."""
    request_id: str | None = None
    by_reply = False
    try:
        start = 0
        if reply_token is not None and parts:
            try:
                request_id = (await client.reply(reply_token, parts[0])).request_id
                by_reply = True
                start = 1
            except InvalidReplyToken:
                logger.info("line reply token no longer valid: pushing instead")
        for index in range(start, len(parts)):
            request_id = (await client.push(to, parts[index], retry_key=keys[index])).request_id
    except LineUnavailable as error:
        return LineRetry(error.retry_after_seconds or DEFAULT_RETRY_SECONDS, f"line_{error.status_code}")
    except LineUnauthorized as error:
        # the merchant may replace the token in the admin: worth trying again later, not at once
        return LineRetry(TOKEN_REFUSED_RETRY_SECONDS, f"line_{error.status_code}")
    except LineApiError as error:
        return LineGaveUp(f"line_{error.status_code}")
    return LineSent(request_id, by_reply)


async def send_line(services: Services, item: OutboxMessage, message: Message, ticket: Ticket) -> SendResult:
    """The outbox's sender for LINE: the bot's answers (by reply token while valid) and agents' replies."""
    outcome = await send_ticket_message(
        services, ticket=ticket, message=message, payload=dict(item.payload or {})
    )
    return send_result(outcome)


def send_result(outcome: LineSendOutcome) -> SendResult:
    """LINE's outcome in the outbox's words."""
    match outcome:
        case LineSent(request_id, _):
            return Sent(request_id)
        case LineRetry(seconds, error):
            return RetryAfter(error, seconds)
        case LineGaveUp(error):
            return GaveUp(error)


register_sender(Channel.LINE, send_line)

"""Replies out by email, through the shop's own relay (aiosmtplib): a letter in the conversation's
language, from the shop's name at its support address, answering to the ticket's reply address, threaded
under the shopper's last message.

A message's Message-ID is chosen once, stored before the first try, and reused on every retry, so a
reply the relay took but whose answer was lost reaches the shopper's mailbox as the same message. The
outcome is one of ``Delivered``, ``TryLater`` (relay down, 4xx, no relay set yet) or ``Refused`` (5xx:
trying again would not help); ``send_email``, the outbox's sender for ``Channel.EMAIL``, turns them
into the outbox's ``Sent``/``RetryAfter``/``GaveUp``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.mail.composing import Outbound, compose, new_message_id, reply_subject
from shop_app.answers.understanding.languages import reply_language
from shop_app.channels.email.addresses import Relay, relay_of, reply_address
from shop_app.channels.email.letters import letter
from shop_app.channels.outbound import GaveUp, RetryAfter, SendResult, Sent
from shop_app.database import transaction
from shop_app.i18n import catalogue, first_supported
from shop_app.models import (
    AuthorType,
    BotDecision,
    Contact,
    MailDirection,
    MailMessageId,
    MailSettings,
    MailThread,
    Message,
    OutboxMessage,
    Shop,
    Ticket,
)
from shop_app.models.base import utcnow
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

RELAY_TIMEOUT_SECONDS = 30.0
NOT_CONFIGURED_RETRY_SECONDS = 300.0
MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class Delivered:
    message_id: str


@dataclass(frozen=True, slots=True)
class TryLater:
    error: str
    after_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    error: str


Outcome = Delivered | TryLater | Refused


async def send_email(services: Services, item: OutboxMessage, message: Message, ticket: Ticket) -> SendResult:
    """The outbox's sender for email."""
    assert ticket.id is not None
    assert message.id is not None
    match await send_reply(services, ticket_id=ticket.id, message_id=message.id):
        case Delivered(message_id):
            return Sent(external_id=message_id)
        case TryLater(error, after_seconds):
            return RetryAfter(error, after_seconds)
        case Refused(error):
            return GaveUp(error)


async def send_reply(services: Services, *, ticket_id: int, message_id: int) -> Outcome:
    async with transaction(services.sessions) as session:
        ticket = await session.get(Ticket, ticket_id)
        message = await session.get(Message, message_id)
        if ticket is None or message is None or message.ticket_id != ticket.id:
            return Refused("message_gone")
        if message.author_type not in (AuthorType.AGENT, AuthorType.BOT):
            return Refused("not_a_reply")
        shop = await session.get_one(Shop, ticket.shop_id)
        settings = await session.get(MailSettings, ticket.shop_id)
        contact = await session.get_one(Contact, ticket.contact_id)
        thread = await session.get(MailThread, ticket.id)
        if settings is None or contact.email is None:
            return Refused("no_address")
        relay = relay_of(settings, services.cipher)
        if relay is None:
            return TryLater("smtp_not_configured", NOT_CONFIGURED_RETRY_SECONDS)
        ids = list(
            (
                await session.execute(
                    select(MailMessageId)
                    .where(col(MailMessageId.shop_id) == shop.id, col(MailMessageId.ticket_id) == ticket.id)
                    .order_by(col(MailMessageId.id))
                )
            ).scalars()
        )
        own = next((row for row in ids if row.message_id == message.id), None)
        if own is None:
            own = MailMessageId(
                shop_id=ticket.shop_id,
                ticket_id=ticket_id,
                message_id=message_id,
                rfc_message_id=new_message_id(settings.support_address.partition("@")[2]),
                direction=MailDirection.OUTBOUND,
            )
            session.add(own)
        earlier = [row for row in ids if row.id is not None and (own.id is None or row.id < own.id)]
        inbound = [row for row in earlier if row.direction == MailDirection.INBOUND]
        language = await _language(session, ticket=ticket, message=message, shop=shop, contact=contact)
        outbound = Outbound(
            from_name=shop.name or settings.support_address,
            from_address=settings.support_address,
            reply_to=reply_address(settings.support_address, thread.reply_token)
            if thread
            else settings.support_address,
            to_address=contact.email,
            to_name=contact.name,
            subject=reply_subject(
                ticket.subject or catalogue(first_supported(language)).text("email.subject_fallback")
            ),
            text=letter(
                language=language, customer_name=contact.name, body=message.body, shop_name=shop.name
            ),
            in_reply_to=inbound[-1].rfc_message_id if inbound else None,
            references=[row.rfc_message_id for row in earlier][-MAX_REFERENCES:],
            automatic=message.author_type == AuthorType.BOT,
            sent_at=utcnow(),
        )
        rfc_message_id = own.rfc_message_id
    email = compose(outbound, message_id=rfc_message_id)
    try:
        await aiosmtplib.send(
            email,
            hostname=relay.host,
            port=relay.port,
            start_tls=relay.starttls,
            username=relay.username,
            password=relay.password,
            timeout=RELAY_TIMEOUT_SECONDS,
        )
    except aiosmtplib.SMTPAuthenticationError:
        logger.warning("mail relay refused the credentials shop_id=%s", ticket.shop_id)
        return TryLater("smtp_auth")
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [r.code for r in error.recipients]
        return (
            TryLater("smtp_4xx") if all(400 <= c < 500 for c in codes) else Refused("smtp_recipient_refused")
        )
    except aiosmtplib.SMTPResponseException as error:
        if 400 <= error.code < 500:
            return TryLater("smtp_4xx")
        return Refused(f"smtp_{error.code}")
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        return TryLater("smtp_unavailable")
    logger.info("mail sent shop_id=%s ticket_id=%s message_id=%s", ticket.shop_id, ticket_id, message_id)
    return Delivered(rfc_message_id)


async def _language(
    session: AsyncSession, *, ticket: Ticket, message: Message, shop: Shop, contact: Contact
) -> str:
    """The bot's reply in the language it chose; an agent's in the conversation's."""
    chosen = (
        await session.execute(
            select(col(BotDecision.language)).where(col(BotDecision.reply_message_id) == message.id).limit(1)
        )
    ).scalar()
    if chosen:
        return str(chosen)
    said = list(
        (
            await session.execute(
                select(col(Message.body))
                .where(col(Message.ticket_id) == ticket.id, col(Message.author_type) == AuthorType.CUSTOMER)
                .order_by(col(Message.id).desc())
                .limit(5)
            )
        ).scalars()
    )
    if not said:
        return first_supported(contact.locale, shop.primary_locale)
    return reply_language(
        said[0], earlier=list(reversed(said[1:])), fallbacks=[contact.locale, shop.primary_locale]
    )


async def check_relay(relay: Relay) -> str | None:
    """Connect, greet, STARTTLS if asked, sign in and quit, sending nothing: ``None`` when all of it
    worked, else what failed (``smtp_unavailable``, ``smtp_starttls``, ``smtp_auth``)."""
    client = aiosmtplib.SMTP(
        hostname=relay.host, port=relay.port, start_tls=relay.starttls, timeout=RELAY_TIMEOUT_SECONDS
    )
    try:
        await client.connect()
    except aiosmtplib.SMTPException as error:
        return (
            "smtp_starttls"
            if "STARTTLS" in str(error) or "TLS" in type(error).__name__
            else "smtp_unavailable"
        )
    except (OSError, TimeoutError):
        return "smtp_unavailable"
    try:
        if relay.username:
            await client.login(relay.username, relay.password or "")
    except aiosmtplib.SMTPAuthenticationError:
        return "smtp_auth"
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        return "smtp_unavailable"
    finally:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()
    return None

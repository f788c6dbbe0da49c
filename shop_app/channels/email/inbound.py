"""Mail in: a parsed message for a shop becomes a customer message on a ticket.

A reply lands on its ticket by its reply address, or by ``In-Reply-To``/``References`` naming a message of
the shop's ticket when it comes from that ticket's contact (a Message-ID alone is no secret: the shopper's
own ids travel through every server on the way). Anything else opens a ticket. Machine-sent mail (auto
replies, bounces, lists) is dropped before anything is stored, so it never opens a ticket or reaches the
bot. The same Message-ID twice (a sender's retry) is stored once. Attachments are files in the data dir
under random names; the message lists them by name."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.mail.automatic import Automatic
from integrations.mail.parsing import ParsedMail
from integrations.mail.replies import new_text
from shop_app.answers import Trust, answer_message
from shop_app.answers.self_service import SelfServiceRequest
from shop_app.channels.email.addresses import Route, new_reply_token
from shop_app.formats.emails import normalise_email
from shop_app.helpdesk.contacts import unvouched_contact
from shop_app.helpdesk.tickets import open_ticket, post_message
from shop_app.i18n import catalogue, first_supported
from shop_app.models import (
    AuthorType,
    Channel,
    Contact,
    MailAttachment,
    MailDirection,
    MailMessageId,
    MailThread,
    Message,
    Shop,
    Ticket,
)
from shop_app.models.base import utcnow
from shop_app.models.helpdesk import MAX_MESSAGE_CHARS, MAX_SUBJECT_CHARS
from shop_app.notices.links import NoticeLinks

logger = logging.getLogger(__name__)

ATTACHMENT_DIR = "mail-attachments"


@dataclass(frozen=True, slots=True)
class Received:
    ticket: Ticket | None
    message: Message | None
    opened: bool = False
    dropped: Automatic | None = None  # machine-sent: nothing stored
    duplicate: bool = False


async def receive_mail(session: AsyncSession, *, route: Route, mail: ParsedMail, data_dir: Path) -> Received:
    if mail.automatic is not None:
        logger.info("mail dropped shop_id=%s kind=%s", route.shop_id, mail.automatic)
        return Received(None, None, dropped=mail.automatic)
    shop = await session.get(Shop, route.shop_id)
    if shop is None or not shop.is_active:
        return Received(None, None)
    if mail.message_id and await _known(session, shop_id=route.shop_id, rfc_message_id=mail.message_id):
        return Received(None, None, duplicate=True)
    sender = normalise_email(mail.sender)
    ticket = await _thread_ticket(session, route=route, mail=mail, sender=sender)
    body = _body(mail, shop=shop)
    opened = ticket is None
    if ticket is None:
        contact = await _sender_contact(session, shop=shop, email=sender, name=mail.sender_name)
        ticket, message = await open_ticket(
            session,
            shop=shop,
            contact=contact,
            channel=Channel.EMAIL,
            subject=mail.subject[:MAX_SUBJECT_CHARS],
            first_message=body,
        )
        session.add(
            MailThread(ticket_id=_id(ticket.id), shop_id=route.shop_id, reply_token=new_reply_token())
        )
    else:
        message = await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=body)
    session.add(
        MailMessageId(
            shop_id=route.shop_id,
            ticket_id=_id(ticket.id),
            message_id=_id(message.id),
            rfc_message_id=(mail.message_id or f"no-id-{secrets.token_hex(12)}")[:255],
            direction=MailDirection.INBOUND,
        )
    )
    _store_attachments(session, mail=mail, ticket=ticket, message=message, data_dir=data_dir)
    await session.flush()
    return Received(ticket, message, opened=opened)


async def answer_mail(
    session: AsyncSession, *, ticket: Ticket, message: Message, sender: str, links: NoticeLinks | None = None
) -> MailAnswer:
    """The bot's turn, as in chat: the same engine and verification. The From address proves nothing,
    so trust is that of an anonymous visitor; attempts are counted per sender (by a digest). Returns the
    ids of the bot's reply and of the agents' note, when it posted them."""
    shop = await session.get_one(Shop, ticket.shop_id)
    trust = Trust(
        storefront_customer_id=None,
        trusted_caller=False,
        source="mail:" + hashlib.sha256(sender.lower().encode()).hexdigest()[:32],
    )
    decision = await answer_message(
        session, shop=shop, ticket=ticket, message=message, trust=trust, links=links
    )
    return MailAnswer(decision.reply_message_id, decision.note_message_id, decision.self_service)


class MailAnswer(NamedTuple):
    """The ids of the bot's reply and of the agents' note, when it posted them, and the self-service step
    to run once committed (a typed yes counts: mail has no buttons)."""

    reply_id: int | None
    note_id: int | None
    self_service: SelfServiceRequest | None = None


def _id(value: int | None) -> int:
    assert value is not None, "row not flushed"
    return value


async def _known(session: AsyncSession, *, shop_id: int, rfc_message_id: str) -> bool:
    found = await session.execute(
        select(col(MailMessageId.id)).where(
            col(MailMessageId.shop_id) == shop_id, col(MailMessageId.rfc_message_id) == rfc_message_id[:255]
        )
    )
    return found.first() is not None


async def _thread_ticket(
    session: AsyncSession, *, route: Route, mail: ParsedMail, sender: str | None
) -> Ticket | None:
    if route.ticket_id is not None:
        ticket = await session.get(Ticket, route.ticket_id)
        return ticket if ticket is not None and ticket.shop_id == route.shop_id else None
    ids = [i[:255] for i in (*mail.in_reply_to, *mail.references)]
    if not ids or sender is None:
        return None
    rows = await session.execute(
        select(Ticket, Contact)
        .join(MailMessageId, col(MailMessageId.ticket_id) == col(Ticket.id))
        .join(Contact, col(Contact.id) == col(Ticket.contact_id))
        .where(
            col(MailMessageId.shop_id) == route.shop_id,
            col(Ticket.shop_id) == route.shop_id,
            col(MailMessageId.rfc_message_id).in_(ids),
        )
        .order_by(col(MailMessageId.id).desc())
    )
    for ticket, contact in rows:
        if contact.email == sender:
            return ticket
    return None


async def _sender_contact(
    session: AsyncSession, *, shop: Shop, email: str | None, name: str | None
) -> Contact:
    """The sender's contact. The From address is a claim: it never joins a contact that a storefront
    signature vouched for."""
    contact = await unvouched_contact(session, shop_id=_id(shop.id), email=email)
    contact.name = contact.name or (name[:255] if name else None)
    contact.updated_at = utcnow()
    await session.flush()
    return contact


def _body(mail: ParsedMail, *, shop: Shop) -> str:
    words = catalogue(first_supported(shop.primary_locale))
    text = new_text(mail.text) if mail.text else ""
    lines = [text] if text else []
    lines += [words.text("email.attachment", name=a.filename) for a in mail.attachments]
    if mail.skipped_attachments:
        lines.append(words.text("email.attachments_skipped", count=mail.skipped_attachments))
    body = "\n".join(lines).strip() or words.text("email.empty")
    return body[:MAX_MESSAGE_CHARS]


def _store_attachments(
    session: AsyncSession, *, mail: ParsedMail, ticket: Ticket, message: Message, data_dir: Path
) -> None:
    if not mail.attachments:
        return
    folder = data_dir / ATTACHMENT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for attachment in mail.attachments:
        stored_name = secrets.token_hex(16)
        (folder / stored_name).write_bytes(attachment.data)
        session.add(
            MailAttachment(
                shop_id=ticket.shop_id,
                ticket_id=_id(ticket.id),
                message_id=_id(message.id),
                filename=attachment.filename[:120],
                content_type=attachment.content_type[:127],
                size_bytes=len(attachment.data),
                stored_name=stored_name,
            )
        )


async def forget_unlisted_attachments(
    session: AsyncSession, *, data_dir: Path, older_than_seconds: float = 3600.0
) -> int:
    """Delete attachment files no row lists any more (their conversation or shop was erased, or the
    message that brought them was never committed). Files younger than ``older_than_seconds`` are left:
    their message may still be committing."""
    folder = data_dir / ATTACHMENT_DIR
    if not folder.is_dir():
        return 0
    cutoff = utcnow().timestamp() - older_than_seconds
    candidates = [path for path in folder.iterdir() if path.is_file() and path.stat().st_mtime < cutoff]
    if not candidates:
        return 0
    listed: set[str] = set()
    names = [path.name for path in candidates]
    for start in range(0, len(names), 500):
        rows = await session.execute(
            select(col(MailAttachment.stored_name)).where(
                col(MailAttachment.stored_name).in_(names[start : start + 500])
            )
        )
        listed.update(rows.scalars())
    removed = 0
    for path in candidates:
        if path.name not in listed:
            path.unlink(missing_ok=True)
            removed += 1
    return removed

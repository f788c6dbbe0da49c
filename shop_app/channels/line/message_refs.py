"""LINE's ids of the messages its users sent, beside ours: which picture, video, audio or file a message
holds (an agent opens it through ``/line/content/{id}``; its bytes stay at LINE), and what an ``unsend``
event names. LINE asks that a message its user unsent be no longer shown: its text is replaced by a line
saying it was unsent, and a picture's link goes. An ``unsend`` applied before the message it names (LINE
delivers them in separate requests) leaves a row that makes the message arrive already unsent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.ticket_subjects import ticket_subject
from shop_app.models import LineMessageRef, Message, Ticket
from shop_app.models.base import utcnow


@dataclass(frozen=True, slots=True)
class LineMedia:
    """A picture (or video, audio, file) a LINE user sent, held by one of our messages."""

    message_id: int
    line_message_id: str
    kind: str


async def _ref(session: AsyncSession, *, shop_id: int, line_message_id: str) -> LineMessageRef | None:
    return (
        await session.execute(
            select(LineMessageRef).where(
                col(LineMessageRef.shop_id) == shop_id,
                col(LineMessageRef.line_message_id) == line_message_id,
            )
        )
    ).scalar_one_or_none()


async def prior_ref(session: AsyncSession, *, shop_id: int, line_message_id: str) -> LineMessageRef | None:
    """What was known of LINE's message before it arrived: an ``unsend`` applied before the message itself
    left a row whose ``unsent_at`` is set."""
    return await _ref(session, shop_id=shop_id, line_message_id=line_message_id)


async def remember(
    session: AsyncSession,
    *,
    shop_id: int,
    line_message_id: str,
    message_id: int,
    prior: LineMessageRef | None,
    kind: str | None = None,
) -> None:
    """Which of our messages holds LINE's message (and, for media, its kind); ``prior`` is what
    ``prior_ref`` found in this transaction."""
    ref = prior
    if ref is None:
        session.add(
            LineMessageRef(
                shop_id=shop_id, line_message_id=line_message_id, message_id=message_id, content_kind=kind
            )
        )
    else:
        ref.message_id = message_id
        ref.content_kind = None if ref.unsent_at is not None else kind
    await session.flush()


async def unsend(
    session: AsyncSession, *, shop_id: int, line_message_id: str, placeholder: str
) -> Message | None:
    """Blank the message LINE's user unsent, and its ticket's subject when that was read from it; the
    message changed, or None when it has not arrived (it will arrive unsent) or was unsent already."""
    ref = await _ref(session, shop_id=shop_id, line_message_id=line_message_id)
    if ref is None:
        session.add(LineMessageRef(shop_id=shop_id, line_message_id=line_message_id, unsent_at=utcnow()))
        await session.flush()
        return None
    if ref.unsent_at is not None:
        return None
    ref.unsent_at = utcnow()
    ref.content_kind = None
    if ref.message_id is None:
        return None
    message = await session.get(Message, ref.message_id)
    if message is None or message.shop_id != shop_id:
        return None
    ticket = await session.get(Ticket, message.ticket_id)
    if ticket is not None and ticket.subject == ticket_subject(message.body):
        ticket.subject = ticket_subject(placeholder)
    message.body = placeholder
    await session.flush()
    return message


async def media_of(session: AsyncSession, *, shop_id: int, message_ids: list[int]) -> dict[int, LineMedia]:
    """The LINE media held by these messages of the shop, by our message id."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(LineMessageRef).where(
            col(LineMessageRef.shop_id) == shop_id,
            col(LineMessageRef.message_id).in_(message_ids),
            col(LineMessageRef.content_kind).is_not(None),
        )
    )
    return {
        ref.message_id: LineMedia(ref.message_id, ref.line_message_id, ref.content_kind or "")
        for ref in rows.scalars()
        if ref.message_id is not None
    }


async def holds_media(session: AsyncSession, *, shop_id: int, line_message_id: str) -> bool:
    """Whether one of the shop's LINE conversations holds this picture (or other media), not unsent."""
    ref = await _ref(session, shop_id=shop_id, line_message_id=line_message_id)
    return ref is not None and ref.message_id is not None and ref.content_kind is not None

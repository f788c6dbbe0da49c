"""Ticket tags: one spelling per tag, and an index row per tag so that the ticket list filters by one.

A tag is read the way people mean it: full-width and half-width forms alike (NFKC), runs of spaces as one,
no spaces at the ends, lower case (``VIP``, ``ｖｉｐ`` and `` vip `` are one tag). ``Ticket.tags`` keeps the
list in the order it was given, for showing; ``ticket_tags`` holds the same tags as rows, for finding.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import Unprocessable
from shop_app.models import Ticket, TicketTag
from shop_app.models.helpdesk import MAX_TAG_CHARS, MAX_TAGS

# what people send is limited to MAX_TAGS; the bot's own tags (handoff, priority) may come on top
MAX_STORED_TAGS = MAX_TAGS + 5
MAX_LISTED_TAGS = 200
_SPACES = re.compile(r"\s+")


def normalise_tag(raw: str) -> str | None:
    """The one spelling of a tag, or ``None`` when nothing is left of it or it holds a control character
    (or an unassigned or private-use one); a tag longer than ``MAX_TAG_CHARS`` is refused, not cut."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip().lower()
    if not text or len(text) > MAX_TAG_CHARS:
        return None
    if any(unicodedata.category(char).startswith("C") for char in text):
        return None
    return text


def normalise_tags(raw: Iterable[str], *, limit: int = MAX_STORED_TAGS) -> list[str]:
    tags: list[str] = []
    for each in raw:
        tag = normalise_tag(each)
        if tag is None:
            raise Unprocessable(
                f"A tag is 1 to {MAX_TAG_CHARS} characters of text (no control characters)",
                code="invalid_tag",
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > limit:
        raise Unprocessable(f"A ticket has at most {limit} tags", code="too_many_tags")
    return tags


async def set_ticket_tags(session: AsyncSession, *, ticket: Ticket, tags: Iterable[str]) -> list[str]:
    wanted = normalise_tags(tags)
    ticket_id = ticket.id
    assert ticket_id is not None
    held = set(
        (
            await session.execute(select(col(TicketTag.tag)).where(col(TicketTag.ticket_id) == ticket_id))
        ).scalars()
    )
    gone = held - set(wanted)
    if gone:
        await session.execute(
            delete(TicketTag).where(col(TicketTag.ticket_id) == ticket_id, col(TicketTag.tag).in_(gone))
        )
    session.add_all(
        TicketTag(ticket_id=ticket_id, tag=tag, shop_id=ticket.shop_id) for tag in wanted if tag not in held
    )
    ticket.tags = wanted
    return wanted


async def shop_tags(session: AsyncSession, *, shop_id: int) -> list[tuple[str, int]]:
    """The shop's tags with how many tickets carry each, most used first."""
    count = func.count()
    rows = await session.execute(
        select(col(TicketTag.tag), count)
        .where(col(TicketTag.shop_id) == shop_id)
        .group_by(col(TicketTag.tag))
        .order_by(count.desc(), col(TicketTag.tag))
        .limit(MAX_LISTED_TAGS)
    )
    return [(tag, int(n)) for tag, n in rows]

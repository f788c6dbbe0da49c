"""Satisfaction (CSAT): one question after a ticket is resolved, in the shopper's language and channel.

A scheduled sweep (``send_due_surveys``) finds the tickets resolved at least ``csat_delay_minutes`` ago that
are still resolved, were never reopened, came by the widget, LINE or email, and were never asked: it keeps a
survey row (one per ticket, unique: asked once, whatever happens next) and posts the question as the bot's
message, which LINE and email carry through the outbox. The answer is a link (``/csat/{token}``) with the
score 1–5: LINE's quick replies open it (a URI action, so tapping one is not the shopper writing again and
does not reopen the ticket), email has five links, the widget shows the link. Opening the link only shows
the form (mail scanners fetch links); the score is recorded when the shopper sends it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.database import SessionFactory
from shop_app.errors import NotFound, Unprocessable
from shop_app.formats.display import ui_locale
from shop_app.helpdesk import outbox
from shop_app.helpdesk.tickets import post_message
from shop_app.i18n import catalogue
from shop_app.models import AuthorType, Channel, Contact, CsatSurvey, Ticket, TicketStatus
from shop_app.models.base import utcnow
from shop_app.models.insights import MAX_CSAT_COMMENT_CHARS

SURVEYED_CHANNELS = (Channel.WEB_CHAT, Channel.LINE, Channel.EMAIL)
SCORES = (1, 2, 3, 4, 5)
# a ticket resolved longer ago than this when the sweep first sees it is not asked any more
STALE_AFTER = timedelta(days=3)
# the shopper may change their answer for this long after the question
ANSWERABLE_FOR = timedelta(days=14)
TOKEN_BYTES = 24
BATCH = 200


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def answer_url(app_url: str, token: str, score: int | None = None) -> str:
    return f"{app_url}/csat/{token}" + (f"?score={score}" if score is not None else "")


def question(language: str, channel: Channel, app_url: str, token: str) -> tuple[str, dict[str, Any]]:
    """The question's text and what its channel needs beyond it (LINE's quick replies)."""
    messages = catalogue(language)
    if channel == Channel.EMAIL:
        links = "\n".join(
            f"{score} {messages.text(f'csat.score.{score}')}: {answer_url(app_url, token, score)}"
            for score in SCORES
        )
        return f"{messages.text('csat.question')}\n\n{links}\n\n{messages.text('csat.comment_hint')}", {}
    text = f"{messages.text('csat.question')}\n{answer_url(app_url, token)}"
    if channel == Channel.LINE:
        items = [
            {
                "type": "action",
                "action": {
                    "type": "uri",
                    "label": f"{score} {messages.text(f'csat.score.{score}')}"[:20],
                    "uri": answer_url(app_url, token, score),
                },
            }
            for score in SCORES
        ]
        line_text = messages.text("csat.question")
        return text, {"line_messages": [{"type": "text", "text": line_text, "quickReply": {"items": items}}]}
    return text, {}


@dataclass(frozen=True, slots=True)
class SentSurvey:
    ticket_id: int
    outbox_ids: list[int]


async def due_tickets(session: AsyncSession, *, now: datetime, delay: timedelta) -> list[Ticket]:
    """Resolved, never reopened, by a surveyed channel, resolved between ``STALE_AFTER`` and ``delay`` ago,
    and never asked."""
    asked = select(col(CsatSurvey.ticket_id)).where(col(CsatSurvey.ticket_id) == col(Ticket.id))
    rows = await session.execute(
        select(Ticket)
        .where(
            col(Ticket.status) == TicketStatus.RESOLVED,
            col(Ticket.reopened_at).is_(None),
            col(Ticket.resolved_at).is_not(None),
            col(Ticket.resolved_at) <= now - delay,
            col(Ticket.resolved_at) > now - STALE_AFTER,
            col(Ticket.channel).in_([c.value for c in SURVEYED_CHANNELS]),
            ~asked.exists(),
        )
        .order_by(col(Ticket.resolved_at))
        .limit(BATCH)
    )
    return list(rows.scalars())


async def send_survey(
    session: AsyncSession, *, ticket: Ticket, app_url: str, now: datetime
) -> SentSurvey | None:
    """Ask this ticket's shopper; ``None`` when it was asked already (by a sweep running beside this one)."""
    assert ticket.id is not None
    assert ticket.resolved_at is not None
    contact = await session.get_one(Contact, ticket.contact_id)
    language = ui_locale(contact.locale).value
    token = secrets.token_urlsafe(TOKEN_BYTES)
    survey = CsatSurvey(
        shop_id=ticket.shop_id,
        ticket_id=ticket.id,
        channel=ticket.channel,
        language=language,
        agent_id=None if ticket.resolved_by_bot else ticket.assignee_id,
        by_bot=ticket.resolved_by_bot,
        token_digest=token_digest(token),
        resolved_at=ticket.resolved_at,
        sent_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(survey)
            await session.flush()
    except IntegrityError:  # the unique ticket_id: another sweep asked first
        return None
    text, outbound = question(language, ticket.channel, app_url, token)
    status, resolved_at, by_bot = ticket.status, ticket.resolved_at, ticket.resolved_by_bot
    message = await post_message(
        session,
        ticket=ticket,
        author_type=AuthorType.BOT,
        body=text,
        outbound=outbound,
        counts_as_response=False,
    )
    # asking is not a new conversation turn: the ticket stays resolved as it was
    ticket.status, ticket.resolved_at, ticket.resolved_by_bot = status, resolved_at, by_bot
    rows = await outbox.for_messages(session, [message.id] if message.id is not None else [])
    return SentSurvey(ticket_id=ticket.id, outbox_ids=[row.id for row in rows if row.id is not None])


async def find_survey(session: AsyncSession, token: str) -> CsatSurvey:
    if not 20 <= len(token) <= 64 or not token.isascii():
        raise NotFound("No such survey", code="survey_not_found")
    digest = token_digest(token)
    survey = (
        await session.execute(select(CsatSurvey).where(col(CsatSurvey.token_digest) == digest))
    ).scalar_one_or_none()
    if survey is None or not hmac.compare_digest(survey.token_digest, digest):
        raise NotFound("No such survey", code="survey_not_found")
    return survey


async def answer_survey(
    session: AsyncSession, *, token: str, score: int, comment: str | None, now: datetime | None = None
) -> CsatSurvey:
    moment = now or utcnow()
    survey = await find_survey(session, token)
    if score not in SCORES:
        raise Unprocessable("A score is a whole number from 1 to 5", code="invalid_score")
    if moment - survey.sent_at > ANSWERABLE_FOR:
        raise Unprocessable("This survey has closed", code="survey_closed")
    text = (comment or "").strip()
    if len(text) > MAX_CSAT_COMMENT_CHARS:
        raise Unprocessable(
            f"A comment is at most {MAX_CSAT_COMMENT_CHARS} characters", code="comment_too_long"
        )
    survey.score = score
    survey.comment = text or None
    survey.answered_at = moment
    await session.flush()
    return survey


async def send_due_surveys(
    sessions: SessionFactory, *, app_url: str, delay: timedelta, now: datetime | None = None
) -> list[SentSurvey]:
    """One sweep: every due ticket asked, each in its own transaction."""
    moment = now or utcnow()
    async with sessions() as session:
        ids = [t.id for t in await due_tickets(session, now=moment, delay=delay) if t.id is not None]
    sent: list[SentSurvey] = []
    for ticket_id in ids:
        async with sessions() as session, session.begin():
            ticket = await session.get_one(Ticket, ticket_id)
            if ticket.status != TicketStatus.RESOLVED or ticket.reopened_at is not None:
                continue
            done = await send_survey(session, ticket=ticket, app_url=app_url, now=moment)
        if done is not None:
            sent.append(done)
    return sent

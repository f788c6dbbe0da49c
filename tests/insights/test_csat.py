"""Satisfaction surveys: asked once per resolved ticket, after the delay, in the shopper's language and
channel (the widget's link, LINE's quick replies that open the link, email's five links), never after a
reopen and never for the API's tickets; answered on a page that records nothing until the form is sent."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import transaction
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket, post_message, update_ticket
from shop_app.insights.csat import send_due_surveys
from shop_app.models import (
    AuthorType,
    Channel,
    CsatSurvey,
    Message,
    OutboxMessage,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow
from tests.helpdesk.conftest import ALPHA
from tests.insights.conftest import Desk

APP_URL = "https://desk.example.com"
DELAY = timedelta(minutes=60)
TOKEN_IN = re.compile(r"/csat/([A-Za-z0-9_-]+)")


async def _resolved(
    desk: Desk, channel: Channel, *, locale: str = "ja", email: str = "hanako@example.com"
) -> int:
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, desk.shop_ids[ALPHA])
        contact = await find_or_create_contact(
            session, shop=shop, details=ContactDetails(name="Hanako", email=email, locale=locale)
        )
        ticket, _ = await open_ticket(
            session,
            shop=shop,
            contact=contact,
            channel=channel,
            subject="",
            first_message="Where is my order?",
        )
        await post_message(session, ticket=ticket, author_type=AuthorType.AGENT, body="On its way.")
        await update_ticket(session, ticket=ticket, status=TicketStatus.RESOLVED)
        assert ticket.id is not None
        return ticket.id


async def _sweep(desk: Desk, later: timedelta = timedelta(hours=2)) -> list[int]:
    sent = await send_due_surveys(desk.services.sessions, app_url=APP_URL, delay=DELAY, now=utcnow() + later)
    return [each.ticket_id for each in sent]


async def _last_message(desk: Desk, ticket_id: int) -> Message:
    async with desk.services.sessions() as session:
        return (
            await session.execute(
                select(Message)
                .where(col(Message.ticket_id) == ticket_id)
                .order_by(col(Message.id).desc())
                .limit(1)
            )
        ).scalar_one()


async def test_a_resolved_chat_is_asked_once_after_the_delay_and_stays_resolved(desk: Desk) -> None:
    ticket_id = await _resolved(desk, Channel.WEB_CHAT)

    assert await _sweep(desk, later=timedelta(minutes=30)) == []  # not yet
    assert await _sweep(desk) == [ticket_id]
    assert await _sweep(desk, later=timedelta(hours=3)) == []  # once

    question = await _last_message(desk, ticket_id)
    assert question.author_type == AuthorType.BOT
    assert "今回の対応はいかがでしたか" in question.body and f"{APP_URL}/csat/" in question.body
    async with desk.services.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        survey = (await session.execute(select(CsatSurvey))).scalar_one()
    assert ticket.status == TicketStatus.RESOLVED and ticket.first_response_at is not None
    assert survey.ticket_id == ticket_id and survey.language == "ja" and survey.score is None
    # only the token's digest is kept
    token = TOKEN_IN.search(question.body)
    assert token is not None and token.group(1) not in survey.token_digest


async def test_a_reopened_ticket_is_never_asked(desk: Desk) -> None:
    ticket_id = await _resolved(desk, Channel.WEB_CHAT)
    async with transaction(desk.services.sessions) as session:
        ticket = await session.get_one(Ticket, ticket_id)
        await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body="It has not come")
        assert ticket.status == TicketStatus.OPEN and ticket.reopened_at is not None
        await update_ticket(session, ticket=ticket, status=TicketStatus.RESOLVED)

    assert await _sweep(desk) == []
    assert await _sweep(desk, later=timedelta(days=1)) == []


async def test_an_api_ticket_is_not_asked_and_a_stale_one_is_not_either(desk: Desk) -> None:
    await _resolved(desk, Channel.API)
    await _resolved(desk, Channel.WEB_CHAT, email="old@example.com")

    assert await _sweep(desk, later=timedelta(days=4)) == []


async def test_line_gets_quick_replies_that_open_the_link_and_email_five_links(desk: Desk) -> None:
    line_id = await _resolved(desk, Channel.LINE, email="line@example.com")
    mail_id = await _resolved(desk, Channel.EMAIL, locale="en-US", email="mail@example.com")

    assert sorted(await _sweep(desk)) == sorted([line_id, mail_id])

    async with desk.services.sessions() as session:
        rows = {
            row.ticket_id: row
            for row in (
                await session.execute(
                    select(OutboxMessage).where(col(OutboxMessage.ticket_id).in_([line_id, mail_id]))
                )
            ).scalars()
        }
    line_message = rows[line_id].payload["line_messages"][0]
    items = line_message["quickReply"]["items"]
    assert [item["action"]["type"] for item in items] == ["uri"] * 5  # tapping one is not a message
    assert [item["action"]["uri"][-8:] for item in items] == [f"?score={n}" for n in range(1, 6)]
    assert all(len(item["action"]["label"]) <= 20 for item in items)
    assert "いかがでしたか" in line_message["text"]
    mail = await _last_message(desk, mail_id)
    assert "How did we do?" in mail.body
    assert len(re.findall(rf"{APP_URL}/csat/[A-Za-z0-9_-]+\?score=[1-5]", mail.body)) == 5


async def test_the_answer_page_records_only_what_is_sent(desk: Desk) -> None:
    ticket_id = await _resolved(desk, Channel.WEB_CHAT)
    await _sweep(desk)
    token = TOKEN_IN.search((await _last_message(desk, ticket_id)).body)
    assert token is not None
    path = f"/csat/{token.group(1)}"

    page = await desk.client.get(path, params={"score": "4"})
    assert page.status_code == 200 and 'value="4" checked' in page.text and "評価" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    async with desk.services.sessions() as session:
        assert (
            await session.execute(select(CsatSurvey))
        ).scalar_one().score is None  # opening records nothing

    form = {"content-type": "application/x-www-form-urlencoded"}
    refused = await desk.client.post(path, content="score=6", headers=form)
    assert refused.status_code == 422
    too_long = await desk.client.post(path, data={"score": "2", "comment": "x" * 1001})
    assert too_long.status_code == 422 and "1,000" in too_long.text
    done = await desk.client.post(path, data={"score": "5", "comment": "<script>alert(1)</script> 早い！"})
    assert done.status_code == 200 and "ありがとうございました" in done.text
    async with desk.services.sessions() as session:
        survey = (await session.execute(select(CsatSurvey))).scalar_one()
    assert survey.score == 5 and survey.comment == "<script>alert(1)</script> 早い！"
    again = await desk.client.get(path)
    assert "&lt;script&gt;" in again.text and "<script>alert" not in again.text


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    token=st.text(min_size=1, max_size=80).filter(lambda t: "/" not in t and "?" not in t and "#" not in t)
)
async def test_a_made_up_token_is_a_404(desk: Desk, token: str) -> None:
    from urllib.parse import quote

    page = await desk.client.get(f"/csat/{quote(token, safe='')}")
    sent = await desk.client.post(f"/csat/{quote(token, safe='')}", data={"score": "5"})
    assert page.status_code == 404 and sent.status_code == 404

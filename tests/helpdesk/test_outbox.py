"""The outbox: a reply on a LINE or email ticket is recorded with it and sent once committed; a channel
that is down loses nothing (retried with backoff, the platform's Retry-After honoured, given up after the
last attempt); one sender at a time holds a row; the API and the console say "not sent yet"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from shop_app.channels import outbound
from shop_app.channels.outbound import GaveUp, RetryAfter, SendResult, Sent
from shop_app.database import transaction
from shop_app.helpdesk import outbox
from shop_app.jobs.tasks import sweep_webhook_inbox
from shop_app.models import AuthorType, Channel, Message, OutboxMessage, OutboxStatus, Ticket
from shop_app.models.base import utcnow
from shop_app.runtime import Services
from tests.helpdesk.conftest import BETA, Desk

pytestmark = pytest.mark.anyio


@dataclass
class FakeChannel:
    """A channel's platform: answers each send with the next scripted result (then ``Sent``)."""

    script: list[SendResult | Exception] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)

    async def send(
        self, services: Services, item: OutboxMessage, message: Message, ticket: Ticket
    ) -> SendResult:
        assert item.shop_id == ticket.shop_id == message.shop_id
        result = self.script.pop(0) if self.script else Sent(f"external-{message.id}")
        if isinstance(result, Exception):
            raise result
        if isinstance(result, Sent):
            self.sent.append(message.body)
        return result


@pytest.fixture
def email_channel(monkeypatch: pytest.MonkeyPatch) -> FakeChannel:
    channel = FakeChannel()
    monkeypatch.setitem(outbound._SENDERS, Channel.EMAIL, channel.send)
    return channel


async def ticket_on(desk: Desk, channel: Channel) -> int:
    ticket = await desk.open_ticket()
    async with transaction(desk.services.sessions) as session:
        await session.execute(update(Ticket).where(col(Ticket.id) == ticket["id"]).values(channel=channel))
    return int(ticket["id"])


async def reply(desk: Desk, ticket_id: int, body: str, csrf: dict[str, str]) -> dict[str, object]:
    answer = await desk.client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"body": body, "kind": "reply"}, headers=csrf
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def rows(desk: Desk) -> list[OutboxMessage]:
    async with desk.services.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))).scalars())


async def make_due(desk: Desk) -> None:
    async with transaction(desk.services.sessions) as session:
        await session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def test_a_reply_on_an_email_ticket_is_sent_once_committed_and_a_chat_reply_stays_home(
    desk: Desk, email_channel: FakeChannel
) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    email_ticket = await ticket_on(desk, Channel.EMAIL)
    chat_ticket = await ticket_on(desk, Channel.WEB_CHAT)

    posted = await reply(desk, email_ticket, "It ships today", csrf)
    await reply(desk, chat_ticket, "It ships tomorrow", csrf)
    await desk.state["jobs"].drain()

    assert posted["delivery"] == "pending"  # as the agent's own answer says: not sent yet
    assert email_channel.sent == ["It ships today"]
    (row,) = await rows(desk)
    assert (row.status, row.attempts, row.external_id) == (OutboxStatus.SENT, 1, f"external-{posted['id']}")
    listed = (await desk.client.get(f"/api/v1/tickets/{email_ticket}/messages")).json()["messages"]
    assert [m["delivery"] for m in listed] == [None, "sent"]  # the shopper's own message does not leave
    chat = (await desk.client.get(f"/api/v1/tickets/{chat_ticket}/messages")).json()["messages"]
    assert [m["delivery"] for m in chat] == [None, None]


async def test_notes_and_the_shoppers_messages_never_leave(desk: Desk, email_channel: FakeChannel) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    ticket_id = await ticket_on(desk, Channel.EMAIL)
    note = await desk.client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"body": "check the carrier", "kind": "note"},
        headers=csrf,
    )
    assert note.status_code == 201
    await desk.state["jobs"].drain()
    assert await rows(desk) == []
    assert email_channel.sent == []


async def test_a_channel_that_is_down_loses_nothing_and_sends_when_it_is_back(
    desk: Desk, email_channel: FakeChannel
) -> None:
    # given: the relay refuses twice (once saying when to come back), then takes the message
    email_channel.script = [RetryAfter("smtp_unavailable"), RetryAfter("smtp_busy", seconds=120.0)]
    csrf = await desk.sign_in("agent@alpha.test")
    ticket_id = await ticket_on(desk, Channel.EMAIL)

    # when: the reply is sent, then the sweep runs before and after each retry is due
    await reply(desk, ticket_id, "Your refund is on its way", csrf)
    await desk.state["jobs"].drain()
    (first,) = await rows(desk)
    await sweep_webhook_inbox(desk.services)  # not due yet: nothing happens
    (not_yet,) = await rows(desk)
    await make_due(desk)
    await sweep_webhook_inbox(desk.services)
    (second,) = await rows(desk)
    await make_due(desk)
    await sweep_webhook_inbox(desk.services)
    (third,) = await rows(desk)

    # then: it waited with backoff, the relay's own wait honoured, and was sent once
    assert (first.status, first.attempts, first.last_error) == (OutboxStatus.PENDING, 1, "smtp_unavailable")
    assert first.next_attempt_at > utcnow()
    assert not_yet.attempts == 1
    assert (second.status, second.attempts, second.last_error) == (OutboxStatus.PENDING, 2, "smtp_busy")
    assert second.next_attempt_at - utcnow() > timedelta(seconds=100)
    assert (third.status, third.attempts, third.last_error) == (OutboxStatus.SENT, 3, None)
    assert email_channel.sent == ["Your refund is on its way"]
    listed = (await desk.client.get(f"/api/v1/tickets/{ticket_id}/messages")).json()["messages"]
    assert listed[-1]["delivery"] == "sent"


async def test_a_sender_that_raises_is_retried_and_the_last_attempt_gives_up(
    desk: Desk, email_channel: FakeChannel, caplog: pytest.LogCaptureFixture
) -> None:
    email_channel.script = [ConnectionResetError("secret body here")] * outbox.MAX_ATTEMPTS
    csrf = await desk.sign_in("agent@alpha.test")
    ticket_id = await ticket_on(desk, Channel.EMAIL)
    await reply(desk, ticket_id, "Thanks for waiting", csrf)
    await desk.state["jobs"].drain()
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        await make_due(desk)
        await outbound.deliver(desk.services)

    (row,) = await rows(desk)
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.FAILED,
        outbox.MAX_ATTEMPTS,
        "error_ConnectionResetError",
    )
    assert email_channel.sent == []
    assert "secret body here" not in caplog.text and "Thanks for waiting" not in caplog.text
    listed = (await desk.client.get(f"/api/v1/tickets/{ticket_id}/messages")).json()["messages"]
    assert listed[-1]["delivery"] == "failed"
    await make_due(desk)
    assert (await outbound.deliver(desk.services)).sent == []  # a failed row is never sent by itself


async def test_a_message_the_channel_can_never_take_fails_at_once(
    desk: Desk, email_channel: FakeChannel
) -> None:
    email_channel.script = [GaveUp("address_rejected")]
    csrf = await desk.sign_in("agent@alpha.test")
    await reply(desk, await ticket_on(desk, Channel.EMAIL), "Hello", csrf)
    await desk.state["jobs"].drain()
    (row,) = await rows(desk)
    assert (row.status, row.last_error) == (OutboxStatus.FAILED, "address_rejected")


async def test_one_sender_at_a_time_holds_a_row(desk: Desk, email_channel: FakeChannel) -> None:
    # given: a pending row no one holds (its job never ran)
    ticket_id = await ticket_on(desk, Channel.EMAIL)
    async with transaction(desk.services.sessions) as session:
        ticket = await session.get_one(Ticket, ticket_id)
        message = Message(
            shop_id=ticket.shop_id, ticket_id=ticket_id, author_type=AuthorType.AGENT, body="Hi"
        )
        session.add(message)
        await session.flush()
        item = await outbox.record(session, ticket=ticket, message=message)
    assert item.id is not None

    # when: two senders claim it
    async with transaction(desk.services.sessions) as session:
        first = await outbox.claim(session, [item.id])
    async with transaction(desk.services.sessions) as session:
        second = await outbox.claim(session, [item.id])
    # and a sender that died holding it: its lease passes
    async with transaction(desk.services.sessions) as session:
        await session.execute(update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1)))
    report = await outbound.deliver(desk.services)

    # then: the first held it, the second got nothing, and after the lease the sweep sent it once
    assert [row.id for row in first] == [item.id] and second == []
    assert report.sent == [item.id]
    assert email_channel.sent == ["Hi"]


async def test_another_shops_outbox_rows_are_not_in_this_shops_messages(
    desk: Desk, email_channel: FakeChannel
) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    ticket_id = await ticket_on(desk, Channel.EMAIL)
    await reply(desk, ticket_id, "Hi", csrf)
    beta_csrf = await desk.sign_in("agent@beta.test", shop=BETA)
    answer = await desk.client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=beta_csrf)
    assert answer.status_code == 404

"""Replies out through a real relay (aiosmtpd): a letter in the conversation's language, threaded under
the shopper's mail, from the shop's name, answering to the reply address; a relay that is down is tried
again with the same Message-ID; names and subjects cannot add headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from shop_app.channels.email.addresses import save_mail_settings
from shop_app.channels.email.sending import Delivered, Refused, TryLater, send_reply
from shop_app.database import transaction
from shop_app.helpdesk.tickets import post_message
from shop_app.models import AuthorType, Contact, MailSettings, MailThread, Shop, Ticket
from tests.mail.conftest import ALPHA_ADDRESS, MailWorld
from tests.mail.relay import RELAY_PASSWORD, RELAY_USER, Relay, free_port
from tests.mail.test_inbound import ENCODINGS


@pytest.fixture
def relay() -> Iterator[Relay]:
    relay = Relay(free_port())
    relay.start()
    yield relay
    relay.stop()


async def use_relay(mail_world: MailWorld, port: int, *, password: str = RELAY_PASSWORD) -> None:
    async with transaction(mail_world.services.sessions) as session:
        shop = await session.get_one(Shop, mail_world.alpha.id)
        await save_mail_settings(
            session,
            shop=shop,
            cipher=mail_world.services.cipher,
            support_address=ALPHA_ADDRESS,
            relay_host="127.0.0.1",
            relay_port=port,
            relay_starttls=False,
            relay_username=RELAY_USER,
            relay_password=password,
        )


async def agent_reply(
    mail_world: MailWorld, text: str, *, author: AuthorType = AuthorType.AGENT
) -> tuple[int, int]:
    await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS])
    [ticket] = await mail_world.tickets(mail_world.alpha)
    async with transaction(mail_world.services.sessions) as session:
        ticket = await session.get_one(Ticket, ticket.id)
        message = await post_message(session, ticket=ticket, author_type=author, body=text)
    assert ticket.id is not None
    assert message.id is not None
    return ticket.id, message.id


async def test_the_relay_password_is_kept_encrypted(mail_world: MailWorld, relay: Relay) -> None:
    await use_relay(mail_world, relay.port)
    async with mail_world.services.sessions() as session:
        stored = await session.get_one(MailSettings, mail_world.alpha.id)
    assert stored.relay_password_ciphertext is not None
    assert RELAY_PASSWORD not in stored.relay_password_ciphertext
    assert mail_world.services.cipher.decrypt(stored.relay_password_ciphertext) == RELAY_PASSWORD


async def test_an_agents_reply_goes_out_as_a_threaded_letter(mail_world: MailWorld, relay: Relay) -> None:
    # given
    await use_relay(mail_world, relay.port)
    ticket_id, message_id = await agent_reply(mail_world, "明日お届け予定です。")
    # when
    outcome = await send_reply(mail_world.services, ticket_id=ticket_id, message_id=message_id)
    # then
    assert isinstance(outcome, Delivered)
    assert relay.logins == [RELAY_USER.encode()]  # the stored password, decrypted, signed in
    [(envelope, sent)] = relay.handler.received
    assert envelope.rcpt_tos == ["taro@example.com"]
    assert sent["Message-ID"] == f"<{outcome.message_id}>"
    assert sent["In-Reply-To"] == "<m1@example.com>"
    assert sent["References"] == "<m1@example.com>"
    assert sent["Subject"] == "Re: 配送について"
    assert sent["From"].addresses[0].display_name == "Alpha 商店"
    assert sent["From"].addresses[0].addr_spec == ALPHA_ADDRESS
    async with mail_world.services.sessions() as session:
        thread = await session.get_one(MailThread, ticket_id)
    assert sent["Reply-To"].addresses[0].addr_spec == f"help+t{thread.reply_token}@alpha.example"
    assert sent["Auto-Submitted"] is None  # a person wrote it
    assert sent.get_content_type() == "text/plain"
    assert sent.get_content_charset() == "utf-8"
    text = sent.get_content().replace("\r\n", "\n")
    assert text.startswith("山田 太郎 様\n")
    assert "明日お届け予定です。" in text
    assert text.rstrip().endswith("Alpha 商店 カスタマーサポート")


async def test_the_bots_reply_is_marked_auto_replied_and_written_in_english_for_english_mail(
    mail_world: MailWorld, relay: Relay
) -> None:
    await use_relay(mail_world, relay.port)
    await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS])
    [ticket] = await mail_world.tickets(mail_world.alpha)
    async with transaction(mail_world.services.sessions) as session:
        row = await session.get_one(Ticket, ticket.id)
        await post_message(
            session, ticket=row, author_type=AuthorType.CUSTOMER, body="Where is my parcel please?"
        )
        bot = await post_message(session, ticket=row, author_type=AuthorType.BOT, body="It ships tomorrow.")
    assert bot.id is not None
    assert ticket.id is not None
    outcome = await send_reply(mail_world.services, ticket_id=ticket.id, message_id=bot.id)
    assert isinstance(outcome, Delivered)
    [(_, sent)] = relay.handler.received
    assert sent["Auto-Submitted"] == "auto-replied"
    text = sent.get_content().replace("\r\n", "\n")
    assert text.startswith("Hello 山田 太郎,")
    assert "Best regards," in text


async def test_relay_down_is_tried_later_with_the_same_message_id(mail_world: MailWorld) -> None:
    # given: the relay's port has nobody listening
    port = free_port()
    await use_relay(mail_world, port)
    ticket_id, message_id = await agent_reply(mail_world, "発送しました")
    # when
    first = await send_reply(mail_world.services, ticket_id=ticket_id, message_id=message_id)
    second = await send_reply(mail_world.services, ticket_id=ticket_id, message_id=message_id)
    # then
    assert first == second == TryLater("smtp_unavailable")
    relay = Relay(port)
    relay.start()
    try:
        delivered = await send_reply(mail_world.services, ticket_id=ticket_id, message_id=message_id)
    finally:
        relay.stop()
    assert isinstance(delivered, Delivered)
    [(_, sent)] = relay.handler.received
    assert sent["Message-ID"] == f"<{delivered.message_id}>"


async def test_wrong_relay_credentials_are_tried_later_not_lost(mail_world: MailWorld, relay: Relay) -> None:
    await use_relay(mail_world, relay.port, password="wrong")
    ticket_id, message_id = await agent_reply(mail_world, "x")
    assert await send_reply(mail_world.services, ticket_id=ticket_id, message_id=message_id) == TryLater(
        "smtp_auth"
    )
    assert relay.handler.received == []


async def test_a_customers_own_message_is_never_sent_back(mail_world: MailWorld, relay: Relay) -> None:
    await use_relay(mail_world, relay.port)
    ticket_id, _ = await agent_reply(mail_world, "x")
    async with mail_world.services.sessions() as session:
        first = (
            await session.execute(select(col(Contact.id)).where(col(Contact.shop_id) == mail_world.alpha.id))
        ).scalar()
    assert first is not None
    from shop_app.models import Message

    async with mail_world.services.sessions() as session:
        customer = (
            (
                await session.execute(
                    select(Message).where(
                        col(Message.ticket_id) == ticket_id, col(Message.author_type) == AuthorType.CUSTOMER
                    )
                )
            )
            .scalars()
            .first()
        )
    assert customer is not None
    assert customer.id is not None
    assert await send_reply(mail_world.services, ticket_id=ticket_id, message_id=customer.id) == Refused(
        "not_a_reply"
    )


HEADER_TEXT = st.text(
    alphabet=st.sampled_from(list('abcあいう様 :<>@,;"\\\r\n\t\x0b\x85\u2028Bcc')),
    min_size=0,
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=HEADER_TEXT, name=HEADER_TEXT)
async def test_names_and_subjects_cannot_add_headers(
    mail_world: MailWorld, relay: Relay, subject: str, name: str
) -> None:
    await use_relay(mail_world, relay.port)
    relay.handler.received.clear()
    async with transaction(mail_world.services.sessions) as session:
        shop = await session.get_one(Shop, mail_world.alpha.id)
        shop.name = name or "Alpha"
        contact = Contact(shop_id=mail_world.alpha.id, email="taro@example.com", name=name)
        session.add(contact)
        await session.flush()
        ticket = Ticket(shop_id=mail_world.alpha.id, contact_id=contact.id, channel="email", subject=subject)
        session.add(ticket)
        await session.flush()
        message = await post_message(session, ticket=ticket, author_type=AuthorType.AGENT, body="ok")
    assert ticket.id is not None
    assert message.id is not None
    outcome = await send_reply(mail_world.services, ticket_id=ticket.id, message_id=message.id)
    assert isinstance(outcome, Delivered)
    [(envelope, sent)] = relay.handler.received
    assert envelope.rcpt_tos == ["taro@example.com"]
    assert sent["Bcc"] is None
    assert sent["Cc"] is None
    assert len(sent.get_all("To") or []) == 1
    assert [a.addr_spec for a in sent["To"].addresses] == ["taro@example.com"]
    assert "\n" not in str(sent["Subject"])
    assert sent.defects == []


async def test_relay_down_leaves_the_bots_answer_pending_until_the_relay_is_back(
    mail_world: MailWorld,
) -> None:
    """Mail in, the bot answers, the relay is down: the answer waits in the outbox as "not sent yet",
    is tried again when due, and is sent once the relay is back; nothing is lost or sent twice."""
    from sqlalchemy import update

    from shop_app.channels.email.listener import deliver_replies
    from shop_app.channels.outbound import deliver
    from shop_app.helpdesk import outbox
    from shop_app.models import OutboxMessage, OutboxStatus
    from shop_app.models.base import utcnow

    # given: the relay's port has nobody listening
    port = free_port()
    await use_relay(mail_world, port)
    await mail_world.send(ENCODINGS["utf-8 base64"](), to=[ALPHA_ADDRESS])
    [reply_id] = mail_world.answered
    # when: the listener's delivery runs while the relay is down
    await deliver_replies(mail_world.services, [reply_id])
    # then
    async with mail_world.services.sessions() as session:
        states = await outbox.delivery_states(session, [reply_id])
        [item] = await outbox.for_messages(session, [reply_id])
    assert states == {reply_id: OutboxStatus.PENDING}
    assert item.last_error == "smtp_unavailable"
    assert item.attempts == 1
    # when: the relay is back and the retry is due, the sweep sends it
    relay = Relay(port)
    relay.start()
    try:
        async with transaction(mail_world.services.sessions) as session:
            await session.execute(
                update(OutboxMessage).where(col(OutboxMessage.id) == item.id).values(next_attempt_at=utcnow())
            )
        report = await deliver(mail_world.services)
        again = await deliver(mail_world.services)
    finally:
        relay.stop()
    # then
    assert report.sent == [item.id]
    assert again.sent == []
    [(envelope, sent)] = relay.handler.received
    assert envelope.rcpt_tos == ["taro@example.com"]
    assert sent["Auto-Submitted"] == "auto-replied"
    async with mail_world.services.sessions() as session:
        [done] = await outbox.for_messages(session, [reply_id])
    assert done.status == OutboxStatus.SENT
    assert f"<{done.external_id}>" == sent["Message-ID"]

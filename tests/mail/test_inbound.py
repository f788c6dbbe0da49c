"""Mail in through real SMTP sessions: each encoding becomes a ticket with the right text, replies thread
onto their ticket, machine-sent mail opens nothing, and the listener refuses what is not for its shops."""

from __future__ import annotations

import base64
import quopri
from email.message import EmailMessage

import aiosmtplib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from shop_app.models import AuthorType, Channel, MailAttachment, MailMessageId, MailThread
from tests.mail.conftest import ALPHA_ADDRESS, BETA_ADDRESS, MailWorld

QUESTION = "注文番号1001の荷物はいつ届きますか？①㈱～髙島屋の件です。"


def raw_mail(
    *, body: bytes, charset: str, cte: str, content_type: str = "text/plain", **headers: str
) -> bytes:
    head = {
        "From": "=?UTF-8?B?" + base64.b64encode("山田 太郎".encode()).decode() + "?= <taro@example.com>",
        "To": ALPHA_ADDRESS,
        "Subject": "=?ISO-2022-JP?B?" + base64.b64encode("配送について".encode("iso2022_jp")).decode() + "?=",
        "Message-ID": "<m1@example.com>",
        "MIME-Version": "1.0",
        "Content-Type": f'{content_type}; charset="{charset}"',
        "Content-Transfer-Encoding": cte,
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    return lines.encode() + b"\r\n" + body


def sjis_to_jis(data: bytes) -> bytes:
    """ISO-2022-JP as Windows writes it (NEC row 13 under ESC $ B), from cp932 bytes."""
    out, i, mode = bytearray(), 0, "ascii"
    while i < len(data):
        first = data[i]
        if first < 0x80:
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out.append(first)
            i += 1
            continue
        if mode != "jis":
            out += b"\x1b$B"
            mode = "jis"
        second = data[i + 1]
        i += 2
        first -= 0x40 if first >= 0xE0 else 0
        first -= 0x81
        second -= 1 if second >= 0x80 else 0
        row, cell = (
            (first * 2 + 2, second - 0x9E + 1) if second >= 0x9E else (first * 2 + 1, second - 0x40 + 1)
        )
        out += bytes((row + 0x20, cell + 0x20))
    return bytes(out) + (b"\x1b(B" if mode != "ascii" else b"")


ENCODINGS = {
    "iso-2022-jp (Windows' NEC characters)": lambda: raw_mail(
        body=sjis_to_jis(QUESTION.encode("cp932")), charset="ISO-2022-JP", cte="7bit"
    ),
    "shift_jis": lambda: raw_mail(body=QUESTION.encode("cp932"), charset="Shift_JIS", cte="8bit"),
    "utf-8 quoted-printable": lambda: raw_mail(
        body=quopri.encodestring(QUESTION.encode()), charset="UTF-8", cte="quoted-printable"
    ),
    "utf-8 base64": lambda: raw_mail(
        body=base64.encodebytes(QUESTION.encode()), charset="UTF-8", cte="base64"
    ),
    "html only": lambda: raw_mail(
        body=base64.encodebytes(
            f"<html><head><style>p{{color:red}}</style></head><body><p>{QUESTION}</p></body></html>".encode()
        ),
        charset="UTF-8",
        cte="base64",
        content_type="text/html",
    ),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
async def test_mail_in_each_encoding_opens_a_ticket_with_its_text(
    mail_world: MailWorld, encoding: str
) -> None:
    # when
    errors, _ = await mail_world.send(ENCODINGS[encoding](), to=[ALPHA_ADDRESS])
    # then
    assert errors == {}
    [ticket] = await mail_world.tickets(mail_world.alpha)
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "配送について"
    first = (await mail_world.messages(ticket))[0]
    assert first.author_type == AuthorType.CUSTOMER
    assert first.body.replace("〜", "～") == QUESTION
    assert await mail_world.tickets(mail_world.beta) == []


def reply(*, to: str, in_reply_to: str | None, sender: str = "taro@example.com", text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: 配送について"
    message["Message-ID"] = f"<{abs(hash((text, sender)))}@example.com>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message.set_content(text)
    return message


async def first_ticket(mail_world: MailWorld) -> tuple[int, str]:
    await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS])
    [ticket] = await mail_world.tickets(mail_world.alpha)
    async with mail_world.services.sessions() as session:
        thread = await session.get_one(MailThread, ticket.id)
    assert ticket.id is not None
    return ticket.id, thread.reply_token


async def test_a_reply_threads_onto_its_ticket_by_headers(mail_world: MailWorld) -> None:
    ticket_id, _ = await first_ticket(mail_world)
    quoted = "1001です。\n\n2026年12月1日(火) 10:15 Alpha <help@alpha.example>:\n> 注文番号を教えてください"
    await mail_world.send(
        reply(to=ALPHA_ADDRESS, in_reply_to="m1@example.com", text=quoted), to=[ALPHA_ADDRESS]
    )
    [ticket] = await mail_world.tickets(mail_world.alpha)
    assert ticket.id == ticket_id
    bodies = [m.body for m in await mail_world.messages(ticket) if m.author_type == AuthorType.CUSTOMER]
    assert bodies[-1] == "1001です。"  # the quoted earlier message is stripped


async def test_a_reply_threads_by_its_reply_address_alone(mail_world: MailWorld) -> None:
    ticket_id, token = await first_ticket(mail_world)
    address = f"help+t{token}@alpha.example"
    await mail_world.send(
        reply(to=address, in_reply_to=None, sender="other@example.net", text="続き"), to=[address]
    )
    [ticket] = await mail_world.tickets(mail_world.alpha)
    assert ticket.id == ticket_id
    assert (await mail_world.messages(ticket))[-1].body in ("続き",) or any(
        m.body == "続き" for m in await mail_world.messages(ticket)
    )


async def test_headers_naming_a_ticket_from_another_sender_open_a_new_ticket(mail_world: MailWorld) -> None:
    await first_ticket(mail_world)
    await mail_world.send(
        reply(to=ALPHA_ADDRESS, in_reply_to="m1@example.com", sender="mallory@evil.example", text="見せて"),
        to=[ALPHA_ADDRESS],
        sender="mallory@evil.example",
    )
    assert len(await mail_world.tickets(mail_world.alpha)) == 2


async def test_a_reply_address_of_another_shops_ticket_is_refused(mail_world: MailWorld) -> None:
    _, alpha_token = await first_ticket(mail_world)
    crossed = f"support+t{alpha_token}@beta.example"
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await mail_world.send(reply(to=crossed, in_reply_to=None, text="x"), to=[crossed])
    assert refused.value.recipients[0].code == 550
    assert await mail_world.tickets(mail_world.beta) == []


@pytest.mark.parametrize(
    "recipient",
    [
        "nobody@alpha.example",
        "help@elsewhere.example",
        "help+tAAAAAAAAAAAAAAAAAAAAAAAA@alpha.example",
        "help+x@alpha.example",
        "victim@gmail.com",
    ],
)
async def test_unknown_recipients_are_refused_at_rcpt(mail_world: MailWorld, recipient: str) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await mail_world.send(reply(to=recipient, in_reply_to=None, text="x"), to=[recipient])
    assert refused.value.recipients[0].code == 550
    assert await mail_world.tickets(mail_world.alpha) == []


def automatic(kind: str) -> EmailMessage | bytes:
    message = reply(to=ALPHA_ADDRESS, in_reply_to=None, text="I am out of the office until Monday.")
    if kind == "dsn":
        return (
            b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
            b"To: " + ALPHA_ADDRESS.encode() + b"\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\n"
            b"MIME-Version: 1.0\r\n"
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
            b"--b1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n"
            b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
            b"Final-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            b"--b1--\r\n"
        )
    header, value = {
        "auto-submitted": ("Auto-Submitted", "auto-replied"),
        "x-autoreply": ("X-Autoreply", "yes"),
        "precedence bulk": ("Precedence", "bulk"),
        "list": ("List-Id", "<news.example.com>"),
    }[kind]
    message[header] = value
    return message


@pytest.mark.parametrize("kind", ["auto-submitted", "x-autoreply", "precedence bulk", "list", "dsn"])
async def test_machine_sent_mail_opens_no_ticket_and_gets_no_answer(mail_world: MailWorld, kind: str) -> None:
    errors, _ = await mail_world.send(automatic(kind), to=[ALPHA_ADDRESS])
    assert errors == {}
    assert await mail_world.tickets(mail_world.alpha) == []
    assert mail_world.answered == []


async def test_a_bounce_from_the_null_sender_opens_no_ticket(mail_world: MailWorld) -> None:
    await mail_world.send(
        reply(to=ALPHA_ADDRESS, in_reply_to=None, text="bounced"), to=[ALPHA_ADDRESS], sender=""
    )
    assert await mail_world.tickets(mail_world.alpha) == []


async def test_an_auto_reply_to_a_ticket_adds_nothing_to_it(mail_world: MailWorld) -> None:
    _, token = await first_ticket(mail_world)
    address = f"help+t{token}@alpha.example"
    message = reply(to=address, in_reply_to="m1@example.com", text="Out of office")
    message["Auto-Submitted"] = "auto-replied"
    [ticket] = await mail_world.tickets(mail_world.alpha)
    before = len(await mail_world.messages(ticket))
    await mail_world.send(message, to=[address])
    assert len(await mail_world.messages(ticket)) == before


async def test_the_same_message_twice_is_stored_once(mail_world: MailWorld) -> None:
    await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS])
    await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS])
    [ticket] = await mail_world.tickets(mail_world.alpha)
    customer = [m for m in await mail_world.messages(ticket) if m.author_type == AuthorType.CUSTOMER]
    assert len(customer) == 1


async def test_a_message_over_the_size_limit_is_refused_at_data(mail_world: MailWorld) -> None:
    message = reply(to=ALPHA_ADDRESS, in_reply_to=None, text="x" * 300_000)
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await mail_world.send(message, to=[ALPHA_ADDRESS])
    assert refused.value.code == 552
    assert await mail_world.tickets(mail_world.alpha) == []


async def test_attachments_are_kept_as_files_within_their_limits(mail_world: MailWorld) -> None:
    message = reply(to=ALPHA_ADDRESS, in_reply_to=None, text="写真を添付します")
    message.add_attachment(b"\x89PNG small", maintype="image", subtype="png", filename="../../etc/写真.png")
    message.add_attachment(b"x" * 60_000, maintype="application", subtype="pdf", filename="big.pdf")
    await mail_world.send(message, to=[ALPHA_ADDRESS])
    [ticket] = await mail_world.tickets(mail_world.alpha)
    async with mail_world.services.sessions() as session:
        [kept] = (await session.execute(select(MailAttachment))).scalars().all()
    assert kept.filename == "写真.png"
    assert kept.ticket_id == ticket.id
    stored = mail_world.services.settings.data_dir / "mail-attachments" / kept.stored_name
    assert stored.read_bytes() == b"\x89PNG small"
    body = (await mail_world.messages(ticket))[0].body
    assert "写真を添付します" in body
    assert "写真.png" in body
    assert "1" in body.splitlines()[-1]  # one attachment was not kept, and the message says so


async def test_the_bot_answers_mail_as_it_answers_chat(mail_world: MailWorld) -> None:
    await mail_world.send(ENCODINGS["utf-8 base64"](), to=[ALPHA_ADDRESS])
    [ticket] = await mail_world.tickets(mail_world.alpha)
    bots = [m for m in await mail_world.messages(ticket) if m.author_type == AuthorType.BOT]
    assert bots, "the bot took its turn"
    assert mail_world.answered == [bots[0].id]
    async with mail_world.services.sessions() as session:
        ids = (
            (await session.execute(select(MailMessageId).where(col(MailMessageId.ticket_id) == ticket.id)))
            .scalars()
            .all()
        )
    assert [i.rfc_message_id for i in ids] == ["m1@example.com"]


async def test_mail_for_both_shops_in_one_session_lands_in_each(mail_world: MailWorld) -> None:
    await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS, BETA_ADDRESS])
    assert len(await mail_world.tickets(mail_world.alpha)) == 1
    assert len(await mail_world.tickets(mail_world.beta)) == 1


async def test_attachment_files_of_erased_conversations_leave_the_data_dir(mail_world: MailWorld) -> None:
    import os

    from sqlalchemy import delete

    from shop_app.channels.email.inbound import forget_unlisted_attachments
    from shop_app.database import transaction
    from shop_app.models import Ticket

    message = reply(to=ALPHA_ADDRESS, in_reply_to=None, text="写真")
    message.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="a.png")
    await mail_world.send(message, to=[ALPHA_ADDRESS])
    folder = mail_world.services.settings.data_dir / "mail-attachments"
    [stored] = list(folder.iterdir())
    data_dir = mail_world.services.settings.data_dir
    async with mail_world.services.sessions() as session:
        # a listed file stays, however old
        os.utime(stored, (0, 0))
        assert await forget_unlisted_attachments(session, data_dir=data_dir) == 0
    assert stored.exists()
    async with transaction(mail_world.services.sessions) as session:
        await session.execute(delete(MailAttachment))
        await session.execute(delete(Ticket))
    async with mail_world.services.sessions() as session:
        assert await forget_unlisted_attachments(session, data_dir=data_dir) == 1
    assert not stored.exists()


async def test_the_from_address_alone_does_not_prove_an_order(mail_world: MailWorld) -> None:
    """Mail from the order's own email address still has to prove the order, as in chat: the From
    header is a claim anyone can write."""
    from datetime import timedelta

    from shop_app.database import transaction
    from shop_app.models import BotDecision, Order, Verification
    from shop_app.models.base import utcnow

    # given: order #1001 was placed with taro@example.com
    async with transaction(mail_world.services.sessions) as session:
        assert mail_world.alpha.id is not None
        placed = utcnow() - timedelta(days=2)
        session.add(
            Order(
                shop_id=mail_world.alpha.id,
                shopify_id=99_001,
                name="#1001",
                number=1001,
                email="taro@example.com",
                created_at=placed,
                updated_at=placed,
                currency="JPY",
                total_price="3300",
                shipping_address={"zip": "150-0001", "country_code": "JP"},
            )
        )
    # when: a mail claiming to be from taro@example.com asks about it
    await mail_world.send(ENCODINGS["utf-8 base64"](), to=[ALPHA_ADDRESS])
    # then: the bot asks for proof instead of telling
    [ticket] = await mail_world.tickets(mail_world.alpha)
    async with mail_world.services.sessions() as session:
        [decision] = (
            (await session.execute(select(BotDecision).where(col(BotDecision.ticket_id) == ticket.id)))
            .scalars()
            .all()
        )
    assert decision.verification == Verification.NEEDED
    bot = [m for m in await mail_world.messages(ticket) if m.author_type == AuthorType.BOT]
    assert bot
    assert "150-0001" not in bot[0].body


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    local=st.text(min_size=0, max_size=40),
    domain=st.sampled_from(["alpha.example", "beta.example", "x.example"]),
)
async def test_made_up_recipients_lead_nowhere(mail_world: MailWorld, local: str, domain: str) -> None:
    from shop_app.channels.email.addresses import route_recipient

    address = f"{local}@{domain}"
    async with mail_world.services.sessions() as session:
        route = await route_recipient(session, address)
    known = {ALPHA_ADDRESS, BETA_ADDRESS}
    assert route is None or address.strip().strip("<>").lower() in known


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    head=st.binary(max_size=300),
    body=st.binary(max_size=300),
    name=st.text(max_size=30),
)
async def test_garbage_mail_is_stored_or_refused_never_a_server_error(
    mail_world: MailWorld, head: bytes, body: bytes, name: str
) -> None:
    raw = (
        b"From: "
        + name.encode("utf-8", "surrogatepass")
        + b" <taro@example.com>\r\n"
        + head.replace(b"\r\n.", b"\r\n..")
        + b"\r\n\r\n"
        + body
    )
    code = 250
    try:
        await mail_world.send(raw, to=[ALPHA_ADDRESS])
    except aiosmtplib.SMTPDataError as refused:
        code = refused.code
    assert code in (250, 550)  # stored, or "cannot be read" said plainly; never a 4xx or a dropped line


async def test_mail_that_cannot_be_stored_is_deferred_for_the_sender_to_retry(
    mail_world: MailWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shop_app.channels.email.listener as listener

    async def database_down(*_: object, **__: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(listener, "receive_mail", database_down)
    with pytest.raises(aiosmtplib.SMTPDataError) as deferred:
        await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS])
    assert deferred.value.code == 451
    assert "connection refused" not in deferred.value.message
    monkeypatch.undo()
    await mail_world.send(ENCODINGS["shift_jis"](), to=[ALPHA_ADDRESS])  # the sender's retry
    assert len(await mail_world.tickets(mail_world.alpha)) == 1

"""The mail protocols without the app: reading any bytes, quotes and signatures in Japanese and English
clients, machine-sent mail, and outbound headers that cannot be split."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.mail.automatic import Automatic, automatic_kind
from integrations.mail.charsets import decode_text
from integrations.mail.composing import Outbound, compose, new_message_id
from integrations.mail.parsing import MalformedMail, parse_mail, safe_filename
from integrations.mail.replies import new_text

QUOTED = {
    "gmail (ja)": "1001です。\n\n2026年12月1日(火) 10:15 Alpha 商店 <help@alpha.example>:\n> 注文番号は？\n",
    "thunderbird (ja)": "1001です。\n\n山田太郎さんは書きました:\n> 注文番号は？\n",
    "apple mail (ja)": "1001です。\n\n2026/12/01 10:15、Alpha 商店 のメッセージ:\n> 注文番号は？",
    "outlook (ja)": "1001です。\n\n差出人: Alpha 商店 <help@alpha.example>\n送信日時: 2026年12月1日 10:15\n"
    "宛先: taro@example.com\n件名: Re: 注文\n\n注文番号は？\n",
    "signature": "1001です。\n\n-- \n山田 太郎\n株式会社サンプル\n",
    "iphone (ja)": "1001です。\n\niPhoneから送信\n",
}


@pytest.mark.parametrize("client", list(QUOTED))
def test_quoted_replies_and_signatures_are_stripped(client: str) -> None:
    assert new_text(QUOTED[client]) == "1001です。"


def test_english_quotes_are_stripped_and_lists_kept() -> None:
    text = "Where is it?\n- navy\n- M\n\nOn Tue, Dec 1, 2026 at 10:15 AM Alpha <help@alpha.example> wrote:\n> Hi\n"
    assert new_text(text) == "Where is it?\n- navy\n- M"


def test_shift_jis_is_read_as_windows_writes_it() -> None:
    assert decode_text("①㈱髙".encode("cp932"), "Shift_JIS") == "①㈱髙"


def test_an_unknown_charset_is_read_as_utf8() -> None:
    assert decode_text("é".encode(), "x-made-up") == "é"


def headers(**values: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "a@example.com"
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    message.set_content("hi")
    return message


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ({"Auto_Submitted": "auto-generated"}, Automatic.AUTO_REPLY),
        ({"Auto_Submitted": "auto-replied"}, Automatic.AUTO_REPLY),
        ({"X_Autoreply": "yes"}, Automatic.AUTO_REPLY),
        ({"Precedence": "bulk"}, Automatic.BULK),
        ({"Precedence": "junk"}, Automatic.BULK),
        ({"List_Unsubscribe": "<mailto:x@example.com>"}, Automatic.BULK),
        ({"Return_Path": "<>"}, Automatic.BOUNCE),
        ({"Auto_Submitted": "no"}, None),
        ({}, None),
    ],
)
def test_machine_sent_mail_is_told_by_its_headers(values: dict[str, str], kind: Automatic | None) -> None:
    assert automatic_kind(headers(**values)) == kind


def test_the_null_envelope_sender_is_a_bounce() -> None:
    assert automatic_kind(headers(), envelope_sender="") == Automatic.BOUNCE


def test_attachment_names_lose_their_paths() -> None:
    assert safe_filename("../../etc/passwd", "text/plain") == "passwd"
    assert safe_filename("C:\\x\\写真 1.png", "image/png") == "写真 1.png"
    assert safe_filename("$(rm -rf).sh", "text/x-sh") == "_rm -rf_.sh"
    assert safe_filename(None, "application/pdf") == "attachment.pdf"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_are_read_or_refused_as_malformed(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw)
    except MalformedMail:
        return
    assert "@" in parsed.sender


HEADER_VALUES = st.text(max_size=200)


@settings(max_examples=200, deadline=None)
@given(
    name=HEADER_VALUES,
    subject=HEADER_VALUES,
    body=st.text(max_size=500),
    message_id=HEADER_VALUES,
    references=st.lists(HEADER_VALUES, max_size=5),
    content_type=st.sampled_from(["text/plain", "text/html", "application/pdf", "multipart/mixed", "x/y"]),
    charset=st.sampled_from(["utf-8", "iso-2022-jp", "shift_jis", "bogus", ""]),
)
def test_garbage_headers_are_read_or_refused(
    name: str,
    subject: str,
    body: str,
    message_id: str,
    references: list[str],
    content_type: str,
    charset: str,
) -> None:
    raw = (
        f"From: {name} <taro{name[:3]}@example.com>\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"References: {' '.join(references)}\r\nContent-Type: {content_type}; charset={charset}\r\n\r\n{body}"
    ).encode("utf-8", errors="surrogatepass")
    try:
        parsed = parse_mail(raw)
    except MalformedMail:
        return
    assert "\n" not in parsed.subject
    assert all(len(i) <= 250 for i in (*parsed.references, *parsed.in_reply_to))
    stored = [
        parsed.subject,
        parsed.sender_name or "",
        parsed.text,
        parsed.message_id or "",
        *parsed.references,
    ]
    assert not any("\x00" in value for value in stored)  # PostgreSQL refuses NUL in text


def test_huge_parts_are_skipped_and_counted() -> None:
    message = EmailMessage()
    message["From"] = "taro@example.com"
    message.set_content("本文")
    for index in range(5):
        message.add_attachment(
            b"x" * (10 if index < 2 else 5000), maintype="application", subtype="pdf", filename=f"{index}.pdf"
        )
    parsed = parse_mail(message.as_bytes(), max_attachment_bytes=100, max_attachments=1)
    assert [a.filename for a in parsed.attachments] == ["0.pdf"]
    assert parsed.skipped_attachments == 4
    assert parsed.text == "本文"


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=80), subject=st.text(max_size=120))
def test_outbound_names_and_subjects_cannot_add_headers(name: str, subject: str) -> None:
    outbound = Outbound(
        from_name=name,
        from_address="help@alpha.example",
        reply_to="help+tabc@alpha.example",
        to_address="taro@example.com",
        to_name=name,
        subject=subject,
        text="本文",
        in_reply_to="m1@example.com",
        references=["m0@example.com", "m1@example.com"],
        automatic=True,
        sent_at=datetime(2026, 12, 3, tzinfo=UTC),
    )
    raw = compose(outbound, message_id=new_message_id("alpha.example")).as_bytes()
    again = email.message_from_bytes(raw, policy=email.policy.default)
    assert sorted(again.keys()) == sorted(
        [
            "From",
            "To",
            "Reply-To",
            "Subject",
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
            "Auto-Submitted",
            "X-Auto-Response-Suppress",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
        ]
    )
    assert [a.addr_spec for a in again["To"].addresses] == ["taro@example.com"]
    assert again["Auto-Submitted"] == "auto-replied"


def test_nul_and_line_breaks_never_reach_what_is_stored() -> None:
    raw = (
        b"From: =?UTF-8?Q?=E5=B1=B1=E7=94=B0=00?= <taro@example.com>\r\n"
        b"Subject: =?UTF-8?Q?a=00b=0D=0ABcc:_c?=\r\n\r\nbody\x00text"
    )
    parsed = parse_mail(raw)
    assert parsed.sender_name == "山田"
    assert parsed.subject == "a b Bcc: c"
    assert parsed.text == "bodytext"


def test_message_ids_with_control_characters_are_not_ids() -> None:
    raw = b"From: taro@example.com\r\nMessage-ID: <a\x00b@x>\r\nIn-Reply-To: <c\x01d@x> <ok@x>\r\n\r\nhi"
    parsed = parse_mail(raw)
    assert parsed.message_id is None
    assert parsed.in_reply_to == ("ok@x",)


def test_without_a_from_header_the_envelope_sender_is_the_sender() -> None:
    parsed = parse_mail(b"Subject: hi\r\n\r\nWhere is my order?", envelope_sender="Taro@Example.com")
    assert parsed.sender == "taro@example.com"
    with pytest.raises(MalformedMail):
        parse_mail(b"Subject: hi\r\n\r\nWhere is my order?", envelope_sender="")

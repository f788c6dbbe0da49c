"""An outbound message: UTF-8 MIME with a plain-text part, threaded under the shopper's message
(RFC 5322 §3.6.4) and marked as sent by software on a person's behalf when the bot wrote it (RFC 3834).

Every header value is made single-line first: a subject or a name carrying CR/LF could otherwise add
headers (``Bcc:``) to the message."""

from __future__ import annotations

import email.policy
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

MAX_SUBJECT_CHARS = 200
MAX_NAME_CHARS = 100
MAX_REFERENCES = 20
_BREAKING = frozenset("\x7f\x85\u2028\u2029")


@dataclass(frozen=True, slots=True)
class Outbound:
    from_name: str
    from_address: str
    reply_to: str
    to_address: str
    to_name: str | None
    subject: str
    text: str
    in_reply_to: str | None  # the message answered, without angle brackets
    references: Sequence[str]
    automatic: bool  # the bot wrote it: Auto-Submitted: auto-replied
    sent_at: datetime


def single_line(value: str, *, limit: int) -> str:
    """No control characters (CR, LF, NUL, …) and no runs of spaces: what a header value may hold."""
    cleaned = "".join(
        " " if ord(ch) < 32 or ord(ch) == 127 or ch in "\u2028\u2029\x85" else ch for ch in value
    )
    return " ".join(cleaned.split())[:limit]


def new_message_id(domain: str) -> str:
    """A Message-ID (without angle brackets) nobody can guess."""
    return f"{secrets.token_hex(12)}.desk@{domain}"


def reply_subject(subject: str) -> str:
    subject = single_line(subject, limit=MAX_SUBJECT_CHARS)
    return subject if subject.lower().startswith(("re:", "re：")) else f"Re: {subject}".strip()


def compose(outbound: Outbound, *, message_id: str) -> EmailMessage:
    message = EmailMessage(policy=email.policy.default)
    message["From"] = _address(outbound.from_name, outbound.from_address)
    message["To"] = _address(outbound.to_name or "", outbound.to_address)
    message["Reply-To"] = _address(outbound.from_name, outbound.reply_to)
    message["Subject"] = single_line(outbound.subject, limit=MAX_SUBJECT_CHARS)
    message["Date"] = format_datetime(outbound.sent_at)
    message["Message-ID"] = f"<{message_id}>"
    if outbound.in_reply_to:
        message["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    references = [f"<{ref}>" for ref in list(dict.fromkeys(outbound.references))[-MAX_REFERENCES:]]
    if references:
        message["References"] = " ".join(references)
    if outbound.automatic:
        message["Auto-Submitted"] = "auto-replied"
    # our own replies say "do not auto-answer this" to Exchange and friends, which also stops loops
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(outbound.text, charset="utf-8", cte="quoted-printable")
    return message


def _address(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=single_line(name, limit=MAX_NAME_CHARS), username=local, domain=domain)

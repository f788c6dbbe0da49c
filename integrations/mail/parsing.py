"""One received message, read with the standard library's ``email`` package (policy ``default``) into
what the desk needs: who sent it, its threading ids, its subject, its text and its attachments.

Text comes from the first ``text/plain`` part, else from the first ``text/html`` part turned into plain
text by ``inscriptis`` (it lays block elements, lists and tables out as lines, drops scripts and styles and
writes no Markdown, unlike ``html2text``, which escapes "1." and "-" for Markdown; BeautifulSoup's
``get_text`` splits a line at every inline tag). Bodies are decoded from their bytes with ``charsets``
(Japanese labels as Japanese clients write them), never through ``get_content``, which hides bad bytes.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from inscriptis import get_text

from integrations.mail.automatic import Automatic, automatic_kind
from integrations.mail.charsets import decode_text

MAX_PARTS = 200
MAX_HEADER_CHARS = 998 * 4
MAX_IDS = 50
_MESSAGE_ID = re.compile(r"<([^<>\s\x00-\x1f\x7f]{1,250})>")
_UNSAFE_FILENAME = re.compile(r"[^\w.\- ]+")


class MalformedMail(ValueError):
    """The bytes are not a message the desk can read (no sender, or nothing it can parse)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None  # without its angle brackets
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: str  # the From address (a claim: anyone can write any From)
    sender_name: str | None
    subject: str
    text: str
    attachments: tuple[Attachment, ...]
    skipped_attachments: int  # over the size limit, or past the count limit
    automatic: Automatic | None


def parse_mail(
    raw: bytes,
    *,
    envelope_sender: str | None = None,
    max_attachment_bytes: int = 10 * 1024 * 1024,
    max_attachments: int = 10,
) -> ParsedMail:
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        return _read(
            message,
            envelope_sender=envelope_sender,
            max_attachment_bytes=max_attachment_bytes,
            max_attachments=max_attachments,
        )
    except MalformedMail:
        raise
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, AssertionError) as error:
        # the email package reports malformed structure in many ways; each is "cannot read this"
        raise MalformedMail(type(error).__name__) from None


def _read(
    message: EmailMessage, *, envelope_sender: str | None, max_attachment_bytes: int, max_attachments: int
) -> ParsedMail:
    name, address = parseaddr(_header(message, "From"))
    if "@" not in address and envelope_sender and "@" in envelope_sender:
        address = envelope_sender  # no From header: the envelope's sender is all there is
    if "@" not in address or any(ord(ch) < 33 or ord(ch) == 127 for ch in address.strip()):
        raise MalformedMail("no sender address")
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    skipped = 0
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS:
            break
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition == "attachment" or filename or not content_type.startswith("text/"):
            if content_type in ("message/delivery-status", "message/rfc822"):
                continue
            data = part.get_payload(decode=True)
            if (
                not isinstance(data, bytes)
                or len(data) > max_attachment_bytes
                or len(attachments) >= (max_attachments)
            ):
                skipped += 1
                continue
            attachments.append(Attachment(safe_filename(filename, content_type), content_type, data))
            continue
        payload = part.get_payload(decode=True)
        body = decode_text(payload if isinstance(payload, bytes) else b"", part.get_content_charset())
        if content_type == "text/plain" and text is None:
            text = body
        elif content_type == "text/html" and html is None:
            html = body
    if text is None and html is not None:
        text = get_text(html)
    return ParsedMail(
        message_id=_first_id(_header(message, "Message-ID")),
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        sender=address.strip().lower(),
        sender_name=_one_line(name) or None,
        subject=_one_line(_header(message, "Subject")),
        text=(text or "").replace("\r\n", "\n").replace("\x00", "").strip(),
        attachments=tuple(attachments),
        skipped_attachments=skipped,
        automatic=automatic_kind(message, envelope_sender=envelope_sender),
    )


def _one_line(value: str) -> str:
    """No control characters (databases refuse NUL; CR and LF split headers) and single spaces."""
    return " ".join("".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in value).split())


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return str(value)[:MAX_HEADER_CHARS] if value is not None else ""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_MESSAGE_ID.findall(value)))[-MAX_IDS:]


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.search(value)
    return found.group(1) if found else None


def safe_filename(filename: str | None, content_type: str) -> str:
    """A name to show for an attachment: no path, no control or shell characters, at most 100 chars."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME.sub("_", base).strip(" .")[:100]
    return cleaned or f"attachment.{content_type.rsplit('/', 1)[-1][:10] or 'bin'}"


def recipients(header_values: list[str]) -> list[str]:
    """The addresses in To/Cc-style header values, lower-cased."""
    return [address.lower() for _, address in getaddresses(header_values) if "@" in address]


def split_address(address: str) -> Address | None:
    """``local@domain`` as an ``Address``, or ``None`` for anything else."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    try:
        return Address(username=local, domain=domain)
    except (ValueError, IndexError):
        return None

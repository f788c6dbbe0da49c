"""Whether a message was sent by a machine: an auto-reply (RFC 3834), a bounce or delay notice (a DSN,
RFC 3464), or bulk and list mail. None of them may open a ticket or be answered, or two robots would
write to each other for ever."""

from __future__ import annotations

from email.message import EmailMessage
from enum import StrEnum


class Automatic(StrEnum):
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    BULK = "bulk"


_AUTO_REPLY_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoresponder",
    "X-Auto-Response-Suppress",  # Exchange sets it on its own automatic messages
    "X-Mail-Autoreply",
    "X-FC-MachineGenerated",
)
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")


def automatic_kind(message: EmailMessage, *, envelope_sender: str | None = None) -> Automatic | None:
    """Why this message is a machine's, or ``None`` for a person's. ``envelope_sender`` is SMTP's MAIL
    FROM: the null sender ``<>`` (an empty string) is used only by bounces and other notifications."""
    content_type = message.get_content_type()
    if content_type == "multipart/report" or _has_part(message, "message/delivery-status"):
        return Automatic.BOUNCE
    if envelope_sender == "":
        return Automatic.BOUNCE
    sender = str(message.get("From", "")).lower()
    return_path = str(message.get("Return-Path", "")).strip()
    if return_path == "<>" or any(s in sender for s in _BOUNCE_SENDERS):
        return Automatic.BOUNCE
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Automatic.AUTO_REPLY
    if any(message.get(header) is not None for header in _AUTO_REPLY_HEADERS):
        return Automatic.AUTO_REPLY
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("auto_reply", "auto-reply"):
        return Automatic.AUTO_REPLY
    if precedence in ("bulk", "junk", "list") or message.get("List-Id") or message.get("List-Unsubscribe"):
        return Automatic.BULK
    return None


def _has_part(message: EmailMessage, content_type: str) -> bool:
    return any(part.get_content_type() == content_type for part in message.walk())

"""The bodies our triggers send, parsed strictly (after the signature was verified).

Zendesk renders trigger placeholders as plain text and does not promise JSON escaping of them, so the
body we ask for carries ids only (digits, which need no escaping) and a fixed kind; the comment's text and
author are read back from the Tickets API, where they are typed. A body with any other key, a non-digit id
or an unknown kind is refused whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_BODY_BYTES = 16 * 1024
MAX_ID_DIGITS = 20


class TriggerKind(StrEnum):
    TICKET_CREATED = "ticket_created"
    PUBLIC_COMMENT = "public_comment"


class ZendeskParseError(ValueError):
    """The body is not one our triggers send."""


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    kind: TriggerKind
    ticket_id: int
    requester_id: int


FIELDS = frozenset({"kind", "ticket_id", "requester_id"})


def trigger_body_template(kind: TriggerKind) -> str:
    """The JSON body a trigger's ``notification_webhook`` action sends for ``kind``."""
    return json.dumps(
        {"kind": kind.value, "ticket_id": "{{ticket.id}}", "requester_id": "{{ticket.requester.id}}"},
        indent=2,
    )


def parse_trigger_event(body: bytes) -> TriggerEvent:
    if len(body) > MAX_BODY_BYTES:
        raise ZendeskParseError("body too large")
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ZendeskParseError("body is not JSON") from None
    if not isinstance(data, dict) or set(data) != FIELDS:
        raise ZendeskParseError("body does not have exactly the trigger's fields")
    try:
        kind = TriggerKind(data["kind"])
    except ValueError:
        raise ZendeskParseError("unknown kind") from None
    return TriggerEvent(kind=kind, ticket_id=_id(data["ticket_id"]), requester_id=_id(data["requester_id"]))


def _id(value: object) -> int:
    """Zendesk ids rendered into the body: a string of ASCII digits (a number is accepted too)."""
    if isinstance(value, bool):
        raise ZendeskParseError("id is not a number")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ZendeskParseError("id is not a number")
    if not (0 < len(text) <= MAX_ID_DIGITS and text.isascii() and text.isdigit()):
        raise ZendeskParseError("id is not a number")
    number = int(text)
    if number <= 0:
        raise ZendeskParseError("id is not a number")
    return number

"""Webhook bodies parsed into typed events (after the signature was verified).

``{destination, events: [...]}``: events may be empty (LINE's URL check) and may belong to several users.
Each event keeps what the app acts on: its ``webhookEventId`` (the dedupe key), whether it is a redelivery,
its mode (``standby`` events carry no reply token and must not be answered), the source, the reply token,
and per type the message, postback, follow or account-link fields. A type the app does not handle is kept as
``EventType.OTHER`` so one unfamiliar event never refuses the others in the same body. Why not the SDK's own
models: they refuse a whole body for one unknown event type and require fields (``quoteToken``) that
LINE's own documented examples omit, and they carry no type information for mypy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_EVENTS_PER_BODY = 1000
MAX_ID_CHARS = 100
MAX_TEXT_CHARS = 10_000
MAX_POSTBACK_CHARS = 300
MAX_NONCE_CHARS = 255


class LineParseError(ValueError):
    """The body is not a webhook body LINE sends (after a valid signature: a LINE change or a bug)."""


class EventType(StrEnum):
    MESSAGE = "message"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    POSTBACK = "postback"
    ACCOUNT_LINK = "accountLink"
    UNSEND = "unsend"
    OTHER = "other"


class ContentType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"
    LOCATION = "location"
    STICKER = "sticker"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class MessageContent:
    id: str
    type: ContentType
    text: str | None = None
    package_id: str | None = None
    sticker_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountLink:
    ok: bool
    nonce: str | None


@dataclass(frozen=True, slots=True)
class LineEvent:
    type: EventType
    raw_type: str
    webhook_event_id: str
    timestamp_ms: int
    is_redelivery: bool
    standby: bool
    source_type: str
    user_id: str | None
    reply_token: str | None = None
    message: MessageContent | None = None
    postback_data: str | None = None
    link: AccountLink | None = None
    unsent_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookBody:
    destination: str
    events: tuple[LineEvent, ...]


def parse_webhook_body(raw: bytes) -> WebhookBody:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LineParseError("not JSON") from None
    if not isinstance(data, dict):
        raise LineParseError("not an object")
    events = data.get("events")
    if not isinstance(events, list) or len(events) > MAX_EVENTS_PER_BODY:
        raise LineParseError("events is not a list")
    return WebhookBody(
        destination=_text(data, "destination", required=False) or "",
        events=tuple(parse_event(event) for event in events),
    )


def parse_event(data: Any) -> LineEvent:
    if not isinstance(data, dict):
        raise LineParseError("an event is not an object")
    raw_type = _text(data, "type")
    assert raw_type is not None
    try:
        kind = EventType(raw_type)
    except ValueError:
        kind = EventType.OTHER
    source = data.get("source")
    if source is not None and not isinstance(source, dict):
        raise LineParseError("source is not an object")
    source = source or {}
    context = data.get("deliveryContext") or {}
    if not isinstance(context, dict):
        raise LineParseError("deliveryContext is not an object")
    redelivery = context.get("isRedelivery", False)
    timestamp = data.get("timestamp")
    if not isinstance(redelivery, bool) or not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise LineParseError("timestamp or isRedelivery has the wrong type")
    event = LineEvent(
        type=kind,
        raw_type=raw_type[:40],
        webhook_event_id=_text(data, "webhookEventId") or "",
        timestamp_ms=timestamp,
        is_redelivery=redelivery,
        standby=data.get("mode") == "standby",
        source_type=_text(source, "type", required=False) or "",
        user_id=_text(source, "userId", required=False),
        reply_token=_text(data, "replyToken", required=False),
    )
    if kind is EventType.MESSAGE:
        return _with(event, message=_message(data.get("message")))
    if kind is EventType.POSTBACK:
        postback = _object(data, "postback")
        return _with(event, postback_data=_text(postback, "data", limit=MAX_POSTBACK_CHARS))
    if kind is EventType.ACCOUNT_LINK:
        link = _object(data, "link")
        return _with(
            event,
            link=AccountLink(
                ok=link.get("result") == "ok",
                nonce=_text(link, "nonce", required=False, limit=MAX_NONCE_CHARS),
            ),
        )
    if kind is EventType.UNSEND:
        return _with(event, unsent_message_id=_text(_object(data, "unsend"), "messageId"))
    return event


def _with(event: LineEvent, **changes: Any) -> LineEvent:
    fields = {name: getattr(event, name) for name in LineEvent.__slots__}
    fields.update(changes)
    return LineEvent(**fields)


def _message(data: Any) -> MessageContent:
    if not isinstance(data, dict):
        raise LineParseError("message is not an object")
    raw_type = _text(data, "type") or ""
    try:
        kind = ContentType(raw_type)
    except ValueError:
        kind = ContentType.OTHER
    message_id = _text(data, "id")
    assert message_id is not None
    if kind is ContentType.TEXT:
        return MessageContent(message_id, kind, text=_text(data, "text", limit=MAX_TEXT_CHARS))
    if kind is ContentType.STICKER:
        return MessageContent(
            message_id,
            kind,
            package_id=_text(data, "packageId", required=False),
            sticker_id=_text(data, "stickerId", required=False),
        )
    return MessageContent(message_id, kind)


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise LineParseError(f"{name} is not an object")
    return value


def _text(data: dict[str, Any], name: str, *, required: bool = True, limit: int = MAX_ID_CHARS) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise LineParseError(f"{name} is missing")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise LineParseError(f"{name} is not text of at most {limit} characters")
    return value

"""The agent-bot webhook bodies, parsed strictly (pydantic, strict types) before use.

Shapes follow Chatwoot's serializers (``Message#webhook_data``, ``Conversations::EventDataPresenter``):
``message_type`` is a string at the top level (``incoming``, ``outgoing``, ``activity``, ``template``);
``conversation.id`` is the conversation's display id (what the API's paths take); a contact sender has no
``type`` in ``message_created`` (a user is ``"user"``, a bot ``"agent_bot"``). Fields Chatwoot adds from
version to version are ignored; those we use must have the documented type or the body is refused.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from integrations.chatwoot.errors import ChatwootParseError

MAX_CONTENT_CHARS = 150_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class MessageType(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    ACTIVITY = "activity"
    TEMPLATE = "template"


class ConversationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    PENDING = "pending"
    SNOOZED = "snoozed"


class Named(_Model):
    id: int
    name: str | None = None


class Sender(_Model):
    id: int
    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None
    type: str | None = None  # absent for a contact in message_created; "contact", "user", "agent_bot"


class Meta(_Model):
    sender: Sender | None = None


class Conversation(_Model):
    id: int  # the display id
    inbox_id: int
    status: ConversationStatus
    meta: Meta | None = None
    custom_attributes: dict[str, Any] = Field(default_factory=dict)


class MessageEvent(_Model):
    event: Literal["message_created", "message_updated"]
    id: int
    content: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)
    content_type: str | None = None
    content_attributes: dict[str, Any] = Field(default_factory=dict)
    message_type: MessageType
    private: bool = False
    sender: Sender | None = None
    inbox: Named
    account: Named
    conversation: Conversation

    @property
    def from_contact(self) -> bool:
        return self.message_type is MessageType.INCOMING and (
            self.sender is None or self.sender.type in (None, "contact")
        )

    @property
    def from_agent(self) -> bool:
        return (
            self.message_type is MessageType.OUTGOING
            and self.sender is not None
            and self.sender.type == "user"
        )

    @property
    def from_bot(self) -> bool:
        return self.sender is not None and self.sender.type == "agent_bot"


class ChangedValue(_Model):
    previous_value: Any = None
    current_value: Any = None


class ConversationEvent(_Model):
    event: Literal[
        "conversation_opened",
        "conversation_resolved",
        "conversation_status_changed",
        "conversation_updated",
        "webwidget_triggered",
    ]
    id: int
    inbox_id: int
    status: ConversationStatus
    meta: Meta | None = None
    changed_attributes: list[dict[str, ChangedValue]] | None = None


class OtherEvent(_Model):
    event: str


ChatwootEvent = MessageEvent | ConversationEvent | OtherEvent
MESSAGE_EVENTS = frozenset({"message_created", "message_updated"})
CONVERSATION_EVENTS = frozenset(
    {
        "conversation_opened",
        "conversation_resolved",
        "conversation_status_changed",
        "conversation_updated",
        "webwidget_triggered",
    }
)


def parse_event(data: dict[str, Any]) -> ChatwootEvent:
    """One webhook body (already decoded JSON) as its model; anything else raises ``ChatwootParseError``."""
    name = data.get("event") if isinstance(data, dict) else None
    if not isinstance(name, str):
        raise ChatwootParseError("no event name")
    model: type[_Model] = (
        MessageEvent
        if name in MESSAGE_EVENTS
        else ConversationEvent
        if name in CONVERSATION_EVENTS
        else OtherEvent
    )
    try:
        # JSON mode: strict types as JSON has them (a string for an enum, never a string for an int)
        return model.model_validate_json(json.dumps(data))  # type: ignore[return-value]
    except ValidationError as error:
        raise ChatwootParseError(f"{name}: {error.error_count()} invalid fields") from None


def parse_body(body: bytes) -> tuple[dict[str, Any], ChatwootEvent]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ChatwootParseError("not JSON") from None
    if not isinstance(data, dict):
        raise ChatwootParseError("not a JSON object")
    return data, parse_event(data)

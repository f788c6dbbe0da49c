"""Shapes of the helpdesk API: what callers send (``*In``, validated strictly) and what they get back.

Requests are validated exactly as the OpenAPI document (built from these shapes) describes them: strict
types (``0`` is not ``false``, ``"5"`` is not ``5``; a whole ``5.0`` is the integer ``5``, as JSON Schema
counts it), and each rule that text must follow is a pattern in the document, not only code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from shop_app.models.accounts import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Role
from shop_app.models.helpdesk import (
    MAX_MESSAGE_CHARS,
    MAX_SAVED_REPLY_CHARS,
    MAX_SAVED_REPLY_TITLE_CHARS,
    MAX_SUBJECT_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    Channel,
    TicketStatus,
)
from shop_app.schemas.profiles import CustomerProfile

MAX_ROW_ID = 2**31 - 1
MAX_SHOPIFY_ID = 2**63 - 1
MAX_EMAIL_CHARS = 320
# The characters Python's str.strip() removes (str.isspace()), spelled out so that the document's
# patterns (ECMA-262), pydantic's (Rust) and Python's own regular expressions all read the same class.
BLANK = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = rf"^[^\x00]*[^\x00{BLANK}][^\x00]*$"  # at least one character that is not blank


def whole_number(value: object) -> object:
    """JSON Schema counts ``5.0`` as the integer 5; pydantic's strict mode would refuse it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _stripped(value: str) -> str:
    return _no_nul(value).strip()


def _stripped_non_empty(value: str) -> str:
    text = _stripped(value)
    if not text:
        raise ValueError("must not be empty")
    return text


# The bounds come before the validator: after it, pydantic would no longer write them into the document.
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID), BeforeValidator(whole_number)]
ShopifyId = Annotated[int, Field(ge=1, le=MAX_SHOPIFY_ID), BeforeValidator(whole_number)]
Text = Annotated[str, Field(pattern=NO_NUL), AfterValidator(_stripped)]
NonBlank = Annotated[str, Field(pattern=NOT_BLANK), AfterValidator(_stripped_non_empty)]
MessageBody = Annotated[NonBlank, Field(max_length=MAX_MESSAGE_CHARS)]
# Checked as an address where it is used (the helpdesk reads full-width forms as ASCII first); the format
# already rules out NUL characters, so no pattern says it again.
EmailAddress = Annotated[
    str,
    Field(max_length=MAX_EMAIL_CHARS, json_schema_extra={"format": "email"}),
    AfterValidator(_stripped_non_empty),
]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=MAX_MESSAGE_CHARS)


# ---- requests


class SignInIn(StrictIn):
    shop: Text = Field(max_length=255)
    email: Text = Field(max_length=320)
    password: str = Field(max_length=MAX_PASSWORD_CHARS)
    locale: Literal["en", "ja"] | None = Field(
        default=None, description="The language the agent signed in with: it becomes theirs"
    )


class ContactIn(StrictIn):
    name: Text | None = Field(default=None, max_length=255)
    email: EmailAddress | None = None
    phone: Text | None = Field(
        default=None, max_length=64, description="Kept when it reads as a phone number of the shop's country"
    )
    locale: Text | None = Field(default=None, max_length=20)


class TicketIn(StrictIn):
    contact: ContactIn
    storefront_identity: (
        dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]] | None
    ) = Field(
        default=None,
        max_length=20,
        description="The app proxy's signed query (shop, logged_in_customer_id, timestamp, signature)",
    )
    channel: Literal[Channel.API, Channel.WEB_CHAT] = Channel.API
    subject: Text = Field(default="", max_length=MAX_SUBJECT_CHARS)
    message: MessageBody


class TicketUpdateIn(StrictIn):
    status: TicketStatus | None = None
    assignee_id: RowId | None = Field(default=None, description="An agent of the shop; null unassigns")
    tags: list[Annotated[NonBlank, Field(max_length=MAX_TAG_CHARS)]] | None = Field(
        default=None,
        max_length=MAX_TAGS,
        description="The whole list. Each is kept as NFKC, spaces collapsed, lower case (VIP and ｖｉｐ "
        "are one tag); one with a control character, or too long once so written, is refused (422)",
    )
    subject: Text | None = Field(default=None, max_length=MAX_SUBJECT_CHARS)


class MessageIn(StrictIn):
    body: MessageBody
    kind: Literal["reply", "note"] | None = Field(default=None, description="Signed-in agents only")
    author_type: Literal["customer", "bot", "note"] | None = Field(default=None, description="API keys only")


class SavedReplyIn(StrictIn):
    locale: Literal["en", "ja"]
    title: NonBlank = Field(max_length=MAX_SAVED_REPLY_TITLE_CHARS)
    body: NonBlank = Field(
        max_length=MAX_SAVED_REPLY_CHARS,
        description="Text with {{ customer_name }}, {{ order_number }}, {{ order_status }}, "
        "{{ tracking_number }}, {{ agent_name }} or {{ shop_name }}; nothing else between braces",
    )


class SavedReplyUpdateIn(StrictIn):
    locale: Literal["en", "ja"] | None = None
    title: NonBlank | None = Field(default=None, max_length=MAX_SAVED_REPLY_TITLE_CHARS)
    body: NonBlank | None = Field(default=None, max_length=MAX_SAVED_REPLY_CHARS)


class LinkIn(StrictIn):
    customer_id: ShopifyId


class ContactUpdateIn(StrictIn):
    name: Text | None = Field(default=None, max_length=255)
    email: EmailAddress | None = Field(default=None, description="null removes it")
    phone: Text | None = Field(
        default=None,
        max_length=64,
        description="A phone number of the shop's country or +E.164; null removes it",
    )


class AgentIn(StrictIn):
    email: EmailAddress
    name: Text = Field(
        default="", max_length=255, description="Its first word is shown to shoppers (none: the shop's name)"
    )
    role: Role | None = Field(default=None, description="A new agent's defaults to agent; a member's is kept")
    locale: Literal["en", "ja"] = "en"
    password: str | None = Field(
        default=None,
        min_length=MIN_PASSWORD_CHARS,
        max_length=MAX_PASSWORD_CHARS,
        description="Needed unless the email is already this shop's agent",
    )


class ApiKeyIn(StrictIn):
    name: NonBlank = Field(max_length=100)
    trusted: bool = False


# ---- responses


class AgentRef(BaseModel):
    id: int
    name: str


class ContactOut(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    phone_display: str | None = Field(
        default=None,
        description="The phone as a person in the shop's country writes it (national in the shop's country, "
        "international otherwise); `phone` stays E.164",
    )


class CandidateOut(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    phone_display: str | None = Field(
        default=None,
        description="The phone as a person in the shop's country writes it (national in the shop's country, "
        "international otherwise); `phone` stays E.164",
    )
    orders_count: int | None


class LinkOut(BaseModel):
    customer_shopify_id: int | None
    guest_email: str | None
    guest_phone: str | None
    guest_phone_display: str | None = None
    reason: str | None
    reason_text: str | None
    candidates: list[CandidateOut]
    linked_at: datetime | None
    linked_by: AgentRef | None


class FirstResponseOut(BaseModel):
    target_minutes: int = Field(description="The channel's target, in open (business-hours) minutes")
    due_at: datetime
    state: Literal["due", "overdue", "met", "missed"]


class TicketSummary(BaseModel):
    id: int
    subject: str
    status: TicketStatus
    resolved_by_bot: bool = Field(description="the bot settled the conversation; cleared when it reopens")
    channel: Channel
    contact: ContactOut
    assignee: AgentRef | None
    customer_shopify_id: int | None
    customer_name: str | None = Field(
        default=None,
        description="The linked customer's name as the shop's records have it (family name first in "
        "Japanese); null when the ticket is linked to no one",
        examples=["井上 恵"],
    )
    link_reason: str | None
    last_message_at: datetime
    last_message_preview: str | None
    message_count: int
    created_at: datetime
    tags: list[str]
    first_response: FirstResponseOut | None = Field(
        description="Against the channel's first-response target; null when resolved without an answer"
    )


class TicketDetail(TicketSummary):
    link: LinkOut
    first_response_at: datetime | None
    resolved_at: datetime | None


class TicketList(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None


class TagCount(BaseModel):
    tag: str
    tickets: int


class TagList(BaseModel):
    tags: list[TagCount]


class SavedReplyOut(BaseModel):
    id: int
    locale: str
    title: str
    body: str
    updated_at: datetime


class SavedReplyList(BaseModel):
    saved_replies: list[SavedReplyOut]


class RenderedReply(BaseModel):
    body: str = Field(description="Plain text for the reply box")
    missing_fields: list[str] = Field(description="Fields this conversation has no value for (left empty)")


AttachmentKind = Literal["image", "video", "audio", "file"]


class AttachmentOut(BaseModel):
    """A file the shopper sent with a message: an email's attachment, or a picture, video, audio or file
    sent on LINE (fetched from LINE when opened)."""

    kind: AttachmentKind
    name: str | None = Field(description="The file's name as sent (email); LINE media have none")
    content_type: str | None
    size_bytes: int | None
    url: str = Field(description="Where a signed-in agent (or an API key) opens it; same-origin path")


class MessageOut(BaseModel):
    id: int
    ticket_id: int
    author_type: str
    author: AgentRef | None
    body: str
    created_at: datetime
    attachments: list[AttachmentOut] = Field(default_factory=list)
    delivery: Literal["pending", "sent", "failed"] | None = Field(
        default=None,
        description="For a reply on a ticket that came by LINE or email: pending until the channel has "
        "taken it (the console says 'not sent yet'), sent, or failed after the last attempt. Absent for "
        "messages that do not leave by a channel.",
    )


class MessageList(BaseModel):
    messages: list[MessageOut]


class AgentOut(BaseModel):
    id: int
    name: str
    email: str
    role: Role


class AgentList(BaseModel):
    agents: list[AgentOut]


class ShopOut(BaseModel):
    id: int
    domain: str
    name: str | None


class SessionAgent(BaseModel):
    id: int
    name: str
    email: str
    locale: str


class SessionOut(BaseModel):
    agent: SessionAgent
    shop: ShopOut
    role: Role
    csrf_token: str


class CustomerHit(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    phone_display: str | None = Field(
        default=None,
        description="The phone as a person in the shop's country writes it (national in the shop's country, "
        "international otherwise); `phone` stays E.164",
    )
    orders_count: int | None


class CustomerList(BaseModel):
    customers: list[CustomerHit]


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    trusted: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. Shown this once; only its digest is kept.")


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class ProfileOut(BaseModel):
    profile: CustomerProfile | None

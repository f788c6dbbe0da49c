"""Shapes of the helpdesk API: what callers send (``*In``, validated strictly) and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shop_app.models.accounts import Role
from shop_app.models.helpdesk import MAX_MESSAGE_CHARS, MAX_SUBJECT_CHARS, Channel, TicketStatus
from shop_app.schemas.profiles import CustomerProfile

MAX_TAGS = 20
MAX_TAG_CHARS = 40


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


Text = Annotated[str, AfterValidator(_stripped)]
MessageBody = Annotated[str, Field(max_length=MAX_MESSAGE_CHARS), AfterValidator(_stripped_non_empty)]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_MESSAGE_CHARS)


# ---- requests


class SignInIn(StrictIn):
    shop: Text = Field(max_length=255)
    email: Text = Field(max_length=320)
    password: str = Field(max_length=1024)
    locale: Literal["en", "ja"] | None = Field(
        default=None, description="The language the agent signed in with: it becomes theirs"
    )


class ContactIn(StrictIn):
    name: Text | None = Field(default=None, max_length=255)
    email: Text | None = Field(default=None, max_length=320)
    phone: Text | None = Field(default=None, max_length=64)
    locale: Text | None = Field(default=None, max_length=20)


class TicketIn(StrictIn):
    contact: ContactIn
    storefront_identity: dict[str, Annotated[str, Field(max_length=512)]] | None = Field(
        default=None, max_length=20
    )
    channel: Literal[Channel.API, Channel.WEB_CHAT] = Channel.API
    subject: Text = Field(default="", max_length=MAX_SUBJECT_CHARS)
    message: MessageBody


class TicketUpdateIn(StrictIn):
    status: TicketStatus | None = None
    assignee_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    tags: list[Annotated[Text, Field(min_length=1, max_length=MAX_TAG_CHARS)]] | None = Field(
        default=None, max_length=MAX_TAGS
    )
    subject: Text | None = Field(default=None, max_length=MAX_SUBJECT_CHARS)


class MessageIn(StrictIn):
    body: MessageBody
    kind: Literal["reply", "note"] | None = None
    author_type: Literal["customer", "bot", "note"] | None = None


class LinkIn(StrictIn):
    customer_id: int = Field(ge=1, le=2**63 - 1)


class ContactUpdateIn(StrictIn):
    name: Text | None = Field(default=None, max_length=255)
    email: Text | None = Field(default=None, max_length=320)
    phone: Text | None = Field(default=None, max_length=64)


class AgentIn(StrictIn):
    email: Text = Field(min_length=3, max_length=320)
    name: Text = Field(default="", max_length=255)
    role: Role = Role.AGENT
    locale: Literal["en", "ja"] = "en"
    password: str | None = Field(default=None, max_length=1024, description="Needed for a new agent")


class ApiKeyIn(StrictIn):
    name: Text = Field(min_length=1, max_length=100)
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


class CandidateOut(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    orders_count: int | None


class LinkOut(BaseModel):
    customer_shopify_id: int | None
    guest_email: str | None
    guest_phone: str | None
    reason: str | None
    reason_text: str | None
    candidates: list[CandidateOut]
    linked_at: datetime | None
    linked_by: AgentRef | None


class TicketSummary(BaseModel):
    id: int
    subject: str
    status: TicketStatus
    channel: Channel
    contact: ContactOut
    assignee: AgentRef | None
    customer_shopify_id: int | None
    link_reason: str | None
    last_message_at: datetime
    last_message_preview: str | None
    message_count: int
    created_at: datetime
    tags: list[str]


class TicketDetail(TicketSummary):
    link: LinkOut
    first_response_at: datetime | None
    resolved_at: datetime | None


class TicketList(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None


class MessageOut(BaseModel):
    id: int
    ticket_id: int
    author_type: str
    author: AgentRef | None
    body: str
    created_at: datetime


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

"""Shapes of the answering bot's API: asking for an answer, the decision (and the audit of them), the
shop's settings and reply templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shop_app.models.answers import MAX_TEMPLATE_CHARS, TemplateKey
from shop_app.schemas.tickets import NOT_BLANK, MessageOut, RowId, ShopifyId, StrictIn

# The intents the bot may answer by itself (``AUTO_INTENTS``; a test keeps the two the same).
AutoReplyIntent = Literal["order_status", "stock", "policy"]
Language = Literal["ja", "en"]  # LANGUAGES


class AnswerIn(StrictIn):
    message_id: RowId | None = Field(
        default=None, description="The customer message to answer; default the latest"
    )
    post: bool = Field(
        default=False,
        description="Post the reply as a bot message and carry out the decision: a handoff opens the ticket "
        "for the agents, a question leaves it pending on the shopper, an answer resolves it (by the bot)",
    )


class DecisionOut(BaseModel):
    id: int
    ticket_id: int
    message_id: int | None
    reply_message_id: int | None
    action: Literal["reply", "ask", "handoff", "silent"]
    reply: str | None
    intent: str
    confidence: float
    language: str
    order_id: int | None = Field(description="The Shopify order id the answer is about")
    order_name: str | None
    verification: str
    reason: str
    priority: bool
    created_at: datetime


class AnswerOut(BaseModel):
    decision: DecisionOut
    message: MessageOut | None = Field(description="The bot message posted, when 'post' was true")


class DecisionList(BaseModel):
    decisions: list[DecisionOut]


class AnswerSettingsIn(StrictIn):
    auto_reply: dict[AutoReplyIntent, bool] | None = Field(
        default=None, description="order_status / stock → answer automatically or not"
    )
    exact_stock_counts: bool | None = None


class AnswerSettingsOut(BaseModel):
    auto_reply: dict[str, bool]
    exact_stock_counts: bool


class ReplyTemplateOut(BaseModel):
    key: str
    language: str
    body: str
    default_body: str
    customised: bool


class ReplyTemplateList(BaseModel):
    templates: list[ReplyTemplateOut]


TemplateBody = Annotated[
    str,
    Field(
        max_length=MAX_TEMPLATE_CHARS,
        pattern=NOT_BLANK,
        description="Jinja text (the reply's variables in {{ }}); one that does not render is refused (422)",
    ),
]


class ReplyTemplateIn(StrictIn):
    body: TemplateBody


class TemplatePreviewIn(StrictIn):
    key: TemplateKey
    language: Language
    body: TemplateBody
    order_id: ShopifyId | None = Field(default=None, description="A Shopify order id")


class TemplatePreviewOut(BaseModel):
    text: str

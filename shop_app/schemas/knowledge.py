"""The embedded admin's FAQ page: entries as the merchant writes and reads them, the shop's mirrored
policies, and the "try it" box's answer (what the bot would say and why)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shop_app.models.knowledge import MAX_FAQ_ANSWER_CHARS, MAX_FAQ_QUESTION_CHARS, MAX_FAQ_QUESTIONS
from shop_app.schemas.tickets import StrictIn

MAX_TRY_CHARS = 2000


class FaqEntryIn(StrictIn):
    questions_ja: list[str] = Field(default_factory=list, max_length=MAX_FAQ_QUESTIONS * 2)
    questions_en: list[str] = Field(default_factory=list, max_length=MAX_FAQ_QUESTIONS * 2)
    answer_ja: str = Field(default="", max_length=MAX_FAQ_ANSWER_CHARS + 100)
    answer_en: str = Field(default="", max_length=MAX_FAQ_ANSWER_CHARS + 100)
    link: str | None = Field(default=None, max_length=2000)
    enabled: bool = True


class FaqEnabledIn(StrictIn):
    enabled: bool


class FaqTryIn(StrictIn):
    text: str = Field(min_length=1, max_length=MAX_TRY_CHARS)


class FaqEntryOut(BaseModel):
    id: int
    questions_ja: list[str]
    questions_en: list[str]
    answer_ja: str
    answer_en: str
    link: str | None
    enabled: bool
    updated_at: str


class PolicyOut(BaseModel):
    type: str
    title: str
    url: str | None
    updated_at: str


class ReturnWindowIn(StrictIn):
    days: int | None = Field(default=None, ge=1, le=365)


class ReturnWindowOut(BaseModel):
    """The merchant's window (None: not set, so return questions about an order go to a person) and what
    the refund policy's words say, to prefill it."""

    days: int | None
    detected_days: int | None
    detected_from: str | None  # "policy:REFUND_POLICY#1"
    detected_text: str | None  # the passage's start


class FaqPageOut(BaseModel):
    entries: list[FaqEntryOut]
    policies: list[PolicyOut]
    return_window: ReturnWindowOut
    max_question_chars: int = MAX_FAQ_QUESTION_CHARS


class MatchOut(BaseModel):
    source: str  # "faq:12", "policy:REFUND_POLICY#3"
    title: str
    quote: str
    score: float
    coverage: float
    confident: bool


class FaqTryOut(BaseModel):
    intent: str
    confidence: float
    action: str  # "reply" or "handoff"
    reason: str  # the decision's reason as the audit stores it
    # answered, own_order, no_confident_match, not_policy, low_confidence: shown in the page's language
    reason_code: str
    reply: str | None
    matches: list[MatchOut]

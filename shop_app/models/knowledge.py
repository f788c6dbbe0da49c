"""What the bot may quote to answer a shop's informational questions: the shop's policies as Shopify holds
them (``shop.shopPolicies``, mirrored), and the FAQ entries the merchant writes (question variants and an
answer, in Japanese and English, each entry switched on or off)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow

MAX_FAQ_QUESTIONS = 20
MAX_FAQ_QUESTION_CHARS = 300
MAX_FAQ_ANSWER_CHARS = 2000


class PolicyType(StrEnum):
    """Shopify's ``ShopPolicyType``."""

    REFUND_POLICY = "REFUND_POLICY"
    SHIPPING_POLICY = "SHIPPING_POLICY"
    PRIVACY_POLICY = "PRIVACY_POLICY"
    TERMS_OF_SERVICE = "TERMS_OF_SERVICE"
    TERMS_OF_SALE = "TERMS_OF_SALE"
    LEGAL_NOTICE = "LEGAL_NOTICE"
    SUBSCRIPTION_POLICY = "SUBSCRIPTION_POLICY"
    CONTACT_INFORMATION = "CONTACT_INFORMATION"


class ShopPolicy(SQLModel, table=True):
    """One of the shop's policies; ``body`` is Shopify's HTML, kept as sent and never rendered as HTML."""

    __tablename__ = "shop_policies"
    __table_args__ = (UniqueConstraint("shop_id", "policy_type", name="uq_shop_policies_shop_type"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    policy_type: str = Field(max_length=40)
    title: str = Field(max_length=255)
    body: str = Field(sa_type=Text)
    url: str | None = Field(default=None, max_length=2000)
    shopify_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FaqEntry(SQLModel, table=True):
    """A merchant's answer to a question shoppers ask, with the ways they ask it, in each language."""

    __tablename__ = "faq_entries"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    questions_ja: list[str] = Field(default_factory=list, sa_type=JSON)
    questions_en: list[str] = Field(default_factory=list, sa_type=JSON)
    answer_ja: str = Field(default="", sa_type=Text)
    answer_en: str = Field(default="", sa_type=Text)
    link: str | None = Field(default=None, max_length=2000)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

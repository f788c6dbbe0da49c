"""The answering bot's tables: every decision it takes (the audit), the verification attempts it counts
and the orders a conversation proved it may see, the merchant's reply templates and per-shop settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class DecisionAction(StrEnum):
    REPLY = "reply"
    ASK = "ask"  # a clarifying question
    HANDOFF = "handoff"
    SILENT = "silent"


class Verification(StrEnum):
    NOT_NEEDED = "not_needed"
    TRUSTED_CALLER = "trusted_caller"
    STOREFRONT = "storefront"
    ORDER_DETAILS = "order_details"
    NEEDED = "needed"
    FAILED = "failed"
    LIMITED = "limited"


# A reply template's closed sets: which reply it words, in which language, and how long it may be.
MAX_TEMPLATE_CHARS = 4000
LANGUAGES = ("ja", "en")


class TemplateGroup(StrEnum):
    ORDER = "order"
    STOCK = "stock"
    GENERAL = "general"


class TemplateKey(StrEnum):
    ORDER_UNFULFILLED = "order_unfulfilled"
    ORDER_ON_HOLD = "order_on_hold"
    ORDER_PARTIALLY_SHIPPED = "order_partially_shipped"
    ORDER_LABEL_CREATED = "order_label_created"
    ORDER_IN_TRANSIT = "order_in_transit"
    ORDER_OUT_FOR_DELIVERY = "order_out_for_delivery"
    ORDER_DELIVERED = "order_delivered"
    ORDER_DELAYED = "order_delayed"
    ORDER_FAILED_ATTEMPT = "order_failed_attempt"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_REFUNDED = "order_refunded"
    ORDER_LATE = "order_late"
    STOCK_IN_STOCK = "stock_in_stock"
    STOCK_LOW = "stock_low"
    STOCK_SOLD_OUT = "stock_sold_out"
    STOCK_BACKORDER = "stock_backorder"
    STOCK_RESTOCK = "stock_restock"
    STOCK_UNKNOWN = "stock_unknown"
    STOCK_ASK_VARIANT = "stock_ask_variant"
    STOCK_ASK_PRODUCT = "stock_ask_product"
    ASK_ORDER_NUMBER = "ask_order_number"
    ASK_VERIFICATION = "ask_verification"
    VERIFICATION_FAILED = "verification_failed"
    CHOOSE_ORDER = "choose_order"
    POLICY_ANSWER = "policy_answer"
    POLICY_RETURN_WINDOW = "policy_return_window"
    HANDOFF = "handoff"

    @property
    def group(self) -> TemplateGroup:
        if self.value.startswith("order_"):
            return TemplateGroup.ORDER
        if self.value.startswith("stock_"):
            return TemplateGroup.STOCK
        return TemplateGroup.GENERAL


class BotDecision(SQLModel, table=True):
    __tablename__ = "bot_decisions"
    __table_args__ = (
        Index("ix_bot_decisions_ticket_id_id", "ticket_id", "id"),
        Index("ix_bot_decisions_shop_created", "shop_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    message_id: int | None = Field(default=None, foreign_key="messages.id", ondelete="SET NULL")
    reply_message_id: int | None = Field(default=None, foreign_key="messages.id", ondelete="SET NULL")
    intent: str = Field(max_length=40)
    confidence: float
    language: str = Field(max_length=8)
    order_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    order_name: str | None = Field(default=None, max_length=64)
    verification: Verification = Field(sa_type=String(20))
    action: DecisionAction = Field(sa_type=String(20))
    reply: str | None = Field(default=None, sa_type=Text)
    reason: str = Field(max_length=255)
    priority: bool = False
    # the product and variant a stock question was about, when the bot could tell (insights)
    product_title: str | None = Field(default=None, max_length=512)
    variant_title: str | None = Field(default=None, max_length=512)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VerificationAttempt(SQLModel, table=True):
    """One try at proving an order (its number with an email, phone or postal code). A failed try counts
    ``failures`` times: once for every order number and every candidate proof it named."""

    __tablename__ = "verification_attempts"
    __table_args__ = (
        Index("ix_verification_attempts_ticket_at", "ticket_id", "created_at"),
        Index("ix_verification_attempts_shop_source_at", "shop_id", "source", "created_at"),
        Index("ix_verification_attempts_shop_at", "shop_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    source: str = Field(max_length=120)
    succeeded: bool = False
    failures: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketVerification(SQLModel, table=True):
    """An order this conversation (and only this one) proved it may hear about."""

    __tablename__ = "ticket_verifications"
    __table_args__ = (UniqueConstraint("ticket_id", "order_id", name="uq_ticket_verifications_ticket_order"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE")
    method: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReplyTemplate(SQLModel, table=True):
    """A shop's own wording of one reply in one language (the defaults live in code)."""

    __tablename__ = "reply_templates"
    __table_args__ = (
        UniqueConstraint("shop_id", "key", "language", name="uq_reply_templates_shop_key_lang"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=60)
    language: str = Field(max_length=8)
    body: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnswerSettings(SQLModel, table=True):
    __tablename__ = "answer_settings"

    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    )
    auto_reply: dict[str, bool] = Field(default_factory=dict, sa_type=JSON)  # intent → on/off
    exact_stock_counts: bool = False
    # how many days after delivery a return is accepted, as the merchant confirmed it (the admin prefills
    # it from the refund policy's words); None: unknown, so a return question about an order goes to a person
    return_window_days: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

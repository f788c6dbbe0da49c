"""Order actions: the merchant's policy (who may do what, above which amount a second person approves,
what the bot may do by itself), each action from preview to Shopify's answer, and its audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class ActionKind(StrEnum):
    CANCEL = "cancel"
    REFUND = "refund"
    ADDRESS = "address"
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    NOTE = "note"
    TAG = "tag"
    RESEND_INVOICE = "resend_invoice"  # orderInvoiceSend: the order's invoice email (its details, a pay link)
    RESEND_SHIPPING = "resend_shipping"  # fulfillmentTrackingInfoUpdate(notifyCustomer): the shipping email


class ActionStatus(StrEnum):
    PREVIEWED = "previewed"  # shown, not confirmed yet
    AWAITING_APPROVAL = "awaiting_approval"  # confirmed, above the limit: waits for an admin
    SENDING = "sending"  # confirmed (and approved): sent or about to be sent to Shopify
    APPLIED = "applied"  # Shopify did it
    REJECTED = "rejected"  # Shopify refused it (its userErrors are kept)
    REFUSED = "refused"  # an admin refused the approval
    EXPIRED = "expired"  # the preview was not confirmed in time
    APPROVAL_EXPIRED = "approval_expired"  # no admin decided before the approval's deadline


class ActionEventKind(StrEnum):
    PREVIEWED = "previewed"
    CONFIRMED = "confirmed"
    SHOPPER_CONFIRMED = "shopper_confirmed"
    SHOPPER_DECLINED = "shopper_declined"  # the shopper said no to the bot's restated action
    APPROVAL_REQUESTED = "approval_requested"
    APPROVED = "approved"
    APPROVAL_REFUSED = "approval_refused"
    SENT = "sent"
    APPLIED = "applied"
    REJECTED = "rejected"
    DENIED = "denied"  # a caller without the right tried
    APPROVAL_EXPIRED = "approval_expired"  # the scheduled sweep: nobody decided in time
    WEBHOOK_CONFIRMED = "webhook_confirmed"  # Shopify's webhook for the change arrived


class ActionPolicy(SQLModel, table=True):
    """One shop's rules. ``roles`` maps an action to the roles allowed it; ``approval_amount`` (a decimal in
    the shop's currency, None for no limit) is the refund or cancellation amount above which an admin other
    than the requester approves; the bot's self-service is off until the merchant turns it on."""

    __tablename__ = "order_action_policies"

    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", primary_key=True)
    roles: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSON)
    approval_amount: str | None = Field(default=None, max_length=32)
    approval_hours: int = 24
    bot_cancel: bool = False
    bot_address: bool = False
    bot_window_minutes: int = 120
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrderAction(SQLModel, table=True):
    """One action on one order, from the preview shown to Shopify's answer. Who asked is an agent, an API
    key or (``by_shopper``) the ticket's verified shopper through the bot."""

    __tablename__ = "order_actions"
    __table_args__ = (
        Index("ix_order_actions_shop_created", "shop_id", "created_at"),
        Index("ix_order_actions_shop_order", "shop_id", "order_shopify_id"),
        Index("ix_order_actions_shop_status", "shop_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", ondelete="SET NULL")
    order_shopify_id: int = Field(sa_type=BigInteger)
    order_name: str = Field(default="", max_length=64)
    kind: ActionKind = Field(sa_type=String(20))
    status: ActionStatus = Field(default=ActionStatus.PREVIEWED, sa_type=String(20))
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    preview: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    amount: str | None = Field(default=None, max_length=32)
    currency: str | None = Field(default=None, max_length=3)
    requested_by_agent_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    requested_by_api_key_id: int | None = Field(default=None, foreign_key="api_keys.id", ondelete="SET NULL")
    by_shopper: bool = False
    decided_by_agent_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    idempotency_key: str = Field(max_length=64)
    shopify_answer: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    errors: list[str] = Field(default_factory=list, sa_type=JSON)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    webhook_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrderActionEvent(SQLModel, table=True):
    """The audit: who did what to an action, when, with what it showed or Shopify answered."""

    __tablename__ = "order_action_events"
    __table_args__ = (Index("ix_order_action_events_shop_action", "shop_id", "action_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    action_id: int | None = Field(default=None, foreign_key="order_actions.id", ondelete="CASCADE")
    kind: ActionEventKind = Field(sa_type=String(30))
    agent_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    api_key_id: int | None = Field(default=None, foreign_key="api_keys.id", ondelete="SET NULL")
    by_shopper: bool = False
    detail: str = Field(default="", sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @classmethod
    def of(
        cls,
        action: OrderAction,
        kind: ActionEventKind,
        *,
        agent_id: int | None = None,
        api_key_id: int | None = None,
        by_shopper: bool = False,
        detail: str = "",
    ) -> OrderActionEvent:
        return cls(
            shop_id=action.shop_id,
            action_id=action.id,
            kind=kind,
            agent_id=agent_id,
            api_key_id=api_key_id,
            by_shopper=by_shopper,
            detail=detail,
        )

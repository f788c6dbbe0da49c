"""Connectors: a shop's link to a helpdesk it already runs (Chatwoot, Zendesk), the external conversations
mirrored onto our tickets, and the inbound calls received from the helpdesk (each delivery id once).

A connector's secrets (tokens, signing secrets) are one Fernet ciphertext, never shown again. The helpdesk
reaches a connector at ``/connectors/{vendor}/hook/{inbound_key}``: a random key per connector, compared by
lookup and then backed by the vendor's own signature or token check.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class ConnectorVendor(StrEnum):
    CHATWOOT = "chatwoot"
    ZENDESK = "zendesk"


class ConnectorEventStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


class Connector(SQLModel, table=True):
    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("shop_id", "vendor", name="uq_connectors_shop_vendor"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    vendor: ConnectorVendor = Field(sa_type=String(20))
    base_url: str = Field(max_length=500)
    account: str = Field(max_length=100)  # Chatwoot's account id, Zendesk's subdomain
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # non-secret, per vendor
    ciphertext: str  # {"<secret name>": "<value>", …}
    inbound_key: str = Field(max_length=64, unique=True, index=True)
    paused: bool = False
    last_check_ok: bool | None = None
    last_check_code: str | None = Field(default=None, max_length=40)
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConnectorConversation(SQLModel, table=True):
    """An external conversation (Chatwoot's conversation, Zendesk's ticket) and the ticket of ours that
    mirrors it, so the bot's decisions, verification attempts and analytics work as on our own channels."""

    __tablename__ = "connector_conversations"
    __table_args__ = (
        UniqueConstraint("connector_id", "external_id", name="uq_connector_conversations_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    connector_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connectors.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    external_id: str = Field(max_length=64)
    inbox: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=20)  # the helpdesk's own word
    external_contact_id: str | None = Field(default=None, max_length=64)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", ondelete="SET NULL")
    agent_replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the bot is silent after
    handed_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConnectorEvent(SQLModel, table=True):
    """An inbound call, stored (signature checked) before the helpdesk is answered and worked by a job; the
    unique key refuses a replayed delivery. ``event`` is emptied once it is applied."""

    __tablename__ = "connector_events"
    __table_args__ = (UniqueConstraint("connector_id", "delivery_id", name="uq_connector_events_delivery"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    connector_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connectors.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    delivery_id: str = Field(max_length=100)
    status: ConnectorEventStatus = Field(default=ConnectorEventStatus.PENDING, sa_type=String(20), index=True)
    event: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

"""Who may use the helpdesk: agents (an account per shop and email; accounts made before that rule may be
members of several shops), their sign-in sessions, failed sign-ins (for the limits), and API keys for bots
and other helpdesks. Secrets are never stored: passwords as Argon2id hashes, session tokens and API keys as
SHA-256 digests of 256-bit random values."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


class Agent(SQLModel, table=True):
    __tablename__ = "agents"

    id: int | None = Field(default=None, primary_key=True)
    # unique per shop (checked when an agent is added), not across shops: another shop's admin adding the
    # same email makes a separate account and learns nothing of this one
    email: str = Field(max_length=320, index=True)
    name: str = Field(max_length=255)  # may be empty: shoppers then see the shop's name
    password_hash: str = Field(max_length=255)
    locale: str = Field(default="en", max_length=10)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("shop_id", "agent_id", name="uq_memberships_shop_agent"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    agent_id: int = Field(foreign_key="agents.id", ondelete="CASCADE", index=True)
    role: Role = Field(default=Role.AGENT, sa_type=String(20))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgentSession(SQLModel, table=True):
    """A signed-in browser, bound to one shop. The cookie holds the token; only its digest is here."""

    __tablename__ = "agent_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(max_length=64, unique=True, index=True)
    agent_id: int = Field(foreign_key="agents.id", ondelete="CASCADE", index=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class LimitScope(StrEnum):
    ACCOUNT = "account"  # a shop and an email, whether or not such an agent exists
    ADDRESS = "address"  # the client's address (IPv6: its /64)


class SignInFailure(SQLModel, table=True):
    """A failed sign-in (or one still checking its password), counted for one scope. ``key_digest`` is an
    HMAC of the shop and email or of the address: neither is stored."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_scope_key_at", "scope", "key_digest", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: LimitScope = Field(sa_type=String(10))
    key_digest: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ApiKey(SQLModel, table=True):
    """A key for a bot or another helpdesk, shown once at creation. ``trusted`` keys may read order details
    without the shopper's verification (their caller has verified the shopper itself)."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    key_digest: str = Field(max_length=64, unique=True, index=True)
    trusted: bool = False
    created_by_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class OAuthState(SQLModel, table=True):
    """A single-use ``state`` nonce for the authorization code grant, bound to one browser.

    Only SHA-256 digests are kept: of the nonce, and of the random value in the browser's cookie.
    """

    __tablename__ = "oauth_states"

    id: int | None = Field(default=None, primary_key=True)
    nonce_digest: str = Field(max_length=64, unique=True)
    browser_digest: str = Field(max_length=64)
    shop_domain: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    consumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class ShopStatus(StrEnum):
    INSTALLED = "installed"
    NEEDS_REAUTH = "needs_reauth"
    UNINSTALLED = "uninstalled"


class Shop(SQLModel, table=True):
    __tablename__ = "shops"

    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(max_length=255, unique=True, index=True)
    status: ShopStatus = Field(default=ShopStatus.INSTALLED, sa_type=String(20))
    scopes: str = Field(default="", max_length=2000)
    shopify_shop_id: int | None = Field(default=None, sa_type=BigInteger)
    # the shop's own settings, read from Shopify: matching takes the country as the phone numbers' default
    # region; pages show money in the currency and times in the time zone
    name: str | None = Field(default=None, max_length=255)
    country_code: str | None = Field(default=None, max_length=2)
    currency_code: str | None = Field(default=None, max_length=3)
    iana_timezone: str | None = Field(default=None, max_length=64)
    primary_locale: str | None = Field(default=None, max_length=20)
    # the help desk's own settings, set in the embedded admin (shapes in ``schemas.desk_settings``):
    # business hours (none: always open) and the first-response target per channel (none: the defaults)
    business_hours: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    first_response_minutes: dict[str, int] | None = Field(default=None, sa_type=JSON)
    installed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    uninstalled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.status == ShopStatus.INSTALLED


class ShopCredential(SQLModel, table=True):
    """A shop's offline tokens and their expiries, encrypted together in one Fernet ciphertext.

    ``version`` grows on every save so a waiting process can tell that another one refreshed; the lease
    columns let exactly one process at a time refresh, across processes and machines.
    """

    __tablename__ = "shop_credentials"

    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    )
    ciphertext: str
    version: int = Field(default=1)
    refresh_lease_owner: str | None = Field(default=None, max_length=64)
    refresh_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

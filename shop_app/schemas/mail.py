"""The embedded admin's email settings: what the merchant sends and what they are shown (the relay
password is never shown again, only whether one is kept)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shop_app.schemas.tickets import StrictIn


class MailSettingsIn(StrictIn):
    support_address: str = Field(min_length=3, max_length=254)
    relay_host: str | None = Field(default=None, max_length=255)
    relay_port: int = Field(default=587, ge=1, le=65535)
    relay_starttls: bool = True
    relay_username: str | None = Field(default=None, max_length=255)
    # None keeps the stored password; "" removes it
    relay_password: str | None = Field(default=None, max_length=1024)


class MailSettingsOut(BaseModel):
    support_address: str | None
    reply_address_example: str | None
    relay_host: str | None
    relay_port: int
    relay_starttls: bool
    relay_username: str | None
    relay_password_kept: bool
    listener_port: int


class RelayCheckOut(BaseModel):
    ok: bool
    problem: str | None

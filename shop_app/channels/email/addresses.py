"""Each shop's support address and relay, and where a recipient address leads.

Mail reaches a shop at its support address (``help@brand.jp``) or at a ticket's reply address
(``help+t<token>@brand.jp``). The token is 120 random bits, stored per ticket, and belongs to one shop: a
token of another shop's ticket under this shop's address leads nowhere, and a recipient that leads nowhere
is refused while the sender is still at RCPT (the listener relays for no one)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.encryption import Cipher
from shop_app.errors import BadRequest
from shop_app.formats.emails import normalise_email
from shop_app.models import MailSettings, MailThread, Shop
from shop_app.models.base import utcnow

REPLY_TAG = "+t"
REPLY_TOKEN_BYTES = 15  # 120 bits, 24 base32 characters
MAX_ADDRESS_CHARS = 254


@dataclass(frozen=True, slots=True)
class Route:
    shop_id: int
    ticket_id: int | None  # a reply address names its ticket
    support_address: str


@dataclass(frozen=True, slots=True)
class Relay:
    host: str
    port: int
    starttls: bool
    username: str | None
    password: str | None


def new_reply_token() -> str:
    """Lower-case base32: mail systems may change the case of an address's local part."""
    return base64.b32encode(secrets.token_bytes(REPLY_TOKEN_BYTES)).decode().lower()


def reply_address(support_address: str, token: str) -> str:
    local, _, domain = support_address.partition("@")
    return f"{local}{REPLY_TAG}{token}@{domain}"


def _split(address: str) -> tuple[str, str | None] | None:
    """The support address an address is under, and its reply token if it has one."""
    address = address.strip().strip("<>").lower()
    if len(address) > MAX_ADDRESS_CHARS or address.count("@") != 1:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):  # no database takes NUL; no address has it
        return None
    local, _, domain = address.partition("@")
    if not local or not domain:
        return None
    base, plus, tag = local.partition("+")
    if not plus:
        return f"{local}@{domain}", None
    if not tag.startswith(REPLY_TAG[1:]) or not tag[1:].isalnum():
        return None
    return f"{base}@{domain}", tag[1:]


async def route_recipient(session: AsyncSession, address: str) -> Route | None:
    """Where mail to ``address`` goes, or ``None`` (refuse it)."""
    split = _split(address)
    if split is None:
        return None
    support, token = split
    found = (
        await session.execute(
            select(MailSettings, Shop)
            .join(Shop, col(Shop.id) == col(MailSettings.shop_id))
            .where(col(MailSettings.support_address) == support)
        )
    ).first()
    if found is None or not found[1].is_active:
        return None
    settings = found[0]
    if token is None:
        return Route(shop_id=settings.shop_id, ticket_id=None, support_address=support)
    thread = (
        await session.execute(select(MailThread).where(col(MailThread.reply_token) == token))
    ).scalar_one_or_none()
    if thread is None or thread.shop_id != settings.shop_id:
        return None
    return Route(shop_id=settings.shop_id, ticket_id=thread.ticket_id, support_address=support)


async def mail_settings(session: AsyncSession, *, shop_id: int) -> MailSettings | None:
    return await session.get(MailSettings, shop_id)


async def save_mail_settings(
    session: AsyncSession,
    *,
    shop: Shop,
    cipher: Cipher,
    support_address: str,
    relay_host: str | None,
    relay_port: int,
    relay_starttls: bool,
    relay_username: str | None,
    relay_password: str | None,
) -> MailSettings:
    """Saves the shop's email settings. A ``None`` password keeps the stored one (it is never shown
    again); an empty one removes it."""
    assert shop.id is not None
    address = normalise_email(support_address)
    if address is None or "+" in address or len(address) > MAX_ADDRESS_CHARS:
        raise BadRequest("The support address is not valid", code="invalid_support_address")
    taken = (
        await session.execute(
            select(col(MailSettings.shop_id)).where(
                col(MailSettings.support_address) == address, col(MailSettings.shop_id) != shop.id
            )
        )
    ).first()
    if taken is not None:
        raise BadRequest("Another shop uses this support address", code="support_address_taken")
    host = (relay_host or "").strip() or None
    if host is not None and (len(host) > 255 or any(ch.isspace() or ch in "/@" for ch in host)):
        raise BadRequest("The relay host is not valid", code="invalid_relay_host")
    if not 0 < relay_port < 65536:
        raise BadRequest("The relay port is not valid", code="invalid_relay_port")
    settings = await session.get(MailSettings, shop.id)
    if settings is None:
        settings = MailSettings(shop_id=shop.id, support_address=address)
        session.add(settings)
    settings.support_address = address
    settings.relay_host = host
    settings.relay_port = relay_port
    settings.relay_starttls = relay_starttls
    settings.relay_username = (relay_username or "").strip()[:255] or None
    if relay_password is not None:
        settings.relay_password_ciphertext = cipher.encrypt(relay_password) if relay_password else None
    settings.updated_at = utcnow()
    await session.flush()
    return settings


def relay_of(settings: MailSettings, cipher: Cipher) -> Relay | None:
    if not settings.relay_host:
        return None
    password = (
        cipher.decrypt(settings.relay_password_ciphertext) if settings.relay_password_ciphertext else None
    )
    return Relay(
        host=settings.relay_host,
        port=settings.relay_port,
        starttls=settings.relay_starttls,
        username=settings.relay_username,
        password=password,
    )

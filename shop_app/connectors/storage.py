"""A shop's connectors: set up, secrets replaced (never shown again), paused, tested; found by the shop
(``access_connector``) or by the random key in the address the helpdesk calls."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.public_http import is_public_name
from shop_app.connectors.registry import CheckResult, FieldKind, Vendor
from shop_app.encryption import Cipher
from shop_app.errors import BadRequest, NotFound
from shop_app.models import Connector, ConnectorVendor, Shop
from shop_app.models.base import utcnow
from shop_app.runtime import Services
from shop_app.settings import Secret, Settings

logger = logging.getLogger(__name__)

INBOUND_KEY_BYTES = 24
MAX_INBOUND_KEY_CHARS = 64
COLUMNS = ("base_url", "account")


def _clean(
    value: object, *, name: str, kind: FieldKind, limit: int, digits: bool = False, https_only: bool = False
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if (
        not text
        or len(text) > limit
        or not text.isprintable()
        or (digits and not (text.isascii() and text.isdigit()))
    ):
        raise BadRequest(f"'{name}' is not valid", code=f"invalid_{name}")
    if kind is FieldKind.SECRET and (not text.isascii() or " " in text):
        raise BadRequest(f"'{name}' is not valid", code=f"invalid_{name}")
    if kind is FieldKind.URL:
        parts = urlsplit(text)
        schemes = ("https",) if https_only else ("https", "http")
        if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
            raise BadRequest(f"'{name}' is not valid", code=f"invalid_{name}")
        if https_only and not is_public_name(parts.hostname):
            # the app calls this address with the merchant's tokens: never one inside our own network
            raise BadRequest(f"'{name}' must be a public address", code=f"invalid_{name}")
        text = text.rstrip("/")
    return text


def origin_of(url: str) -> str:
    """``https://desk.example.com/app`` → ``https://desk.example.com`` (what ``frame-ancestors`` and
    ``event.origin`` compare)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def access_connector(
    session: AsyncSession, *, shop_id: int, vendor: ConnectorVendor | str
) -> Connector | None:
    return (
        await session.execute(
            select(Connector).where(col(Connector.shop_id) == shop_id, col(Connector.vendor) == str(vendor))
        )
    ).scalar_one_or_none()


async def connector_by_id(session: AsyncSession, *, shop_id: int, connector_id: int) -> Connector:
    """The shop's connector; another shop's id is a 404."""
    connector = await session.get(Connector, connector_id)
    if connector is None or connector.shop_id != shop_id:
        raise NotFound("No such connector", code="connector_not_found")
    return connector


async def connector_for_key(
    session: AsyncSession, *, vendor: ConnectorVendor | str, key: str
) -> Connector | None:
    if not key or len(key) > MAX_INBOUND_KEY_CHARS:
        return None
    return (
        await session.execute(
            select(Connector).where(col(Connector.inbound_key) == key, col(Connector.vendor) == str(vendor))
        )
    ).scalar_one_or_none()


def connector_secrets(cipher: Cipher, connector: Connector) -> dict[str, Secret]:
    return {name: Secret(value) for name, value in json.loads(cipher.decrypt(connector.ciphertext)).items()}


async def save_connector(
    session: AsyncSession,
    *,
    shop: Shop,
    cipher: Cipher,
    vendor: Vendor,
    values: Mapping[str, object],
    https_only: bool = False,
) -> Connector:
    """Set the connector up, or change it: a secret left empty keeps the stored one (required the first
    time); the inbound address stays. ``https_only`` (production): the helpdesk's address must be https,
    so tokens never travel in the clear, and public, so the app is never made to call inside its own
    network."""
    assert shop.id is not None
    connector = await access_connector(session, shop_id=shop.id, vendor=vendor.name)
    stored: dict[str, str] = {}
    if connector is not None:
        stored = {name: secret.reveal() for name, secret in connector_secrets(cipher, connector).items()}
    columns: dict[str, str] = {}
    settings: dict[str, Any] = {}
    for form_field in vendor.fields:
        raw = values.get(form_field.name)
        empty = not (isinstance(raw, str) and raw.strip())
        if form_field.kind is FieldKind.SECRET and empty and form_field.name in stored:
            continue
        if empty and not form_field.required:
            continue
        value = _clean(
            raw,
            name=form_field.name,
            kind=form_field.kind,
            limit=form_field.max_chars,
            digits=form_field.digits,
            https_only=https_only,
        )
        if form_field.kind is FieldKind.SECRET:
            stored[form_field.name] = value
        elif form_field.name in COLUMNS:
            columns[form_field.name] = value
        else:
            settings[form_field.name] = value
    now = utcnow()
    if connector is None:
        connector = Connector(
            shop_id=shop.id,
            vendor=vendor.name,
            base_url=columns.get("base_url", ""),
            account=columns.get("account", ""),
            ciphertext="",
            inbound_key=secrets.token_urlsafe(INBOUND_KEY_BYTES),
            created_at=now,
        )
        session.add(connector)
    connector.base_url = columns.get("base_url", connector.base_url)
    connector.account = columns.get("account", connector.account)
    connector.settings = settings
    connector.ciphertext = cipher.encrypt(json.dumps(stored))
    connector.last_check_ok = None
    connector.last_check_code = None
    connector.last_checked_at = None
    connector.updated_at = now
    await session.flush()
    return connector


async def set_paused(session: AsyncSession, *, connector: Connector, paused: bool) -> Connector:
    connector.paused = paused
    connector.updated_at = utcnow()
    await session.flush()
    return connector


async def check_connector(services: Services, *, vendor: Vendor, connector_id: int) -> CheckResult:
    """Run the vendor's "test connection" with the stored secrets and keep its result on the connector."""
    async with services.sessions() as session:
        connector = await session.get_one(Connector, connector_id)
    result = await vendor.check(services, connector, connector_secrets(services.cipher, connector))
    async with services.sessions() as session, session.begin():
        stored = await session.get(Connector, connector_id)
        if stored is not None:
            stored.last_check_ok = result is CheckResult.OK
            stored.last_check_code = result.value
            stored.last_checked_at = utcnow()
    logger.info("connector checked vendor=%s connector_id=%s result=%s", vendor.name, connector_id, result)
    return result


def inbound_url(settings: Settings, connector: Connector) -> str:
    return f"{settings.app_url}/connectors/{connector.vendor}/hook/{connector.inbound_key}"


def connector_view(settings: Settings, vendor: Vendor, connector: Connector | None) -> dict[str, object]:
    """The connector as the admin sees it: never a secret (only which ones are set)."""
    if connector is None:
        return {"connected": False}
    names = [f.name for f in vendor.fields if f.kind is FieldKind.SECRET]
    return {
        "connected": True,
        "paused": connector.paused,
        "base_url": connector.base_url,
        "account": connector.account,
        "settings": dict(connector.settings),
        "secrets_set": names,
        "urls": vendor.setup_urls(settings, connector),
        "last_check": connector.last_check_code,
        "last_checked_at": connector.last_checked_at.isoformat() if connector.last_checked_at else None,
    }

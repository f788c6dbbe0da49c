"""A shop's LINE Official Account: channel id, channel secret and access token (one Fernet ciphertext, never
shown again, replaceable), the webhook address LINE posts to, and a check against LINE's bot info that says
what is wrong when it fails."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.line.client import LineClient
from integrations.line.errors import LineError, LineUnauthorized, LineUnavailable
from shop_app.database import SessionFactory
from shop_app.encryption import Cipher
from shop_app.errors import BadRequest
from shop_app.models import LineConnection, Shop
from shop_app.models.base import utcnow
from shop_app.runtime import Services
from shop_app.settings import Secret, Settings

WEBHOOK_PATH = "/line/webhook/"
WEBHOOK_KEY_BYTES = 24
MAX_WEBHOOK_KEY_CHARS = 64
MAX_CHANNEL_ID_CHARS = 32
MAX_SECRET_CHARS = 128
MAX_ACCESS_TOKEN_CHARS = 1000
# How long this process trusts what it read about a webhook key: a change made here is seen at once
# (``forget_webhook_targets``), one made by another process within this time (a connection disabled in
# another process may still store a few events; they are then finished without acting).
WEBHOOK_TARGET_TTL_SECONDS = 10.0


class CheckResult(StrEnum):
    """What a connection test found (each has words in the admin's catalogues: ``admin.line.check.*``)."""

    OK = "ok"
    TOKEN_REFUSED = "token_refused"  # noqa: S105 - a result, not a secret
    UNREACHABLE = "unreachable"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class LineCredentials:
    channel_secret: Secret
    access_token: Secret


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """What the webhook needs to know about its key, without a database read on every request."""

    shop_id: int
    usable: bool  # the connection is enabled and its shop installed
    channel_secret: Secret


_webhook_targets: dict[str, tuple[float, WebhookTarget]] = {}


async def webhook_target(sessions: SessionFactory, cipher: Cipher, key: str) -> WebhookTarget | None:
    """The connection behind a webhook key (None: no such key), kept for ``WEBHOOK_TARGET_TTL_SECONDS``.
    An unknown key is never kept, so a stranger's guesses cannot fill the memory."""
    entry = _webhook_targets.get(key)
    if entry is not None and time.monotonic() - entry[0] < WEBHOOK_TARGET_TTL_SECONDS:
        return entry[1]
    async with sessions() as session:
        connection = await connection_for_webhook_key(session, key)
        shop = await session.get(Shop, connection.shop_id) if connection is not None else None
    if connection is None:
        return None
    target = WebhookTarget(
        shop_id=connection.shop_id,
        usable=connection.enabled and shop is not None and shop.is_active,
        channel_secret=credentials(cipher, connection).channel_secret,
    )
    _webhook_targets[key] = (time.monotonic(), target)
    return target


def forget_webhook_targets(shop_id: int | None = None) -> None:
    """Drop what this process kept about the shop's webhook key (all shops' without ``shop_id``)."""
    for key in [key for key, (_, target) in _webhook_targets.items() if shop_id in (None, target.shop_id)]:
        _webhook_targets.pop(key, None)


def _clean(value: str, *, name: str, limit: int, digits: bool = False) -> str:
    value = value.strip()
    if not value or len(value) > limit or not value.isascii() or not value.isprintable() or " " in value:
        raise BadRequest(f"'{name}' is not valid", code=f"invalid_{name}")
    if digits and not value.isdigit():
        raise BadRequest(f"'{name}' is not valid", code=f"invalid_{name}")
    return value


async def connect_line(
    session: AsyncSession,
    *,
    shop: Shop,
    cipher: Cipher,
    channel_id: str,
    channel_secret: str,
    access_token: str,
) -> LineConnection:
    """Connect the shop's LINE account, or replace its credentials (the webhook address stays)."""
    assert shop.id is not None
    channel_id = _clean(channel_id, name="channel_id", limit=MAX_CHANNEL_ID_CHARS, digits=True)
    channel_secret = _clean(channel_secret, name="channel_secret", limit=MAX_SECRET_CHARS)
    access_token = _clean(access_token, name="access_token", limit=MAX_ACCESS_TOKEN_CHARS)
    ciphertext = cipher.encrypt(json.dumps({"channel_secret": channel_secret, "access_token": access_token}))
    connection = await session.get(LineConnection, shop.id)
    now = utcnow()
    if connection is None:
        connection = LineConnection(
            shop_id=shop.id,
            webhook_key=secrets.token_urlsafe(WEBHOOK_KEY_BYTES),
            channel_id=channel_id,
            ciphertext=ciphertext,
            created_at=now,
        )
        session.add(connection)
    connection.channel_id = channel_id
    connection.ciphertext = ciphertext
    connection.enabled = True
    connection.last_check_ok = None
    connection.last_check_code = None
    connection.last_checked_at = None
    connection.updated_at = now
    await session.flush()
    forget_webhook_targets(shop.id)
    return connection


async def set_line_enabled(session: AsyncSession, *, shop: Shop, enabled: bool) -> LineConnection | None:
    connection = await session.get(LineConnection, shop.id)
    if connection is not None:
        connection.enabled = enabled
        connection.updated_at = utcnow()
        await session.flush()
    forget_webhook_targets(shop.id)
    return connection


async def connection_for_shop(session: AsyncSession, *, shop_id: int) -> LineConnection | None:
    return await session.get(LineConnection, shop_id)


async def connection_for_webhook_key(session: AsyncSession, key: str) -> LineConnection | None:
    if not key or len(key) > MAX_WEBHOOK_KEY_CHARS:
        return None
    return (
        await session.execute(select(LineConnection).where(col(LineConnection.webhook_key) == key))
    ).scalar_one_or_none()


def credentials(cipher: Cipher, connection: LineConnection) -> LineCredentials:
    data = json.loads(cipher.decrypt(connection.ciphertext))
    return LineCredentials(Secret(data["channel_secret"]), Secret(data["access_token"]))


def webhook_url(settings: Settings, connection: LineConnection) -> str:
    return f"{settings.app_url}{WEBHOOK_PATH}{connection.webhook_key}"


def line_client(services: Services, connection: LineConnection) -> LineClient:
    token = credentials(services.cipher, connection).access_token.reveal()
    return LineClient(
        services.http,
        access_token=token,
        api_url=services.settings.line_api_url,
        data_api_url=services.settings.line_data_api_url,
    )


async def check_connection(services: Services, *, shop_id: int) -> CheckResult | None:
    """Ask LINE for the bot's info with the stored token; the result (and the bot's name) is kept on the
    connection. ``None`` when the shop has no LINE connection."""
    async with services.sessions() as session:
        connection = await connection_for_shop(session, shop_id=shop_id)
    if connection is None:
        return None
    name: str | None = None
    bot_user_id: str | None = None
    try:
        info = await line_client(services, connection).bot_info()
        result, name, bot_user_id = CheckResult.OK, info.display_name, info.user_id
    except LineUnauthorized:
        result = CheckResult.TOKEN_REFUSED
    except LineUnavailable as error:
        result = (
            CheckResult.UNREACHABLE
            if error.status_code in (0, 429) or error.status_code >= 500
            else (CheckResult.REFUSED)
        )
    except LineError:
        result = CheckResult.REFUSED
    async with services.sessions() as session, session.begin():
        stored = await connection_for_shop(session, shop_id=shop_id)
        if stored is not None:
            stored.last_check_ok = result is CheckResult.OK
            stored.last_check_code = result.value
            stored.last_checked_at = utcnow()
            if name is not None:
                stored.bot_name = name[:255]
                stored.bot_user_id = (bot_user_id or "")[:64] or None
    return result

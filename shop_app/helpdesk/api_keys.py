"""API keys for bots and other helpdesks: ``shpk_`` and 256 random bits, shown once at creation. Only the
SHA-256 digest is stored (the key is random, so a fast hash is enough), with a short prefix to tell keys
apart in lists."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import BadRequest, NotFound, Unauthorized
from shop_app.models import ApiKey, Shop
from shop_app.models.base import utcnow

KEY_PREFIX = "shpk_"
SHOWN_PREFIX_CHARS = 12
MAX_KEY_CHARS = 100
MAX_NAME_CHARS = 100
LAST_USED_RESOLUTION_SECONDS = 60


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(raw: str) -> bool:
    return raw.startswith(KEY_PREFIX)


async def create_api_key(
    session: AsyncSession, *, shop: Shop, name: str, trusted: bool = False, created_by_id: int | None = None
) -> tuple[ApiKey, str]:
    label = name.strip()
    if not label or len(label) > MAX_NAME_CHARS:
        raise BadRequest(f"Name the key (1 to {MAX_NAME_CHARS} characters)", code="invalid_name")
    assert shop.id is not None
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        shop_id=shop.id,
        name=label,
        prefix=key[:SHOWN_PREFIX_CHARS],
        key_digest=_digest(key),
        trusted=trusted,
        created_by_id=created_by_id,
    )
    session.add(row)
    await session.flush()
    return row, key


async def resolve_api_key(
    session: AsyncSession, *, key: str, now: datetime | None = None
) -> tuple[ApiKey, Shop]:
    refused = Unauthorized("The API key is not valid", code="invalid_api_key")
    if not looks_like_api_key(key) or len(key) > MAX_KEY_CHARS:
        raise refused
    row = (
        await session.execute(select(ApiKey).where(col(ApiKey.key_digest) == _digest(key)))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise refused
    shop = await session.get(Shop, row.shop_id)
    if shop is None or not shop.is_active:
        raise refused
    moment = now or utcnow()
    # written at most once a minute, so a busy bot does not turn every read into a write
    if row.last_used_at is None or (moment - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        row.last_used_at = moment
    return row, shop


async def list_api_keys(session: AsyncSession, *, shop_id: int) -> list[ApiKey]:
    rows = await session.execute(
        select(ApiKey).where(col(ApiKey.shop_id) == shop_id).order_by(col(ApiKey.id).desc())
    )
    return list(rows.scalars())


async def revoke_api_key(session: AsyncSession, *, shop_id: int, key_id: int) -> ApiKey:
    row = await session.get(ApiKey, key_id)
    if row is None or row.shop_id != shop_id:
        raise NotFound("No such API key", code="api_key_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row

"""Single-use, expiring OAuth ``state`` nonces bound to the browser that started the install."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.database import affected_rows
from shop_app.models import OAuthState
from shop_app.models.base import utcnow


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def issue_state(
    session: AsyncSession, *, shop_domain: str, browser_secret: str, ttl_seconds: int
) -> str:
    now = utcnow()
    await session.execute(delete(OAuthState).where(col(OAuthState.expires_at) < now))
    nonce = secrets.token_urlsafe(32)
    session.add(
        OAuthState(
            nonce_digest=_digest(nonce),
            browser_digest=_digest(browser_secret),
            shop_domain=shop_domain,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    return nonce


async def consume_state(session: AsyncSession, *, nonce: str, browser_secret: str, shop_domain: str) -> bool:
    """True once for a live nonce issued to this browser for this shop; every later call is False."""
    if not nonce or not browser_secret:
        return False
    result = await session.execute(
        update(OAuthState)
        .where(
            col(OAuthState.nonce_digest) == _digest(nonce),
            col(OAuthState.browser_digest) == _digest(browser_secret),
            col(OAuthState.shop_domain) == shop_domain,
            col(OAuthState.consumed_at).is_(None),
            col(OAuthState.expires_at) > utcnow(),
        )
        .values(consumed_at=utcnow())
    )
    return affected_rows(result) == 1

"""App proxy signatures answered once: a signed storefront query that comes again (a logged URL, a
replayed request) is refused, in whichever process it arrives. Only SHA-256 digests are stored, each until
its timestamp is too old to verify anyway; expired rows are deleted as new ones arrive."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify.app_proxy import signature_expiry
from shop_app.models import AnsweredProxySignature

ANSWERED = AnsweredProxySignature.__table__  # type: ignore[attr-defined]


def _digest(signature: str) -> str:
    return hashlib.sha256(signature.lower().encode()).hexdigest()


async def claim_proxy_signature(
    session: AsyncSession, *, signature: str, timestamp: int, now: datetime
) -> bool:
    """True the first time a verified signature (signed at ``timestamp``) is claimed, False ever after
    while it could still verify. Concurrent claims of one signature: the database lets one win."""
    await session.execute(delete(AnsweredProxySignature).where(col(AnsweredProxySignature.expires_at) < now))
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # RETURNING names the row only when it was inserted (psycopg reports no row count for this statement)
    inserted = await session.execute(
        insert(ANSWERED)
        .values(
            digest=_digest(signature),
            expires_at=datetime.fromtimestamp(signature_expiry(timestamp), UTC),
        )
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(ANSWERED.c.digest)
    )
    return inserted.scalar_one_or_none() is not None

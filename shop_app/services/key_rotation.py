from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.encryption import Cipher
from shop_app.models import CustomerDataExport, ShopCredential


async def rotate_encryption(session: AsyncSession, cipher: Cipher) -> dict[str, int]:
    """Re-encrypt every stored ciphertext with the newest key, in the caller's transaction."""
    counts: dict[str, int] = {}
    for model in (ShopCredential, CustomerDataExport):
        rows = (await session.execute(select(model))).scalars().all()
        for row in rows:
            row.ciphertext = cipher.rotate(row.ciphertext)
            session.add(row)
        counts[model.__tablename__] = len(rows)
    return counts

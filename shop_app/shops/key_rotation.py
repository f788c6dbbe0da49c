from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.encryption import Cipher
from shop_app.models import CustomerDataExport, ShopCredential


async def rotate_encryption(session: AsyncSession, cipher: Cipher) -> dict[str, int]:
    """Re-encrypt every stored ciphertext with the newest key, in the caller's transaction."""
    credentials = (await session.execute(select(ShopCredential))).scalars().all()
    for credential in credentials:
        credential.ciphertext = cipher.rotate(credential.ciphertext)
    exports = (await session.execute(select(CustomerDataExport))).scalars().all()
    for export in exports:
        export.ciphertext = cipher.rotate(export.ciphertext)
    return {"shop_credentials": len(credentials), "customer_data_exports": len(exports)}

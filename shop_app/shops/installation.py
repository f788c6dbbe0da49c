from __future__ import annotations

import json
import logging

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify.oauth import AccessToken
from shop_app.encryption import Cipher
from shop_app.models import Shop, ShopCredential, ShopStatus
from shop_app.models.base import utcnow

logger = logging.getLogger(__name__)


async def get_shop(session: AsyncSession, domain: str) -> Shop | None:
    result = await session.execute(select(Shop).where(col(Shop.domain) == domain))
    return result.scalar_one_or_none()


async def install_shop(session: AsyncSession, *, domain: str, token: AccessToken, cipher: Cipher) -> Shop:
    """Create or re-activate the shop and store its tokens; the caller's transaction commits both."""
    now = utcnow()
    shop = await get_shop(session, domain)
    if shop is None:
        shop = Shop(domain=domain, installed_at=now)
    elif shop.status != ShopStatus.INSTALLED:
        shop.installed_at = now
    shop.status = ShopStatus.INSTALLED
    shop.scopes = token.scope
    shop.uninstalled_at = None
    shop.updated_at = now
    session.add(shop)
    await session.flush()
    assert shop.id is not None
    await save_credential(session, shop_id=shop.id, token=token, cipher=cipher)
    logger.info("shop installed shop=%s scopes=%s", domain, token.scope)
    return shop


async def uninstall_shop(session: AsyncSession, *, shop: Shop) -> None:
    """The token is already revoked by Shopify: forget it; the shop's data stays until ``shop/redact``."""
    await session.execute(delete(ShopCredential).where(col(ShopCredential.shop_id) == shop.id))
    shop.status = ShopStatus.UNINSTALLED
    shop.uninstalled_at = shop.updated_at = utcnow()
    session.add(shop)
    logger.info("shop uninstalled shop=%s", shop.domain)


async def update_scopes(session: AsyncSession, *, shop: Shop, scopes: list[str]) -> None:
    shop.scopes = ",".join(scopes)
    shop.updated_at = utcnow()
    session.add(shop)
    logger.info("shop scopes updated shop=%s scopes=%s", shop.domain, shop.scopes)


async def mark_needs_reauth(session: AsyncSession, *, shop_id: int) -> None:
    shop = await session.get(Shop, shop_id)
    if shop is not None and shop.status == ShopStatus.INSTALLED:
        shop.status = ShopStatus.NEEDS_REAUTH
        shop.updated_at = utcnow()
        session.add(shop)
        logger.warning("shop needs re-authorisation shop=%s", shop.domain)


def seal_token(token: AccessToken, cipher: Cipher) -> str:
    return cipher.encrypt(
        json.dumps(
            {
                "access_token": token.access_token,
                "scope": token.scope,
                "expires_at": token.expires_at,
                "refresh_token": token.refresh_token,
                "refresh_token_expires_at": token.refresh_token_expires_at,
            }
        )
    )


def open_token(ciphertext: str, cipher: Cipher) -> AccessToken:
    return AccessToken(**json.loads(cipher.decrypt(ciphertext)))


async def save_credential(session: AsyncSession, *, shop_id: int, token: AccessToken, cipher: Cipher) -> None:
    credential = await session.get(ShopCredential, shop_id)
    if credential is None:
        credential = ShopCredential(shop_id=shop_id, ciphertext=seal_token(token, cipher))
    else:
        credential.ciphertext = seal_token(token, cipher)
        credential.version += 1
        credential.refresh_lease_owner = None
        credential.refresh_lease_until = None
        credential.updated_at = utcnow()
    session.add(credential)

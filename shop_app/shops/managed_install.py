"""Shopify managed installation: the first session token from a shop with no offline token is exchanged
for one (token exchange), which installs the shop."""

from __future__ import annotations

import logging

from integrations.shopify.errors import OAuthError, ShopifyUnavailable
from integrations.shopify.oauth import OAuthClient
from integrations.shopify.session_tokens import SessionToken
from shop_app.database import SessionFactory, transaction
from shop_app.encryption import Cipher
from shop_app.errors import Unauthorized, Unavailable
from shop_app.models import Shop, ShopCredential, ShopStatus
from shop_app.shops.installation import get_shop, install_shop

logger = logging.getLogger(__name__)


async def shop_for_session(
    sessions: SessionFactory, *, claims: SessionToken, raw_token: str, oauth: OAuthClient, cipher: Cipher
) -> tuple[Shop, bool]:
    """The installed shop behind a verified session token, and whether this call installed it."""
    async with sessions() as session:
        shop = await get_shop(session, claims.shop)
        credential = await session.get(ShopCredential, shop.id) if shop is not None else None
    if shop is not None and credential is not None and shop.status == ShopStatus.INSTALLED:
        return shop, False
    try:
        token = await oauth.exchange_session_token(claims.shop, raw_token)
    except OAuthError as error:
        logger.warning("token exchange refused shop=%s error=%s", claims.shop, error.error)
        raise Unauthorized("Shopify refused the session token", code="token_exchange_refused") from None
    except ShopifyUnavailable:
        raise Unavailable("Shopify could not be reached; try again", code="shopify_unavailable") from None
    async with transaction(sessions) as session:
        shop = await install_shop(session, domain=claims.shop, token=token, cipher=cipher)
    return shop, True

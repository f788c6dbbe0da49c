"""The shop's own settings (name, country, currency, IANA time zone, primary locale) kept on ``Shop``:
read from Admin GraphQL at the start of every sync, and applied from ``shop/update`` webhooks. The shop's
policies (``shop.shopPolicies``, which the bot quotes) are read at every sync, at reconciliation and after
each ``shop/update`` (whose body does not carry them), and stored through ``knowledge.policies``.

Matching takes the country as the default region of phone numbers; pages format money in the currency and
times in the time zone. A value Shopify leaves out is unknown, so the stored one stays.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.errors import GraphQLError, Throttled
from integrations.shopify.graphql import document
from integrations.shopify.shop_details import ShopDetails, parse_shop_details
from integrations.shopify.shop_policies import parse_shop_policies
from shop_app.database import transaction
from shop_app.knowledge.policies import store_policies
from shop_app.models import Shop
from shop_app.models.base import utcnow
from shop_app.runtime import admin_client

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)

FIELDS = ("name", "country_code", "currency_code", "iana_timezone", "primary_locale")


async def read_shop_details(client: AdminGraphQLClient) -> ShopDetails:
    """The shop's settings as Shopify has them now."""
    result = await client.execute(document("shop_details"))
    return parse_shop_details(result.data)


def apply_shop_details(*, shop: Shop, details: ShopDetails) -> list[str]:
    """Copy the known values onto ``shop`` (the caller's session saves it); the names of those that
    changed."""
    changed = []
    for name in FIELDS:
        value = getattr(details, name)
        if value is not None and getattr(shop, name) != value:
            setattr(shop, name, value)
            changed.append(name)
    if details.shopify_id is not None and shop.shopify_shop_id is None:
        shop.shopify_shop_id = details.shopify_id
        changed.append("shopify_shop_id")
    if changed:
        shop.updated_at = utcnow()
    return changed


async def update_shop_details(session: AsyncSession, *, shop: Shop, details: ShopDetails) -> list[str]:
    """``apply_shop_details`` within ``session``, logged."""
    changed = apply_shop_details(shop=shop, details=details)
    if changed:
        session.add(shop)
        logger.info("shop details updated shop=%s fields=%s", shop.domain, ",".join(changed))
    return changed


async def refresh_shop_details(
    services: Services, *, shop: Shop, client: AdminGraphQLClient | None = None
) -> ShopDetails | None:
    """Read the shop's settings (with the sync's ``client`` if given) and store them; None when Shopify
    refused the query (e.g. a shop installed before the app asked for ``read_locales``: the sync goes on
    with the stored values). Throttling and outages are raised, as for any other page of the sync."""
    shop_id = shop.id
    try:
        details = await read_shop_details(client or admin_client(services, shop))
    except Throttled:
        raise
    except GraphQLError as error:
        logger.warning("shop details not read shop=%s codes=%s", shop.domain, ",".join(error.codes))
        return None
    async with transaction(services.sessions) as session:
        current = await session.get(Shop, shop_id)
        if current is not None:
            await update_shop_details(session, shop=current, details=details)
    return details


async def refresh_shop_policies(
    services: Services, *, shop: Shop, client: AdminGraphQLClient | None = None
) -> list[str] | None:
    """Read the shop's policies and make the stored ones Shopify's; the policy types that changed, or None
    when Shopify refused the query (a shop installed before the app asked for ``read_legal_policies``: the
    bot then has only the FAQ entries to quote)."""
    assert shop.id is not None
    try:
        result = await (client or admin_client(services, shop)).execute(document("shop_policies"))
    except Throttled:
        raise
    except GraphQLError as error:
        logger.warning("shop policies not read shop=%s codes=%s", shop.domain, ",".join(error.codes))
        return None
    policies = parse_shop_policies(result.data)
    async with transaction(services.sessions) as session:
        changed = await store_policies(session, shop_id=shop.id, policies=policies)
    if changed:
        logger.info("shop policies updated shop=%s types=%s", shop.domain, ",".join(changed))
    return changed

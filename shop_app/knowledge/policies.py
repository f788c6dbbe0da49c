"""The mirror of the shop's policies: one row per policy type, replaced whole from Shopify's list (a policy
the merchant removed is removed here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify.shop_policies import ShopPolicyRecord
from shop_app.models import ShopPolicy
from shop_app.models.base import utcnow


async def list_policies(session: AsyncSession, *, shop_id: int) -> list[ShopPolicy]:
    rows = await session.execute(
        select(ShopPolicy).where(col(ShopPolicy.shop_id) == shop_id).order_by(col(ShopPolicy.policy_type))
    )
    return list(rows.scalars())


async def store_policies(
    session: AsyncSession, *, shop_id: int, policies: Sequence[ShopPolicyRecord]
) -> list[str]:
    """Make the stored policies Shopify's; the types that changed (added, edited or removed)."""
    stored = {row.policy_type: row for row in await list_policies(session, shop_id=shop_id)}
    given = {record.policy_type: record for record in policies}
    changed: list[str] = []
    now = utcnow()
    for policy_type, record in given.items():
        row = stored.get(policy_type)
        if row is None:
            row = ShopPolicy(shop_id=shop_id, policy_type=policy_type, title=record.title, body=record.body)
            session.add(row)
        elif (row.title, row.body, row.url, row.shopify_id) == (
            record.title,
            record.body,
            record.url,
            record.shopify_id,
        ):
            continue
        row.shopify_id = record.shopify_id
        row.title = record.title
        row.body = record.body
        row.url = record.url
        row.shopify_updated_at = record.updated_at
        row.updated_at = now
        changed.append(policy_type)
    gone = sorted(set(stored) - set(given))
    if gone:
        await session.execute(
            delete(ShopPolicy).where(
                col(ShopPolicy.shop_id) == shop_id, col(ShopPolicy.policy_type).in_(gone)
            )
        )
        changed.extend(gone)
    await session.flush()
    return sorted(changed)

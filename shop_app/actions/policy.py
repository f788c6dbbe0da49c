"""A shop's rules for order actions: which roles may do which action, the amount above which a refund or a
cancellation waits for a second person, what the bot may do by itself, and which scopes each action needs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.models import ActionKind, ActionPolicy, Role, Shop
from shop_app.models.base import utcnow

DEFAULT_ROLES: dict[str, list[str]] = {
    ActionKind.CANCEL: [Role.ADMIN],
    ActionKind.REFUND: [Role.ADMIN, Role.AGENT],
    ActionKind.ADDRESS: [Role.ADMIN, Role.AGENT],
    ActionKind.HOLD: [Role.ADMIN, Role.AGENT],
    ActionKind.RELEASE_HOLD: [Role.ADMIN, Role.AGENT],
    ActionKind.NOTE: [Role.ADMIN, Role.AGENT],
    ActionKind.TAG: [Role.ADMIN, Role.AGENT],
    ActionKind.RESEND_INVOICE: [Role.ADMIN, Role.AGENT],
    ActionKind.RESEND_SHIPPING: [Role.ADMIN, Role.AGENT],
}
MONEY_ACTIONS = frozenset({ActionKind.CANCEL, ActionKind.REFUND})
WRITE_ORDERS = "write_orders"
WRITE_FULFILLMENT_ORDERS = "write_merchant_managed_fulfillment_orders"
NEEDED_SCOPES: dict[ActionKind, str] = {
    ActionKind.CANCEL: WRITE_ORDERS,
    ActionKind.REFUND: WRITE_ORDERS,
    ActionKind.ADDRESS: WRITE_ORDERS,
    ActionKind.NOTE: WRITE_ORDERS,
    ActionKind.TAG: WRITE_ORDERS,
    ActionKind.HOLD: WRITE_FULFILLMENT_ORDERS,
    ActionKind.RELEASE_HOLD: WRITE_FULFILLMENT_ORDERS,
    ActionKind.RESEND_INVOICE: WRITE_ORDERS,
    # a merchant-managed location's fulfillments are written under its fulfillment orders' scope
    ActionKind.RESEND_SHIPPING: WRITE_FULFILLMENT_ORDERS,
}
MAX_BOT_WINDOW_MINUTES = 7 * 24 * 60
MAX_APPROVAL_HOURS = 7 * 24


async def load_policy(session: AsyncSession, *, shop_id: int) -> ActionPolicy:
    policy = await session.get(ActionPolicy, shop_id)
    return policy or ActionPolicy(shop_id=shop_id, roles=dict(DEFAULT_ROLES))


async def save_policy(session: AsyncSession, *, policy: ActionPolicy) -> None:
    policy.updated_at = utcnow()
    await session.merge(policy)


def roles_for(policy: ActionPolicy, kind: ActionKind) -> list[str]:
    roles = policy.roles.get(kind)
    return list(DEFAULT_ROLES[kind] if roles is None else roles)


def allowed(policy: ActionPolicy, kind: ActionKind, role: Role) -> bool:
    return role in roles_for(policy, kind)


def approval_limit(policy: ActionPolicy) -> Decimal | None:
    if policy.approval_amount is None:
        return None
    try:
        return Decimal(policy.approval_amount)
    except InvalidOperation:
        return None


def needs_approval(policy: ActionPolicy, kind: ActionKind, amount: Decimal | None) -> bool:
    limit = approval_limit(policy)
    return kind in MONEY_ACTIONS and limit is not None and amount is not None and amount > limit


def granted_scopes(shop: Shop) -> set[str]:
    return {scope.strip() for scope in shop.scopes.split(",") if scope.strip()}


def missing_scope(shop: Shop, kind: ActionKind) -> str | None:
    """The write scope this action needs and the shop has not granted (Shopify implies read from write)."""
    needed = NEEDED_SCOPES[kind]
    return None if needed in granted_scopes(shop) else needed

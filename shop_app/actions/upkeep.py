"""The scheduled sweep of approvals nobody decided in time: each expires, audited, with a note on its
ticket so the requester sees it (and the console's card shows it)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from shop_app.actions.flow import expire_approval
from shop_app.database import transaction
from shop_app.models import ActionStatus, OrderAction, Shop
from shop_app.models.base import utcnow

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


async def expire_approvals(services: Services, *, now: datetime | None = None) -> list[int]:
    """The scheduled sweep: every approval past its deadline expires (one transaction per action, so a
    decision racing the sweep wins or loses cleanly); the ids it expired."""
    moment = now or utcnow()
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(OrderAction.id), col(OrderAction.shop_id))
            .where(
                col(OrderAction.status) == ActionStatus.AWAITING_APPROVAL,
                col(OrderAction.expires_at) < moment,
            )
            .order_by(col(OrderAction.id))
            .limit(SWEEP_BATCH)
        )
        due = [(action_id, shop_id) for action_id, shop_id in rows if action_id is not None]
    expired: list[int] = []
    for action_id, shop_id in due:
        async with transaction(services.sessions) as session:
            action = await session.get(OrderAction, action_id)
            shop = await session.get(Shop, shop_id)
            if action is None or shop is None:
                continue
            if await expire_approval(session, services, shop, action):
                expired.append(action_id)
    if expired:
        logger.info("approvals expired count=%s", len(expired))
    return expired

"""Keeping tickets linked after a sync: a backfill or a reconciliation mirrors customers and orders
without the webhooks that would otherwise match waiting tickets, so they are matched here, afterwards."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shop_app.database import transaction
from shop_app.helpdesk.customer_matching import link_waiting_tickets
from shop_app.live_events import EventKind, LiveEvent
from shop_app.models import Shop

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)


async def link_waiting_after_sync(services: Services, *, shop: Shop) -> int:
    """Match the shop's open tickets still without a customer; consoles hear of each one linked."""
    assert shop.id is not None
    async with transaction(services.sessions) as session:
        changed = await link_waiting_tickets(session, shop=shop)
        ticket_ids = [ticket.id for ticket in changed if ticket.id is not None]
    for ticket_id in ticket_ids:
        await services.events.publish(
            LiveEvent(shop_id=shop.id, kind=EventKind.TICKET_UPDATED, data={"ticket_id": ticket_id})
        )
    if ticket_ids:
        logger.info("tickets linked after sync shop=%s tickets=%s", shop.domain, len(ticket_ids))
    return len(ticket_ids)

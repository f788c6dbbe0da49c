"""After the mirror commits stock changes (a webhook batch, a reconciliation): the subscribers of the
changed items whose stock is back are told. A failure here is logged, not raised: the mirror's work is
done, and the notices job's sweep (``notify_restocked`` over every item) tells whoever was missed."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from shop_app.database import transaction
from shop_app.live_events import ChangeSet
from shop_app.notices.back_in_stock import notify_restocked
from shop_app.runtime import Services

logger = logging.getLogger(__name__)


async def tell_restocked(services: Services, changes: ChangeSet) -> list[int]:
    """The ids of the messages posted (each in the outbox, sent by the channels' senders)."""
    posted: list[int] = []
    for shop_id, items in sorted(changes.stock_items().items()):
        try:
            async with transaction(services.sessions) as session:
                posted.extend(await notify_restocked(session, shop_id=shop_id, inventory_item_ids=items))
        except SQLAlchemyError as error:
            logger.warning(
                "back-in-stock notices not posted shop_id=%s error=%s", shop_id, type(error).__name__
            )
    return posted

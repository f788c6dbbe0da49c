"""The notices job's body, run every few minutes on the job engine: per installed shop, its proactive rules
and a sweep of its back-in-stock subscriptions (expiring them, and telling anyone a missed stock change
left waiting). Each shop runs in its own transaction; one shop's failure does not stop the others."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import col

from shop_app.database import transaction
from shop_app.models import Shop, ShopStatus
from shop_app.notices.back_in_stock import notify_restocked
from shop_app.notices.proactive import run_rules
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

NOTICE_INTERVAL_SECONDS = 300.0
NOTICE_CRON = "*/5 * * * *"


@dataclass(slots=True)
class NoticeRun:
    proactive: list[int] = field(default_factory=list)
    restocked: list[int] = field(default_factory=list)


async def run_notices(services: Services, *, shop_ids: list[int] | None = None) -> NoticeRun:
    async with services.sessions() as session:
        statement = select(Shop).where(col(Shop.status) == ShopStatus.INSTALLED).order_by(col(Shop.id))
        if shop_ids is not None:
            statement = statement.where(col(Shop.id).in_(shop_ids))
        shops = list((await session.execute(statement)).scalars())
    result = NoticeRun()
    for shop in shops:
        assert shop.id is not None
        try:
            async with transaction(services.sessions) as session:
                report = await run_rules(session, shop=shop)
                result.proactive.extend(report.sent)
            async with transaction(services.sessions) as session:
                result.restocked.extend(await notify_restocked(session, shop_id=shop.id))
        except Exception:
            logger.exception("notices failed shop_id=%s", shop.id)
    return result

# ruff: noqa: F811  (fixtures imported from other test modules)
"""The notices job: registered as a periodic task on PostgreSQL's job engine, and run as the task the
queues run, it sweeps every installed shop's subscriptions (telling whoever a missed change left waiting)."""

from __future__ import annotations

import pytest

from shop_app.database import transaction
from shop_app.jobs.procrastinate_queue import build_app
from shop_app.jobs.tasks import TaskName, task_for
from shop_app.models import Shop, ShopStatus, SubscriptionStatus
from shop_app.notices import back_in_stock
from shop_app.notices.schedule import NOTICE_CRON
from tests.app.conftest import ALPHA, BETA
from tests.notices.conftest import TOKYO, Shelf, app, shelf, shops  # noqa: F401

pytestmark = pytest.mark.anyio


def test_the_notices_job_is_a_periodic_task_on_procrastinate() -> None:
    app = build_app("postgresql://nobody@127.0.0.1/none")
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic[TaskName.RUN_NOTICES.value] == NOTICE_CRON


async def test_the_job_tells_a_subscriber_whose_stock_came_back_without_a_hook_once(shelf: Shelf) -> None:
    async with transaction(shelf.services.sessions) as session:
        for domain in (ALPHA, BETA):
            await back_in_stock.subscribe(
                session, links=shelf.links, offer=shelf.offer(domain), language="en"
            )
        # the second shop is uninstalled: its subscribers wait
        beta = await session.get_one(Shop, shelf.shop_id(BETA))
        beta.status = ShopStatus.UNINSTALLED
    await shelf.set_stock(ALPHA, TOKYO, 2)  # written without any hook, as a crash between would leave it
    await shelf.set_stock(BETA, TOKYO, 2)

    await task_for(TaskName.RUN_NOTICES.value)(shelf.services)
    await task_for(TaskName.RUN_NOTICES.value)(shelf.services)

    statuses = {s.shop_id: s.status for s in await shelf.subscriptions()}
    assert statuses == {
        shelf.shop_id(ALPHA): SubscriptionStatus.NOTIFIED,
        shelf.shop_id(BETA): SubscriptionStatus.ACTIVE,
    }

"""The tasks. Each is idempotent: running one twice, or after a crash half-way, does no harm."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from integrations.shopify.errors import ShopifyUnavailable, Throttled
from shop_app.actions.upkeep import expire_approvals
from shop_app.channels import outbound
from shop_app.channels.email.inbound import forget_unlisted_attachments
from shop_app.channels.email.sending import send_email
from shop_app.channels.line.conversations import process_line_events, sweep_line_events
from shop_app.connectors.chatwoot import send_chatwoot
from shop_app.connectors.events import process_connector_events, sweep_connector_events
from shop_app.connectors.zendesk import send_zendesk
from shop_app.database import transaction
from shop_app.insights.csat import send_due_surveys
from shop_app.insights.rollup import refresh_all
from shop_app.logging_config import bound_log_context
from shop_app.mirror.backfill import backfill_shop
from shop_app.mirror.reconciliation import reconcile_shop
from shop_app.mirror.webhooks import inbox as webhook_inbox
from shop_app.mirror.webhooks.processing import process_deliveries
from shop_app.mirror.webhooks.subscriptions import register_webhook_subscriptions
from shop_app.models import Channel, Shop, ShopStatus
from shop_app.notices import schedule as notices_schedule
from shop_app.observability.metrics import record_job
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

outbound.register_sender(Channel.EMAIL, send_email)
outbound.register_sender(Channel.CHATWOOT, send_chatwoot)
outbound.register_sender(Channel.ZENDESK, send_zendesk)


class TaskName(StrEnum):
    PROCESS_WEBHOOKS = "process_webhooks"
    REGISTER_WEBHOOKS = "register_webhooks"
    SWEEP_WEBHOOK_INBOX = "sweep_webhook_inbox"
    SYNC_SHOP = "sync_shop"
    RECONCILE_SHOP = "reconcile_shop"
    RECONCILE_ALL_SHOPS = "reconcile_all_shops"
    PROCESS_LINE_EVENTS = "process_line_events"
    DELIVER_OUTBOX = "deliver_outbox"
    RUN_NOTICES = "run_notices"
    PROCESS_CONNECTOR_EVENTS = "process_connector_events"
    SEND_CSAT_SURVEYS = "send_csat_surveys"


class RetryLater(Exception):
    """The task failed in a way worth retrying; the queue re-runs it with backoff."""


async def process_webhooks(services: Services, *, delivery_ids: list[int]) -> None:
    if await process_deliveries(services, delivery_ids=delivery_ids):
        raise RetryLater(f"{len(delivery_ids)} deliveries, some to retry")


async def register_webhooks(services: Services, *, shop_id: int) -> None:
    async with services.sessions() as session:
        shop = await session.get(Shop, shop_id)
    if shop is None or not shop.is_active:
        return
    try:
        await register_webhook_subscriptions(services, shop=shop)
    except (ShopifyUnavailable, Throttled) as error:
        raise RetryLater(f"registering webhooks for {shop.domain}") from error


async def sweep_webhook_inbox(services: Services, *, older_than_seconds: float = 60.0) -> None:
    """Process deliveries whose job was lost (a crash between storing and queueing, a dead worker)."""
    async with transaction(services.sessions) as session:
        delivery_ids = await webhook_inbox.unfinished_delivery_ids(
            session, older_than_seconds=older_than_seconds
        )
    if delivery_ids:
        logger.info("webhook inbox sweep count=%s", len(delivery_ids))
        await process_webhooks(services, delivery_ids=delivery_ids)
    # erased conversations' mail attachments leave the data dir too
    async with services.sessions() as session:
        await forget_unlisted_attachments(session, data_dir=services.settings.data_dir)
    # the outbox rides on the same sweep: messages whose send was cut short, and retries that are due
    report = await outbound.deliver(services)
    if report.sent or report.retrying or report.failed:
        logger.info(
            "outbox sweep sent=%s retrying=%s failed=%s",
            len(report.sent),
            len(report.retrying),
            len(report.failed),
        )
    await sweep_line_events(services, older_than_seconds=older_than_seconds)
    await sweep_connector_events(services, older_than_seconds=older_than_seconds)


async def deliver_outbox(services: Services, *, outbox_ids: list[int]) -> None:
    """Send these messages by their channels (a row another sender holds, or already sent, is skipped;
    one the channel cannot take now waits in the outbox for the sweep)."""
    await outbound.deliver(services, outbox_ids)


async def sync_shop(services: Services, *, shop_id: int, full: bool = False) -> None:
    """Backfill the shop (resuming a killed run; from scratch with ``full``), then reconcile it, which
    also picks up what changed while the backfill ran."""
    try:
        await backfill_shop(services, shop_id=shop_id, full=full)
        await reconcile_shop(services, shop_id=shop_id)
    except (ShopifyUnavailable, Throttled) as error:
        raise RetryLater(f"syncing shop {shop_id}") from error


async def reconcile_one_shop(services: Services, *, shop_id: int) -> None:
    try:
        await reconcile_shop(services, shop_id=shop_id)
    except (ShopifyUnavailable, Throttled) as error:
        raise RetryLater(f"reconciling shop {shop_id}") from error


async def reconcile_all_shops(services: Services) -> None:
    """The scheduled sweep: every installed shop, one after another (each skips itself while a sync of
    the shop runs elsewhere)."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(col(Shop.id)).where(col(Shop.status) == ShopStatus.INSTALLED).order_by(col(Shop.id))
        )
        shop_ids = [shop_id for shop_id in rows.scalars() if shop_id is not None]
    for shop_id in shop_ids:
        try:
            await reconcile_shop(services, shop_id=shop_id)
        except Exception:
            logger.exception("scheduled reconciliation failed shop_id=%s", shop_id)
    await send_csat_surveys(services)
    # the Insights rollup: only what changed since the last run
    await refresh_all(services.sessions, services.settings.recontact_window_days)


async def send_csat_surveys(services: Services) -> None:
    """Ask the satisfaction question of every ticket due for it (run after each reconciliation sweep)."""
    settings = services.settings
    sent = await send_due_surveys(
        services.sessions, app_url=settings.app_url, delay=timedelta(minutes=settings.csat_delay_minutes)
    )
    outbox_ids = [each for survey in sent for each in survey.outbox_ids]
    if outbox_ids:
        await outbound.deliver(services, outbox_ids)


async def run_notices(services: Services) -> None:
    """The scheduled notices: proactive rules and back-in-stock sweeps, then their messages are sent; and,
    on the same five-minute beat, the order actions' approvals nobody decided in time expire."""
    run = await notices_schedule.run_notices(services)
    if run.proactive or run.restocked:
        await outbound.deliver(services)
    await expire_approvals(services)


Task = Callable[..., Awaitable[None]]
TASKS: dict[TaskName, Task] = {
    TaskName.PROCESS_WEBHOOKS: process_webhooks,
    TaskName.REGISTER_WEBHOOKS: register_webhooks,
    TaskName.SWEEP_WEBHOOK_INBOX: sweep_webhook_inbox,
    TaskName.SYNC_SHOP: sync_shop,
    TaskName.RECONCILE_SHOP: reconcile_one_shop,
    TaskName.RECONCILE_ALL_SHOPS: reconcile_all_shops,
    TaskName.PROCESS_LINE_EVENTS: process_line_events,
    TaskName.DELIVER_OUTBOX: deliver_outbox,
    TaskName.RUN_NOTICES: run_notices,
    TaskName.PROCESS_CONNECTOR_EVENTS: process_connector_events,
    TaskName.SEND_CSAT_SURVEYS: send_csat_surveys,
}


def task_for(name: str) -> Callable[..., Awaitable[None]]:
    """The task, as both queues run it: its name on its log lines, its outcome and time in the metrics."""
    task = TaskName(name)
    run = TASKS[task]

    async def observed(services: Services, **kwargs: Any) -> None:
        outcome = "error"
        started = time.perf_counter()
        with bound_log_context(task=task.value):
            try:
                await run(services, **kwargs)
                outcome = "ok"
            except RetryLater:
                outcome = "retry"
                raise
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                record_job(task=task.value, outcome=outcome, seconds=time.perf_counter() - started)

    return observed

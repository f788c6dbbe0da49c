"""The tasks. Each is idempotent: running one twice, or after a crash half-way, does no harm."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from integrations.shopify.errors import ShopifyUnavailable, Throttled
from integrations.shopify.webhook_payloads import MalformedPayload, parse_json_object
from shop_app.database import transaction
from shop_app.jobs.services import Services
from shop_app.models import Shop, WebhookDelivery
from shop_app.services import webhook_inbox
from shop_app.services.webhook_handlers import HANDLERS, WebhookContext
from shop_app.services.webhook_subscriptions import register_webhook_subscriptions

logger = logging.getLogger(__name__)

# Topics that change whether a shop's webhooks are accepted (other processes see it within the TTL).
SHOP_STATE_TOPICS = frozenset({"app/uninstalled", "shop/redact"})


class TaskName(StrEnum):
    PROCESS_WEBHOOKS = "process_webhooks"
    REGISTER_WEBHOOKS = "register_webhooks"
    SWEEP_WEBHOOK_INBOX = "sweep_webhook_inbox"


class RetryLater(Exception):
    """The task failed in a way worth retrying; the queue re-runs it with backoff."""


async def process_webhooks(services: Services, *, delivery_ids: list[int]) -> None:
    """Process stored deliveries. Topics without a handler are settled together in one statement;
    the others run one by one, each in its own transaction, so one failure holds back no other."""
    async with transaction(services.sessions) as session:
        claimed = await webhook_inbox.claim_deliveries(session, delivery_ids)
        without_handler = [delivery_id for delivery_id, topic in claimed if topic not in HANDLERS]
        await webhook_inbox.finish_deliveries(session, without_handler)
    retry = False
    for delivery_id, topic in claimed:
        if topic in HANDLERS:
            retry |= await _process_claimed(services, delivery_id, topic)
    if retry:
        raise RetryLater(f"{len(claimed)} deliveries, some to retry")


async def _process_claimed(services: Services, delivery_id: int, topic: str) -> bool:
    """Run the handler of a delivery this worker has claimed; True when it should be retried."""
    try:
        async with transaction(services.sessions) as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            shop = await session.get(Shop, delivery.shop_id) if delivery is not None else None
            if delivery is None or shop is None:
                return False
            payload = parse_json_object(delivery.body or "")
            await HANDLERS[topic](
                WebhookContext(
                    session=session,
                    shop=shop,
                    payload=payload,
                    cipher=services.cipher,
                    digest_key=services.digest_key,
                )
            )
            if topic != "shop/redact":  # that one erased the delivery with the rest of the shop
                await webhook_inbox.finish_deliveries(session, [delivery_id])
            domain = shop.domain
        if topic in SHOP_STATE_TOPICS:
            services.shop_directory.forget(domain)
    except MalformedPayload as error:
        logger.warning("webhook payload refused topic=%s delivery=%s reason=%s", topic, delivery_id, error)
        async with transaction(services.sessions) as session:
            await webhook_inbox.fail_delivery(session, delivery_id, f"malformed payload: {error}", final=True)
        return False
    except Exception as error:
        async with transaction(services.sessions) as session:
            retry = await webhook_inbox.fail_delivery(session, delivery_id, type(error).__name__)
        logger.exception("webhook processing failed topic=%s delivery=%s retry=%s", topic, delivery_id, retry)
        return retry
    return False


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


Task = Callable[..., Awaitable[None]]
TASKS: dict[TaskName, Task] = {
    TaskName.PROCESS_WEBHOOKS: process_webhooks,
    TaskName.REGISTER_WEBHOOKS: register_webhooks,
    TaskName.SWEEP_WEBHOOK_INBOX: sweep_webhook_inbox,
}


def task_for(name: str) -> Callable[..., Awaitable[None]]:
    return TASKS[TaskName(name)]

"""The tasks. Each is idempotent: running one twice, or after a crash half-way, does no harm."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from integrations.shopify.webhook_payloads import MalformedPayload, parse_json_object
from shop_app.database import transaction
from shop_app.jobs.services import Services
from shop_app.models import Shop, WebhookDelivery
from shop_app.services import webhook_inbox
from shop_app.services.webhook_handlers import HANDLERS, WebhookContext
from shop_app.services.webhook_subscriptions import register_webhook_subscriptions

logger = logging.getLogger(__name__)


class TaskName(StrEnum):
    PROCESS_WEBHOOK = "process_webhook"
    REGISTER_WEBHOOKS = "register_webhooks"


class RetryLater(Exception):
    """The task failed in a way worth retrying; the queue re-runs it with backoff."""


async def process_webhook(services: Services, *, delivery_id: int) -> None:
    async with transaction(services.sessions) as session:
        claimed = await webhook_inbox.claim_delivery(session, delivery_id)
    if claimed is None:
        return
    topic = claimed.topic
    try:
        async with transaction(services.sessions) as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            shop = await session.get(Shop, claimed.shop_id)
            if delivery is None or shop is None:
                return
            handler = HANDLERS.get(topic)
            if handler is None:
                logger.warning("webhook without handler acknowledged topic=%s shop=%s", topic, shop.domain)
            else:
                payload = parse_json_object(delivery.body or "")
                await handler(
                    WebhookContext(
                        session=session,
                        shop=shop,
                        payload=payload,
                        cipher=services.cipher,
                        digest_key=services.digest_key,
                    )
                )
            if topic != "shop/redact":
                await webhook_inbox.finish_delivery(session, delivery)
    except MalformedPayload as error:
        logger.warning("webhook payload refused topic=%s delivery=%s reason=%s", topic, delivery_id, error)
        async with transaction(services.sessions) as session:
            await webhook_inbox.fail_delivery(session, delivery_id, f"malformed payload: {error}", final=True)
    except Exception as error:
        async with transaction(services.sessions) as session:
            retry = await webhook_inbox.fail_delivery(session, delivery_id, type(error).__name__)
        logger.exception("webhook processing failed topic=%s delivery=%s retry=%s", topic, delivery_id, retry)
        if retry:
            raise RetryLater(str(delivery_id)) from error


async def register_webhooks(services: Services, *, shop_id: int) -> None:
    async with services.sessions() as session:
        shop = await session.get(Shop, shop_id)
    if shop is None or not shop.is_active:
        return
    await register_webhook_subscriptions(services, shop=shop)


Task = Callable[..., Awaitable[None]]
TASKS: dict[TaskName, Task] = {
    TaskName.PROCESS_WEBHOOK: process_webhook,
    TaskName.REGISTER_WEBHOOKS: register_webhooks,
}


def task_for(name: str) -> Callable[..., Awaitable[None]]:
    return TASKS[TaskName(name)]

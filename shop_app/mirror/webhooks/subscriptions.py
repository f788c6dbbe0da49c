"""Registers the app's webhook topics (from ``shopify.app.toml``) on shops installed without the CLI.

On a CLI-deployed app the toml's subscriptions already belong to the app, so registering them again per
shop would make every event arrive twice; ``Settings.register_webhooks`` says which case applies.
Compliance topics cannot be subscribed through the API: they come from the app's configuration.
"""

from __future__ import annotations

import logging

from integrations.shopify.errors import GraphQLError
from integrations.shopify.graphql import document
from shop_app.models import Shop
from shop_app.runtime import Services, admin_client

logger = logging.getLogger(__name__)
PAGE_SIZE = 100


def topic_enum(topic: str) -> str:
    """``orders/updated`` → ``ORDERS_UPDATED`` (Shopify's WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


async def register_webhook_subscriptions(services: Services, *, shop: Shop) -> list[str]:
    """Create the subscriptions the shop lacks; the topics created (none when all exist)."""
    client = admin_client(services, shop)
    existing: set[tuple[str, str]] = set()
    after: str | None = None
    while True:
        result = await client.execute(document("webhook_subscriptions"), {"first": PAGE_SIZE, "after": after})
        connection = result.data["webhookSubscriptions"]
        existing.update((node["topic"], node["uri"]) for node in connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    created = []
    for topic in services.app_config.topics:
        uri = services.settings.app_url + services.app_config.uri_for(topic)
        if (topic_enum(topic), uri) in existing:
            continue
        result = await client.execute(
            document("webhook_subscription_create"),
            {"topic": topic_enum(topic), "webhookSubscription": {"uri": uri, "format": "JSON"}},
        )
        errors = result.data["webhookSubscriptionCreate"]["userErrors"]
        if errors:
            raise GraphQLError(f"webhookSubscriptionCreate refused {topic}: {errors[0]['message']}")
        created.append(topic)
    logger.info("webhook subscriptions registered shop=%s created=%s", shop.domain, len(created))
    return created

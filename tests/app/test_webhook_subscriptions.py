from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from integrations.shopify.errors import GraphQLError
from shop_app.mirror.webhooks.subscriptions import register_webhook_subscriptions
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.conftest import FakeShopify

APP_URL = "https://app.example.test"


class FakeAdminGraphQL:
    """Just enough of the Admin GraphQL API for webhook subscriptions, per shop, one node per page."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, list[dict[str, str]]] = {}
        self.created: list[tuple[str, str, str]] = []
        self.tokens: list[str] = []
        self.refuse: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/admin/api/2026-07/graphql.json"
        self.tokens.append(request.headers["X-Shopify-Access-Token"])
        shop = request.url.host
        body = json.loads(request.content)
        variables: dict[str, Any] = body["variables"]
        existing = self.subscriptions.setdefault(shop, [])
        if "webhookSubscriptionCreate" in body["query"]:
            return self._create(shop, existing, variables)
        start = int(variables["after"] or 0)
        page = existing[start : start + 1]
        data = {
            "webhookSubscriptions": {
                "nodes": page,
                "pageInfo": {"hasNextPage": start + 1 < len(existing), "endCursor": str(start + 1)},
            }
        }
        return httpx.Response(200, json={"data": data})

    def _create(self, shop: str, existing: list[dict[str, str]], variables: dict[str, Any]) -> httpx.Response:
        topic, uri = variables["topic"], variables["webhookSubscription"]["uri"]
        if topic == self.refuse:
            errors = [{"field": ["topic"], "message": "Topic is not allowed"}]
            return httpx.Response(
                200,
                json={
                    "data": {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": errors}}
                },
            )
        node = {
            "id": f"gid://shopify/WebhookSubscription/{len(self.created) + 1}",
            "topic": topic,
            "uri": uri,
        }
        existing.append(node)
        self.created.append((shop, topic, uri))
        return httpx.Response(
            200, json={"data": {"webhookSubscriptionCreate": {"webhookSubscription": node, "userErrors": []}}}
        )


@pytest.fixture
def admin_api(shopify: FakeShopify) -> FakeAdminGraphQL:
    fake = FakeAdminGraphQL()
    shopify.handler = fake
    return fake


async def test_registration_creates_only_the_missing_topics_and_is_idempotent(
    app: RunningApp, shops: TwoShops, admin_api: FakeAdminGraphQL
) -> None:
    # given: alpha already has app/uninstalled (and an unrelated subscription of its own)
    admin_api.subscriptions[ALPHA] = [
        {
            "id": "gid://shopify/WebhookSubscription/90",
            "topic": "ORDERS_CREATE",
            "uri": "https://elsewhere.test/hook",
        },
        {
            "id": "gid://shopify/WebhookSubscription/91",
            "topic": "APP_UNINSTALLED",
            "uri": f"{APP_URL}/webhooks",
        },
    ]
    # when
    created = await register_webhook_subscriptions(app.services, shop=shops.alpha)
    again = await register_webhook_subscriptions(app.services, shop=shops.alpha)
    # then
    missing = [topic for topic in app.services.app_config.topics if topic != "app/uninstalled"]
    assert "app/scopes_update" in missing
    assert "orders/create" in missing  # the subscription at another uri does not count
    assert created == missing
    assert again == []
    assert admin_api.created == [
        (ALPHA, topic.replace("/", "_").upper(), f"{APP_URL}{app.services.app_config.uri_for(topic)}")
        for topic in missing
    ]
    assert set(admin_api.tokens) == {"shpat_alpha"}


async def test_registration_on_a_new_shop_creates_every_non_compliance_topic(
    app: RunningApp, shops: TwoShops, admin_api: FakeAdminGraphQL
) -> None:
    created = await register_webhook_subscriptions(app.services, shop=shops.beta)
    assert created == list(app.services.app_config.topics)
    assert {(topic, uri) for _shop, topic, uri in admin_api.created} == {
        (topic.replace("/", "_").upper(), APP_URL + app.services.app_config.uri_for(topic))
        for topic in app.services.app_config.topics
    }
    assert {shop for shop, _topic, _uri in admin_api.created} == {BETA}
    assert ALPHA not in admin_api.subscriptions
    assert set(admin_api.tokens) == {"shpat_beta"}


async def test_registration_never_subscribes_compliance_topics(
    app: RunningApp, shops: TwoShops, admin_api: FakeAdminGraphQL
) -> None:
    await register_webhook_subscriptions(app.services, shop=shops.alpha)
    registered = {topic for _shop, topic, _uri in admin_api.created}
    assert not registered & {"CUSTOMERS_DATA_REQUEST", "CUSTOMERS_REDACT", "SHOP_REDACT"}


async def test_subscription_at_another_uri_does_not_count_as_present(
    app: RunningApp, shops: TwoShops, admin_api: FakeAdminGraphQL
) -> None:
    admin_api.subscriptions[ALPHA] = [
        {
            "id": "gid://shopify/WebhookSubscription/91",
            "topic": "APP_UNINSTALLED",
            "uri": "https://old.example.test/webhooks",
        }
    ]
    created = await register_webhook_subscriptions(app.services, shop=shops.alpha)
    assert "app/uninstalled" in created


async def test_a_refused_subscription_raises(
    app: RunningApp, shops: TwoShops, admin_api: FakeAdminGraphQL
) -> None:
    admin_api.refuse = "APP_SCOPES_UPDATE"
    with pytest.raises(GraphQLError, match="app/scopes_update"):
        await register_webhook_subscriptions(app.services, shop=shops.alpha)

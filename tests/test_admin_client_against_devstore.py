"""The app's Admin GraphQL client against the simulated store's cost model and leaky bucket: the app's own
documents cost what Shopify's rules say, and the client paces itself and recovers when throttled."""

from __future__ import annotations

import time

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.graphql import document
from shop_app.runtime import admin_client
from tests.test_install_against_devstore import SHOP, STORE_HOST, World, installed  # noqa: F401

WEBHOOK_SUBSCRIPTIONS_COST = 2 + 100 * 1  # connection: 2 + first × one node (an object: 1; scalars: 0)
MUTATION_COST = 10


async def _limit_bucket(world: World, maximum: int, restore: int) -> None:
    response = await world.browser.post(
        f"http://{STORE_HOST}/_devstore/throttle",
        json={"shop": SHOP, "maximumAvailable": maximum, "restoreRate": restore},
    )
    assert response.status_code == 200


async def _client(world: World) -> AdminGraphQLClient:
    shop = await world.shop(SHOP)
    assert shop is not None
    return admin_client(world.services, shop)


async def test_the_apps_documents_cost_what_shopifys_rules_say(installed: World) -> None:  # noqa: F811
    client = await _client(installed)

    listing = await client.execute(document("webhook_subscriptions"), {"first": 100, "after": None})
    creation = await client.execute(
        document("webhook_subscription_create"),
        {
            "topic": "ORDERS_CREATE",
            "webhookSubscription": {"uri": "https://app.test/webhooks", "format": "JSON"},
        },
    )

    assert listing.cost is not None
    assert listing.cost.requested == WEBHOOK_SUBSCRIPTIONS_COST
    assert listing.cost.actual is not None
    assert listing.cost.actual < listing.cost.requested  # refunded to what was really returned
    assert creation.cost is not None
    assert creation.cost.requested == MUTATION_COST


async def test_client_paces_itself_within_a_small_bucket(installed: World) -> None:  # noqa: F811
    await _limit_bucket(installed, maximum=250, restore=1000)
    client = await _client(installed)
    query = document("webhook_subscriptions")

    started = time.monotonic()
    for _ in range(12):
        result = await client.execute(query, {"first": 100, "after": None})
        assert "webhookSubscriptions" in result.data
    elapsed = time.monotonic() - started

    assert client.throttled_count <= 1  # it waits for the bucket instead of being refused
    assert client.throttle.maximum_available == 250
    assert elapsed < 10


ORDERS_WITH_ITEMS = "{ orders(first: 30) { nodes { id lineItems(first: 5) { nodes { id sku } } } } }"


async def test_clients_that_overdraw_the_bucket_are_throttled_and_recover(installed: World) -> None:  # noqa: F811
    await _limit_bucket(installed, maximum=250, restore=500)
    clients = [await _client(installed) for _ in range(3)]  # fresh clients know nothing of the bucket yet

    results = [await client.execute(ORDERS_WITH_ITEMS) for client in clients]

    assert all(len(result.data["orders"]["nodes"]) == 30 for result in results)
    assert results[0].cost is not None
    assert results[0].cost.requested == 2 + 30 * (1 + 2 + 5 * 1)
    assert sum(client.throttled_count for client in clients) >= 1


# The sync's pages, with the cost each file's header works out by hand from Shopify's rules.
SYNC_PAGE_COSTS = {
    "backfill_customers": (100, 502),
    "backfill_inventory": (25, 827),
    "backfill_locations": (100, 202),
    "backfill_orders": (8, 874),
    "backfill_products": (10, 792),
}


async def test_the_syncs_pages_cost_what_their_headers_work_out(installed: World) -> None:  # noqa: F811
    client = await _client(installed)
    for name, (first, cost) in SYNC_PAGE_COSTS.items():
        result = await client.execute(document(name), {"first": first, "after": None})
        assert result.cost is not None
        assert (name, result.cost.requested) == (name, cost)
        assert result.cost.requested <= 1000  # the single-query cap

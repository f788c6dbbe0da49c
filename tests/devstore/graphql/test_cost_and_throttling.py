from __future__ import annotations

import pytest

from devstore.graphql_api import AdminGraphQL
from devstore.graphql_api.throttle import BucketLimits
from tests.devstore.graphql.conftest import TOKEN_B, FakeClock, Graphql

pytestmark = pytest.mark.anyio

# The app's sync page: per order 1 (object) + lineItems 2 + 20 x 1 + fulfillments 1 + trackingInfo 1 = 25.
ORDERS_WITH_SHIPMENTS = """
query Sync($first: Int!) {
  orders(first: $first, sortKey: UPDATED_AT) {
    edges {
      cursor
      node {
        id name updatedAt displayFulfillmentStatus
        lineItems(first: 20) { edges { node { id sku quantity } } }
        fulfillments { id status trackingInfo { company number url } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_requested_and_actual_cost_of_the_sync_query(graphql: Graphql) -> None:
    answer = await graphql(ORDERS_WITH_SHIPMENTS, {"first": 25})
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 25 * 25
    # 25 orders returned, each: 1 + lineItems (2 + 3 nodes) + fulfillments (1 + trackingInfo 1) = 8.
    assert cost["actualQueryCost"] == 2 + 25 * 8
    assert cost["throttleStatus"] == {
        "maximumAvailable": 2000,
        "currentlyAvailable": 2000 - 202,
        "restoreRate": 100,
    }


async def test_actual_cost_counts_only_the_nodes_returned(graphql: Graphql) -> None:
    answer = await graphql(ORDERS_WITH_SHIPMENTS, {"first": 10}, shop="northwind-test.myshopify.com")
    cost = answer["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (252, 2 + 2 * 8)


async def test_scalars_objects_and_mutations_cost(graphql: Graphql) -> None:
    answer = await graphql('{ shop { name } order(id: "gid://shopify/Order/1") { name customer { id } } }')
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 1 + 2
    mutation = 'mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/9") { userErrors { message } } }'
    assert (await graphql(mutation))["extensions"]["cost"]["requestedQueryCost"] == 10


async def test_query_over_1000_points_is_refused_without_data(graphql: Graphql) -> None:
    answer = await graphql(ORDERS_WITH_SHIPMENTS, {"first": 50})
    assert "data" not in answer
    assert answer["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 2 + 50 * 25
    assert answer["extensions"]["cost"]["actualQueryCost"] is None


async def test_bucket_drains_throttles_refills_and_refunds(
    graphql: Graphql, api: AdminGraphQL, clock: FakeClock
) -> None:
    # given a small bucket (1000 points, 50/s) and a query requesting 627 that really costs 202
    api.throttle.set_limits(BucketLimits(maximum_available=1000, restore_rate=50))
    statuses = []
    for _ in range(2):
        answer = await graphql(ORDERS_WITH_SHIPMENTS, {"first": 25})
        statuses.append(answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])
    # then each answer is charged 627 up front and refunded to 202
    assert statuses == [798, 596]
    # when the bucket holds less than the requested cost
    throttled = await graphql(ORDERS_WITH_SHIPMENTS, {"first": 25})
    assert throttled == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 627,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": 596, "restoreRate": 50},
            }
        },
    }
    # another app on the same shop has its own bucket
    assert "data" in await graphql(ORDERS_WITH_SHIPMENTS, {"first": 25}, token=TOKEN_B)
    # then one second restores 50 points, enough again
    clock.advance(1)
    answer = await graphql(ORDERS_WITH_SHIPMENTS, {"first": 25})
    assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 646 - 627 + 425
    clock.advance(3600)
    answer = await graphql("{ shop { name } }")
    assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1000 - 1


async def test_throttling_can_be_switched_off_and_limits_set_over_http(
    graphql: Graphql, api: AdminGraphQL
) -> None:
    response = await graphql.client.post(
        "/_devstore/throttle", json={"maximumAvailable": 2000, "restoreRate": 1000}
    )
    assert response.json()["restoreRate"] == 1000
    answer = await graphql("{ shop { name } }")
    assert answer["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 1000
    await graphql.client.post("/_devstore/throttle", json={"enabled": False})
    for _ in range(5):
        answer = await graphql(ORDERS_WITH_SHIPMENTS, {"first": 25})
        assert "errors" not in answer

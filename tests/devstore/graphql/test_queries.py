from __future__ import annotations

from typing import Any

import pytest

from tests.devstore.graphql.conftest import ORDERS_IN_SHOP_A, Graphql
from tests.devstore.graphql.factories import SHOP_B

pytestmark = pytest.mark.anyio

ORDER_PAGE = """
query Orders($first: Int, $last: Int, $after: String, $before: String, $query: String,
             $sortKey: OrderSortKeys, $reverse: Boolean) {
  orders(first: $first, last: $last, after: $after, before: $before, query: $query,
         sortKey: $sortKey, reverse: $reverse) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def names(graphql: Graphql, **variables: Any) -> list[str]:
    answer = await graphql(ORDER_PAGE, {"first": 250, "sortKey": "ID", **variables})
    assert "errors" not in answer, answer
    return [edge["node"]["name"] for edge in answer["data"]["orders"]["edges"]]


async def test_forward_pages_cover_every_order_once(graphql: Graphql) -> None:
    seen: list[str] = []
    after = None
    while True:
        answer = await graphql(ORDER_PAGE, {"first": 7, "after": after, "sortKey": "ID"})
        connection = answer["data"]["orders"]
        seen += [edge["node"]["name"] for edge in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == [f"#{1000 + n}" for n in range(1, ORDERS_IN_SHOP_A + 1)]


async def test_last_and_before_page_backwards(graphql: Graphql) -> None:
    answer = await graphql(ORDER_PAGE, {"last": 3, "sortKey": "ID"})
    connection = answer["data"]["orders"]
    assert [e["node"]["name"] for e in connection["edges"]] == ["#1028", "#1029", "#1030"]
    assert connection["pageInfo"] == {**connection["pageInfo"], "hasPreviousPage": True, "hasNextPage": False}
    answer = await graphql(
        ORDER_PAGE, {"last": 2, "before": connection["pageInfo"]["startCursor"], "sortKey": "ID"}
    )
    assert [e["node"]["name"] for e in answer["data"]["orders"]["edges"]] == ["#1026", "#1027"]
    assert answer["data"]["orders"]["pageInfo"]["hasNextPage"] is True


async def test_updated_at_sort_and_reverse(graphql: Graphql) -> None:
    newest = await names(graphql, sortKey="UPDATED_AT", reverse=True, first=2)
    assert newest == ["#1030", "#1029"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name:#1007", ["#1007"]),
        ("name:1007", ["#1007"]),
        ("email:HANAKO3@example.jp", [f"#{1000 + n}" for n in range(1, 31) if n % 6 and 1 + n % 3 == 3]),
        ("updated_at:>'2026-11-02T03:00:00Z'", [f"#{1000 + n}" for n in range(28, 31)]),
        ("updated_at:>='2026-11-02T04:00:00Z'", ["#1028", "#1029", "#1030"]),
        ("updated_at:<2026-11-01T02:00:00Z", ["#1001"]),
        ("updated_at:<='2026-11-01T02:00:00Z'", ["#1001", "#1002"]),
        ("created_at:>=2026-10-28", ["#1027"]),
        ("sku:RARE-SKU", ["#1007"]),
        ("status:cancelled", ["#1010", "#1020", "#1030"]),
        ("status:closed -status:cancelled", ["#1005", "#1015", "#1025"]),
        ("status:open name:#1001", ["#1001"]),
        ("financial_status:refunded tag:gift", ["#1008", "#1020"]),
        ("fulfillment_status:unfulfilled id:>25", ["#1026", "#1028", "#1030"]),
        ("name:#1001 OR name:#1002", ["#1001", "#1002"]),
        ("tag:gift name:#1004 OR name:#1003", ["#1003", "#1004"]),
        ("unknown_field:x name:#1003", ["#1003"]),
    ],
)
async def test_search_filters(graphql: Graphql, query: str, expected: list[str]) -> None:
    assert await names(graphql, query=query) == expected


async def test_each_shop_sees_only_its_orders(graphql: Graphql) -> None:
    answer = await graphql(ORDER_PAGE, {"first": 10}, shop=SHOP_B)
    assert [edge["node"]["name"] for edge in answer["data"]["orders"]["edges"]] == ["#1501", "#1502"]


async def test_order_detail_resolves_references_and_embedded_connections(graphql: Graphql) -> None:
    query = """{
      order(id: "gid://shopify/Order/7") {
        name legacyResourceId closed
        totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount } }
        customer { displayName defaultEmailAddress { emailAddress } }
        lineItems(first: 2) { nodes { sku variant { id product { handle } } } pageInfo { hasNextPage } }
        fulfillments { order { name } trackingInfo(first: 1) { company number } events(first: 5) { nodes { status } } }
        customAttributes { key value }
      }
    }"""
    order = (await graphql(query))["data"]["order"]
    assert order["legacyResourceId"] == "7"
    assert order["closed"] is False
    assert order["totalPriceSet"] == {
        "shopMoney": {"amount": "3600.0", "currencyCode": "JPY"},
        "presentmentMoney": {"amount": "3600.0"},
    }
    assert order["customer"] == {
        "displayName": "Hanako Yamada2",
        "defaultEmailAddress": {"emailAddress": "hanako2@example.jp"},
    }
    assert order["lineItems"]["nodes"][0] == {
        "sku": "RARE-SKU",
        "variant": {"id": "gid://shopify/ProductVariant/11", "product": {"handle": "t-shirt"}},
    }
    assert order["lineItems"]["pageInfo"]["hasNextPage"] is True
    assert order["fulfillments"] == [
        {
            "order": {"name": "#1007"},
            "trackingInfo": [{"company": "ヤマト運輸", "number": "1234-7"}],
            "events": {"nodes": [{"status": "IN_TRANSIT"}]},
        }
    ]


async def test_embedded_objects_are_reachable_by_gid(graphql: Graphql) -> None:
    query = """{
      productVariant(id: "gid://shopify/ProductVariant/11") { sku product { title } }
      inventoryItem(id: "gid://shopify/InventoryItem/21") {
        variant { id }
        inventoryLevel(locationId: "gid://shopify/Location/1") { quantities(names: ["available", "committed"]) { name quantity } }
        inventoryLevels(first: 5) { nodes { location { name } item { sku } } }
      }
      node(id: "gid://shopify/LineItem/71") { id ... on LineItem { sku } }
      nodes(ids: ["gid://shopify/Order/1", "gid://shopify/Order/999"]) { id }
    }"""
    data = (await graphql(query))["data"]
    assert data["productVariant"] == {"sku": "TS-0", "product": {"title": "Tシャツ"}}
    assert data["inventoryItem"]["variant"] == {"id": "gid://shopify/ProductVariant/11"}
    assert data["inventoryItem"]["inventoryLevel"]["quantities"] == [
        {"name": "available", "quantity": 5},
        {"name": "committed", "quantity": 0},
    ]
    assert data["inventoryItem"]["inventoryLevels"]["nodes"] == [
        {"location": {"name": "東京倉庫"}, "item": {"sku": "TS-0"}}
    ]
    assert data["node"] == {"id": "gid://shopify/LineItem/71", "sku": "RARE-SKU"}
    assert data["nodes"] == [{"id": "gid://shopify/Order/1"}, None]


async def test_customer_orders_and_product_variant_search(graphql: Graphql) -> None:
    query = """{
      customer(id: "gid://shopify/Customer/1") { numberOfOrders orders(first: 3) { nodes { name } } }
      productVariants(first: 5, query: "sku:TS-0") { nodes { id } }
      inventoryItems(first: 5, query: "sku:nope") { nodes { id } }
      locations(first: 5) { nodes { name } }
    }"""
    data = (await graphql(query))["data"]
    assert data["customer"] == {
        "numberOfOrders": "1",
        "orders": {"nodes": [{"name": "#1003"}, {"name": "#1009"}, {"name": "#1015"}]},
    }
    assert data["productVariants"]["nodes"] == [{"id": "gid://shopify/ProductVariant/11"}]
    assert data["inventoryItems"]["nodes"] == []
    assert data["locations"]["nodes"] == [{"name": "東京倉庫"}]


async def test_connection_without_first_or_last_is_an_error(graphql: Graphql) -> None:
    answer = await graphql("{ orders { nodes { id } } }")
    assert answer["errors"][0]["message"] == "you must provide one of first or last"

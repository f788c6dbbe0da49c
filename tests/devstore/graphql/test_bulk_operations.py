from __future__ import annotations

import json

import pytest

from devstore.graphql_api import AdminGraphQL
from tests.devstore.graphql.conftest import ORDERS_IN_SHOP_A, FakeState, Graphql
from tests.devstore.graphql.factories import SHOP_A

pytestmark = pytest.mark.anyio

RUN = """
mutation Run($query: String!, $group: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $group) {
    bulkOperation { id status type objectCount url }
    userErrors { field message code }
  }
}
"""
POLL = """query Poll($id: ID!) {
  bulkOperation(id: $id) { id status objectCount rootObjectCount fileSize url errorCode completedAt }
}"""
ORDERS_AND_LINE_ITEMS = """{
  orders(query: "status:open") {
    edges { node { id name totalPriceSet { shopMoney { amount } } lineItems { edges { node { id sku } } } } }
  }
}"""


async def test_bulk_query_writes_jsonl_with_parent_ids(
    graphql: Graphql, api: AdminGraphQL, state: FakeState
) -> None:
    # given
    answer = await graphql(RUN, {"query": ORDERS_AND_LINE_ITEMS, "group": False})
    started = answer["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == []
    assert started["bulkOperation"]["status"] == "CREATED"
    assert started["bulkOperation"]["objectCount"] == "0"
    # when
    await api.bulk.wait_idle()
    # then
    finished = (await graphql(POLL, {"id": started["bulkOperation"]["id"]}))["data"]["bulkOperation"]
    open_orders = [n for n in range(1, ORDERS_IN_SHOP_A + 1) if n % 5 and n % 10]
    assert finished["status"] == "COMPLETED"
    assert finished["rootObjectCount"] == str(len(open_orders))
    assert finished["objectCount"] == str(4 * len(open_orders))
    download = await graphql.client.get(finished["url"])
    assert download.status_code == 200
    assert finished["fileSize"] == str(len(download.content))
    lines = download.text.splitlines()
    assert lines[0] == (
        '{"id":"gid:\\/\\/shopify\\/Order\\/1","name":"#1001","totalPriceSet":{"shopMoney":{"amount":"3600.0"}}}'
    )
    parsed = [json.loads(line) for line in lines]
    roots = [line for line in parsed if "__parentId" not in line]
    children = [line for line in parsed if "__parentId" in line]
    assert [root["name"] for root in roots] == [f"#{1000 + n}" for n in open_orders]
    assert children[0] == {
        "id": "gid://shopify/LineItem/10",
        "sku": "TS-0",
        "__parentId": "gid://shopify/Order/1",
    }
    assert {child["__parentId"] for child in children} == {root["id"] for root in roots}
    assert state.webhooks.emitted == [
        (
            SHOP_A,
            "bulk_operations/finish",
            {
                "admin_graphql_api_id": started["bulkOperation"]["id"],
                "completed_at": "2026-11-22T09:00:00Z",
                "created_at": "2026-11-22T09:00:00Z",
                "error_code": None,
                "status": "completed",
                "type": "query",
            },
        )
    ]


async def test_grouped_objects_follow_their_parent(graphql: Graphql, api: AdminGraphQL) -> None:
    started = (await graphql(RUN, {"query": ORDERS_AND_LINE_ITEMS, "group": True}))["data"][
        "bulkOperationRunQuery"
    ]
    await api.bulk.wait_idle()
    finished = (await graphql(POLL, {"id": started["bulkOperation"]["id"]}))["data"]["bulkOperation"]
    lines = [json.loads(line) for line in (await graphql.client.get(finished["url"])).text.splitlines()]
    assert [line.get("__parentId") for line in lines[:5]] == [None, *["gid://shopify/Order/1"] * 3, None]


async def test_sixth_running_operation_is_refused(graphql: Graphql, api: AdminGraphQL) -> None:
    api.bulk.pause()
    ids = []
    for _ in range(5):
        answer = await graphql(RUN, {"query": ORDERS_AND_LINE_ITEMS, "group": False})
        ids.append(answer["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"])
    sixth = (await graphql(RUN, {"query": ORDERS_AND_LINE_ITEMS, "group": False}))["data"][
        "bulkOperationRunQuery"
    ]
    assert sixth == {
        "bulkOperation": None,
        "userErrors": [
            {
                "field": None,
                "message": f"A bulk query operation for this app and shop is already in progress: {', '.join(ids)}.",
                "code": "OPERATION_IN_PROGRESS",
            }
        ],
    }
    current = await graphql(
        "{ currentBulkOperation { id status } bulkOperations(first: 10) { nodes { id } } }"
    )
    assert current["data"]["currentBulkOperation"] == {"id": ids[-1], "status": "CREATED"}
    assert [node["id"] for node in current["data"]["bulkOperations"]["nodes"]] == ids
    api.bulk.resume()
    await api.bulk.wait_idle()
    again = (await graphql(RUN, {"query": ORDERS_AND_LINE_ITEMS, "group": False}))["data"][
        "bulkOperationRunQuery"
    ]
    assert again["userErrors"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ shop { name } }", "Bulk queries must contain at least one connection."),
        (
            "{ orders { edges { node { id } } } ",
            "Invalid bulk query: Syntax Error: Expected Name, found <EOF>.",
        ),
        (
            "{ products { edges { node { variants { edges { node { inventoryItem { inventoryLevels { edges { node {"
            " id location { id } } } } } } } } } } } }",
            "",
        ),
        ("{ customers { nodes { id orders { nodes { id lineItems { nodes { id } } } } } } }", ""),
        (
            "{ orders { edges { node { a: lineItems { nodes { id } } b: lineItems { nodes { id } }"
            " c: lineItems { nodes { id } } d: lineItems { nodes { id } } e: lineItems { nodes { id } } } } } }",
            "Bulk queries cannot contain more than 5 connections.",
        ),
        (
            "{ products { nodes { variants { nodes { inventoryItem { inventoryLevels { nodes { item {"
            " variants { nodes { id } } } } } } } } } } }",
            "Bulk queries cannot contain connections with a nesting depth greater than 2.",
        ),
    ],
)
async def test_inner_query_is_checked_against_shopifys_limits(
    graphql: Graphql, query: str, message: str
) -> None:
    payload = (await graphql(RUN, {"query": query, "group": False}))["data"]["bulkOperationRunQuery"]
    if not message:  # two levels of nesting are allowed
        assert payload["userErrors"] == []
        return
    assert payload == {
        "bulkOperation": None,
        "userErrors": [{"field": ["query"], "message": message, "code": "INVALID"}],
    }

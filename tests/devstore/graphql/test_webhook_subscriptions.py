from __future__ import annotations

import pytest

from tests.devstore.graphql.conftest import TOKEN_B, Graphql

pytestmark = pytest.mark.anyio

CREATE = """
mutation Create($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri callbackUrl format includeFields filter apiVersion { handle } }
    userErrors { field message }
  }
}
"""
LIST = "{ webhookSubscriptions(first: 10, topics: [ORDERS_UPDATED]) { nodes { id topic uri } } }"
DELETE = """mutation Delete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}"""


async def test_create_list_dedupe_and_delete(graphql: Graphql) -> None:
    sub = {"uri": "https://app.example.com/webhooks", "includeFields": ["id", "updated_at"]}
    created = (await graphql(CREATE, {"topic": "ORDERS_UPDATED", "sub": sub}))["data"][
        "webhookSubscriptionCreate"
    ]
    assert created["userErrors"] == []
    subscription = created["webhookSubscription"]
    assert subscription == {
        "id": subscription["id"],
        "topic": "ORDERS_UPDATED",
        "uri": "https://app.example.com/webhooks",
        "callbackUrl": "https://app.example.com/webhooks",
        "format": "JSON",
        "includeFields": ["id", "updated_at"],
        "filter": None,
        "apiVersion": {"handle": "2026-07"},
    }
    duplicate = (await graphql(CREATE, {"topic": "ORDERS_UPDATED", "sub": sub}))["data"][
        "webhookSubscriptionCreate"
    ]
    assert duplicate == {
        "webhookSubscription": None,
        "userErrors": [
            {
                "field": ["webhookSubscription", "uri"],
                "message": "Address for this topic has already been taken",
            }
        ],
    }
    await graphql(CREATE, {"topic": "ORDERS_CREATE", "sub": sub})
    listed = (await graphql(LIST))["data"]["webhookSubscriptions"]["nodes"]
    assert [node["id"] for node in listed] == [subscription["id"]]
    assert (await graphql(LIST, token=TOKEN_B))["data"]["webhookSubscriptions"]["nodes"] == []
    deleted = (await graphql(DELETE, {"id": subscription["id"]}))["data"]["webhookSubscriptionDelete"]
    assert deleted == {"deletedWebhookSubscriptionId": subscription["id"], "userErrors": []}
    assert (await graphql(LIST))["data"]["webhookSubscriptions"]["nodes"] == []
    again = (await graphql(DELETE, {"id": subscription["id"]}))["data"]["webhookSubscriptionDelete"]
    assert again["userErrors"][0]["field"] == ["id"]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("http://app.example.com/webhooks", "Address protocol http:// is not supported"),
        ("not a url", "Address is invalid"),
        ("", "Address can't be blank"),
    ],
)
async def test_invalid_addresses_are_user_errors(graphql: Graphql, address: str, message: str) -> None:
    answer = await graphql(CREATE, {"topic": "APP_UNINSTALLED", "sub": {"uri": address}})
    assert answer["data"]["webhookSubscriptionCreate"]["userErrors"] == [
        {"field": ["webhookSubscription", "uri"], "message": message}
    ]


async def test_local_http_address_is_accepted_by_the_dev_store(graphql: Graphql) -> None:
    sub = {"callbackUrl": "http://127.0.0.1:8000/webhooks"}
    answer = await graphql(CREATE, {"topic": "APP_UNINSTALLED", "sub": sub})
    assert answer["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["uri"] == sub["callbackUrl"]

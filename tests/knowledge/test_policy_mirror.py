# ruff: noqa: F811  (fixtures imported from other test modules)
"""The mirror keeps the shop's policies (``shop.shopPolicies``): read at the first sync, read again after a
``shop/update`` webhook and at reconciliation; the simulated store's demo shops have policies in their own
language. Shopify's answer is parsed strictly."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.shopify.graphql_resources import MalformedNode
from integrations.shopify.shop_policies import parse_shop_policies
from shop_app.knowledge.policies import list_policies
from shop_app.mirror.reconciliation import reconcile_shop
from tests.sync.test_backfill import OTHER_SHOP, SHOP, World, shop_id, synced  # noqa: F401


async def stored(world: World, domain: str) -> dict[str, Any]:
    async with world.services.sessions() as session:
        rows = await list_policies(session, shop_id=await shop_id(world, domain))
    return {row.policy_type: row for row in rows}


def edit_store_policy(world: World, domain: str, policy_type: str, body: str) -> None:
    doc = next(iter(world.store.store.records.iter_type(domain, "Shop")))
    for policy in doc["shopPolicies"]:
        if policy["type"] == policy_type:
            policy["body"] = body
    world.store.store.records.put(domain, doc)


async def test_the_first_sync_stores_each_shops_policies_in_its_language(synced: World) -> None:
    hinode, northwind = await stored(synced, SHOP), await stored(synced, OTHER_SHOP)

    assert {"REFUND_POLICY", "SHIPPING_POLICY", "CONTACT_INFORMATION", "PRIVACY_POLICY"} <= set(hinode)
    assert "30日以内" in hinode["REFUND_POLICY"].body
    assert hinode["REFUND_POLICY"].title == "返金ポリシー"
    assert "within 30 days" in northwind["REFUND_POLICY"].body
    assert northwind["SHIPPING_POLICY"].url is not None
    assert northwind["SHIPPING_POLICY"].url.endswith("/policies/shipping-policy")


async def test_a_shop_update_webhook_reads_the_policies_again(synced: World) -> None:
    # given: the merchant shortens the return window
    edit_store_policy(synced, SHOP, "REFUND_POLICY", "<p>商品到着後14日以内であれば返品を承ります。</p>")

    # when: the store tells the app its settings changed
    change = await synced.store.activity.update_shop(SHOP, name="日の出アパレル")
    assert change.topics == ["shop/update"]
    await synced.store.store.webhooks.wait_idle()
    await synced.jobs.drain()

    # then: that shop's policy is the new one; the other shop's are untouched
    assert "14日以内" in (await stored(synced, SHOP))["REFUND_POLICY"].body
    assert "within 30 days" in (await stored(synced, OTHER_SHOP))["REFUND_POLICY"].body


async def test_reconciliation_reads_the_policies_again(synced: World) -> None:
    # given: a policy edited with no webhook
    edit_store_policy(synced, OTHER_SHOP, "SHIPPING_POLICY", "<p>Shipping is free on every order.</p>")

    # when
    report = await reconcile_shop(synced.services, shop_id=await shop_id(synced, OTHER_SHOP))

    # then
    assert report["policies_changed"] == ["SHIPPING_POLICY"]
    assert (await stored(synced, OTHER_SHOP))[
        "SHIPPING_POLICY"
    ].body == "<p>Shipping is free on every order.</p>"


def policy_node(**changes: Any) -> dict[str, Any]:
    node = {
        "id": "gid://shopify/ShopPolicy/7",
        "type": "REFUND_POLICY",
        "title": "Refund policy",
        "body": "<p>30 days.</p>",
        "url": "https://shop.example/policies/refund-policy",
        "updatedAt": "2026-11-20T00:00:00Z",
    }
    node.update(changes)
    return node


def test_a_policy_of_a_type_the_app_does_not_know_is_skipped() -> None:
    records = parse_shop_policies({"shop": {"shopPolicies": [policy_node(), policy_node(type="NEW_KIND")]}})

    assert [record.policy_type for record in records] == ["REFUND_POLICY"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"shop": {}},
        {"shop": {"shopPolicies": "many"}},
        {"shop": {"shopPolicies": [policy_node(body=None)]}},
        {"shop": {"shopPolicies": [policy_node(title=7)]}},
        {"shop": {"shopPolicies": [policy_node(id="7")]}},
        {"shop": {"shopPolicies": ["refund"]}},
    ],
)
def test_a_malformed_answer_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(MalformedNode):
        parse_shop_policies(data)


def test_a_link_that_is_not_https_is_dropped() -> None:
    [record] = parse_shop_policies({"shop": {"shopPolicies": [policy_node(url="javascript:alert(1)")]}})

    assert record.url is None

from __future__ import annotations

import base64
import json
import uuid

import pytest

from shop_app.models import ComplianceAudit, CustomerDataExport, DeliveryStatus, ShopCredential, ShopStatus
from tests.app.conftest import ALPHA, BETA, PAYLOADS, RunningApp, TwoShops, compliance_body
from tests.app.database_checks import row_counts
from tests.conftest import TEST_PREVIOUS_SECRET
from tests.factories import sign_webhook, webhook_headers

# Which topic each sample body stands for (../shopify-reference/README.md).
SAMPLE_TOPICS = {
    "AppUninstalled.json": "app/uninstalled",
    "BulkOperationsFinish.json": "bulk_operations/finish",
    "CustomersCreate.json": "customers/create",
    "CustomersDelete.json": "customers/delete",
    "Deleted.json": "products/delete",
    "Fulfillment.json": "fulfillments/update",
    "FulfillmentEventsCreate.json": "fulfillment_events/create",
    "FulfillmentOrdersCancelled.json": "fulfillment_orders/cancelled",
    "FulfillmentOrdersPlacedOnHold.json": "fulfillment_orders/placed_on_hold",
    "InventoryItem.json": "inventory_items/update",
    "InventoryLevel.json": "inventory_levels/update",
    "InventoryLevelDisconnected.json": "inventory_levels/disconnect",
    "Location.json": "locations/update",
    "Order.json": "orders/updated",
    "OrderEdited.json": "orders/edited",
    "Product.json": "products/update",
    "Refund.json": "refunds/create",
    "compliance-customers-data_request.json": "customers/data_request",
    "compliance-customers-redact.json": "customers/redact",
    "compliance-shop-redact.json": "shop/redact",
}
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
STRANGER_SECRET = "shpss_stranger_0000000000000000000000"


def _flip(data: bytes) -> bytes:
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    return bytes(changed)


def test_every_sample_body_has_a_topic() -> None:
    assert sorted(SAMPLE_TOPICS) == sorted(path.name for path in PAYLOADS.glob("*.json"))


@pytest.mark.parametrize("filename", sorted(SAMPLE_TOPICS))
async def test_signed_sample_body_is_accepted_and_stored_when_subscribed(
    app: RunningApp, shops: TwoShops, database_url: str, filename: str
) -> None:
    # given
    topic = SAMPLE_TOPICS[filename]
    body = (PAYLOADS / filename).read_bytes()
    await app.pause_jobs()
    before = row_counts(database_url)
    # when
    response = await app.webhook(topic, ALPHA, body)
    # then
    assert response.status_code == 200, response.text
    after = row_counts(database_url)
    if app.subscribes_to(topic):
        assert response.json()["outcome"] == "accepted"
        [delivery] = await app.deliveries(shops.alpha)
        assert (delivery.topic, delivery.status) == (topic, DeliveryStatus.PENDING)
        assert delivery.body == body.decode()
        assert after == {**before, "webhook_deliveries": before["webhook_deliveries"] + 1}
    else:
        assert response.json()["outcome"] == "ignored"
        assert after == before
    assert await app.deliveries(shops.beta) == []


@pytest.mark.parametrize("filename", sorted(SAMPLE_TOPICS))
async def test_sample_body_with_one_byte_changed_is_rejected(
    app: RunningApp, shops: TwoShops, database_url: str, filename: str
) -> None:
    topic = SAMPLE_TOPICS[filename]
    body = (PAYLOADS / filename).read_bytes()
    headers = webhook_headers(topic=topic, shop=ALPHA, body=body)
    before = row_counts(database_url)
    response = await app.client.post(app.uri_for(topic), content=_flip(body), headers=headers)
    assert response.status_code == 401
    assert row_counts(database_url) == before


@pytest.mark.parametrize("filename", sorted(SAMPLE_TOPICS))
async def test_sample_body_with_one_signature_byte_changed_is_rejected(
    app: RunningApp, shops: TwoShops, database_url: str, filename: str
) -> None:
    topic = SAMPLE_TOPICS[filename]
    body = (PAYLOADS / filename).read_bytes()
    headers = webhook_headers(topic=topic, shop=ALPHA, body=body)
    signature = base64.b64decode(headers["X-Shopify-Hmac-Sha256"])
    headers["X-Shopify-Hmac-Sha256"] = base64.b64encode(_flip(signature)).decode()
    before = row_counts(database_url)
    response = await app.client.post(app.uri_for(topic), content=body, headers=headers)
    assert response.status_code == 401
    assert row_counts(database_url) == before


@pytest.mark.parametrize("topic", COMPLIANCE_TOPICS)
@pytest.mark.parametrize("secret", [STRANGER_SECRET, ""])
async def test_compliance_webhook_with_a_bad_hmac_gets_401(
    app: RunningApp, shops: TwoShops, database_url: str, topic: str, secret: str
) -> None:
    body = compliance_body(topic.replace("/", "-"), ALPHA)
    before = row_counts(database_url)
    response = await app.webhook(topic, ALPHA, body, secret=secret)
    assert response.status_code == 401
    assert row_counts(database_url) == before


async def test_webhook_signed_with_the_previous_secret_is_accepted(app: RunningApp, shops: TwoShops) -> None:
    body = json.dumps({"id": 1, "previous": [], "current": ["read_orders"]}).encode()
    response = await app.webhook("app/scopes_update", ALPHA, body, secret=TEST_PREVIOUS_SECRET)
    assert response.status_code == 200
    assert response.json()["outcome"] == "accepted"


@pytest.mark.parametrize("path", ["/webhooks", "/webhooks/compliance"])
async def test_webhook_without_hmac_header_gets_401(
    app: RunningApp, shops: TwoShops, database_url: str, path: str
) -> None:
    body = compliance_body("customers-redact", ALPHA)
    headers = webhook_headers(topic="customers/redact", shop=ALPHA, body=body)
    del headers["X-Shopify-Hmac-Sha256"]
    before = row_counts(database_url)
    response = await app.client.post(path, content=body, headers=headers)
    assert response.status_code == 401
    assert row_counts(database_url) == before


@pytest.mark.parametrize("missing", ["X-Shopify-Topic", "X-Shopify-Shop-Domain"])
async def test_signed_webhook_without_topic_or_shop_header_gets_400(
    app: RunningApp, shops: TwoShops, database_url: str, missing: str
) -> None:
    body = compliance_body("customers-redact", ALPHA)
    headers = webhook_headers(topic="customers/redact", shop=ALPHA, body=body)
    del headers[missing]
    before = row_counts(database_url)
    response = await app.client.post("/webhooks/compliance", content=body, headers=headers)
    assert response.status_code == 400
    assert row_counts(database_url) == before


@pytest.mark.parametrize("domain", ["evil.com", "alpha.myshopify.com.evil.com", "\u0455hop.myshopify.com"])
async def test_signed_webhook_with_a_bad_shop_header_gets_400(
    app: RunningApp, shops: TwoShops, database_url: str, domain: str
) -> None:
    body = compliance_body("customers-redact", ALPHA)
    headers = {
        name.encode(): value.encode()
        for name, value in webhook_headers(topic="customers/redact", shop=ALPHA, body=body).items()
    }
    headers[b"X-Shopify-Shop-Domain"] = domain.encode("utf-8")
    before = row_counts(database_url)
    response = await app.client.post("/webhooks/compliance", content=body, headers=headers)
    assert response.status_code == 400
    assert row_counts(database_url) == before


async def test_repeated_event_id_is_acknowledged_and_not_applied_twice(
    app: RunningApp, shops: TwoShops
) -> None:
    # given
    event_id = str(uuid.uuid4())
    first = await app.webhook(
        "customers/data_request", ALPHA, compliance_body("customers-data_request", ALPHA), event_id=event_id
    )
    await app.drain()
    # when
    again = await app.webhook(
        "customers/data_request", ALPHA, compliance_body("customers-data_request", ALPHA), event_id=event_id
    )
    await app.drain()
    # then
    assert (first.status_code, first.json()["outcome"]) == (200, "accepted")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert len(await app.rows(CustomerDataExport, shops.alpha)) == 1
    assert len(await app.rows(ComplianceAudit, shops.alpha)) == 1
    assert len(await app.deliveries(shops.alpha)) == 1


async def test_the_same_event_id_on_another_shop_is_a_separate_delivery(
    app: RunningApp, shops: TwoShops
) -> None:
    event_id = str(uuid.uuid4())
    for domain in (ALPHA, BETA):
        response = await app.webhook(
            "customers/data_request",
            domain,
            compliance_body("customers-data_request", domain),
            event_id=event_id,
        )
        assert response.json()["outcome"] == "accepted"
    await app.drain()
    assert len(await app.rows(CustomerDataExport, shops.alpha)) == 1
    assert len(await app.rows(CustomerDataExport, shops.beta)) == 1


async def test_webhook_for_an_unknown_shop_is_acknowledged_and_not_stored(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    before = row_counts(database_url)
    for topic in ("app/uninstalled", "customers/redact"):
        body = compliance_body("customers-redact", "gamma.myshopify.com")
        response = await app.webhook(topic, "gamma.myshopify.com", body)
        assert (response.status_code, response.json()["outcome"]) == (200, "unknown_shop")
    await app.drain()
    assert row_counts(database_url) == before


async def test_uninstalled_shop_gets_only_compliance_topics_processed(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    # given
    await app.webhook("app/uninstalled", ALPHA, (PAYLOADS / "AppUninstalled.json").read_bytes())
    await app.drain()
    before = row_counts(database_url)
    # when
    scopes = json.dumps({"id": 1, "previous": [], "current": ["read_orders"]}).encode()
    ignored = await app.webhook("app/scopes_update", ALPHA, scopes)
    # then
    assert (ignored.status_code, ignored.json()["outcome"]) == (200, "uninstalled_shop")
    assert row_counts(database_url) == before
    # when
    request = await app.webhook(
        "customers/data_request", ALPHA, compliance_body("customers-data_request", ALPHA)
    )
    await app.drain()
    # then
    assert (request.status_code, request.json()["outcome"]) == (200, "accepted")
    assert len(await app.rows(CustomerDataExport, shops.alpha)) == 1
    assert await app.rows(CustomerDataExport, shops.beta) == []


async def test_app_uninstalled_deletes_the_token_and_keeps_the_shops_data(
    app: RunningApp, shops: TwoShops
) -> None:
    # given
    for domain in (ALPHA, BETA):
        await app.webhook("customers/data_request", domain, compliance_body("customers-data_request", domain))
    await app.drain()
    # when
    response = await app.webhook("app/uninstalled", ALPHA, (PAYLOADS / "AppUninstalled.json").read_bytes())
    await app.drain()
    # then
    assert response.status_code == 200
    alpha = await app.shop(ALPHA)
    assert alpha is not None
    assert alpha.status == ShopStatus.UNINSTALLED
    assert alpha.uninstalled_at is not None
    assert await app.rows(ShopCredential, shops.alpha) == []
    assert len(await app.rows(CustomerDataExport, shops.alpha)) == 1
    assert len(await app.rows(ComplianceAudit, shops.alpha)) == 1
    assert len(await app.deliveries(shops.alpha)) == 2
    beta = await app.shop(BETA)
    assert beta is not None and beta.status == ShopStatus.INSTALLED
    assert len(await app.rows(ShopCredential, shops.beta)) == 1


async def test_app_scopes_update_replaces_the_shops_scopes(app: RunningApp, shops: TwoShops) -> None:
    body = json.dumps(
        {
            "id": 1,
            "previous": ["read_orders", "read_customers"],
            "current": ["read_orders", "read_customers", "read_products"],
            "updated_at": "2026-11-22T01:02:03.000Z",
        }
    ).encode()
    response = await app.webhook("app/scopes_update", ALPHA, body)
    await app.drain()
    assert response.status_code == 200
    alpha, beta = await app.shop(ALPHA), await app.shop(BETA)
    assert alpha is not None and alpha.scopes == "read_orders,read_customers,read_products"
    assert beta is not None and beta.scopes == "read_orders,read_customers"


async def test_malformed_compliance_body_is_acknowledged_and_marked_failed(
    app: RunningApp, shops: TwoShops
) -> None:
    body = b'{"customer": {"id": "not-a-number"}}'
    response = await app.client.post(
        "/webhooks/compliance",
        content=body,
        headers={
            **webhook_headers(topic="customers/redact", shop=ALPHA, body=body),
            "X-Shopify-Hmac-Sha256": sign_webhook(body),
        },
    )
    await app.drain()
    assert response.status_code == 200
    [delivery] = await app.deliveries(shops.alpha)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.body is None

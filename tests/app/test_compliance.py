from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from integrations.shopify import resources
from shop_app.database import transaction
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.webhooks.inbox import IncomingWebhook, record_delivery
from shop_app.models import ComplianceAudit, Customer, CustomerDataExport, Order, ShopCredential
from shop_app.shops.compliance import tenant_tables
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops, compliance_body
from tests.app.database_checks import all_rows, columns_by_table, text_values
from tests.factories import session_token

CUSTOMER_ID = 191167
EMAIL = "john@example.com"
PHONE = "555-625-1199"
FIRST_NAME = "Johnathan"
LAST_NAME = "Appleseedling"
PERSONAL = (EMAIL, PHONE, FIRST_NAME, LAST_NAME)


def _bearer(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


async def _request_data(app: RunningApp, *domains: str) -> None:
    for domain in domains:
        response = await app.webhook(
            "customers/data_request", domain, compliance_body("customers-data_request", domain)
        )
        assert response.json()["outcome"] == "accepted"
    await app.drain()


async def _pending_delivery_naming_the_customer(app: RunningApp, shop_id: int) -> None:
    """An order notification not processed yet, holding the customer's name (the app stores bodies until
    processed)."""
    body = {
        "id": 820982911946154508,
        "customer": {"id": CUSTOMER_ID, "first_name": FIRST_NAME, "last_name": LAST_NAME},
        "shipping_address": {"name": f"{FIRST_NAME} {LAST_NAME}", "phone": PHONE},
    }
    async with transaction(app.services.sessions) as session:
        await record_delivery(
            session,
            shop_id=shop_id,
            webhook=IncomingWebhook(
                topic="orders/updated",
                event_id="pending-order-event",
                webhook_id="w-1",
                api_version="2026-07",
                triggered_at=None,
                body=json.dumps(body),
            ),
        )


async def _mirrored_customer_and_orders(app: RunningApp, shop_id: int) -> None:
    """The mirror holds the customer, one of their orders, and an order the request names by id."""
    when = datetime(2026, 11, 1, tzinfo=UTC)
    address = resources.Address(name=f"{FIRST_NAME} {LAST_NAME}", address1="1 Elm St", phone=PHONE)
    orders = [
        resources.Order(
            shopify_id=820982911946154508,
            name="#1001",
            created_at=when,
            updated_at=when,
            customer_shopify_id=CUSTOMER_ID,
            email=EMAIL,
            phone=PHONE,
            total_price="398.00",
            shipping_address=address,
            custom_attributes=(("gift message", f"For {FIRST_NAME}"),),
            note=f"call {PHONE}",
            line_items=(resources.LineItem(shopify_id=1, title="IPod Nano", quantity=1),),
        ),
        resources.Order(shopify_id=299938, name="#1002", created_at=when, updated_at=when, email=EMAIL),
    ]
    customer = resources.Customer(
        shopify_id=CUSTOMER_ID,
        updated_at=when,
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        email=EMAIL,
        phone=PHONE,
        default_address=address,
    )
    async with transaction(app.services.sessions) as session:
        await mirror_writes.upsert_orders(session, shop_id=shop_id, orders=orders, synced_at=when)
        await mirror_writes.upsert_customers(session, shop_id=shop_id, customers=[customer], synced_at=when)


async def test_customer_data_export_holds_the_mirrored_customer_and_orders(
    app: RunningApp, shops: TwoShops
) -> None:
    assert shops.alpha.id is not None
    await _mirrored_customer_and_orders(app, shops.alpha.id)
    await _request_data(app, ALPHA)
    [export] = await app.rows(CustomerDataExport, shops.alpha)
    held = json.loads(app.services.cipher.decrypt(export.ciphertext))["held"]["mirror"]
    assert [(c["first_name"], c["email"]) for c in held["customers"]] == [(FIRST_NAME, EMAIL)]
    assert [o["name"] for o in held["orders"]] == ["#1001", "#1002"]
    assert held["orders"][0]["shipping_address"]["phone"] == PHONE
    assert held["orders"][0]["items"][0]["title"] == "IPod Nano"


async def test_customer_data_request_produces_an_export_the_merchant_downloads(
    app: RunningApp, shops: TwoShops
) -> None:
    # given
    await _request_data(app, ALPHA)
    # when
    status = await app.client.get("/api/admin/shop", headers=_bearer(ALPHA))
    [listed] = status.json()["data_exports"]
    download = await app.client.get(f"/api/admin/data-exports/{listed['id']}", headers=_bearer(ALPHA))
    # then
    assert download.status_code == 200, download.text
    assert "attachment" in download.headers["content-disposition"]
    document = download.json()
    assert document["shop"] == ALPHA
    assert document["customer"] == {"id": CUSTOMER_ID, "email": EMAIL, "phone": PHONE}
    assert document["orders_requested"] == [299938, 280263, 220458]
    assert document["data_request_id"] == 9999
    assert listed["data_request_id"] == 9999


async def test_another_shops_data_export_is_not_found(app: RunningApp, shops: TwoShops) -> None:
    await _request_data(app, ALPHA)
    [export] = await app.rows(CustomerDataExport, shops.alpha)
    response = await app.client.get(f"/api/admin/data-exports/{export.id}", headers=_bearer(BETA))
    assert response.status_code == 404
    assert EMAIL not in response.text
    listing = await app.client.get("/api/admin/shop", headers=_bearer(BETA))
    assert listing.json()["data_exports"] == []


@pytest.mark.parametrize("export_id", ["abc", "1.5", "-1", "0", "99999999", "99999999999999999999999999"])
async def test_malformed_or_unknown_export_id_is_not_found(
    app: RunningApp, shops: TwoShops, export_id: str
) -> None:
    await _request_data(app, ALPHA)
    response = await app.client.get(f"/api/admin/data-exports/{export_id}", headers=_bearer(ALPHA))
    assert response.status_code == 404


async def test_data_export_download_without_a_session_token_is_unauthorised(
    app: RunningApp, shops: TwoShops
) -> None:
    await _request_data(app, ALPHA)
    [export] = await app.rows(CustomerDataExport, shops.alpha)
    response = await app.client.get(f"/api/admin/data-exports/{export.id}")
    assert response.status_code == 401
    assert EMAIL not in response.text


async def test_customers_redact_leaves_no_trace_of_the_customer_in_any_table(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    # given: both shops hold an export about the customer; alpha also has an unprocessed notification
    await _request_data(app, ALPHA, BETA)
    assert shops.alpha.id is not None and shops.beta.id is not None
    await _pending_delivery_naming_the_customer(app, shops.alpha.id)
    await _mirrored_customer_and_orders(app, shops.alpha.id)
    await _mirrored_customer_and_orders(app, shops.beta.id)
    held_before = " ".join(text_values(database_url, app.services.cipher, skip_shop_id=shops.beta.id))
    assert all(needle in held_before for needle in PERSONAL)
    # when
    response = await app.webhook("customers/redact", ALPHA, compliance_body("customers-redact", ALPHA))
    await app.drain()
    # then
    assert response.status_code == 200
    held = text_values(database_url, app.services.cipher, skip_shop_id=shops.beta.id)
    leaks = [value for value in held for needle in PERSONAL if needle in value]
    assert leaks == []
    audits = [a for a in await app.rows(ComplianceAudit, shops.alpha) if a.topic == "customers/redact"]
    assert len(audits) == 1
    audit_text = f"{audits[0].subject_digest} {audits[0].detail}"
    assert not any(needle in audit_text for needle in (*PERSONAL, str(CUSTOMER_ID)))
    assert audits[0].rows_affected >= 2
    # the mirror keeps the orders' amounts, without the person
    assert await app.rows(Customer, shops.alpha) == []
    orders = await app.rows(Order, shops.alpha)
    assert sorted(o.total_price or "" for o in orders) == ["", "398.00"]
    # the other shop's export and mirror of the same customer are untouched
    [beta_export] = await app.rows(CustomerDataExport, shops.beta)
    assert EMAIL in app.services.cipher.decrypt(beta_export.ciphertext)
    [beta_customer] = await app.rows(Customer, shops.beta)
    assert beta_customer.email == EMAIL


async def test_shop_redact_erases_every_row_of_that_shop_only(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    # given: both shops have exports, audits, deliveries, credentials and an install in progress
    await _request_data(app, ALPHA, BETA)
    for domain in (ALPHA, BETA):
        assert (await app.client.get("/auth/install", params={"shop": domain})).status_code == 302
    beta_before = _rows_of_shop(database_url, shops.beta.id, BETA)
    assert _rows_of_shop(database_url, shops.alpha.id, ALPHA)
    # when
    response = await app.webhook("shop/redact", ALPHA, compliance_body("shop-redact", ALPHA))
    await app.drain()
    # then
    assert response.status_code == 200
    assert await app.shop(ALPHA) is None
    async with app.services.sessions() as session:
        for table in tenant_tables():
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c.shop_id == shops.alpha.id)
            )
            assert count == 0, table.name
    assert _rows_of_shop(database_url, shops.alpha.id, ALPHA) == {}
    assert _rows_of_shop(database_url, shops.beta.id, BETA) == beta_before
    [credential] = await app.rows(ShopCredential, shops.beta)
    assert "shpat_beta" in app.services.cipher.decrypt(credential.ciphertext)


def test_tenant_tables_are_every_table_with_a_shop_id(database_url: str) -> None:
    inspected = {name for name, columns in columns_by_table(database_url).items() if "shop_id" in columns}
    assert {table.name for table in tenant_tables()} == inspected
    assert {
        "shop_credentials",
        "webhook_deliveries",
        "customer_data_exports",
        "compliance_audits",
    } <= inspected


def _rows_of_shop(database_url: str, shop_id: int | None, domain: str) -> dict[str, list[dict[str, object]]]:
    """Rows that belong to the shop in any table, found by inspection: keyed by ``shop_id``, the shop row
    itself, or naming the shop's domain in any column."""
    found: dict[str, list[dict[str, object]]] = {}
    for table, rows in all_rows(database_url).items():
        mine = [
            row
            for row in rows
            if row.get("shop_id") == shop_id
            or (table == "shops" and row.get("id") == shop_id)
            or any(isinstance(value, str) and domain in value for value in row.values())
        ]
        if mine:
            found[table] = mine
    return found

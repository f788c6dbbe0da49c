"""Shopify's mandatory privacy requests, carried out for real and audited without personal data.

Every table that can hold a customer's personal data registers a ``PersonalDataSource`` here: it exports
what it holds about a customer and erases it, finding the customer by every email, phone number, address
and name the shop knows them by (``customer_subjects.known_subject``). ``shop/redact`` needs no
registration: it removes every row of every table keyed by the shop. On SQLite, the erased bytes are
overwritten in the file (``secure_delete``) and its write-ahead log is emptied once the erasure has
committed (``database.clear_erased_pages``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from shop_app.database import affected_rows
from shop_app.encryption import Cipher
from shop_app.models import (
    ComplianceAudit,
    Customer,
    CustomerDataExport,
    OAuthState,
    Order,
    OrderLineItem,
    Shop,
    WebhookDelivery,
)
from shop_app.shops.customer_subjects import CustomerSubject, known_subject
from shop_app.shops.helpdesk_data import CONVERSATION_RECORDS, CONVERSATION_TRACES, HelpdeskData

__all__ = [
    "CONVERSATION_RECORDS",
    "CONVERSATION_TRACES",
    "PERSONAL_DATA_SOURCES",
    "CustomerSubject",
    "export_customer_data",
    "redact_customer",
    "redact_shop",
    "tenant_tables",
]

logger = logging.getLogger(__name__)


class PersonalDataSource(Protocol):
    name: str

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any: ...

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int: ...


class WebhookBodies:
    """Bodies of deliveries not yet processed (processed ones are already dropped)."""

    name = "webhook_deliveries"

    async def _matching(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> list[int]:
        customer_id = subject.shopify_customer_id
        ids = re.compile(rf'"gid://shopify/Customer/{customer_id}"|"id": ?{customer_id}[,}}]')
        result = await session.execute(
            select(col(WebhookDelivery.id), col(WebhookDelivery.body)).where(
                col(WebhookDelivery.shop_id) == shop_id, col(WebhookDelivery.body).is_not(None)
            )
        )
        return [
            delivery_id
            for delivery_id, body in result
            if delivery_id is not None and body and (ids.search(body) or subject.marks.mentions(body))
        ]

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any:
        return {
            "unprocessed_notifications_mentioning_customer": len(
                await self._matching(session, shop_id, subject)
            )
        }

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int:
        matching = await self._matching(session, shop_id, subject)
        if not matching:
            return 0
        result = await session.execute(
            update(WebhookDelivery).where(col(WebhookDelivery.id).in_(matching)).values(body=None)
        )
        return affected_rows(result)


class DataExports:
    """Earlier exports are personal data too: they go with the customer."""

    name = "customer_data_exports"

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any:
        result = await session.execute(
            select(col(CustomerDataExport.id), col(CustomerDataExport.created_at)).where(
                col(CustomerDataExport.shop_id) == shop_id,
                col(CustomerDataExport.shopify_customer_id) == subject.shopify_customer_id,
            )
        )
        return [{"export_id": row.id, "created_at": row.created_at.isoformat()} for row in result]

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int:
        result = await session.execute(
            delete(CustomerDataExport).where(
                col(CustomerDataExport.shop_id) == shop_id,
                col(CustomerDataExport.shopify_customer_id) == subject.shopify_customer_id,
            )
        )
        return affected_rows(result)


class MirroredCustomerData:
    """The mirror of the shop: the customer's row, and on their orders (theirs by customer id, and the
    ones the request names) contact details, shipping address, note and custom attributes. Amounts,
    statuses and items stay: they are the shop's records, no longer tied to a person."""

    name = "mirror"

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any:
        customers = await session.execute(
            select(Customer).where(
                col(Customer.shop_id) == shop_id, col(Customer.shopify_id) == subject.shopify_customer_id
            )
        )
        orders = list(
            (await session.execute(select(Order).where(subject.orders(shop_id)).order_by(col(Order.id))))
            .scalars()
            .all()
        )
        items = await session.execute(
            select(OrderLineItem).where(col(OrderLineItem.order_id).in_([order.id for order in orders]))
        )
        items_by_order: dict[int, list[dict[str, Any]]] = {}
        for item in items.scalars():
            items_by_order.setdefault(item.order_id, []).append(
                {
                    "title": item.title,
                    "variant": item.variant_title,
                    "sku": item.sku,
                    "quantity": item.quantity,
                }
            )
        return {
            "customers": [
                {
                    "first_name": customer.first_name,
                    "last_name": customer.last_name,
                    "email": customer.email,
                    "phone": customer.phone,
                    "default_address": customer.default_address,
                    "tags": customer.tags,
                    "note": customer.note,
                    "orders_count": customer.orders_count,
                    "amount_spent": customer.amount_spent,
                    "currency": customer.currency,
                }
                for customer in customers.scalars()
            ],
            "orders": [
                {
                    "id": order.shopify_id,
                    "name": order.name,
                    "created_at": order.created_at.isoformat(),
                    "email": order.email,
                    "phone": order.phone,
                    "shipping_address": order.shipping_address,
                    "custom_attributes": order.custom_attributes,
                    "note": order.note,
                    "total_price": order.total_price,
                    "currency": order.currency,
                    "items": items_by_order.get(order.id or 0, []),
                }
                for order in orders
            ],
        }

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int:
        customers = await session.execute(
            delete(Customer).where(
                col(Customer.shop_id) == shop_id, col(Customer.shopify_id) == subject.shopify_customer_id
            )
        )
        orders = await session.execute(
            update(Order)
            .where(subject.orders(shop_id))
            .values(email=None, phone=None, shipping_address=None, note=None, custom_attributes=[])
        )
        return affected_rows(customers) + affected_rows(orders)


PERSONAL_DATA_SOURCES: Sequence[PersonalDataSource] = (
    WebhookBodies(),
    DataExports(),
    HelpdeskData(),
    MirroredCustomerData(),
)


def subject_digest(*, key: str, shop_domain: str, shopify_customer_id: int) -> str:
    message = f"{shop_domain}:{shopify_customer_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _audit(
    shop: Shop, subject: CustomerSubject, topic: str, *, digest_key: str, detail: str, rows_affected: int = 0
) -> ComplianceAudit:
    """The audit row of a request carried out: the customer is named only by a keyed digest."""
    assert shop.id is not None
    return ComplianceAudit(
        shop_id=shop.id,
        topic=topic,
        subject_digest=subject_digest(
            key=digest_key, shop_domain=shop.domain, shopify_customer_id=subject.shopify_customer_id
        ),
        rows_affected=rows_affected,
        detail=detail,
    )


async def export_customer_data(
    session: AsyncSession,
    *,
    shop: Shop,
    subject: CustomerSubject,
    data_request_id: int | None,
    cipher: Cipher,
    digest_key: str,
) -> CustomerDataExport:
    assert shop.id is not None
    subject = await known_subject(session, shop=shop, subject=subject)
    held = {source.name: await source.export(session, shop.id, subject) for source in PERSONAL_DATA_SOURCES}
    document = {
        "shop": shop.domain,
        "customer": {"id": subject.shopify_customer_id, "email": subject.email, "phone": subject.phone},
        "orders_requested": list(subject.order_ids),
        "data_request_id": data_request_id,
        "held": held,
    }
    export = CustomerDataExport(
        shop_id=shop.id,
        shopify_customer_id=subject.shopify_customer_id,
        data_request_id=data_request_id,
        ciphertext=cipher.encrypt(json.dumps(document, ensure_ascii=False)),
    )
    session.add(export)
    session.add(
        _audit(
            shop,
            subject,
            "customers/data_request",
            digest_key=digest_key,
            detail=f"export prepared; data_request_id={data_request_id}",
        )
    )
    logger.info("customer data export prepared shop=%s data_request_id=%s", shop.domain, data_request_id)
    return export


async def redact_customer(
    session: AsyncSession, *, shop: Shop, subject: CustomerSubject, digest_key: str
) -> int:
    assert shop.id is not None
    subject = await known_subject(session, shop=shop, subject=subject)
    counts = {source.name: await source.redact(session, shop.id, subject) for source in PERSONAL_DATA_SOURCES}
    total = sum(counts.values())
    session.add(
        _audit(
            shop,
            subject,
            "customers/redact",
            digest_key=digest_key,
            rows_affected=total,
            detail=", ".join(f"{name}={count}" for name, count in counts.items()),
        )
    )
    logger.info("customer redacted shop=%s rows=%s", shop.domain, total)
    return total


def tenant_tables() -> list[Table]:
    """Every table with a ``shop_id`` column, children before parents."""
    tables = [t for t in SQLModel.metadata.sorted_tables if "shop_id" in t.columns and t.name != "shops"]
    return list(reversed(tables))


async def redact_shop(session: AsyncSession, *, shop: Shop) -> int:
    """Erase everything of the shop, the shop row last. Nothing of it remains, not even an audit row."""
    total = 0
    for table in tenant_tables():
        result = await session.execute(delete(table).where(table.c.shop_id == shop.id))
        total += affected_rows(result)
    # Install attempts name the shop by domain, not by id.
    result = await session.execute(delete(OAuthState).where(col(OAuthState.shop_domain) == shop.domain))
    total += affected_rows(result)
    await session.delete(shop)
    logger.info("shop redacted shop_id=%s rows=%s", shop.id, total)
    return total

"""Shopify's mandatory privacy requests, carried out for real and audited without personal data.

Every table that can hold a customer's personal data registers a ``PersonalDataSource`` here: it exports
what it holds about a customer and erases it. ``shop/redact`` needs no registration: it removes every row
of every table keyed by the shop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from shop_app.database import affected_rows
from shop_app.encryption import Cipher
from shop_app.formats.emails import normalise_email
from shop_app.formats.phone_numbers import phone_spellings, to_e164
from shop_app.models import (
    AuthorType,
    ComplianceAudit,
    Contact,
    Customer,
    CustomerDataExport,
    Message,
    OAuthState,
    Order,
    OrderLineItem,
    Shop,
    Ticket,
    WebhookDelivery,
)
from shop_app.models.base import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CustomerSubject:
    shopify_customer_id: int
    email: str | None = None
    phone: str | None = None
    order_ids: tuple[int, ...] = field(default_factory=tuple)

    @property
    def needles(self) -> tuple[str, ...]:
        """Strings whose presence in free text identifies this customer."""
        return tuple(n for n in (self.email, self.phone) if n)


class PersonalDataSource(Protocol):
    name: str

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any: ...

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int: ...


class WebhookBodies:
    """Bodies of deliveries not yet processed (processed ones are already dropped)."""

    name = "webhook_deliveries"

    def _matching(self, shop_id: int, subject: CustomerSubject) -> Any:
        customer_id = subject.shopify_customer_id
        needles = [
            *subject.needles,
            f'"gid://shopify/Customer/{customer_id}"',
            *(f'"id":{space}{customer_id}{end}' for space in ("", " ") for end in (",", "}")),
        ]
        return (
            (col(WebhookDelivery.shop_id) == shop_id)
            & col(WebhookDelivery.body).is_not(None)
            & or_(*(col(WebhookDelivery.body).contains(needle) for needle in needles))
        )

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any:
        count = await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(self._matching(shop_id, subject))
        )
        return {"unprocessed_notifications_mentioning_customer": count or 0}

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int:
        result = await session.execute(
            update(WebhookDelivery).where(self._matching(shop_id, subject)).values(body=None)
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

    def _orders(self, shop_id: int, subject: CustomerSubject) -> Any:
        mine = col(Order.customer_shopify_id) == subject.shopify_customer_id
        named = col(Order.shopify_id).in_(subject.order_ids) if subject.order_ids else None
        return (col(Order.shop_id) == shop_id) & (mine if named is None else or_(mine, named))

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any:
        customers = await session.execute(
            select(Customer).where(
                col(Customer.shop_id) == shop_id, col(Customer.shopify_id) == subject.shopify_customer_id
            )
        )
        orders = list(
            (
                await session.execute(
                    select(Order).where(self._orders(shop_id, subject)).order_by(col(Order.id))
                )
            )
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
            .where(self._orders(shop_id, subject))
            .values(email=None, phone=None, shipping_address=None, note=None, custom_attributes=[])
        )
        return affected_rows(customers) + affected_rows(orders)


REDACTED_TEXT = "[redacted]"


class HelpdeskData:
    """The customer's conversations: contacts with their storefront id, email or phone (E.164 in the
    shop's country), and tickets linked to them. Redaction anonymises those contacts, replaces the
    customer's own messages and the tickets' subjects, removes the email and phone from everyone else's
    messages, and drops the tickets' link to the customer. The tickets stay, with their times and
    statuses: they are the shop's records."""

    name = "helpdesk"

    async def _identifiers(
        self, session: AsyncSession, shop_id: int, subject: CustomerSubject
    ) -> tuple[str | None, str | None]:
        shop = await session.get(Shop, shop_id)
        email = normalise_email(subject.email) if subject.email else None
        phone = (
            to_e164(subject.phone, default_region=shop.country_code if shop else None)
            if subject.phone
            else None
        )
        return email, phone

    async def _held(
        self, session: AsyncSession, shop_id: int, subject: CustomerSubject
    ) -> tuple[list[Contact], list[Ticket], tuple[str, ...]]:
        email, phone = await self._identifiers(session, shop_id, subject)
        who = [col(Contact.storefront_customer_id) == subject.shopify_customer_id]
        who += [col(Contact.email) == email] if email else []
        who += [col(Contact.phone) == phone] if phone else []
        contacts = {
            c.id: c
            for c in (
                await session.execute(select(Contact).where(col(Contact.shop_id) == shop_id, or_(*who)))
            ).scalars()
        }
        tickets = {
            t.id: t
            for t in (
                await session.execute(
                    select(Ticket).where(
                        col(Ticket.shop_id) == shop_id,
                        or_(
                            col(Ticket.customer_shopify_id) == subject.shopify_customer_id,
                            col(Ticket.contact_id).in_(list(contacts)),
                        ),
                    )
                )
            ).scalars()
        }
        # whoever wrote a ticket linked to the customer is the customer
        missing = {t.contact_id for t in tickets.values()} - set(contacts)
        if missing:
            query = select(Contact).where(col(Contact.shop_id) == shop_id, col(Contact.id).in_(missing))
            contacts.update((c.id, c) for c in (await session.execute(query)).scalars())
        spellings = phone_spellings(phone) if phone else ()
        needles = tuple(
            sorted({n for n in (*subject.needles, email, *spellings) if n}, key=len, reverse=True)
        )
        return (
            sorted(contacts.values(), key=lambda c: c.id or 0),
            sorted(tickets.values(), key=lambda t: t.id or 0),
            needles,
        )

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any:
        contacts, tickets, _ = await self._held(session, shop_id, subject)
        messages = await session.execute(
            select(Message)
            .where(col(Message.shop_id) == shop_id, col(Message.ticket_id).in_([t.id for t in tickets]))
            .order_by(col(Message.id))
        )
        by_ticket: dict[int, list[dict[str, Any]]] = {}
        for message in messages.scalars():
            by_ticket.setdefault(message.ticket_id, []).append(
                {
                    "author_type": str(message.author_type),
                    "body": message.body,
                    "created_at": message.created_at.isoformat(),
                }
            )
        return {
            "contacts": [
                {"name": c.name, "email": c.email, "phone": c.phone, "created_at": c.created_at.isoformat()}
                for c in contacts
            ],
            "tickets": [
                {
                    "id": t.id,
                    "subject": t.subject,
                    "status": str(t.status),
                    "channel": str(t.channel),
                    "created_at": t.created_at.isoformat(),
                    "messages": by_ticket.get(t.id or 0, []),
                }
                for t in tickets
            ],
        }

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int:
        contacts, tickets, needles = await self._held(session, shop_id, subject)
        now = utcnow()
        for contact in contacts:
            contact.name = contact.email = contact.phone = None
            contact.storefront_customer_id = None
            contact.updated_at = now
        for ticket in tickets:
            ticket.subject = REDACTED_TEXT
            if ticket.customer_shopify_id == subject.shopify_customer_id:
                ticket.customer_shopify_id = ticket.link_reason = None
                ticket.linked_at = ticket.linked_by_id = None
            ticket.guest_email = ticket.guest_phone = None
            if ticket.link_reason in {"guest_order_email", "guest_order_phone"} or (
                ticket.link_reason == "verified_order" and ticket.customer_shopify_id is None
            ):
                ticket.link_reason = None
            ticket.link_candidates = [c for c in ticket.link_candidates if c != subject.shopify_customer_id]
            ticket.updated_at = now
        pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE) if needles else None
        messages = await session.execute(
            select(Message).where(
                col(Message.shop_id) == shop_id, col(Message.ticket_id).in_([t.id for t in tickets])
            )
        )
        rows = 0
        for message in messages.scalars():
            if message.author_type == AuthorType.CUSTOMER:
                body = REDACTED_TEXT
            else:
                body = pattern.sub(REDACTED_TEXT, message.body) if pattern else message.body
            if body != message.body:
                message.body = body
                rows += 1
        await session.flush()
        return len(contacts) + len(tickets) + rows


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

"""The customer a privacy request is about, and every way the shop knows them by: the email and phone the
request names, and what the mirror and the helpdesk hold (the customer's own email, phone and address,
their orders' contact details and shipping addresses, their storefront contacts), read before anything
is erased."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.personal_mentions import PersonalMarks, personal_marks
from shop_app.models import Contact, Customer, Order, Shop


@dataclass(frozen=True, slots=True)
class CustomerSubject:
    shopify_customer_id: int
    email: str | None = None
    phone: str | None = None
    order_ids: tuple[int, ...] = field(default_factory=tuple)
    # how the customer is written in free text; ``known_subject`` fills it from the shop's records
    marks: PersonalMarks = field(default_factory=PersonalMarks)

    def orders(self, shop_id: int) -> Any:
        """The customer's orders: theirs by customer id, and the ones the request names."""
        mine = col(Order.customer_shopify_id) == self.shopify_customer_id
        named = col(Order.shopify_id).in_(self.order_ids) if self.order_ids else None
        return (col(Order.shop_id) == shop_id) & (mine if named is None else or_(mine, named))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


async def known_subject(session: AsyncSession, *, shop: Shop, subject: CustomerSubject) -> CustomerSubject:
    """The subject with the marks of everything the shop holds about them."""
    assert shop.id is not None
    emails: list[str | None] = [subject.email]
    phones: list[str | None] = [subject.phone]
    addresses: list[dict[str, Any]] = []
    names: list[tuple[str | None, str | None]] = []
    full_names: list[str | None] = []
    customer = (
        await session.execute(
            select(Customer).where(
                col(Customer.shop_id) == shop.id, col(Customer.shopify_id) == subject.shopify_customer_id
            )
        )
    ).scalar_one_or_none()
    if customer is not None:
        emails.append(customer.email)
        phones.append(customer.phone)
        names.append((customer.last_name, customer.first_name))
        if customer.default_address:
            addresses.append(customer.default_address)
    orders = await session.execute(
        select(col(Order.email), col(Order.phone), col(Order.shipping_address)).where(subject.orders(shop.id))
    )
    for email, phone, address in orders:
        emails.append(email)
        phones.append(phone)
        if address:
            addresses.append(address)
    contacts = await session.execute(
        select(col(Contact.email), col(Contact.phone)).where(
            col(Contact.shop_id) == shop.id,
            col(Contact.storefront_customer_id) == subject.shopify_customer_id,
        )
    )
    for email, phone in contacts:
        emails.append(email)
        phones.append(phone)
    for address in addresses:
        phones.append(_text(address.get("phone")))
        full_names.append(_text(address.get("name")))
    marks = personal_marks(
        emails=emails,
        phones=phones,
        addresses=addresses,
        names=names,
        full_names=full_names,
        region=shop.country_code,
    )
    return replace(subject, marks=marks)

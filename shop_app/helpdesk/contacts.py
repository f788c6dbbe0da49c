"""Contacts: who wrote to the desk (name, email, phone, a storefront identity Shopify signed), found or
created by the strongest of those, corrected by agents (their tickets matched again), and the shop's
customers an agent can link a ticket to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import BadRequest, NotFound, Unprocessable
from shop_app.formats.emails import normalise_email
from shop_app.formats.phone_numbers import to_e164
from shop_app.helpdesk.customer_matching import apply_link, match_contact
from shop_app.models import Contact, Customer, Order, Shop, Ticket
from shop_app.models.base import utcnow

MAX_ROW_ID = 2**31 - 1
ORDER_NAME_CHARS = frozenset("#0123456789")


@dataclass(frozen=True, slots=True)
class ContactDetails:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    locale: str | None = None


def _id(value: int | None) -> int:
    assert value is not None, "row not flushed"
    return value


async def find_or_create_contact(
    session: AsyncSession, *, shop: Shop, details: ContactDetails, storefront_customer_id: int | None = None
) -> Contact:
    """The shop's contact with this verified storefront id, email or phone, else a new one."""
    shop_id = _id(shop.id)
    email = normalise_email(details.email) if details.email else None
    phone = to_e164(details.phone, default_region=shop.country_code) if details.phone else None
    if details.email and email is None:
        raise BadRequest("The email address is not valid", code="invalid_email")
    contact: Contact | None = None
    for column, value in (
        (Contact.storefront_customer_id, storefront_customer_id),
        (Contact.email, email),
        (Contact.phone, phone),
    ):
        if value is None:
            continue
        contact = (
            await session.execute(
                select(Contact)
                .where(col(Contact.shop_id) == shop_id, col(column) == value)
                .order_by(col(Contact.id))
                .limit(1)
            )
        ).scalar_one_or_none()
        if contact is not None:
            break
    if contact is None:
        contact = Contact(shop_id=shop_id)
        session.add(contact)
    contact.name = details.name or contact.name
    contact.email = email or contact.email
    contact.phone = phone or contact.phone
    contact.locale = details.locale or contact.locale
    if storefront_customer_id is not None:
        contact.storefront_customer_id = storefront_customer_id
    contact.updated_at = utcnow()
    await session.flush()
    return contact


async def unvouched_contact(session: AsyncSession, *, shop_id: int, email: str | None) -> Contact:
    """The contact of someone who only claims an email (a widget visitor, a mail's sender), made if there
    is none. A claim never joins a contact that a storefront signature vouched for: that contact's
    conversations may hear about its customer's orders."""
    contact = None
    if email is not None:
        contact = (
            await session.execute(
                select(Contact)
                .where(
                    col(Contact.shop_id) == shop_id,
                    col(Contact.email) == email,
                    col(Contact.storefront_customer_id).is_(None),
                )
                .order_by(col(Contact.id))
                .limit(1)
            )
        ).scalar_one_or_none()
    if contact is None:
        contact = Contact(shop_id=shop_id, email=email)
        session.add(contact)
    return contact


async def access_contact(session: AsyncSession, *, shop_id: int, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id) if 0 < contact_id <= MAX_ROW_ID else None
    if contact is None or contact.shop_id != shop_id:
        raise NotFound("No such contact", code="contact_not_found")
    return contact


async def update_contact(
    session: AsyncSession, *, shop: Shop, contact: Contact, changes: ContactDetails, fields: set[str]
) -> list[Ticket]:
    """Correct a contact's details; its tickets that no agent unlinked are matched again.
    Returns the tickets whose link was looked at again."""
    if "name" in fields:
        contact.name = changes.name or None
    if "email" in fields:
        email = normalise_email(changes.email) if changes.email else None
        if changes.email and email is None:
            raise BadRequest("The email address is not valid", code="invalid_email")
        contact.email = email
    if "phone" in fields:
        phone = to_e164(changes.phone, default_region=shop.country_code) if changes.phone else None
        if changes.phone and phone is None:
            raise Unprocessable("The phone number is not valid", code="invalid_phone")
        contact.phone = phone
    contact.updated_at = utcnow()
    tickets = list(
        (
            await session.execute(
                select(Ticket).where(
                    col(Ticket.shop_id) == shop.id,
                    col(Ticket.contact_id) == contact.id,
                    col(Ticket.unlinked_by_agent).is_(False),
                    col(Ticket.link_reason).is_distinct_from("agent"),
                    col(Ticket.link_reason).is_distinct_from(
                        "verified_order"
                    ),  # a proof outranks a typed contact
                )
            )
        ).scalars()
    )
    if tickets:
        decision = await match_contact(
            session, shop=shop, contact=contact, storefront_customer_id=contact.storefront_customer_id
        )
        for ticket in tickets:
            await apply_link(session, ticket=ticket, decision=decision)
    await session.flush()
    return tickets


async def search_customers(
    session: AsyncSession, *, shop: Shop, query: str, limit: int = 10
) -> list[Customer]:
    """Customers to re-link a ticket to: by email, phone, order name or name."""
    shop_id = _id(shop.id)
    text = query.strip()
    if not text:
        return []
    statement = select(Customer).where(col(Customer.shop_id) == shop_id)
    email = normalise_email(text) if "@" in text else None
    compact = text.replace(" ", "")
    phone = to_e164(text, default_region=shop.country_code) if not email else None
    if email:
        statement = statement.where(col(Customer.email) == email)
    elif compact.startswith("#") and set(compact) <= ORDER_NAME_CHARS:
        owner = select(col(Order.customer_shopify_id)).where(
            col(Order.shop_id) == shop_id, col(Order.name) == compact
        )
        statement = statement.where(col(Customer.shopify_id).in_(owner))
    elif phone:
        statement = statement.where(col(Customer.phone) == phone)
    else:
        first = func.coalesce(Customer.first_name, "")
        last = func.coalesce(Customer.last_name, "")
        statement = statement.where(
            or_(
                *(
                    name.icontains(text, autoescape=True)
                    for name in (first, last, last + " " + first, first + " " + last)
                )
            )
        )
    rows = await session.execute(statement.order_by(col(Customer.id)).limit(limit))
    return list(rows.scalars())

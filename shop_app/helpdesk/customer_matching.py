"""Which Shopify customer a ticket's contact is, and why.

Rules, in order; the first that finds anything decides:

1. a storefront identity Shopify signed (the app proxy's ``logged_in_customer_id``), unless that
   customer was deleted;
2. the contact's email on the shop's customers (normalised: NFKC, trimmed, lower-case);
3. the contact's phone, in E.164 read in the shop's country, on the shop's customers;
4. guest orders (orders without a customer) with the contact's email, then with its phone.

A conversation that proves an order (its number with that order's email, phone or postcode, checked by the
bot) is linked to that order's customer, or to its guest orders, with the order named as the reason: a
proof outranks what the contact typed, so automatic matching leaves such a link alone; only an agent, a
signed storefront identity or the customer's deletion changes it.

Two or more customers at one step are never guessed between: the ticket stays unlinked and lists them.
An agent's link or unlink is kept: automatic matching leaves tickets an agent unlinked alone, and the
webhook followers below never move an agent's link but to follow its customer (merged or deleted).

The mirror keeps emails lower-cased (NFKC) and phones in E.164 where they can be read
(``mirror_writes``), so each step is one lookup on the ``(shop_id, email)`` or ``(shop_id, phone)``
indexes of customers and orders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from shop_app.errors import NotFound
from shop_app.formats.emails import normalise_email
from shop_app.formats.phone_numbers import to_e164
from shop_app.models import (
    Contact,
    Customer,
    DeletedRecord,
    LinkReason,
    Order,
    Shop,
    Ticket,
    TicketStatus,
    TicketVerification,
)
from shop_app.models.base import utcnow

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 10
MAX_SHOPIFY_ID = 2**63 - 1

REASON_TEXTS: dict[LinkReason, dict[str, str]] = {
    LinkReason.SIGNED_IDENTITY: {"en": "signed in on the storefront", "ja": "ストアでログイン済み"},
    LinkReason.EMAIL: {"en": "matched by email", "ja": "メールアドレスで照合"},
    LinkReason.PHONE: {"en": "matched by phone", "ja": "電話番号で照合"},
    LinkReason.GUEST_ORDER_EMAIL: {
        "en": "guest orders matched by email",
        "ja": "ゲスト注文をメールアドレスで照合",
    },
    LinkReason.GUEST_ORDER_PHONE: {"en": "guest orders matched by phone", "ja": "ゲスト注文を電話番号で照合"},
    LinkReason.AGENT: {"en": "linked by agent", "ja": "担当者がリンク"},
    LinkReason.VERIFIED_ORDER: {"en": "verified an order", "ja": "注文で本人確認"},
}
VERIFIED_ORDER_TEXTS = {"en": "verified order {order}", "ja": "注文{order}で本人確認"}
# Links a proved order does not replace: a person's choice, and Shopify's own signature.
_KEPT_OVER_PROOF = frozenset({LinkReason.AGENT, LinkReason.SIGNED_IDENTITY})


@dataclass(frozen=True, slots=True)
class LinkDecision:
    """A ticket's link: a customer, or the email/phone of guest orders, with the reason; or no link,
    with the customers it could not choose between."""

    customer_shopify_id: int | None = None
    guest_email: str | None = None
    guest_phone: str | None = None
    reason: LinkReason | None = None
    candidates: tuple[int, ...] = ()

    @property
    def linked(self) -> bool:
        return self.reason is not None


UNLINKED = LinkDecision()


def reason_text(reason: LinkReason, locale: str | None, *, order_name: str | None = None) -> str:
    """A short human reason ("matched by email" / "メールアドレスで照合", "verified order #1004" /
    "注文#1004で本人確認"); English unless Japanese."""
    language = "ja" if (locale or "").lower().startswith("ja") else "en"
    if reason == LinkReason.VERIFIED_ORDER and order_name:
        return VERIFIED_ORDER_TEXTS[language].format(order=order_name)
    return REASON_TEXTS[LinkReason(reason)][language]


async def link_reason_text(session: AsyncSession, *, ticket: Ticket, locale: str | None) -> str | None:
    """The ticket's link reason in words; a verified order is named (the newest the ticket proved that
    belongs to the linked customer or guest orders)."""
    if ticket.link_reason is None:
        return None
    reason = LinkReason(ticket.link_reason)
    order_name = None
    if reason == LinkReason.VERIFIED_ORDER:
        owner = (
            col(Order.customer_shopify_id) == ticket.customer_shopify_id
            if ticket.customer_shopify_id is not None
            else col(Order.email) == ticket.guest_email
            if ticket.guest_email is not None
            else col(Order.phone) == ticket.guest_phone
        )
        order_name = await session.scalar(
            select(col(Order.name))
            .join(TicketVerification, col(TicketVerification.order_id) == col(Order.id))
            .where(col(TicketVerification.ticket_id) == ticket.id, owner)
            .order_by(col(TicketVerification.id).desc())
            .limit(1)
        )
    return reason_text(reason, locale, order_name=order_name)


async def link_verified_order(session: AsyncSession, *, ticket: Ticket, order: Order) -> bool:
    """The conversation proved ``order`` is theirs: link it to the order's customer (or, for a guest
    order, its email and phone). An agent's link or unlink and a signed identity are kept. True when the
    link changed."""
    if ticket.shop_id != order.shop_id:
        raise NotFound("No such order", code="order_not_found")
    if ticket.unlinked_by_agent or ticket.link_reason in _KEPT_OVER_PROOF:
        return False
    if order.customer_shopify_id is not None:
        decision = LinkDecision(
            customer_shopify_id=order.customer_shopify_id, reason=LinkReason.VERIFIED_ORDER
        )
    elif order.email or order.phone:
        decision = LinkDecision(
            guest_email=order.email, guest_phone=order.phone, reason=LinkReason.VERIFIED_ORDER
        )
    else:
        return False
    changed = await apply_link(session, ticket=ticket, decision=decision)
    if changed:
        logger.info("ticket linked by a verified order ticket=%s", ticket.id)
    return changed


# Matching -------------------------------------------------------------------------------------------


async def match_contact(
    session: AsyncSession, *, shop: Shop, contact: Contact, storefront_customer_id: int | None = None
) -> LinkDecision:
    """The link the rules (see the module docstring) give this contact in this shop."""
    shop_id = _shop_id(shop)
    signed = storefront_customer_id if storefront_customer_id is not None else contact.storefront_customer_id
    if signed is not None and 0 < signed <= MAX_SHOPIFY_ID and not await _deleted(session, shop_id, signed):
        return LinkDecision(customer_shopify_id=signed, reason=LinkReason.SIGNED_IDENTITY)
    email = normalise_email(contact.email) if contact.email else None
    phone = to_e164(contact.phone, default_region=shop.country_code) if contact.phone else None
    for column, value, reason in (
        (col(Customer.email), email, LinkReason.EMAIL),
        (col(Customer.phone), phone, LinkReason.PHONE),
    ):
        if value is None:
            continue
        found = await _customers_with(session, shop_id, column, value)
        if len(found) == 1:
            return LinkDecision(customer_shopify_id=found[0], reason=reason)
        if found:
            return LinkDecision(candidates=tuple(found[:MAX_CANDIDATES]))
    guest_email = (
        email if email and await _has_guest_orders(session, shop_id, col(Order.email), email) else None
    )
    guest_phone = (
        phone if phone and await _has_guest_orders(session, shop_id, col(Order.phone), phone) else None
    )
    if guest_email is not None:
        return LinkDecision(
            guest_email=guest_email, guest_phone=guest_phone, reason=LinkReason.GUEST_ORDER_EMAIL
        )
    if guest_phone is not None:
        return LinkDecision(guest_phone=guest_phone, reason=LinkReason.GUEST_ORDER_PHONE)
    return UNLINKED


async def _customers_with(
    session: AsyncSession, shop_id: int, column: Mapped[str | None], value: str
) -> list[int]:
    result = await session.execute(
        select(col(Customer.shopify_id))
        .where(col(Customer.shop_id) == shop_id, column == value)
        .order_by(col(Customer.shopify_id))
        .limit(MAX_CANDIDATES + 1)
    )
    return list(result.scalars())


async def _has_guest_orders(
    session: AsyncSession, shop_id: int, column: Mapped[str | None], value: str
) -> bool:
    found = await session.scalar(
        select(col(Order.id))
        .where(col(Order.shop_id) == shop_id, column == value, col(Order.customer_shopify_id).is_(None))
        .limit(1)
    )
    return found is not None


async def _deleted(session: AsyncSession, shop_id: int, customer_shopify_id: int) -> bool:
    found = await session.scalar(
        select(col(DeletedRecord.id)).where(
            col(DeletedRecord.shop_id) == shop_id,
            col(DeletedRecord.resource) == "customers",
            col(DeletedRecord.shopify_id) == customer_shopify_id,
        )
    )
    return found is not None


# Tickets --------------------------------------------------------------------------------------------


async def apply_link(
    session: AsyncSession, *, ticket: Ticket, decision: LinkDecision, agent_id: int | None = None
) -> bool:
    """Put the decision on the ticket (its conversation stays as it is). ``linked_at``/``linked_by_id``
    say when and by whom the link was last decided; an unchanged automatic link keeps them. True when
    anything changed."""
    new_link = (decision.customer_shopify_id, decision.guest_email, decision.guest_phone, decision.reason)
    old_link = (ticket.customer_shopify_id, ticket.guest_email, ticket.guest_phone, ticket.link_reason)
    candidates = list(decision.candidates)
    changed = new_link != old_link or candidates != list(ticket.link_candidates or [])
    now = utcnow()
    if new_link != old_link or agent_id is not None:
        ticket.linked_at = now if decision.linked or agent_id is not None else None
        ticket.linked_by_id = agent_id
        changed = True
    ticket.customer_shopify_id = decision.customer_shopify_id
    ticket.guest_email = decision.guest_email
    ticket.guest_phone = decision.guest_phone
    ticket.link_reason = decision.reason
    ticket.link_candidates = candidates
    if changed:
        ticket.updated_at = now
    session.add(ticket)
    return changed


async def link_ticket_by_agent(
    session: AsyncSession, *, shop: Shop, ticket: Ticket, customer_shopify_id: int, agent_id: int | None
) -> Ticket:
    """An agent links the ticket to one of this shop's mirrored customers (else ``NotFound``)."""
    shop_id = _shop_id(shop)
    _check_ticket(shop_id, ticket)
    found = None
    if 0 < customer_shopify_id <= MAX_SHOPIFY_ID:
        found = await session.scalar(
            select(col(Customer.id)).where(
                col(Customer.shop_id) == shop_id, col(Customer.shopify_id) == customer_shopify_id
            )
        )
    if found is None:
        raise NotFound("No such customer", code="customer_not_found")
    decision = LinkDecision(customer_shopify_id=customer_shopify_id, reason=LinkReason.AGENT)
    await apply_link(session, ticket=ticket, decision=decision, agent_id=agent_id)
    ticket.unlinked_by_agent = False
    logger.info("ticket linked by agent ticket=%s agent=%s", ticket.id, agent_id)
    return ticket


async def unlink_ticket(session: AsyncSession, *, ticket: Ticket, agent_id: int | None) -> Ticket:
    """An agent says "not this customer": no link, and automatic matching leaves the ticket alone."""
    await apply_link(session, ticket=ticket, decision=UNLINKED, agent_id=agent_id)
    ticket.unlinked_by_agent = True
    logger.info("ticket unlinked by agent ticket=%s agent=%s", ticket.id, agent_id)
    return ticket


async def rematch_ticket(session: AsyncSession, *, shop: Shop, ticket: Ticket) -> LinkDecision:
    """Forget an agent's unlink or link and match the ticket's contact again."""
    _check_ticket(_shop_id(shop), ticket)
    ticket.unlinked_by_agent = False
    decision = await _match_ticket(session, shop=shop, ticket=ticket)
    await apply_link(session, ticket=ticket, decision=decision)
    return decision


async def _match_ticket(session: AsyncSession, *, shop: Shop, ticket: Ticket) -> LinkDecision:
    contact = await session.get(Contact, ticket.contact_id)
    if contact is None or contact.shop_id != ticket.shop_id:
        return UNLINKED
    return await match_contact(session, shop=shop, contact=contact)


async def _rematch(
    session: AsyncSession, *, shop: Shop, tickets: Iterable[Ticket], keep_verified: bool = True
) -> list[Ticket]:
    """Match tickets again (one lookup per contact); the ones whose link changed. A link made by a
    verified order is kept unless ``keep_verified`` is off (its customer is gone)."""
    decisions: dict[int, LinkDecision] = {}
    changed: list[Ticket] = []
    for ticket in tickets:
        if ticket.unlinked_by_agent or (keep_verified and ticket.link_reason == LinkReason.VERIFIED_ORDER):
            continue
        decision = decisions.get(ticket.contact_id)
        if decision is None:
            decision = decisions[ticket.contact_id] = await _match_ticket(session, shop=shop, ticket=ticket)
        if await apply_link(session, ticket=ticket, decision=decision):
            changed.append(ticket)
    return changed


# Following customer changes (webhooks) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerIdentities:
    """The emails and phones some customers have in the mirror."""

    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()

    def __or__(self, other: CustomerIdentities) -> CustomerIdentities:
        return CustomerIdentities(self.emails | other.emails, self.phones | other.phones)


async def customer_identities(
    session: AsyncSession, *, shop_id: int, customer_shopify_ids: Sequence[int]
) -> CustomerIdentities:
    if not customer_shopify_ids:
        return CustomerIdentities()
    rows = await session.execute(
        select(col(Customer.email), col(Customer.phone)).where(
            col(Customer.shop_id) == shop_id, col(Customer.shopify_id).in_(set(customer_shopify_ids))
        )
    )
    pairs: list[tuple[str | None, str | None]] = [(email, phone) for email, phone in rows]
    return CustomerIdentities(
        emails=frozenset(email for email, _ in pairs if email),
        phones=frozenset(phone for _, phone in pairs if phone),
    )


async def link_tickets_to_customers(
    session: AsyncSession,
    *,
    shop: Shop,
    customer_shopify_ids: Sequence[int],
    previous: CustomerIdentities | None = None,
) -> list[Ticket]:
    """After customers were created or updated: tickets without a customer (unlinked, ambiguous or on
    guest orders; never ones an agent unlinked) whose contact has one of these customers' emails or
    phones, as now mirrored or as ``previous``ly (read before the update, so a customer leaving an
    ambiguous email resolves it), are matched again. Returns the tickets whose link changed."""
    shop_id = _shop_id(shop)
    now = await customer_identities(session, shop_id=shop_id, customer_shopify_ids=customer_shopify_ids)
    identities = now | previous if previous is not None else now
    contact_ids: set[int] = set()
    for column, values in ((col(Contact.email), identities.emails), (col(Contact.phone), identities.phones)):
        if values:
            found = await session.execute(
                select(col(Contact.id)).where(col(Contact.shop_id) == shop_id, column.in_(values))
            )
            contact_ids.update(i for i in found.scalars() if i is not None)
    if not contact_ids:
        return []
    tickets = await session.execute(
        select(Ticket)
        .where(
            col(Ticket.shop_id) == shop_id,
            col(Ticket.contact_id).in_(contact_ids),
            col(Ticket.customer_shopify_id).is_(None),
            col(Ticket.unlinked_by_agent).is_(False),
        )
        .order_by(col(Ticket.id))
    )
    return await _rematch(session, shop=shop, tickets=list(tickets.scalars()))


async def follow_customer_deletion(
    session: AsyncSession, *, shop: Shop, customer_shopify_id: int
) -> list[Ticket]:
    """After a customer left the mirror: its tickets, and unlinked ones listing it as a candidate, are
    matched again (after a merge this finds the customer Shopify kept). Returns those whose link changed."""
    shop_id = _shop_id(shop)
    linked = await session.execute(
        select(Ticket)
        .where(col(Ticket.shop_id) == shop_id, col(Ticket.customer_shopify_id) == customer_shopify_id)
        .order_by(col(Ticket.id))
    )
    tickets = list(linked.scalars())
    tickets += await _tickets_listing(session, shop_id, customer_shopify_id)
    return await _rematch(session, shop=shop, tickets=tickets, keep_verified=False)


async def follow_customer_merge(
    session: AsyncSession, *, shop: Shop, kept_customer_shopify_id: int, deleted_customer_shopify_id: int
) -> list[Ticket]:
    """After Shopify merged two customers: links (an agent's too) and verified storefront identities move
    to the kept customer; unlinked tickets that listed the merged-away one are matched again. Expects the
    mirror already to have dropped the merged-away customer. Returns the tickets whose link changed."""
    shop_id = _shop_id(shop)
    kept, gone = kept_customer_shopify_id, deleted_customer_shopify_id
    contacts = await session.execute(
        select(Contact).where(col(Contact.shop_id) == shop_id, col(Contact.storefront_customer_id) == gone)
    )
    for contact in contacts.scalars():
        contact.storefront_customer_id = kept
        contact.updated_at = utcnow()
    moved = list(
        (
            await session.execute(
                select(Ticket)
                .where(col(Ticket.shop_id) == shop_id, col(Ticket.customer_shopify_id) == gone)
                .order_by(col(Ticket.id))
            )
        ).scalars()
    )
    for ticket in moved:
        ticket.customer_shopify_id = kept
        ticket.updated_at = utcnow()
    listing = await _tickets_listing(session, shop_id, gone)
    return moved + await _rematch(session, shop=shop, tickets=listing)


async def _tickets_listing(session: AsyncSession, shop_id: int, customer_shopify_id: int) -> list[Ticket]:
    """Unlinked tickets with this customer among their candidates. Candidates are a JSON list: the text
    search narrows the shop's unlinked tickets, the list itself decides."""
    result = await session.execute(
        select(Ticket)
        .where(
            col(Ticket.shop_id) == shop_id,
            col(Ticket.customer_shopify_id).is_(None),
            col(Ticket.link_reason).is_(None),
            cast(col(Ticket.link_candidates), Text).contains(str(customer_shopify_id)),
        )
        .order_by(col(Ticket.id))
    )
    return [ticket for ticket in result.scalars() if customer_shopify_id in (ticket.link_candidates or [])]


def _shop_id(shop: Shop) -> int:
    assert shop.id is not None, "shop not saved"
    return shop.id


def _check_ticket(shop_id: int, ticket: Ticket) -> None:
    if ticket.shop_id != shop_id:
        raise NotFound("No such ticket", code="ticket_not_found")


async def link_waiting_tickets(session: AsyncSession, *, shop: Shop) -> list[Ticket]:
    """After a backfill or a reconciliation (which fire no customer webhooks): open and pending tickets
    still without a customer or guest link are matched again. Returns the tickets whose link changed."""
    waiting = await session.execute(
        select(Ticket).where(
            col(Ticket.shop_id) == _shop_id(shop),
            col(Ticket.status) != TicketStatus.RESOLVED,
            col(Ticket.customer_shopify_id).is_(None),
            col(Ticket.guest_email).is_(None),
            col(Ticket.guest_phone).is_(None),
            col(Ticket.unlinked_by_agent).is_(False),
        )
    )
    return await _rematch(session, shop=shop, tickets=list(waiting.scalars()))

"""Who may hear about an order, decided in code. A conversation sees an order's details when a signed
storefront session belongs to the order's customer, when the caller is trusted (agents, trusted API keys),
or when it gave the order number with that order's email, phone or postal code. Proof lasts for that ticket
only.

An attempt offers exactly one proof of each kind: a message with two postal codes (or emails, or phones,
however spelled) proves nothing, whichever of them is right, and every detail offered must be the order's.
Failed tries are counted per ticket, per source (an IP or a key) and across the shop, and cut off at a
limit; a failed try counts once for every order number and every candidate proof it named, so neither a
list of postcodes nor a list of order numbers buys more guesses. A missing order, wrong details and too
many candidates fail alike, so trying numbers discloses nothing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.emails import normalise_email
from shop_app.formats.phone_numbers import to_e164
from shop_app.formats.postal_codes import postal_key
from shop_app.models import Order, Ticket, TicketVerification, VerificationAttempt

logger = logging.getLogger(__name__)

ATTEMPT_WINDOW_SECONDS = 3600
# Failed tries within the window (each order number and each candidate proof of a failed try counts).
# A shopper who mistypes needs two or three tries; a conversation gets five.
MAX_FAILED_ATTEMPTS_PER_TICKET = 5
# An address may carry a few honest conversations (a family, an office): twice a conversation's allowance,
# so new conversations do not buy new guesses and an enumeration stops after ten order numbers.
MAX_FAILED_ATTEMPTS_PER_SOURCE = 10
# Across every source, each adding at most its own limit (so no one address trips it alone). Failed proofs
# are rare in honest traffic, a handful an hour even in a busy shop's chat; fifty in an hour is an
# enumeration spread over addresses. While it holds, no anonymous proof is tried: the bot hands those
# conversations to a person (signed-in shoppers and trusted callers still get answers).
MAX_FAILED_ATTEMPTS_PER_SHOP = 50
MAX_SOURCE_CHARS = 120

ATTEMPTS: Table = VerificationAttempt.__table__  # type: ignore[attr-defined]
PROOFS: Table = TicketVerification.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Trust:
    """What the channel vouches for: a signed storefront customer, a trusted caller (agent or trusted API
    key), and the source that attempts are counted against (``ip:1.2.3.4``, ``key:12``, ``widget:…``)."""

    storefront_customer_id: int | None = None
    trusted_caller: bool = False
    source: str = "unknown"


@dataclass(frozen=True, slots=True)
class Proof:
    """The candidate proofs one message offers, each kind in its comparable spelling (lower-case emails,
    E.164 phones, postal keys), each candidate once."""

    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    postal_codes: frozenset[str] = frozenset()

    @classmethod
    def offered(
        cls,
        *,
        emails: Sequence[str],
        phones: Sequence[str],
        postal_codes: Sequence[str],
        default_region: str | None,
    ) -> Proof:
        return cls(
            emails=frozenset(e for e in map(normalise_email, emails) if e),
            phones=frozenset(p for p in (to_e164(raw, default_region=default_region) for raw in phones) if p),
            postal_codes=frozenset(k for k in map(postal_key, postal_codes) if k),
        )

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.postal_codes)

    @property
    def candidates(self) -> int:
        return len(self.emails) + len(self.phones) + len(self.postal_codes)

    @property
    def one_of_each_kind(self) -> bool:
        return max(len(self.emails), len(self.phones), len(self.postal_codes)) <= 1


def proof_matches(order: Order, proof: Proof, *, default_region: str | None) -> bool:
    """At most one candidate of each kind, each one the order's (a kind the order does not hold is left
    aside), and at least one of them matched."""
    if not proof.one_of_each_kind:
        return False
    address = order.shipping_address or {}
    checks: list[bool] = []
    order_email = normalise_email(order.email) if order.email else None
    if proof.emails and order_email is not None:
        checks.append(order_email in proof.emails)
    order_phones = {
        to_e164(raw, default_region=default_region)
        for raw in (order.phone, address.get("phone"))
        if isinstance(raw, str) and raw
    } - {None}
    if proof.phones and order_phones:
        checks.append(bool(order_phones & proof.phones))
    zip_code = address.get("zip")
    if proof.postal_codes and isinstance(zip_code, str) and postal_key(zip_code):
        checks.append(postal_key(zip_code) in proof.postal_codes)
    return bool(checks) and all(checks)


@dataclass(frozen=True, slots=True)
class Failures:
    """Failed tries within the window: this ticket's, this source's, and the shop's (each source counted
    up to its own limit)."""

    ticket: int
    source: int
    shop: int

    @property
    def shop_wide(self) -> bool:
        return self.shop >= MAX_FAILED_ATTEMPTS_PER_SHOP

    def _shop_after(self, adding: int) -> int:
        return self.shop + max(0, min(self.source + adding, MAX_FAILED_ATTEMPTS_PER_SOURCE) - self.source)

    def within_limits(self, *, adding: int = 0) -> bool:
        """Whether more tries are allowed after ``adding`` more failures."""
        return (
            self.ticket + adding < MAX_FAILED_ATTEMPTS_PER_TICKET
            and self.source + adding < MAX_FAILED_ATTEMPTS_PER_SOURCE
            and self._shop_after(adding) < MAX_FAILED_ATTEMPTS_PER_SHOP
        )

    def trips_shop(self, *, adding: int) -> bool:
        """Whether ``adding`` more failures reach the shop-wide limit now."""
        return not self.shop_wide and self._shop_after(adding) >= MAX_FAILED_ATTEMPTS_PER_SHOP


def tries_in(proof: Proof, *, order_refs: int) -> int:
    """What a failed attempt counts: every order number it named with every candidate proof."""
    return max(1, order_refs) * max(1, proof.candidates)


async def failed_attempts(session: AsyncSession, *, ticket: Ticket, source: str, now: datetime) -> Failures:
    """The failures counted against this ticket, source and shop, in one query."""
    since = now - timedelta(seconds=ATTEMPT_WINDOW_SECONDS)
    failures = func.coalesce(func.sum(col(VerificationAttempt.failures)), 0)
    failed = (col(VerificationAttempt.created_at) >= since, col(VerificationAttempt.succeeded).is_(False))
    in_shop = col(VerificationAttempt.shop_id) == ticket.shop_id
    per_ticket = select(failures).where(col(VerificationAttempt.ticket_id) == ticket.id, *failed)
    per_source = select(failures).where(
        in_shop, col(VerificationAttempt.source) == source[:MAX_SOURCE_CHARS], *failed
    )
    by_source = (
        select(failures.label("failures"))
        .where(in_shop, *failed)
        .group_by(col(VerificationAttempt.source))
        .subquery()
    )
    capped = case(
        (by_source.c.failures > MAX_FAILED_ATTEMPTS_PER_SOURCE, MAX_FAILED_ATTEMPTS_PER_SOURCE),
        else_=by_source.c.failures,
    )
    per_shop = select(func.coalesce(func.sum(capped), 0))
    row = (
        await session.execute(
            select(per_ticket.scalar_subquery(), per_source.scalar_subquery(), per_shop.scalar_subquery())
        )
    ).one()
    return Failures(ticket=int(row[0]), source=int(row[1]), shop=int(row[2]))


async def try_proof(
    session: AsyncSession,
    *,
    ticket: Ticket,
    source: str,
    candidates: Sequence[Order],
    proof: Proof,
    tries: int,
    default_region: str | None,
    now: datetime,
    already_proved: set[int],
) -> Order | None:
    """Records one attempt; the order proved (it is then verified for this ticket), or None. A failed
    attempt counts as ``tries`` failures (see ``tries_in``)."""
    assert ticket.id is not None
    proved = next(
        (order for order in candidates if proof_matches(order, proof, default_region=default_region)), None
    )
    # plain inserts: nothing reads these rows back in this request
    await session.execute(
        insert(ATTEMPTS).values(
            shop_id=ticket.shop_id,
            ticket_id=ticket.id,
            source=source[:MAX_SOURCE_CHARS],
            succeeded=proved is not None,
            failures=0 if proved is not None else tries,
            created_at=now,
        )
    )
    if proved is not None and proved.id not in already_proved:
        await session.execute(
            insert(PROOFS).values(
                shop_id=ticket.shop_id,
                ticket_id=ticket.id,
                order_id=proved.id,
                method="order_details",
                created_at=now,
            )
        )
    return proved

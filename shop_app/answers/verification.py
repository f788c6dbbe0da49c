"""Who may hear about an order, decided in code. A conversation sees an order's details when a signed
storefront session belongs to the order's customer, when the caller is trusted (agents, trusted API keys),
or when it gave the order number with that order's email, phone or postal code. Proof lasts for that ticket
only. Failed tries are counted per ticket and per source (an IP or a key) and cut off at a limit; a missing
order and wrong details fail alike, so trying numbers discloses nothing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.emails import normalise_email
from shop_app.formats.phone_numbers import to_e164
from shop_app.models import Order, Ticket, TicketVerification, VerificationAttempt

MAX_FAILED_ATTEMPTS_PER_TICKET = 5
MAX_FAILED_ATTEMPTS_PER_SOURCE = 20
ATTEMPT_WINDOW_SECONDS = 3600
MAX_SOURCE_CHARS = 120

ATTEMPTS: Table = VerificationAttempt.__table__  # type: ignore[attr-defined]
PROOFS: Table = TicketVerification.__table__  # type: ignore[attr-defined]
_POSTAL_NOISE = re.compile(r"[\s\-‐‑–—−ー〒]+")


@dataclass(frozen=True, slots=True)
class Trust:
    """What the channel vouches for: a signed storefront customer, a trusted caller (agent or trusted API
    key), and the source that attempts are counted against (``ip:1.2.3.4``, ``key:12``, ``widget:…``)."""

    storefront_customer_id: int | None = None
    trusted_caller: bool = False
    source: str = "unknown"


@dataclass(frozen=True, slots=True)
class Proof:
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    postal_codes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.postal_codes)


def postal_key(code: str) -> str:
    return _POSTAL_NOISE.sub("", unicodedata.normalize("NFKC", code)).upper()


def proof_matches(order: Order, proof: Proof, *, default_region: str | None) -> bool:
    address = order.shipping_address or {}
    emails = {normalise_email(email) for email in proof.emails} - {None}
    if order.email and normalise_email(order.email) in emails:
        return True
    order_phones = {
        to_e164(raw, default_region=default_region)
        for raw in (order.phone, address.get("phone"))
        if isinstance(raw, str) and raw
    } - {None}
    given_phones = {to_e164(raw, default_region=default_region) for raw in proof.phones} - {None}
    if order_phones & given_phones:
        return True
    zip_code = address.get("zip")
    return bool(
        isinstance(zip_code, str)
        and zip_code.strip()
        and postal_key(zip_code) in {postal_key(code) for code in proof.postal_codes}
    )


async def failed_attempts(
    session: AsyncSession, *, ticket: Ticket, source: str, now: datetime
) -> tuple[int, int]:
    """Failed tries within the window: (for this ticket, for this source), in one query."""
    since = now - timedelta(seconds=ATTEMPT_WINDOW_SECONDS)
    failed = (col(VerificationAttempt.created_at) >= since, col(VerificationAttempt.succeeded).is_(False))
    per_ticket = (
        select(func.count()).where(col(VerificationAttempt.ticket_id) == ticket.id, *failed).scalar_subquery()
    )
    per_source = (
        select(func.count())
        .where(
            col(VerificationAttempt.shop_id) == ticket.shop_id,
            col(VerificationAttempt.source) == source[:MAX_SOURCE_CHARS],
            *failed,
        )
        .scalar_subquery()
    )
    row = (await session.execute(select(per_ticket, per_source))).one()
    return int(row[0]), int(row[1])


def within_limits(failures: tuple[int, int]) -> bool:
    per_ticket, per_source = failures
    return per_ticket < MAX_FAILED_ATTEMPTS_PER_TICKET and per_source < MAX_FAILED_ATTEMPTS_PER_SOURCE


async def try_proof(
    session: AsyncSession,
    *,
    ticket: Ticket,
    source: str,
    candidates: Sequence[Order],
    proof: Proof,
    default_region: str | None,
    now: datetime,
    already_proved: set[int],
) -> Order | None:
    """Records one attempt; the order proved (it is then verified for this ticket), or None."""
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

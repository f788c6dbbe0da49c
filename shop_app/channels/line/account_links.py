"""LINE's account-link flow, through the store: the app asks LINE for a link token for the LINE user and
sends them to the storefront page (our app proxy page, whose query Shopify signs); there a signed-in
customer gets a random nonce and is sent on to LINE, and LINE's ``accountLink`` event returns the nonce.
The nonce links only the LINE user the token was issued for, once, within the token's ten minutes. Tokens
and nonces are stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.helpdesk.customer_matching import apply_link, match_contact
from shop_app.models import Contact, LineAccountLink, LineUser, Shop, Ticket
from shop_app.models.base import utcnow

LINK_TOKEN_LIFETIME_SECONDS = 600  # LINE's link tokens last ten minutes
NONCE_BYTES = 32  # LINE asks for at least 128 random bits
MAX_LINK_TOKEN_CHARS = 200
LINK_PAGE_PATH = "/apps/support/line-link"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def link_page_url(storefront_url: str, link_token: str) -> str:
    """The storefront page (through Shopify's app proxy) where the shopper signs in and links;
    ``storefront_url`` is the shop's (``https://{shop}``, or the simulated store's address for it)."""
    return f"{storefront_url}{LINK_PAGE_PATH}?{urlencode({'linkToken': link_token})}"


def line_link_dialog_url(access_url: str, *, link_token: str, nonce: str) -> str:
    return f"{access_url}/dialog/bot/accountLink?{urlencode({'linkToken': link_token, 'nonce': nonce})}"


async def record_link_token(
    session: AsyncSession, *, user: LineUser, link_token: str, now: datetime | None = None
) -> LineAccountLink:
    assert user.id is not None
    now = now or utcnow()
    link = LineAccountLink(
        shop_id=user.shop_id,
        line_user_id=user.id,
        token_digest=_digest(link_token),
        created_at=now,
        expires_at=now + timedelta(seconds=LINK_TOKEN_LIFETIME_SECONDS),
    )
    session.add(link)
    await session.flush()
    return link


async def make_nonce(
    session: AsyncSession,
    *,
    shop_id: int,
    link_token: str,
    customer_shopify_id: int,
    now: datetime | None = None,
) -> str | None:
    """A nonce for a signed-in storefront customer holding a link token the app issued for this shop;
    ``None`` for an unknown, expired, other shop's or already used token."""
    now = now or utcnow()
    if not link_token or len(link_token) > MAX_LINK_TOKEN_CHARS:
        return None
    link = (
        await session.execute(
            select(LineAccountLink)
            .where(col(LineAccountLink.token_digest) == _digest(link_token))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if link is None or link.shop_id != shop_id or link.expires_at <= now or link.used_at is not None:
        return None
    if link.nonce_digest is not None:
        return None  # one nonce per token: a second visit with the same link is refused
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    link.nonce_digest = _digest(nonce)
    link.customer_shopify_id = customer_shopify_id
    await session.flush()
    return nonce


async def complete_link(
    session: AsyncSession, *, shop: Shop, user: LineUser, nonce: str, now: datetime | None = None
) -> bool:
    """Apply LINE's ``accountLink`` event: the nonce must be this shop's, made for this LINE user's token,
    unused and within the token's lifetime. The LINE user is then the customer's (verified for their own
    orders), and their conversation is matched to the customer."""
    now = now or utcnow()
    if not nonce or len(nonce) > 255:
        return False
    link = (
        await session.execute(
            select(LineAccountLink)
            .where(col(LineAccountLink.nonce_digest) == _digest(nonce))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if (
        link is None
        or link.shop_id != shop.id
        or link.line_user_id != user.id
        or link.used_at is not None
        or link.expires_at <= now
        or link.customer_shopify_id is None
    ):
        return False
    link.used_at = now
    user.customer_shopify_id = link.customer_shopify_id
    user.linked_at = now
    user.updated_at = now
    contact = await session.get_one(Contact, user.contact_id)
    contact.storefront_customer_id = link.customer_shopify_id
    contact.updated_at = now
    await _rematch(session, shop=shop, user=user, contact=contact)
    return True


async def unlink(session: AsyncSession, *, shop: Shop, user: LineUser) -> None:
    user.customer_shopify_id = None
    user.linked_at = None
    user.updated_at = utcnow()
    contact = await session.get_one(Contact, user.contact_id)
    contact.storefront_customer_id = None
    await session.flush()


async def _rematch(session: AsyncSession, *, shop: Shop, user: LineUser, contact: Contact) -> None:
    if user.ticket_id is None:
        await session.flush()
        return
    ticket = await session.get(Ticket, user.ticket_id)
    if ticket is not None and ticket.shop_id == shop.id and not ticket.unlinked_by_agent:
        decision = await match_contact(
            session, shop=shop, contact=contact, storefront_customer_id=contact.storefront_customer_id
        )
        await apply_link(session, ticket=ticket, decision=decision)
    await session.flush()

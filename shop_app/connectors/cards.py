"""The profile card an agent sees inside another helpdesk: our own page, the console sidebar's data
(``build_profile``), in the agent's language (the helpdesk's word for it, else the agent's browser's, else
the shop's).

The card page is opened by the helpdesk with the vendor's proof (a signed key in the URL, a signed JWT);
the vendor's ``card_viewer`` checks it and the page gets a card token: a short-lived JWT (PyJWT, HS256 with
the session secret) naming the connector, the language and what the proof said about the conversation.
The page's script sends that token with the conversation and contact its host posted to it; those are
unsigned, so they only choose whom to show among the connector's own shop's records: the mirrored
conversation's linked customer first, else one customer (or guest) with exactly that email or phone.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.connectors.conversations import find_mirror, mirrored_ticket
from shop_app.connectors.registry import CardViewer
from shop_app.formats.emails import stored_email
from shop_app.helpdesk.customer_matching import link_reason_text, match_contact, reason_text
from shop_app.helpdesk.profiles import ProfileTarget, build_profile
from shop_app.i18n import first_supported, supported_locale
from shop_app.models import Connector, Contact, LinkReason, Shop
from shop_app.schemas.profiles import CustomerProfile

CARD_TOKEN_SECONDS = 3600
CARD_AUDIENCE = "connector-card"
MAX_CONTEXT_CHARS = 320


@dataclass(frozen=True, slots=True)
class CardContext:
    """What the host page said about the conversation on screen (unsigned; see the module docstring)."""

    conversation_id: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    locale: str | None = None  # the agent's, as the helpdesk's app framework said it: the language only


@dataclass(frozen=True, slots=True)
class Card:
    profile: CustomerProfile | None
    reason: str | None
    locale: str
    ticket_id: int | None = None  # our ticket mirroring the conversation (its changes refresh the card)


def _signing_key(key: str) -> bytes:
    """The card tokens' own key, derived from the session secret (never the secret itself)."""
    return hmac.new(key.encode(), b"connector-card-token", hashlib.sha256).digest()


def card_token(viewer: CardViewer, *, key: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "aud": CARD_AUDIENCE,
        "cid": viewer.connector_id,
        "iat": issued,
        "exp": issued + CARD_TOKEN_SECONDS,
    }
    if viewer.locale:
        claims["loc"] = viewer.locale
    if viewer.conversation_id:
        claims["conv"] = viewer.conversation_id
    return jwt.encode(claims, _signing_key(key), algorithm="HS256")


def read_card_token(token: str, *, key: str) -> CardViewer | None:
    try:
        claims = jwt.decode(token, _signing_key(key), algorithms=["HS256"], audience=CARD_AUDIENCE)
    except jwt.PyJWTError:
        return None
    connector_id = claims.get("cid")
    if not isinstance(connector_id, int):
        return None
    locale, conversation = claims.get("loc"), claims.get("conv")
    return CardViewer(
        connector_id=connector_id,
        locale=locale if isinstance(locale, str) else None,
        conversation_id=conversation if isinstance(conversation, str) else None,
    )


def _short(value: object) -> str | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        text = str(value).strip()
        return text[:MAX_CONTEXT_CHARS] if text else None
    return None


def card_context(raw: object) -> CardContext:
    """The card script's JSON ({conversation_id, email, phone, locale}), bounded; anything else is
    ignored."""
    data = raw if isinstance(raw, dict) else {}
    return CardContext(
        conversation_id=_short(data.get("conversation_id")),
        contact_email=_short(data.get("email")),
        contact_phone=_short(data.get("phone")),
        locale=supported_locale(_short(data.get("locale"))),
    )


async def build_card(
    session: AsyncSession, *, shop: Shop, connector: Connector, viewer: CardViewer, context: CardContext
) -> Card:
    """The card for the conversation on screen, from this connector's shop only."""
    assert shop.id is not None
    assert connector.shop_id == shop.id
    locale = first_supported(context.locale, viewer.locale, shop.primary_locale)
    target: ProfileTarget | None = None
    reason: str | None = None
    exclude: int | None = None
    conversation_id = viewer.conversation_id or context.conversation_id
    if conversation_id:
        mirror = await find_mirror(session, connector=connector, external_id=conversation_id)
        ticket = await mirrored_ticket(session, mirror=mirror) if mirror is not None else None
        if ticket is not None and (ticket.customer_shopify_id or ticket.guest_email or ticket.guest_phone):
            target = ProfileTarget(
                customer_shopify_id=ticket.customer_shopify_id,
                guest_email=ticket.guest_email,
                guest_phone=ticket.guest_phone,
            )
            reason = await link_reason_text(session, ticket=ticket, locale=locale)
            exclude = ticket.id
    if target is None and (context.contact_email or context.contact_phone):
        probe = Contact(
            shop_id=shop.id, email=stored_email(context.contact_email), phone=context.contact_phone
        )
        decision = await match_contact(session, shop=shop, contact=probe)
        if decision.customer_shopify_id or decision.guest_email or decision.guest_phone:
            target = ProfileTarget(
                customer_shopify_id=decision.customer_shopify_id,
                guest_email=decision.guest_email,
                guest_phone=decision.guest_phone,
            )
            reason = reason_text(LinkReason(decision.reason), locale) if decision.reason else None
    if target is None:
        return Card(profile=None, reason=None, locale=locale)
    profile = await build_profile(
        session, shop=shop, target=target, locale=locale, exclude_ticket_id=exclude, orders_limit=5
    )
    return Card(profile=profile, reason=reason, locale=locale, ticket_id=exclude)

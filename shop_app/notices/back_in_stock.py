"""Back in stock: a shopper told a variant is sold out asks to hear when it returns, and is told once.

A subscription belongs to the ticket it was asked in when that ticket leaves by a channel (LINE, email);
one asked in the storefront chat leaves an email address, gets a ticket of its own on the email channel,
and waits (``pending``) until the address's owner confirms by the link mailed to them. Asking again for
the same variant changes nothing and sends nothing. When the mirror's stock of the variant (at the
subscription's locations, or anywhere) rises above zero, each active subscription is claimed by one
conditional update, so two processes applying the same change tell the shopper once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.display import formatter
from shop_app.formats.emails import normalise_email
from shop_app.helpdesk.contacts import unvouched_contact
from shop_app.helpdesk.tickets import post_message
from shop_app.i18n import catalogue, first_supported
from shop_app.models import (
    AuthorType,
    Channel,
    Contact,
    InventoryLevel,
    Product,
    ProductVariant,
    Shop,
    StockSubscription,
    SubscriptionStatus,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow
from shop_app.notices.links import NoticeLinks, Offer, Purpose, SubscriptionRef
from shop_app.notices.notice_settings import notice_settings

LIVE = (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE)
# Mails asking an address's owner to confirm, per shop and hour: a stranger typing addresses into the
# storefront's form cannot turn the shop's relay into a sender of unwanted mail beyond this.
MAX_CONFIRMATIONS_PER_HOUR = 30
OUTBOUND = frozenset({Channel.LINE, Channel.EMAIL})


class SubscriptionRefused(Exception):
    """The offer cannot become a subscription; ``code`` names why (``email_required``, ``gone``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Subscribed:
    subscription: StockSubscription
    created: bool
    message_id: int | None = None  # the confirmation (or the request to confirm) posted to the shopper


@dataclass(frozen=True, slots=True)
class Demand:
    product_shopify_id: int
    title: str
    waiting: int
    pending: int
    notified: int
    available: int | None


def _id(value: int | None) -> int:
    assert value is not None, "row not flushed"
    return value


def item_name(product: Product, variant: ProductVariant) -> str:
    if variant.title == "Default Title":
        return product.title
    return f"{product.title} ({variant.title})"


def product_url(shop: Shop, product: Product | None) -> str:
    handle = product.handle if product is not None else None
    return f"https://{shop.domain}/products/{handle}" if handle else f"https://{shop.domain}"


async def offered_item(session: AsyncSession, offer: Offer) -> tuple[Ticket, Product, ProductVariant] | None:
    """The ticket and the variant an offer names, both in the offer's shop (else ``None``)."""
    ticket = await session.get(Ticket, offer.ticket_id)
    if ticket is None or ticket.shop_id != offer.shop_id:
        return None
    row = (
        await session.execute(
            select(ProductVariant, Product)
            .join(Product, col(Product.id) == col(ProductVariant.product_id))
            .where(
                col(ProductVariant.shop_id) == offer.shop_id,
                col(ProductVariant.shopify_id) == offer.variant_shopify_id,
            )
        )
    ).first()
    if row is None:
        return None
    variant, product = row
    return ticket, product, variant


async def subscribe(
    session: AsyncSession,
    *,
    links: NoticeLinks,
    offer: Offer,
    language: str | None,
    email: str | None = None,
    now: datetime | None = None,
) -> Subscribed:
    now = now or utcnow()
    found = await offered_item(session, offer)
    if found is None:
        raise SubscriptionRefused("gone")
    ticket, product, variant = found
    shop = await session.get_one(Shop, offer.shop_id)
    lang = first_supported(language, shop.primary_locale)
    if ticket.channel in OUTBOUND:
        target = ticket
        contact = await session.get_one(Contact, ticket.contact_id)
    else:
        address = normalise_email(email or "")
        if address is None:
            raise SubscriptionRefused("email_required")
        asked = await session.execute(
            select(func.count()).where(
                col(StockSubscription.shop_id) == offer.shop_id,
                col(StockSubscription.confirmed_at).is_(None),
                col(StockSubscription.created_at) > now - timedelta(hours=1),
            )
        )
        if int(asked.scalar_one()) >= MAX_CONFIRMATIONS_PER_HOUR:
            raise SubscriptionRefused("busy")
        contact = await unvouched_contact(session, shop_id=_id(shop.id), email=address)
        await session.flush()
        target = None
    existing = (
        await session.execute(
            select(StockSubscription).where(
                col(StockSubscription.shop_id) == offer.shop_id,
                col(StockSubscription.contact_id) == _id(contact.id),
                col(StockSubscription.variant_shopify_id) == offer.variant_shopify_id,
                col(StockSubscription.status).in_(LIVE),
                col(StockSubscription.expires_at) > now,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return Subscribed(existing, created=False)
    name = item_name(product, variant)
    text = catalogue(lang).text
    if target is None:
        target = Ticket(
            shop_id=offer.shop_id,
            contact_id=_id(contact.id),
            channel=Channel.EMAIL,
            subject=text("notices.stock.subject", item=name)[:200],
            status=TicketStatus.RESOLVED,
            created_at=now,
            updated_at=now,
            last_message_at=now,
            resolved_at=now,
            resolved_by_bot=True,
        )
        session.add(target)
        await session.flush()
    settings = await notice_settings(session, shop_id=offer.shop_id)
    confirmed = ticket.channel in OUTBOUND
    subscription = StockSubscription(
        shop_id=offer.shop_id,
        ticket_id=_id(target.id),
        contact_id=_id(contact.id),
        channel=target.channel,
        product_shopify_id=product.shopify_id,
        variant_shopify_id=variant.shopify_id,
        inventory_item_shopify_id=variant.inventory_item_shopify_id or 0,
        location_shopify_ids=list(offer.location_shopify_ids),
        item_name=name[:512],
        language=lang,
        status=SubscriptionStatus.ACTIVE if confirmed else SubscriptionStatus.PENDING,
        expires_at=now + timedelta(days=settings.subscription_days),
        created_at=now,
        confirmed_at=now if confirmed else None,
    )
    session.add(subscription)
    await session.flush()
    ref = SubscriptionRef(offer.shop_id, _id(subscription.id))
    until = formatter(lang, shop.iana_timezone, None).day_text(subscription.expires_at)
    cancel_url = links.subscription_url(Purpose.CANCEL, ref)
    if confirmed:
        body = text("notices.stock.subscribed", item=name, until=until, cancel_url=cancel_url)
    else:
        confirm_url = links.subscription_url(Purpose.CONFIRM, ref)
        body = text("notices.stock.confirm", item=name, until=until, confirm_url=confirm_url)
    message = await post_message(
        session, ticket=target, author_type=AuthorType.BOT, body=body, counts_as_response=False
    )
    return Subscribed(subscription, created=True, message_id=message.id)


async def access_subscription(session: AsyncSession, ref: SubscriptionRef) -> StockSubscription | None:
    subscription = await session.get(StockSubscription, ref.subscription_id)
    if subscription is None or subscription.shop_id != ref.shop_id:
        return None
    return subscription


async def confirm(session: AsyncSession, ref: SubscriptionRef, *, now: datetime | None = None) -> bool:
    """A pending subscription becomes active (once); False when there is nothing to confirm."""
    now = now or utcnow()
    result = await session.execute(
        update(StockSubscription)
        .where(
            col(StockSubscription.id) == ref.subscription_id,
            col(StockSubscription.shop_id) == ref.shop_id,
            col(StockSubscription.status) == SubscriptionStatus.PENDING,
            col(StockSubscription.expires_at) > now,
        )
        .values(status=SubscriptionStatus.ACTIVE, confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def cancel(session: AsyncSession, ref: SubscriptionRef, *, now: datetime | None = None) -> bool:
    result = await session.execute(
        update(StockSubscription)
        .where(
            col(StockSubscription.id) == ref.subscription_id,
            col(StockSubscription.shop_id) == ref.shop_id,
            col(StockSubscription.status).in_(LIVE),
        )
        .values(status=SubscriptionStatus.CANCELLED, cancelled_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def expire(session: AsyncSession, *, shop_id: int | None = None, now: datetime | None = None) -> int:
    statement = update(StockSubscription).where(
        col(StockSubscription.status).in_(LIVE), col(StockSubscription.expires_at) <= (now or utcnow())
    )
    if shop_id is not None:
        statement = statement.where(col(StockSubscription.shop_id) == shop_id)
    result = await session.execute(
        statement.values(status=SubscriptionStatus.EXPIRED).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _available(levels: Sequence[InventoryLevel], locations: Sequence[int]) -> int:
    wanted = set(locations)
    return sum(
        level.available or 0
        for level in levels
        if level.available is not None and (not wanted or level.location_shopify_id in wanted)
    )


async def variant_available(
    session: AsyncSession, *, shop_id: int, variant_shopify_id: int, location_ids: Sequence[int] = ()
) -> int | None:
    """The variant's available stock at ``location_ids`` (empty: anywhere), as a subscription would wait
    for it; None when the shop has no such variant."""
    item_id = (
        await session.execute(
            select(col(ProductVariant.inventory_item_shopify_id)).where(
                col(ProductVariant.shop_id) == shop_id, col(ProductVariant.shopify_id) == variant_shopify_id
            )
        )
    ).first()
    if item_id is None:
        return None
    levels = (
        await session.execute(
            select(InventoryLevel).where(
                col(InventoryLevel.shop_id) == shop_id,
                col(InventoryLevel.inventory_item_shopify_id) == (item_id[0] or 0),
            )
        )
    ).scalars()
    return _available(list(levels), location_ids)


async def notify_restocked(
    session: AsyncSession,
    *,
    shop_id: int,
    inventory_item_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Tell each active subscriber of these items (every item: ``None``) whose stock is above zero now;
    the ids of the messages posted (each also in the outbox)."""
    now = now or utcnow()
    await expire(session, shop_id=shop_id, now=now)
    statement = select(StockSubscription).where(
        col(StockSubscription.shop_id) == shop_id, col(StockSubscription.status) == SubscriptionStatus.ACTIVE
    )
    if inventory_item_ids is not None:
        items = sorted(set(inventory_item_ids))
        if not items:
            return []
        statement = statement.where(col(StockSubscription.inventory_item_shopify_id).in_(items))
    subscriptions = list((await session.execute(statement.order_by(col(StockSubscription.id)))).scalars())
    if not subscriptions:
        return []
    wanted = {s.inventory_item_shopify_id for s in subscriptions}
    levels: dict[int, list[InventoryLevel]] = {}
    for level in (
        await session.execute(
            select(InventoryLevel).where(
                col(InventoryLevel.shop_id) == shop_id,
                col(InventoryLevel.inventory_item_shopify_id).in_(sorted(wanted)),
            )
        )
    ).scalars():
        levels.setdefault(level.inventory_item_shopify_id, []).append(level)
    shop = await session.get_one(Shop, shop_id)
    # each subscriber's ticket and product read once for all of them, not one query each
    tickets = {
        ticket.id: ticket
        for ticket in (
            await session.execute(
                select(Ticket).where(
                    col(Ticket.shop_id) == shop_id,
                    col(Ticket.id).in_(sorted({s.ticket_id for s in subscriptions})),
                )
            )
        ).scalars()
    }
    products = {
        product.shopify_id: product
        for product in (
            await session.execute(
                select(Product).where(
                    col(Product.shop_id) == shop_id,
                    col(Product.shopify_id).in_(sorted({s.product_shopify_id for s in subscriptions})),
                )
            )
        ).scalars()
    }
    posted: list[int] = []
    for subscription in subscriptions:
        if (
            _available(
                levels.get(subscription.inventory_item_shopify_id, []), subscription.location_shopify_ids
            )
            <= 0
        ):
            continue
        claimed = await session.execute(
            update(StockSubscription)
            .where(
                col(StockSubscription.id) == subscription.id,
                col(StockSubscription.status) == SubscriptionStatus.ACTIVE,
            )
            .values(status=SubscriptionStatus.NOTIFIED, notified_at=now)
            .execution_options(synchronize_session=False)
        )
        if not getattr(claimed, "rowcount", 0):
            continue  # another process told them
        ticket = tickets.get(subscription.ticket_id)
        if ticket is None:
            continue
        product = products.get(subscription.product_shopify_id)
        body = catalogue(first_supported(subscription.language)).text(
            "notices.stock.back", item=subscription.item_name, url=product_url(shop, product)
        )
        message = await post_message(
            session, ticket=ticket, author_type=AuthorType.BOT, body=body, counts_as_response=False
        )
        await session.execute(
            update(StockSubscription)
            .where(col(StockSubscription.id) == subscription.id)
            .values(notice_message_id=message.id)
            .execution_options(synchronize_session=False)
        )
        posted.append(_id(message.id))
    return posted


async def demand(session: AsyncSession, *, shop_id: int, limit: int = 100) -> list[Demand]:
    """Subscriptions per product, most awaited first: what shoppers wait for."""
    rows = (
        await session.execute(
            select(
                col(StockSubscription.product_shopify_id),
                col(StockSubscription.status),
                func.count(),
            )
            .where(col(StockSubscription.shop_id) == shop_id)
            .group_by(col(StockSubscription.product_shopify_id), col(StockSubscription.status))
        )
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for product_id, status, count in rows:
        counts.setdefault(int(product_id), {})[str(status)] = int(count)
    if not counts:
        return []
    products = {
        p.shopify_id: p
        for p in (
            await session.execute(
                select(Product).where(
                    col(Product.shop_id) == shop_id, col(Product.shopify_id).in_(sorted(counts))
                )
            )
        ).scalars()
    }
    stock: dict[int, int] = {}
    stock_rows = await session.execute(
        select(col(ProductVariant.product_id), func.sum(col(InventoryLevel.available)))
        .join(
            InventoryLevel,
            (col(InventoryLevel.shop_id) == col(ProductVariant.shop_id))
            & (
                col(InventoryLevel.inventory_item_shopify_id) == col(ProductVariant.inventory_item_shopify_id)
            ),
        )
        .where(col(ProductVariant.shop_id) == shop_id)
        .group_by(col(ProductVariant.product_id))
    )
    for product_row_id, total in stock_rows:
        stock[int(product_row_id)] = int(total or 0)
    found = []
    for product_id, by_status in counts.items():
        product = products.get(product_id)
        found.append(
            Demand(
                product_shopify_id=product_id,
                title=product.title if product is not None else str(product_id),
                waiting=by_status.get(SubscriptionStatus.ACTIVE, 0),
                pending=by_status.get(SubscriptionStatus.PENDING, 0),
                notified=by_status.get(SubscriptionStatus.NOTIFIED, 0),
                available=stock.get(_id(product.id)) if product is not None else None,
            )
        )
    found.sort(key=lambda d: (-d.waiting, -d.pending, d.title))
    return found[:limit]

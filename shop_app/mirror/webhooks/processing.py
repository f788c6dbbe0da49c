"""Applying stored webhook deliveries: claimed from the inbox, handled, finished or failed.

Topics without a handler are settled together in one statement. Whole-record topics (orders, customers,
products, stock) are parsed one by one and written with one writer call per shop and kind; the other
mirror topics run one by one; all of a batch in one transaction, with savepoints so a bad delivery fails
alone. Topics that change a whole shop (install state, privacy requests) run alone.

Once a batch has committed (and its follow-ups, such as orders fetched again, have run), what its applied
deliveries changed is published as live events: one per kind and shop, ids deduplicated, completed from
the mirror as it was before and after (an order's customer, a product's variants). Nothing is published
for a delivery that failed, nor before the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify import rest_resources
from integrations.shopify.graphql_resources import gid_type, id_from_gid
from integrations.shopify.webhook_payloads import MalformedPayload, parse_json_object
from shop_app.database import clear_erased_pages, transaction
from shop_app.live_events import ChangeSet, MirrorLinks, publish_changes
from shop_app.logging_config import bound_log_context
from shop_app.mirror import read_back
from shop_app.mirror.webhooks import inbox as webhook_inbox
from shop_app.mirror.webhooks.action_confirmations import CONFIRMING_TOPICS, confirm_from_webhook
from shop_app.mirror.webhooks.handlers import (
    COMPLIANCE_TOPICS,
    GROUPS,
    HANDLERS,
    ORDER_TOPICS,
    WebhookContext,
    note_webhooks,
)
from shop_app.models import Shop, WebhookDelivery
from shop_app.notices.restocks import tell_restocked
from shop_app.runtime import Services

logger = logging.getLogger(__name__)

# Topics that change whether a shop's webhooks are accepted (other processes see it within the TTL).
SHOP_STATE_TOPICS = frozenset({"app/uninstalled", "shop/redact"})
# Topics that erase personal data: once committed, the database's files are cleared of the old bytes.
ERASURE_TOPICS = frozenset({"customers/redact", "shop/redact"})
# Topics whose handler touches a whole shop: each runs alone, in its own transaction.
SOLO_TOPICS = SHOP_STATE_TOPICS | COMPLIANCE_TOPICS | {"app/scopes_update", "bulk_operations/finish"}
PROCESSING_BATCH = 20  # short transactions: ingest shares the database lock
_T = TypeVar("_T")
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})


def delivery_changes(
    topic: str, shop_id: int, payload: dict[str, Any], *, bodies: _Bodies | None = None, delivery_id: int = 0
) -> ChangeSet:
    """What a delivery changes, by the Shopify ids its body names (the mirror adds the rest); empty for
    topics that change nothing a console shows, or a body the handler refuses too. With ``bodies``, an
    order is parsed once for this and for its write."""
    changes = ChangeSet()
    try:
        if topic in ORDER_TOPICS:
            order = (
                bodies.parsed(delivery_id, rest_resources.parse_order)
                if bodies is not None
                else rest_resources.parse_order(payload)
            )
            customers = [order.customer_shopify_id] if order.customer_shopify_id is not None else []
            changes.orders(shop_id, order_ids=[order.shopify_id], customer_ids=customers)
        elif topic == "orders/edited":
            changes.orders(shop_id, order_ids=[rest_resources.parse_order_edit(payload)])
        elif topic == "orders/delete":
            changes.orders(shop_id, order_ids=[rest_resources.parse_deleted_id(payload, "Order")])
        elif topic in FULFILLMENT_TOPICS:
            changes.orders(shop_id, order_ids=[rest_resources.parse_fulfillment(payload).order_shopify_id])
        elif topic == "fulfillment_events/create":
            notice = rest_resources.parse_fulfillment_event(payload)
            changes.orders(shop_id, order_ids=[notice.order_shopify_id])
        elif topic == "refunds/create":
            changes.orders(shop_id, order_ids=[rest_resources.parse_refund(payload).order_shopify_id])
        elif topic.startswith("customers/") and topic not in COMPLIANCE_TOPICS:
            changes.customers(shop_id, customer_ids=_customer_ids(payload))
        elif topic in ("products/create", "products/update"):
            product = rest_resources.parse_product(payload)
            variants = product.variants or ()
            changes.stock(
                shop_id,
                product_ids=[product.shopify_id],
                variant_ids=[variant.shopify_id for variant in variants],
                inventory_item_ids=[
                    v.inventory_item_shopify_id for v in variants if v.inventory_item_shopify_id is not None
                ],
            )
        elif topic == "products/delete":
            changes.stock(shop_id, product_ids=[rest_resources.parse_deleted_id(payload, "Product")])
        elif topic.startswith("inventory_levels/"):
            key = rest_resources.parse_inventory_level_key(payload)
            changes.stock(shop_id, inventory_item_ids=[key.inventory_item_shopify_id])
        elif topic == "inventory_items/update":
            changes.stock(
                shop_id, inventory_item_ids=[rest_resources.parse_inventory_item(payload).shopify_id]
            )
        elif topic == "inventory_items/delete":
            item_id = rest_resources.parse_deleted_id(payload, "InventoryItem")
            changes.stock(shop_id, inventory_item_ids=[item_id])
    except MalformedPayload:
        return ChangeSet()
    return changes


def _customer_ids(payload: dict[str, Any]) -> list[int]:
    """The customers a ``customers/*`` body names: its own id, or (``customers/merge``) the kept and the
    deleted customer's."""
    named = [
        id_from_gid(value)
        for key, value in payload.items()
        if key.startswith("admin_graphql_api") and isinstance(value, str) and gid_type(value) == "Customer"
    ]
    if named:
        return named
    plain = payload.get("id")
    return [plain] if type(plain) is int else []


class _Bodies:
    """Each delivery's body parsed once per batch: its JSON, and each record parsed from it (an order body
    is read for its live changes and for its write; both use one parse). A refused body is refused again
    each time it is asked for."""

    def __init__(self, texts: dict[int, str | None]) -> None:
        self._texts = texts
        self._parsed: dict[tuple[int, Callable[[dict[str, Any]], Any] | None], Any] = {}

    def payload(self, delivery_id: int) -> dict[str, Any]:
        payload: dict[str, Any] = self.parsed(delivery_id, None)
        return payload

    def parsed(self, delivery_id: int, parse: Callable[[dict[str, Any]], Any] | None) -> Any:
        key = (delivery_id, parse)
        if key not in self._parsed:
            try:
                if parse is None:
                    value: Any = parse_json_object(self._texts.get(delivery_id) or "")
                else:
                    value = parse(self.payload(delivery_id))
            except MalformedPayload as error:
                value = error
            self._parsed[key] = value
        value = self._parsed[key]
        if isinstance(value, MalformedPayload):
            raise MalformedPayload(*value.args)
        return value


class _BatchChanges:
    """The live changes of claimed deliveries: proposed per delivery from their bodies (with the mirror's
    links read before they apply), published for the ones that were applied once all has committed."""

    def __init__(self) -> None:
        self.proposed: dict[int, ChangeSet] = {}
        self.links = MirrorLinks()
        self.applied = ChangeSet()

    async def propose(
        self, session: AsyncSession, deliveries: list[tuple[int, str, WebhookDelivery]], bodies: _Bodies
    ) -> None:
        everything = ChangeSet()
        for delivery_id, topic, delivery in deliveries:
            try:
                payload = bodies.payload(delivery_id)
            except MalformedPayload:
                continue
            proposed = delivery_changes(
                topic, delivery.shop_id, payload, bodies=bodies, delivery_id=delivery_id
            )
            if proposed:
                self.proposed[delivery_id] = proposed
                everything.merge(proposed)
        if everything:
            self.links.update(await everything.read_links(session))

    def applied_delivery(self, delivery_id: int) -> None:
        proposed = self.proposed.get(delivery_id)
        if proposed is not None:
            self.applied.merge(proposed)

    async def publish(self, services: Services) -> None:
        if not self.applied:
            return
        try:
            async with services.sessions() as session:
                self.links.update(await self.applied.read_links(session))
        except SQLAlchemyError as error:
            # the deliveries are applied: publish what the bodies and the earlier read name
            logger.warning("live event links not read error=%s", type(error).__name__)
        await publish_changes(services.events, self.applied.completed(self.links))


async def process_deliveries(services: Services, *, delivery_ids: list[int]) -> bool:
    """Process stored deliveries (see the module docstring); True when some should be retried.

    The claims are renewed while this runs, so a live process keeps them however long it takes, and a
    process that dies leaves them to another one a lease later."""
    holder = webhook_inbox.new_holder()
    lease_seconds = services.settings.webhook_lease_seconds
    async with transaction(services.sessions) as session:
        claimed = await webhook_inbox.claim_deliveries(
            session, delivery_ids, holder=holder, lease_seconds=lease_seconds
        )
        without_handler = [delivery_id for delivery_id, topic in claimed if topic not in HANDLERS]
        await webhook_inbox.finish_deliveries(session, without_handler)
    batchable = [(i, topic) for i, topic in claimed if topic in HANDLERS and topic not in SOLO_TOPICS]
    solo = [(i, topic) for i, topic in claimed if topic in SOLO_TOPICS]
    if not batchable and not solo:
        return False
    retry = False
    async with webhook_inbox.claims_renewed(services.sessions, holder=holder, lease_seconds=lease_seconds):
        for start in range(0, len(batchable), PROCESSING_BATCH):
            retry |= await _process_batch(services, batchable[start : start + PROCESSING_BATCH])
        for delivery_id, topic in solo:
            retry |= await _process_claimed(services, delivery_id, topic)
    return retry


def in_key_order(items: list[_T], *, key: Callable[[_T], Any] = lambda record: record) -> list[_T]:
    """Records in the order of their Shopify ids (versions of one record keep their order: the later of
    two same-second versions still wins). Concurrent batches on several workers then lock the rows they
    share in one order and wait for each other, where PostgreSQL otherwise found a deadlock and aborted
    one (its deliveries retried: "claimed twice")."""
    return sorted(items, key=lambda item: _record_key(key(item)))


def _record_key(record: Any) -> tuple[int, int]:
    shopify_id = getattr(record, "shopify_id", None)
    if isinstance(shopify_id, int):
        return (shopify_id, 0)
    item, location = (
        getattr(record, name, None) for name in ("inventory_item_shopify_id", "location_shopify_id")
    )
    return (item if isinstance(item, int) else 0, location if isinstance(location, int) else 0)


async def _apply_groups(
    session: AsyncSession,
    batch: list[tuple[int, str]],
    deliveries: dict[int | None, WebhookDelivery],
    shops: dict[int | None, Shop],
    done: list[int],
    failed: list[tuple[int, str, bool]],
    reads: list[tuple[Shop, str, dict[str, Any]]],
    bodies: _Bodies,
    noted: set[int],
) -> list[tuple[int, str]]:
    """Write the batch's whole-record topics with one writer call per shop and kind (in delivery order,
        so the later of two same-second versions wins); what is left, or whose group failed, is returned to
        be handled one by one. A group's read of what its bodies cannot tell is added to ``reads``, and its
    shop to ``noted`` (its sync state is written once, at the end of the batch)."""
    groups: dict[tuple[int, str], list[tuple[int, str, Any]]] = {}
    singles: list[tuple[int, str]] = []
    for delivery_id, topic in batch:
        delivery = deliveries.get(delivery_id)
        group = GROUPS.get(topic)
        if group is None or delivery is None or delivery.shop_id not in shops:
            singles.append((delivery_id, topic))
            continue
        try:
            record = bodies.parsed(delivery_id, group.parse)
        except MalformedPayload:
            with bound_log_context(webhook_id=delivery.webhook_id or None):
                logger.warning("webhook payload refused topic=%s delivery=%s", topic, delivery_id)
            failed.append((delivery_id, "malformed payload", True))
            continue
        groups.setdefault((delivery.shop_id, group.name), []).append((delivery_id, topic, record))
    for items in groups.values():
        items[:] = in_key_order(items, key=lambda item: item[2])
    # Groups in (shop, kind) order and each writer's rows in key order: concurrent batches on several
    # workers lock what they share in one order and wait for each other instead of deadlocking.
    for (shop_id, name), items in sorted(groups.items(), key=lambda group: group[0]):
        try:
            async with session.begin_nested():
                await GROUPS[items[0][1]].write(session, shop_id, [record for _, _, record in items])
        except Exception:
            logger.exception("grouped webhook write failed group=%s count=%s", name, len(items))
            singles.extend((delivery_id, topic) for delivery_id, topic, _ in items)
            continue
        noted.add(shop_id)
        done.extend(delivery_id for delivery_id, _, _ in items)
        group = GROUPS[items[0][1]]
        if group.refresh is not None:
            reads.append((shops[shop_id], *group.refresh([record for _, _, record in items])))
    return singles


async def _load_batch(
    session: AsyncSession, delivery_ids: list[int]
) -> tuple[dict[int | None, WebhookDelivery], dict[int | None, Shop]]:
    query = select(WebhookDelivery).where(col(WebhookDelivery.id).in_(delivery_ids))
    deliveries = {d.id: d for d in (await session.execute(query)).scalars()}
    shop_query = select(Shop).where(col(Shop.id).in_({d.shop_id for d in deliveries.values()}))
    shops = {s.id: s for s in (await session.execute(shop_query)).scalars()}
    return deliveries, shops


async def _process_batch(services: Services, batch: list[tuple[int, str]]) -> bool:
    """Handle a batch of claimed deliveries in one transaction; True when some should be retried."""
    failed: list[tuple[int, str, bool]] = []  # (delivery, error, final)
    follow_ups: list[tuple[int, WebhookContext]] = []
    reads: list[tuple[Shop, str, dict[str, Any]]] = []
    try:
        async with transaction(services.sessions) as session:
            ids = [delivery_id for delivery_id, _ in batch]
            deliveries = {
                d.id: d
                for d in (
                    await session.execute(select(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids)))
                ).scalars()
            }
            shop_ids = {d.shop_id for d in deliveries.values()}
            shops = {
                s.id: s
                for s in (await session.execute(select(Shop).where(col(Shop.id).in_(shop_ids)))).scalars()
            }
            live = _BatchChanges()
            bodies = _Bodies({delivery_id: d.body for delivery_id, d in deliveries.items() if delivery_id})
            await live.propose(
                session,
                [(i, topic, deliveries[i]) for i, topic in batch if deliveries.get(i) is not None],
                bodies,
            )
            done: list[int] = []
            noted: set[int] = set()
            singles = await _apply_groups(
                session, batch, deliveries, shops, done, failed, reads, bodies, noted
            )
            for delivery_id, topic in singles:
                delivery = deliveries.get(delivery_id)
                shop = shops.get(delivery.shop_id) if delivery is not None else None
                if delivery is None or shop is None:
                    continue
                with bound_log_context(webhook_id=delivery.webhook_id or None):
                    try:
                        async with session.begin_nested():
                            context = WebhookContext(
                                session=session,
                                shop=shop,
                                payload=bodies.payload(delivery_id),
                                cipher=services.cipher,
                                digest_key=services.digest_key,
                                services=services,
                            )
                            await HANDLERS[topic](context)
                    except MalformedPayload:
                        logger.warning("webhook payload refused topic=%s delivery=%s", topic, delivery_id)
                        failed.append((delivery_id, "malformed payload", True))
                        continue
                    except Exception as error:
                        logger.exception("webhook processing failed topic=%s delivery=%s", topic, delivery_id)
                        failed.append((delivery_id, type(error).__name__, False))
                        continue
                if context.after_commit:
                    follow_ups.append((delivery_id, context))
                else:
                    done.append(delivery_id)
            handled = {*done, *(delivery_id for delivery_id, _ in follow_ups)}
            for delivery_id, topic in batch:
                if delivery_id in handled:
                    await _confirm_actions(session, deliveries.get(delivery_id), topic)
            # the shops' sync states (one row every batch of a shop updates) last, held the shortest
            for shop_id in sorted(noted):
                await note_webhooks(session, shop_id)
            await webhook_inbox.finish_deliveries(session, done)
            retry = False
            for delivery_id, error_text, final in failed:
                retry |= await webhook_inbox.fail_delivery(session, delivery_id, error_text, final=final)
    except Exception:
        logger.exception("webhook batch failed; processing its deliveries one by one count=%s", len(batch))
        retry = False
        for delivery_id, topic in batch:
            retry |= await _process_claimed(services, delivery_id, topic)
        return retry
    for delivery_id in done:
        live.applied_delivery(delivery_id)
    await _read_for_groups(services, reads)
    for delivery_id, context in follow_ups:
        try:
            for follow_up in context.after_commit:
                await follow_up()
        except Exception as error:
            async with transaction(services.sessions) as session:
                retry |= await webhook_inbox.fail_delivery(session, delivery_id, type(error).__name__)
            logger.exception("webhook follow-up failed delivery=%s", delivery_id)
            continue
        async with transaction(services.sessions) as session:
            await webhook_inbox.finish_deliveries(session, [delivery_id])
        live.applied_delivery(delivery_id)
    await live.publish(services)
    await tell_restocked(services, live.applied.completed(live.links))
    return retry


async def _confirm_actions(session: AsyncSession, delivery: WebhookDelivery | None, topic: str) -> None:
    """An order action this delivery confirms is marked so; a failure here never fails the delivery (the
    mirror is what the delivery is for)."""
    if delivery is None or topic not in CONFIRMING_TOPICS:
        return
    try:
        async with session.begin_nested():
            await confirm_from_webhook(
                session, shop_id=delivery.shop_id, topic=topic, payload=parse_json_object(delivery.body or "")
            )
    except (MalformedPayload, SQLAlchemyError):
        logger.exception("order action confirmation failed topic=%s delivery=%s", topic, delivery.id)


async def _read_for_groups(services: Services, reads: list[tuple[Shop, str, dict[str, Any]]]) -> None:
    """The grouped deliveries are applied and finished: what their bodies could not tell is read now, and
    a read that fails is left to the next sweep (it repairs exactly this)."""
    for shop, reader, arguments in reads:
        try:
            await getattr(read_back, reader)(services, shop=shop, **arguments)
        except Exception as error:
            logger.warning(
                "read after grouped webhooks failed shop=%s reader=%s error=%s",
                shop.domain,
                reader,
                type(error).__name__,
            )


async def _process_claimed(services: Services, delivery_id: int, topic: str) -> bool:
    """Run the handler of a delivery this worker has claimed; True when it should be retried."""
    async with services.sessions() as session:
        webhook_id = (
            await session.execute(
                select(col(WebhookDelivery.webhook_id)).where(col(WebhookDelivery.id) == delivery_id)
            )
        ).scalar_one_or_none()
    with bound_log_context(webhook_id=webhook_id or None):
        return await _process_claimed_delivery(services, delivery_id, topic)


async def _process_claimed_delivery(services: Services, delivery_id: int, topic: str) -> bool:
    live = _BatchChanges()
    try:
        async with transaction(services.sessions) as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            shop = await session.get(Shop, delivery.shop_id) if delivery is not None else None
            if delivery is None or shop is None:
                return False
            bodies = _Bodies({delivery_id: delivery.body})
            payload = bodies.payload(delivery_id)
            await live.propose(session, [(delivery_id, topic, delivery)], bodies)
            context = WebhookContext(
                session=session,
                shop=shop,
                payload=payload,
                cipher=services.cipher,
                digest_key=services.digest_key,
                services=services,
            )
            await HANDLERS[topic](context)
            await _confirm_actions(session, delivery, topic)
            # shop/redact erased the delivery with the rest of the shop; follow-ups finish it later
            if topic != "shop/redact" and not context.after_commit:
                await webhook_inbox.finish_deliveries(session, [delivery_id])
            domain = shop.domain
        if context.after_commit:
            for follow_up in context.after_commit:
                await follow_up()
            async with transaction(services.sessions) as session:
                await webhook_inbox.finish_deliveries(session, [delivery_id])
        if topic in SHOP_STATE_TOPICS:
            services.shop_directory.forget(domain)
        if topic in ERASURE_TOPICS:
            await clear_erased_pages(services.sessions)
        live.applied_delivery(delivery_id)
    except MalformedPayload as error:
        logger.warning("webhook payload refused topic=%s delivery=%s reason=%s", topic, delivery_id, error)
        async with transaction(services.sessions) as session:
            await webhook_inbox.fail_delivery(session, delivery_id, f"malformed payload: {error}", final=True)
        return False
    except Exception as error:
        async with transaction(services.sessions) as session:
            retry = await webhook_inbox.fail_delivery(session, delivery_id, type(error).__name__)
        logger.exception("webhook processing failed topic=%s delivery=%s retry=%s", topic, delivery_id, retry)
        return retry
    await live.publish(services)
    await tell_restocked(services, live.applied.completed(live.links))
    return False

"""What each webhook topic does. ``shopify.app.toml`` names the handler beside each subscription."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify import rest_resources
from integrations.shopify.graphql_resources import gid_for
from integrations.shopify.shop_details import parse_shop_update
from integrations.shopify.webhook_payloads import (
    CustomersDataRequest,
    CustomersMerge,
    CustomersRedact,
    ScopesUpdate,
)
from shop_app.encryption import Cipher
from shop_app.helpdesk import customer_matching
from shop_app.mirror import bulk_backfill, read_back, shop_details
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.upserts import UpsertResult
from shop_app.models import Fulfillment, Shop, SyncState
from shop_app.models.base import utcnow
from shop_app.shops import compliance
from shop_app.shops import installation as shops

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)

SYNC_STATES: Table = SyncState.__table__  # type: ignore[attr-defined]

FollowUp = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WebhookContext:
    session: AsyncSession
    shop: Shop
    payload: dict[str, Any]
    cipher: Cipher
    digest_key: str
    services: Services | None = None
    # Work that must run after the handler's transaction commits (it opens sessions of its own); the
    # delivery is finished only once it succeeded, so a failure retries the whole delivery.
    after_commit: list[FollowUp] = field(default_factory=list)

    @property
    def shop_id(self) -> int:
        assert self.shop.id is not None
        return self.shop.id


Handler = Callable[[WebhookContext], Awaitable[None]]


async def handle_app_uninstalled(context: WebhookContext) -> None:
    await shops.uninstall_shop(context.session, shop=context.shop)


async def handle_app_scopes_update(context: WebhookContext) -> None:
    update = ScopesUpdate.parse(context.payload)
    await shops.update_scopes(context.session, shop=context.shop, scopes=list(update.current))


async def handle_shop_update(context: WebhookContext) -> None:
    """The shop's name, country, currency, time zone or locale changed; its policies, which the body does
    not carry, are read back once the transaction commits."""
    details = parse_shop_update(context.payload)
    await shop_details.update_shop_details(context.session, shop=context.shop, details=details)
    read_after_commit(context, "refresh_shop_policies")


def _subject(customer: Any, order_ids: tuple[int, ...]) -> compliance.CustomerSubject:
    return compliance.CustomerSubject(
        shopify_customer_id=customer.id, email=customer.email, phone=customer.phone, order_ids=order_ids
    )


async def handle_customers_data_request(context: WebhookContext) -> None:
    request = CustomersDataRequest.parse(context.payload)
    await compliance.export_customer_data(
        context.session,
        shop=context.shop,
        subject=_subject(request.customer, request.orders_requested),
        data_request_id=request.data_request_id,
        cipher=context.cipher,
        digest_key=context.digest_key,
    )


async def handle_customers_redact(context: WebhookContext) -> None:
    request = CustomersRedact.parse(context.payload)
    await compliance.redact_customer(
        context.session,
        shop=context.shop,
        subject=_subject(request.customer, request.orders_to_redact),
        digest_key=context.digest_key,
    )


async def handle_shop_redact(context: WebhookContext) -> None:
    await compliance.redact_shop(context.session, shop=context.shop)


# Live updates of the mirror. Each is idempotent and safe in any order: the writers never let an older
# updated_at overwrite a newer one.


ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/paid",
)


# The fulfillment order topics that change what the mirror holds (holds, routing, moves, splits, merges,
# cancellations, new dates); their bodies name fulfillment orders only.
FULFILLMENT_ORDER_TOPICS = (
    "fulfillment_orders/order_routing_complete",
    "fulfillment_orders/placed_on_hold",
    "fulfillment_orders/hold_released",
    "fulfillment_orders/cancelled",
    "fulfillment_orders/moved",
    "fulfillment_orders/split",
    "fulfillment_orders/merged",
    "fulfillment_orders/rescheduled",
)


@dataclass(frozen=True, slots=True)
class Group:
    """Topics whose bodies carry whole records: a batch of them is parsed one by one and written with one
    writer call per shop (the writers keep the newest of each record), not one transaction each."""

    name: str
    parse: Callable[[dict[str, Any]], Any]
    write: Callable[[AsyncSession, int, list[Any]], Awaitable[Any]]
    # What the bodies cannot tell, read from Shopify once the write has committed (by name, in read_back)
    refresh: Callable[[list[Any]], tuple[str, dict[str, Any]]] | None = None


async def _write_orders(session: AsyncSession, shop_id: int, orders: list[Any]) -> None:
    await mirror_writes.upsert_orders(session, shop_id=shop_id, orders=orders, synced_at=utcnow())


async def _write_customers(session: AsyncSession, shop_id: int, customers: list[Any]) -> None:
    ids = [customer.shopify_id for customer in customers]
    before = await customer_matching.customer_identities(session, shop_id=shop_id, customer_shopify_ids=ids)
    await mirror_writes.upsert_customers(session, shop_id=shop_id, customers=customers, synced_at=utcnow())
    # tickets waiting for a customer with this email or phone (or one it just left) are matched again
    shop = await session.get(Shop, shop_id)
    if shop is not None:
        await customer_matching.link_tickets_to_customers(
            session, shop=shop, customer_shopify_ids=ids, previous=before
        )


async def _write_products(session: AsyncSession, shop_id: int, products: list[Any]) -> None:
    await mirror_writes.upsert_products(session, shop_id=shop_id, products=products, synced_at=utcnow())


async def _write_levels(session: AsyncSession, shop_id: int, levels: list[Any]) -> None:
    await mirror_writes.upsert_inventory_levels(session, shop_id=shop_id, levels=levels, synced_at=utcnow())


_ORDERS = Group("orders", rest_resources.parse_order, _write_orders)
_CUSTOMERS = Group("customers", rest_resources.parse_customer, _write_customers)
_PRODUCTS = Group("products", rest_resources.parse_product, _write_products)


def _levels_refresh(levels: list[Any]) -> tuple[str, dict[str, Any]]:
    """A level's body has only ``available``: read its item's on_hand, committed and the rest."""
    return "refresh_inventory_items", {"item_ids": [level.inventory_item_shopify_id for level in levels]}


_LEVELS = Group(
    "inventory_levels", rest_resources.parse_inventory_level, _write_levels, refresh=_levels_refresh
)
GROUPS: dict[str, Group] = {
    **{topic: _ORDERS for topic in ORDER_TOPICS if topic != "orders/cancelled"},
    "customers/create": _CUSTOMERS,
    "customers/update": _CUSTOMERS,
    "products/create": _PRODUCTS,
    "products/update": _PRODUCTS,
    "inventory_levels/update": _LEVELS,
    "inventory_levels/connect": _LEVELS,
}


async def _apply_one(group: Group, context: WebhookContext) -> None:
    """A whole-record topic on its own: the same parse and write (and refresh) as for a batch of them."""
    record = group.parse(context.payload)
    await group.write(context.session, context.shop_id, [record])
    if group.refresh is not None:
        name, arguments = group.refresh([record])
        read_after_commit(context, name, **arguments)
    await _note_webhook(context)


async def handle_order(context: WebhookContext) -> None:
    """orders/create, updated, cancelled, fulfilled, partially_fulfilled, paid: the whole order."""
    await _apply_one(_ORDERS, context)


async def handle_orders_cancelled(context: WebhookContext) -> None:
    """The whole order, and its fulfillment orders (closed by the cancellation; the body has none)."""
    order = rest_resources.parse_order(context.payload)
    await _ORDERS.write(context.session, context.shop_id, [order])
    read_after_commit(context, "refresh_fulfillment_orders", gids=[gid_for("Order", order.shopify_id)])
    await _note_webhook(context)


async def handle_fulfillment_orders(context: WebhookContext) -> None:
    """fulfillment_orders/*: the body names fulfillment orders with a status, not their lines or order:
    read the order's fulfillment orders."""
    gids = rest_resources.parse_fulfillment_order_gids(context.payload)
    read_after_commit(context, "refresh_fulfillment_orders", gids=gids)
    await _note_webhook(context)


async def handle_orders_edited(context: WebhookContext) -> None:
    """The body lists the edit, not the order: fetch the order."""
    order_id = rest_resources.parse_order_edit(context.payload)
    refresh_orders_after_commit(context, [order_id])
    await _note_webhook(context)


async def handle_orders_delete(context: WebhookContext) -> None:
    order_id = rest_resources.parse_deleted_id(context.payload, "Order")
    await mirror_writes.delete_order(context.session, shop_id=context.shop_id, shopify_id=order_id)
    await _note_webhook(context)


async def handle_fulfillment_create(context: WebhookContext) -> None:
    """fulfillments/create: a new shipment's first carrier event (label purchased) has no webhook of its
    own, it changes its order's fulfillment orders, and it moves on_hand and committed stock with no
    webhook either: read the order whole, then the stock of what it shipped."""
    fulfillment = rest_resources.parse_fulfillment(context.payload)
    await mirror_writes.upsert_fulfillment(
        context.session, shop_id=context.shop_id, fulfillment=fulfillment, synced_at=utcnow()
    )
    read_after_commit(
        context,
        "refresh_shipment",
        order_id=fulfillment.order_shopify_id,
        line_item_ids=[line_item_id for line_item_id, _ in fulfillment.line_items],
    )
    await _note_webhook(context)


async def handle_fulfillment(context: WebhookContext) -> None:
    """fulfillments/update."""
    fulfillment = rest_resources.parse_fulfillment(context.payload)
    result = await mirror_writes.upsert_fulfillment(
        context.session, shop_id=context.shop_id, fulfillment=fulfillment, synced_at=utcnow()
    )
    if result == UpsertResult() or not await _has_events(context, fulfillment.shopify_id):
        # Not mirrored yet, or a shipment whose events no webhook brought: read the order whole.
        refresh_orders_after_commit(context, [fulfillment.order_shopify_id])
    await _note_webhook(context)


async def _has_events(context: WebhookContext, fulfillment_shopify_id: int) -> bool:
    events = await context.session.scalar(
        select(col(Fulfillment.events)).where(
            col(Fulfillment.shop_id) == context.shop_id, col(Fulfillment.shopify_id) == fulfillment_shopify_id
        )
    )
    return bool(events)


async def handle_fulfillment_events_create(context: WebhookContext) -> None:
    notice = rest_resources.parse_fulfillment_event(context.payload)
    merged = await mirror_writes.add_fulfillment_event(
        context.session,
        shop_id=context.shop_id,
        fulfillment_shopify_id=notice.fulfillment_shopify_id,
        event=notice.event,
        synced_at=utcnow(),
        estimated_delivery_at=notice.estimated_delivery_at,
    )
    if not merged:
        refresh_orders_after_commit(context, [notice.order_shopify_id])
    await _note_webhook(context)


async def handle_refunds_create(context: WebhookContext) -> None:
    """A refund changes the order's totals and statuses, which its body does not carry: fetch the order."""
    refund = rest_resources.parse_refund(context.payload)
    refresh_orders_after_commit(context, [refund.order_shopify_id])
    await _note_webhook(context)


async def handle_customer(context: WebhookContext) -> None:
    """customers/create, customers/update."""
    await _apply_one(_CUSTOMERS, context)


async def handle_customers_delete(context: WebhookContext) -> None:
    customer_id = rest_resources.parse_deleted_id(context.payload, "Customer")
    await mirror_writes.delete_customer(context.session, shop_id=context.shop_id, shopify_id=customer_id)
    await customer_matching.follow_customer_deletion(
        context.session, shop=context.shop, customer_shopify_id=customer_id
    )
    await _note_webhook(context)


async def handle_customers_merge(context: WebhookContext) -> None:
    """The merged-away customer is gone and its orders and tickets are the kept one's."""
    merge = CustomersMerge.parse(context.payload)
    if merge.completed:
        await mirror_writes.merge_customer(
            context.session,
            shop_id=context.shop_id,
            kept_shopify_id=merge.kept_customer_id,
            deleted_shopify_id=merge.deleted_customer_id,
        )
        await customer_matching.follow_customer_merge(
            context.session,
            shop=context.shop,
            kept_customer_shopify_id=merge.kept_customer_id,
            deleted_customer_shopify_id=merge.deleted_customer_id,
        )
    await _note_webhook(context)


async def handle_product(context: WebhookContext) -> None:
    """products/create, products/update: the product with its variants."""
    await _apply_one(_PRODUCTS, context)


async def handle_products_delete(context: WebhookContext) -> None:
    product_id = rest_resources.parse_deleted_id(context.payload, "Product")
    await mirror_writes.delete_product(context.session, shop_id=context.shop_id, shopify_id=product_id)
    await _note_webhook(context)


async def handle_inventory_level(context: WebhookContext) -> None:
    """inventory_levels/update, inventory_levels/connect."""
    await _apply_one(_LEVELS, context)


async def handle_inventory_levels_disconnect(context: WebhookContext) -> None:
    key = rest_resources.parse_inventory_level_key(context.payload)
    await mirror_writes.delete_inventory_levels(
        context.session,
        shop_id=context.shop_id,
        inventory_item_shopify_id=key.inventory_item_shopify_id,
        location_shopify_id=key.location_shopify_id,
    )
    await _note_webhook(context)


async def handle_inventory_items_update(context: WebhookContext) -> None:
    item = rest_resources.parse_inventory_item(context.payload)
    await mirror_writes.update_inventory_item_sku(
        context.session,
        shop_id=context.shop_id,
        inventory_item_shopify_id=item.shopify_id,
        sku=item.sku,
        updated_at=item.updated_at,
    )
    await _note_webhook(context)


async def handle_inventory_items_delete(context: WebhookContext) -> None:
    item_id = rest_resources.parse_deleted_id(context.payload, "InventoryItem")
    await mirror_writes.delete_inventory_levels(
        context.session, shop_id=context.shop_id, inventory_item_shopify_id=item_id
    )
    await _note_webhook(context)


def refresh_orders_after_commit(context: WebhookContext, order_ids: Sequence[int]) -> None:
    """Fetch these orders from Shopify once the handler's transaction has committed."""
    read_after_commit(context, "refresh_orders", order_ids=list(order_ids))


def read_after_commit(context: WebhookContext, reader: str, **arguments: Any) -> None:
    """Run ``shop_app.mirror.read_back.<reader>(services, shop=…, **arguments)`` once the handler's
    transaction has committed (a read from Shopify of what the body cannot tell)."""
    services, shop = context.services, context.shop
    if services is None:
        raise RuntimeError("reading from Shopify needs the services in the webhook context")

    async def read() -> None:
        await getattr(read_back, reader)(services, shop=shop, **arguments)

    context.after_commit.append(read)


async def _note_webhook(context: WebhookContext) -> None:
    await note_webhooks(context.session, context.shop_id)


async def note_webhooks(session: AsyncSession, shop_id: int) -> None:
    """``SyncState.last_webhook_at`` for a shop whose webhooks were just applied."""
    now = utcnow()
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(SYNC_STATES).values(SyncState(shop_id=shop_id, last_webhook_at=now).model_dump())
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["shop_id"], set_={"last_webhook_at": statement.excluded.last_webhook_at}
        )
    )


async def handle_bulk_operations_finish(context: WebhookContext) -> None:
    """Wake the backfill waiting for this bulk operation here (one elsewhere notices at its next poll)."""
    operation = context.payload.get("admin_graphql_api_id")
    if isinstance(operation, str):
        bulk_backfill.notify_finished(operation)


HANDLERS: dict[str, Handler] = {
    "bulk_operations/finish": handle_bulk_operations_finish,
    "app/uninstalled": handle_app_uninstalled,
    "app/scopes_update": handle_app_scopes_update,
    "shop/update": handle_shop_update,
    "customers/data_request": handle_customers_data_request,
    "customers/redact": handle_customers_redact,
    "shop/redact": handle_shop_redact,
    **dict.fromkeys(ORDER_TOPICS, handle_order),
    "orders/cancelled": handle_orders_cancelled,
    **dict.fromkeys(FULFILLMENT_ORDER_TOPICS, handle_fulfillment_orders),
    "orders/edited": handle_orders_edited,
    "orders/delete": handle_orders_delete,
    "fulfillments/create": handle_fulfillment_create,
    "fulfillments/update": handle_fulfillment,
    "fulfillment_events/create": handle_fulfillment_events_create,
    "refunds/create": handle_refunds_create,
    "customers/create": handle_customer,
    "customers/update": handle_customer,
    "customers/delete": handle_customers_delete,
    "customers/merge": handle_customers_merge,
    "products/create": handle_product,
    "products/update": handle_product,
    "products/delete": handle_products_delete,
    "inventory_levels/update": handle_inventory_level,
    "inventory_levels/connect": handle_inventory_level,
    "inventory_levels/disconnect": handle_inventory_levels_disconnect,
    "inventory_items/update": handle_inventory_items_update,
    "inventory_items/delete": handle_inventory_items_delete,
}

# Topics that are processed even after the app was uninstalled from the shop.
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})

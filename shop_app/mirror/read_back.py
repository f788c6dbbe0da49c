"""Reads by id of what no webhook body carries: orders whole, an order's fulfillment orders, every quantity
of an inventory item, after a new shipment its order and the stock it moved, and the shop's policies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.graphql import document
from integrations.shopify.graphql_resources import Node, gid_for, id_from_gid
from integrations.shopify.resources import FulfillmentOrder
from shop_app.database import transaction
from shop_app.mirror import shop_details
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.resources import MirrorReader
from shop_app.mirror.sync_states import now_utc
from shop_app.models import Shop
from shop_app.runtime import admin_client

if TYPE_CHECKING:
    from shop_app.runtime import Services

ORDERS_BY_ID_BATCH = 8  # orders_by_id.graphql: 8 × 109 points
FULFILLMENT_ORDERS_BY_ID_BATCH = 10  # fulfillment_orders_by_id.graphql: 10 × 49 points
INVENTORY_ITEMS_BY_ID_BATCH = 25  # inventory_items_by_id.graphql: 25 × 33 points


async def nodes_by_id(
    client: AdminGraphQLClient, doc: str, gids: Sequence[str], *, per_request: int
) -> AsyncIterator[list[Node]]:
    """The nodes a ``nodes(ids:)`` document finds for these gids (each asked once), a request's at a time."""
    unique = list(dict.fromkeys(gids))
    for start in range(0, len(unique), per_request):
        result = await client.execute(document(doc), {"ids": unique[start : start + per_request]})
        # an id of another type, or of nothing, comes back as {} or null
        yield [n for n in result.data.get("nodes") or () if isinstance(n, Mapping) and n]


async def refresh_orders(services: Services, *, shop: Shop, order_ids: Sequence[int]) -> int:
    """Fetch these orders by id and upsert them; the number found in the shop."""
    assert shop.id is not None
    client = admin_client(services, shop)
    reader = MirrorReader(client)
    found = 0
    gids = [gid_for("Order", order_id) for order_id in order_ids]
    async for nodes in nodes_by_id(client, "orders_by_id", gids, per_request=ORDERS_BY_ID_BATCH):
        orders = [await reader.order(node) for node in nodes]
        if orders:
            async with transaction(services.sessions) as session:
                await mirror_writes.upsert_orders(
                    session, shop_id=shop.id, orders=orders, synced_at=now_utc(), authoritative=True
                )
        found += len(orders)
    return found


async def refresh_fulfillment_orders(services: Services, *, shop: Shop, gids: Sequence[str]) -> int:
    """Read the fulfillment orders of the orders these gids name (an order's, or one of its fulfillment
    orders') and replace the mirror's; an order not mirrored yet is read whole. The number of orders read."""
    assert shop.id is not None
    client = admin_client(services, shop)
    reader = MirrorReader(client)
    by_order: dict[int, list[FulfillmentOrder]] = {}
    pages = nodes_by_id(client, "fulfillment_orders_by_id", gids, per_request=FULFILLMENT_ORDERS_BY_ID_BATCH)
    async for nodes in pages:
        for node in nodes:
            order = node.get("order", node)  # named by one of its fulfillment orders, or itself
            if isinstance(order, Mapping) and order.get("id"):
                by_order[id_from_gid(order["id"])] = await reader.fulfillment_orders(order)
    if not by_order:
        return 0
    async with transaction(services.sessions) as session:
        unmirrored = await mirror_writes.replace_fulfillment_orders(
            session, shop_id=shop.id, by_order=by_order, synced_at=now_utc()
        )
    if unmirrored:
        await refresh_orders(services, shop=shop, order_ids=unmirrored)
    return len(by_order)


async def refresh_inventory_items(services: Services, *, shop: Shop, item_ids: Sequence[int]) -> int:
    """Read every quantity of these inventory items' levels and upsert them (webhooks carry only
    ``available``); the number of levels read."""
    assert shop.id is not None
    client = admin_client(services, shop)
    reader = MirrorReader(client)
    levels: list[Any] = []
    gids = [gid_for("InventoryItem", item_id) for item_id in item_ids]
    async for nodes in nodes_by_id(
        client, "inventory_items_by_id", gids, per_request=INVENTORY_ITEMS_BY_ID_BATCH
    ):
        levels.extend(await reader.convert("inventory", nodes))
    if levels:
        async with transaction(services.sessions) as session:
            await mirror_writes.upsert_inventory_levels(
                session, shop_id=shop.id, levels=levels, synced_at=now_utc(), authoritative=True
            )
    return len(levels)


async def refresh_shipment(
    services: Services, *, shop: Shop, order_id: int, line_item_ids: Sequence[int]
) -> None:
    """After a new shipment: its order whole (the first carrier event and the fulfillment orders come with
    no webhook), then the stock of what it shipped (on_hand and committed moved without one)."""
    assert shop.id is not None
    await refresh_orders(services, shop=shop, order_ids=[order_id])
    async with services.sessions() as session:
        item_ids = await mirror_writes.inventory_items_of_line_items(
            session, shop_id=shop.id, line_item_ids=line_item_ids
        )
    await refresh_inventory_items(services, shop=shop, item_ids=item_ids)


async def refresh_shop_policies(services: Services, *, shop: Shop) -> list[str] | None:
    """The shop's policies, after a ``shop/update`` (its body does not carry them)."""
    return await shop_details.refresh_shop_policies(services, shop=shop)

"""The mirrored resources: how each is paged from Admin GraphQL, read into resources (fetching the further
pages of nested connections) and written to the mirror."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.graphql import document
from integrations.shopify.graphql_resources import (
    Node,
    connection_nodes,
    has_next_page,
    id_from_gid,
    parse_customer,
    parse_fulfillment,
    parse_fulfillment_order,
    parse_inventory_level,
    parse_location,
    parse_order,
    parse_product,
)
from integrations.shopify.resources import Fulfillment, FulfillmentOrder, Order
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.upserts import UpsertResult

RESOURCES = ("locations", "products", "inventory", "customers", "orders")
BULK_RESOURCES = frozenset({"customers", "orders"})


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    document: str
    root: str
    page_size: int
    searchable: bool = True
    sort_key: str | None = "ID"
    reconcile_sort_key: str | None = "UPDATED_AT"
    total_field: str | None = None


SPECS: dict[str, ResourceSpec] = {
    "locations": ResourceSpec(
        "locations", "backfill_locations", "locations", 100, searchable=False, sort_key=None
    ),
    "products": ResourceSpec("products", "backfill_products", "products", 10, total_field="productsCount"),
    "inventory": ResourceSpec(
        "inventory",
        "backfill_inventory",
        "inventoryItems",
        25,
        sort_key=None,
        reconcile_sort_key=None,
        total_field="productVariantsCount",
    ),
    "customers": ResourceSpec(
        "customers", "backfill_customers", "customers", 100, total_field="customersCount"
    ),
    "orders": ResourceSpec("orders", "backfill_orders", "orders", 8, total_field="ordersCount"),
}


@dataclass(frozen=True, slots=True)
class Page:
    nodes: list[Node]
    has_next: bool
    end_cursor: str | None


async def fetch_page(
    client: AdminGraphQLClient,
    spec: ResourceSpec,
    *,
    after: str | None,
    query: str | None = None,
    sort_key: str | None = None,
    reverse: bool = False,
) -> Page:
    variables: dict[str, Any] = {"first": spec.page_size, "after": after}
    if reverse:
        variables["reverse"] = True
    if spec.searchable:
        variables["query"] = query
    if spec.sort_key is not None:
        variables["sortKey"] = sort_key or spec.sort_key
    result = await client.execute(document(spec.document), variables)
    connection = result.data.get(spec.root)
    has_next, end_cursor = has_next_page(connection)
    return Page(nodes=connection_nodes(connection) or [], has_next=has_next, end_cursor=end_cursor)


async def fetch_totals(client: AdminGraphQLClient) -> dict[str, int | None]:
    result = await client.execute(document("sync_totals"))
    totals: dict[str, int | None] = {}
    for name, spec in SPECS.items():
        entry = result.data.get(spec.total_field) if spec.total_field else None
        totals[name] = int(entry["count"]) if isinstance(entry, Mapping) and "count" in entry else None
    return totals


class MirrorReader:
    """GraphQL nodes → resources, fetching the further pages of any nested connection that has more."""

    def __init__(self, client: AdminGraphQLClient) -> None:
        self.client = client

    async def _rest(self, connection: object, *, doc: str, owner_gid: str, root: str, key: str) -> list[Node]:
        nodes = list(connection_nodes(connection) or [])
        more, cursor = has_next_page(connection)
        while more:
            result = await self.client.execute(document(doc), {"id": owner_gid, "after": cursor})
            holder = result.data.get(root)
            page = holder.get(key) if isinstance(holder, Mapping) else None
            nodes.extend(connection_nodes(page) or [])
            more, cursor = has_next_page(page)
        return nodes

    async def order(self, node: Node) -> Order:
        order_gid = str(node["id"])
        shopify_id = id_from_gid(order_gid)
        line_items = await self._rest(
            node.get("lineItems"),
            doc="order_line_items_page",
            owner_gid=order_gid,
            root="node",
            key="lineItems",
        )
        fulfillments: list[Fulfillment] = []
        for f in node.get("fulfillments") or ():
            events = await self._rest(
                f.get("events"), doc="fulfillment_events_page", owner_gid=f["id"], root="node", key="events"
            )
            lines = await self._rest(
                f.get("fulfillmentLineItems"),
                doc="fulfillment_line_items_page",
                owner_gid=f["id"],
                root="node",
                key="fulfillmentLineItems",
            )
            fulfillments.append(parse_fulfillment(f, order_shopify_id=shopify_id, events=events, lines=lines))
        return parse_order(
            node,
            line_items=line_items,
            fulfillments=fulfillments,
            fulfillment_orders=await self.fulfillment_orders(node),
        )

    async def fulfillment_orders(self, order_node: Node) -> list[FulfillmentOrder]:
        """An order node's fulfillment orders (``OrderFulfillmentOrders``), every page of them."""
        fulfillment_order_nodes = await self._rest(
            order_node.get("fulfillmentOrders"),
            doc="order_fulfillment_orders_page",
            owner_gid=str(order_node["id"]),
            root="node",
            key="fulfillmentOrders",
        )
        fulfillment_orders: list[FulfillmentOrder] = []
        for fo in fulfillment_order_nodes:
            fo_lines = await self._rest(
                fo.get("lineItems"),
                doc="fulfillment_order_line_items_page",
                owner_gid=fo["id"],
                root="node",
                key="lineItems",
            )
            fulfillment_orders.append(parse_fulfillment_order(fo, lines=fo_lines))
        return fulfillment_orders

    async def convert(self, name: str, nodes: Sequence[Node]) -> list[Any]:
        if name == "orders":
            return [await self.order(node) for node in nodes]
        if name == "customers":
            return [parse_customer(node) for node in nodes]
        if name == "locations":
            return [parse_location(node) for node in nodes]
        if name == "products":
            products = []
            for node in nodes:
                variants = await self._rest(
                    node.get("variants"),
                    doc="product_variants_page",
                    owner_gid=str(node["id"]),
                    root="product",
                    key="variants",
                )
                products.append(parse_product(node, variants=variants))
            return products
        if name == "inventory":
            levels: list[Any] = []
            for node in nodes:
                item_id = id_from_gid(node.get("id"))
                level_nodes = await self._rest(
                    node.get("inventoryLevels"),
                    doc="inventory_levels_page",
                    owner_gid=str(node["id"]),
                    root="inventoryItem",
                    key="inventoryLevels",
                )
                levels.extend(
                    parse_inventory_level(n, inventory_item_shopify_id=item_id) for n in level_nodes
                )
            return levels
        raise ValueError(f"unknown resource {name}")


Writer = Callable[[AsyncSession], Awaitable[UpsertResult]]


def writer_for(name: str, *, shop_id: int, items: Sequence[Any], synced_at: datetime) -> Writer:
    async def write(session: AsyncSession) -> UpsertResult:
        if not items:
            return UpsertResult()
        if name == "orders":
            return await mirror_writes.upsert_orders(
                session, shop_id=shop_id, orders=items, synced_at=synced_at, authoritative=True
            )
        if name == "customers":
            return await mirror_writes.upsert_customers(
                session, shop_id=shop_id, customers=items, synced_at=synced_at, authoritative=True
            )
        if name == "products":
            return await mirror_writes.upsert_products(
                session, shop_id=shop_id, products=items, synced_at=synced_at, authoritative=True
            )
        if name == "locations":
            return await mirror_writes.upsert_locations(
                session, shop_id=shop_id, locations=items, synced_at=synced_at, authoritative=True
            )
        if name == "inventory":
            return await mirror_writes.upsert_inventory_levels(
                session, shop_id=shop_id, levels=items, synced_at=synced_at, authoritative=True
            )
        if name == "fulfillment_orders":  # (order id, fulfillment orders) pairs, after a bulk of orders
            # an order placed after the orders operation began is not mirrored yet: the sweep brings it
            await mirror_writes.replace_fulfillment_orders(
                session, shop_id=shop_id, by_order=dict(items), synced_at=synced_at
            )
            return UpsertResult(updated=len(items))
        raise ValueError(f"unknown resource {name}")

    return write

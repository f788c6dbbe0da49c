"""Backfill: copy a shop's locations, catalogue, stock, customers and orders into the mirror.

Pages of Admin GraphQL (sorted by id, so records changing during the run do not move) are turned into
resources and upserted; each page's upserts and its checkpoint (cursor and counts) commit in one
transaction under the shop's sync lease, so a process killed anywhere resumes from the last committed page
with no gap and no duplicate. Large resources go through a bulk operation instead (``bulk_backfill``).
The client paces itself from ``throttleStatus`` and retries THROTTLED, 429, 5xx, timeouts and dropped
connections; a page that still fails leaves the checkpoint where it was and is recorded as
``last_error``. Whatever changed behind a page already copied is caught by reconciliation, whose watermark
starts at the backfill's start.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.graphql import document
from integrations.shopify.graphql_resources import (
    Node,
    connection_nodes,
    gid_for,
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
from shop_app.database import transaction
from shop_app.models import Shop, SyncState
from shop_app.services import mirror_writes
from shop_app.services.mirror_writes import UpsertResult
from shop_app.services.shop_details import refresh_shop_details
from shop_app.services.sync_states import (
    LEASE_RENEW_SECONDS,
    LeaseLost,
    Phase,
    get_sync_state,
    new_owner,
    now_utc,
    release_lease,
    renew_lease,
    save_under_lease,
    take_lease,
)
from shop_app.services.ticket_links import link_waiting_after_sync
from shop_app.services.webhook_subscriptions import admin_client

if TYPE_CHECKING:
    from shop_app.jobs.services import Services

logger = logging.getLogger(__name__)

RESOURCES = ("locations", "products", "inventory", "customers", "orders")
BULK_RESOURCES = frozenset({"customers", "orders"})
ORDERS_BY_ID_BATCH = 8  # orders_by_id.graphql: 8 × 109 points
FULFILLMENT_ORDERS_BY_ID_BATCH = 10  # fulfillment_orders_by_id.graphql: 10 × 49 points
INVENTORY_ITEMS_BY_ID_BATCH = 25  # inventory_items_by_id.graphql: 25 × 33 points
MAX_ERROR_LENGTH = 500


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
) -> Page:
    variables: dict[str, Any] = {"first": spec.page_size, "after": after}
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


class SyncRun:
    """One process's run of a shop's sync under its lease: the checkpoints and progress it commits."""

    def __init__(self, services: Services, *, shop: Shop, owner: str, state: SyncState) -> None:
        assert shop.id is not None
        self.services = services
        self.shop = shop
        self.shop_id: int = shop.id
        self.owner = owner
        self.client = admin_client(services, shop)
        self.reader = MirrorReader(self.client)
        self.checkpoints: dict[str, Any] = copy.deepcopy(state.checkpoints or {})
        self.progress: dict[str, Any] = copy.deepcopy(state.progress or {})
        self._clock = time.monotonic
        self._started = self._clock()
        self._done_at_start = 0

    def entry(self, name: str) -> dict[str, Any]:
        resources = self.checkpoints.setdefault("resources", {})
        entry: dict[str, Any] = resources.setdefault(
            name, {"cursor": None, "done": 0, "complete": False, "mode": "pages"}
        )
        return entry

    def start_rate(self) -> None:
        self._started = self._clock()
        self._done_at_start = self._done()

    def _done(self) -> int:
        return sum(int(e.get("done", 0)) for e in (self.checkpoints.get("resources") or {}).values())

    def _progress_with(self, checkpoints: Mapping[str, Any]) -> dict[str, Any]:
        progress = copy.deepcopy(self.progress)
        shown = progress.setdefault("resources", {})
        for name, entry in (checkpoints.get("resources") or {}).items():
            total = shown.get(name, {}).get("total")
            done = int(entry.get("done", 0))
            if entry.get("complete") or (total is not None and done > total):
                total = done
            shown[name] = {"done": done, "total": total, "mode": entry.get("mode", "pages")}
        done_now = sum(int(e.get("done", 0)) for e in (checkpoints.get("resources") or {}).values())
        elapsed = max(self._clock() - self._started, 1e-6)
        rate = (done_now - self._done_at_start) / elapsed
        remaining = sum(
            max(0, int(s["total"]) - int(s["done"])) for s in shown.values() if s.get("total") is not None
        )
        progress["rate_per_second"] = round(rate, 2)
        progress["eta_seconds"] = round(remaining / rate, 1) if rate > 0 else None
        return progress

    async def save(self, **values: Any) -> None:
        async with transaction(self.services.sessions) as session:
            await save_under_lease(session, shop_id=self.shop_id, owner=self.owner, **values)

    async def commit(
        self, name: str, write: Writer | None, *, added: int, complete: bool, **entry_values: Any
    ) -> UpsertResult:
        """Upsert a page and move its checkpoint, in one transaction, if this run still holds the lease."""
        checkpoints = copy.deepcopy(self.checkpoints)
        entry = checkpoints.setdefault("resources", {}).setdefault(name, {})
        entry.update(entry_values)
        entry["done"] = int(entry.get("done", 0)) + added
        entry["complete"] = complete
        progress = self._progress_with(checkpoints)
        result = UpsertResult()
        async with transaction(self.services.sessions) as session:
            if write is not None:
                result = await write(session)
            await save_under_lease(
                session, shop_id=self.shop_id, owner=self.owner, checkpoints=checkpoints, progress=progress
            )
        self.checkpoints, self.progress = checkpoints, progress
        return result

    async def set_totals(self, totals: Mapping[str, int | None]) -> None:
        shown = self.progress.setdefault("resources", {})
        for name in RESOURCES:
            entry = self.entry(name)
            shown[name] = {
                "done": int(entry.get("done", 0)),
                "total": int(entry["done"]) if entry.get("complete") else totals.get(name),
                "mode": entry.get("mode", "pages"),
            }
        await self.save(progress=self.progress, checkpoints=self.checkpoints)


async def page_resource(run: SyncRun, name: str) -> None:
    spec = SPECS[name]
    cursor = run.entry(name).get("cursor")
    while True:
        page = await fetch_page(run.client, spec, after=cursor)
        items = await run.reader.convert(name, page.nodes)
        write = writer_for(name, shop_id=run.shop_id, items=items, synced_at=now_utc())
        await run.commit(
            name,
            write,
            added=len(page.nodes),
            complete=not page.has_next,
            cursor=page.end_cursor or cursor,
            mode="pages",
        )
        if not page.has_next:
            return
        cursor = page.end_cursor


def choose_mode(services: Services, name: str, total: int | None) -> str:
    if name not in BULK_RESOURCES:
        return "pages"
    threshold = services.settings.sync_bulk_threshold
    return "bulk" if total is not None and total >= threshold else "pages"


async def _backfill_under_lease(run: SyncRun, *, full: bool) -> None:
    from shop_app.services.bulk_backfill import FOLLOW_UPS, bulk_resource

    started = now_utc()
    previous = run.checkpoints.get("run") or {}
    # A killed --full run resumes as itself; a new --full run (or one after a finished run) starts over.
    if not previous or run.checkpoints.get("completed_at") or (full and not previous.get("full")):
        run.checkpoints = {"run": {"started_at": started.isoformat(), "full": full}, "resources": {}}
        run.progress = {"resources": {}}
        await run.save(
            phase=Phase.BACKFILLING.value,
            started_at=started,
            finished_at=None,
            last_error=None,
            checkpoints=run.checkpoints,
            progress=run.progress,
        )
    else:
        await run.save(phase=Phase.BACKFILLING.value, last_error=None)
    totals = await fetch_totals(run.client)
    await run.set_totals(totals)
    run.start_rate()
    for name in RESOURCES:
        entry = run.entry(name)
        if not entry.get("complete"):
            if entry.get("done", 0) == 0 and not entry.get("bulk_id"):
                entry["mode"] = choose_mode(run.services, name, totals.get(name))
            if entry.get("mode") == "bulk":
                await run.save(phase=Phase.BULK.value)
                await bulk_resource(run, name)
                await run.save(phase=Phase.BACKFILLING.value)
            else:
                await page_resource(run, name)
        if run.entry(name).get("mode") != "bulk":
            continue
        for follow_up in FOLLOW_UPS.get(name, ()):
            if not run.entry(follow_up).get("complete"):
                run.entry(follow_up)["mode"] = "bulk"
                shown = run.progress.setdefault("resources", {})
                shown[follow_up] = {**shown.get(follow_up, {}), "total": run.entry(name).get("done")}
                await run.save(phase=Phase.BULK.value)
                await bulk_resource(run, follow_up)
                await run.save(phase=Phase.BACKFILLING.value)
    run_started = str(run.checkpoints["run"]["started_at"])
    finished = now_utc()
    checkpoints = {**run.checkpoints, "completed_at": finished.isoformat()}
    async with run.services.sessions() as session:
        state = await get_sync_state(session, shop_id=run.shop_id)
    watermarks = dict(state.watermarks or {}) if state is not None else {}
    watermarks.update(dict.fromkeys(RESOURCES, run_started))
    await run.save(
        phase=Phase.IDLE.value,
        finished_at=finished,
        checkpoints=checkpoints,
        watermarks=watermarks,
        progress=run._progress_with(checkpoints),
    )
    run.checkpoints = checkpoints
    logger.info(
        "backfill complete shop=%s cost=%.0f requests=%s throttled=%s",
        run.shop.domain,
        run.client.total_cost_charged,
        run.client.requests,
        run.client.throttled_count,
    )


async def _heartbeat(services: Services, *, shop_id: int, owner: str) -> None:
    while True:
        await asyncio.sleep(LEASE_RENEW_SECONDS)
        try:
            if not await renew_lease(services.sessions, shop_id=shop_id, owner=owner):
                return
        except Exception:  # a missed renewal is retried; the lease outlives several of them
            logger.warning("sync lease renewal failed shop_id=%s", shop_id, exc_info=True)


async def _record_failure(run: SyncRun, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
    with contextlib.suppress(LeaseLost):
        await run.save(phase=Phase.FAILED.value, last_error=message)


async def _load_shop(services: Services, shop_id: int) -> Shop | None:
    async with services.sessions() as session:
        shop = await session.get(Shop, shop_id)
    return shop if shop is not None and shop.is_active else None


Body = Callable[[SyncRun], Awaitable[Any]]


async def run_under_lease(services: Services, *, shop_id: int, body: Body, what: str) -> tuple[bool, Any]:
    """Run ``body`` holding the shop's sync lease; (False, None) when another process holds it."""
    shop = await _load_shop(services, shop_id)
    if shop is None:
        return False, None
    owner = new_owner()
    if not await take_lease(services.sessions, shop_id=shop_id, owner=owner):
        logger.info("%s skipped: another sync holds the lease shop=%s", what, shop.domain)
        return False, None
    heartbeat = asyncio.create_task(_heartbeat(services, shop_id=shop_id, owner=owner))
    try:
        async with services.sessions() as session:
            state = await get_sync_state(session, shop_id=shop_id)
        assert state is not None
        run = SyncRun(services, shop=shop, owner=owner, state=state)
        try:
            return True, await body(run)
        except LeaseLost:
            logger.warning("%s stopped: the sync lease was lost shop=%s", what, shop.domain)
            return False, None
        except Exception as error:
            logger.warning("%s failed shop=%s error=%s", what, shop.domain, type(error).__name__)
            await _record_failure(run, error)
            raise
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        await release_lease(services.sessions, shop_id=shop_id, owner=owner)


async def backfill_shop(services: Services, *, shop_id: int, full: bool = False) -> None:
    """Copy the whole shop into the mirror, resuming a killed run; ``full`` starts over. A shop whose
    backfill is complete is left as it is (reconciliation keeps it fresh) unless ``full``. Every run first
    reads the shop's own settings (name, country, currency, time zone, locale)."""

    async def body(run: SyncRun) -> None:
        await refresh_shop_details(run.services, shop=run.shop, client=run.client)
        if run.checkpoints.get("completed_at") and not full:
            return
        await _backfill_under_lease(run, full=full)
        await link_waiting_after_sync(run.services, shop=run.shop)

    await run_under_lease(services, shop_id=shop_id, body=body, what="backfill")


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

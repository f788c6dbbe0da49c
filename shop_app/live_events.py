"""Live events: what changed, published once and delivered to every open console of the shop.

``InProcessBus`` serves the embedded default (one process). On PostgreSQL every process publishes with
``NOTIFY`` and listens with ``LISTEN`` (``PostgresBus``), so a webhook applied by a worker on one machine
reaches consoles connected to an app process on another. A worker only publishes: it opens no ``LISTEN``
connection.

Event kinds and their data (ids only, never personal data or message bodies; mirror ids are Shopify ids):
- ``ticket.created`` / ``ticket.updated``: ``ticket_id``
- ``message.created`` / ``message.updated`` (its text changed: unsent on LINE): ``ticket_id``, ``message_id``
- ``orders.changed``: ``customer_ids``, ``order_ids`` (orders, fulfillments, refunds)
- ``customers.changed``: ``customer_ids``
- ``stock.changed``: ``variant_ids``, ``inventory_item_ids``

A notification carries at most ``MAX_NOTIFY_PAYLOAD_BYTES``: a larger event is split into several, each
with a share of every id list. Live events are hints for consoles to refetch, not a log: an event
published while a listener reconnects is lost (the console's next refetch shows the change).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import psycopg
from psycopg import sql
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from shop_app.models import Order, Product, ProductVariant

logger = logging.getLogger(__name__)

SUBSCRIBER_BUFFER = 256
LIVE_EVENTS_CHANNEL = "shop_app_live_events"
LISTENER_APPLICATION_NAME = "shop_app_live_events"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; keep a margin.
MAX_NOTIFY_PAYLOAD_BYTES = 7900
LISTEN_HEALTH_CHECK_SECONDS = 10.0
LISTEN_READY_WAIT_SECONDS = 5.0
RECONNECT_FIRST_DELAY_SECONDS = 0.2
RECONNECT_MAX_DELAY_SECONDS = 30.0
LOOKUP_CHUNK = 500


class EventKind(StrEnum):
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    MESSAGE_CREATED = "message.created"
    MESSAGE_UPDATED = "message.updated"
    ORDERS_CHANGED = "orders.changed"
    CUSTOMERS_CHANGED = "customers.changed"
    STOCK_CHANGED = "stock.changed"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    shop_id: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: LiveEvent) -> None: ...

    def subscribe(self, shop_id: int) -> AbstractAsyncContextManager[asyncio.Queue[LiveEvent]]: ...


class Fanout:
    """Per-shop subscriber queues in this process. A subscriber too slow to keep up loses its oldest
    events rather than holding up the others (a console refetches on reconnect anyway)."""

    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[LiveEvent]]] = {}

    def deliver(self, event: LiveEvent) -> None:
        for queue in self._queues.get(event.shop_id, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    def subscriber_count(self, shop_id: int) -> int:
        return len(self._queues.get(shop_id, ()))

    @asynccontextmanager
    async def subscribe(self, shop_id: int) -> AsyncIterator[asyncio.Queue[LiveEvent]]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)
        self._queues.setdefault(shop_id, set()).add(queue)
        try:
            yield queue
        finally:
            queues = self._queues.get(shop_id)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._queues[shop_id]


class InProcessBus:
    def __init__(self) -> None:
        self._fanout = Fanout()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, event: LiveEvent) -> None:
        self._fanout.deliver(event)

    def subscribe(self, shop_id: int) -> AbstractAsyncContextManager[asyncio.Queue[LiveEvent]]:
        return self._fanout.subscribe(shop_id)

    def subscriber_count(self, shop_id: int) -> int:
        return self._fanout.subscriber_count(shop_id)


# The wire format of a notification -----------------------------------------------------------------


class EventTooLarge(ValueError):
    """An event over the notification limit with no id list left to split."""


def encode_event(event: LiveEvent) -> str:
    return json.dumps(
        {"shop_id": event.shop_id, "kind": event.kind, "data": event.data}, separators=(",", ":")
    )


def decode_event(payload: str) -> LiveEvent | None:
    """The event of a notification; None (logged) for anything not written by ``encode_event``."""
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = None
    if (
        not isinstance(parsed, dict)
        or type(parsed.get("shop_id")) is not int
        or not isinstance(parsed.get("kind"), str)
        or not isinstance(parsed.get("data"), dict)
    ):
        logger.warning("live event notification ignored: not an event bytes=%s", len(payload))
        return None
    return LiveEvent(shop_id=parsed["shop_id"], kind=parsed["kind"], data=parsed["data"])


def split_event(event: LiveEvent, *, max_bytes: int = MAX_NOTIFY_PAYLOAD_BYTES) -> list[LiveEvent]:
    """The event as notifications of at most ``max_bytes`` each: every id list halved until each part
    fits (other values are repeated in every part)."""
    if len(encode_event(event).encode()) <= max_bytes:
        return [event]
    lists = {key: value for key, value in event.data.items() if isinstance(value, list) and len(value) > 1}
    if not lists:
        raise EventTooLarge(f"{event.kind} event over {max_bytes} bytes with no id list to split")
    first = {**event.data, **{key: value[: len(value) // 2] for key, value in lists.items()}}
    second = {**event.data, **{key: value[len(value) // 2 :] for key, value in lists.items()}}
    return [
        *split_event(LiveEvent(event.shop_id, event.kind, first), max_bytes=max_bytes),
        *split_event(LiveEvent(event.shop_id, event.kind, second), max_bytes=max_bytes),
    ]


# PostgreSQL ----------------------------------------------------------------------------------------


def listen_conninfo(engine: AsyncEngine) -> str:
    """The libpq URI of the engine's database (``postgresql+psycopg://…`` → ``postgresql://…``)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBus:
    """Publishes with ``pg_notify`` on the app's pool; with ``listen`` also keeps one dedicated psycopg
    connection that ``LISTEN``s, reconnecting with backoff when it drops, and delivers every event into
    this process's subscribers (its own notifications included: publishing never delivers directly)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        listen: bool = True,
        channel: str = LIVE_EVENTS_CHANNEL,
        health_check_seconds: float = LISTEN_HEALTH_CHECK_SECONDS,
    ) -> None:
        self._engine = engine
        self._listen = listen
        self._channel = channel
        self._health_check_seconds = health_check_seconds
        self._fanout = Fanout()
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.reconnects = 0

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self) -> None:
        if not self._listen or self._listener is not None:
            return
        self._listener = asyncio.create_task(self._listen_forever(), name="live-events-listener")
        # Subscribers get what is published from here on; a database not up yet is retried behind.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout=LISTEN_READY_WAIT_SECONDS)

    async def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def publish(self, event: LiveEvent) -> None:
        payloads = [encode_event(part) for part in split_event(event)]
        async with self._engine.connect() as connection:
            for payload in payloads:
                await connection.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": self._channel, "payload": payload},
                )
            await connection.commit()

    def subscribe(self, shop_id: int) -> AbstractAsyncContextManager[asyncio.Queue[LiveEvent]]:
        return self._fanout.subscribe(shop_id)

    def subscriber_count(self, shop_id: int) -> int:
        return self._fanout.subscriber_count(shop_id)

    async def until_listening(self) -> None:
        await self._listening.wait()

    async def _listen_forever(self) -> None:
        delay = RECONNECT_FIRST_DELAY_SECONDS
        while True:
            try:
                await self._listen_once()
            except (psycopg.Error, OSError) as error:
                self._listening.clear()
                self.reconnects += 1
                logger.warning(
                    "live events listener lost error=%s retry_in=%.1fs", type(error).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY_SECONDS)
                continue
            delay = RECONNECT_FIRST_DELAY_SECONDS

    async def _listen_once(self) -> None:
        connection = await psycopg.AsyncConnection.connect(
            listen_conninfo(self._engine), autocommit=True, application_name=LISTENER_APPLICATION_NAME
        )
        try:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._listening.set()
            logger.info("live events listening channel=%s", self._channel)
            while True:
                async for notify in connection.notifies(timeout=self._health_check_seconds):
                    event = decode_event(notify.payload)
                    if event is not None:
                        self._fanout.deliver(event)
                # a quiet spell: make sure the connection is still alive (a dead peer sends no error)
                await connection.execute("SELECT 1")
        finally:
            self._listening.clear()
            with contextlib.suppress(psycopg.Error, OSError):
                await connection.close()


# What changed in the mirror ------------------------------------------------------------------------


@dataclass(slots=True)
class _ShopChanges:
    order_ids: set[int] = field(default_factory=set)
    order_customer_ids: set[int] = field(default_factory=set)
    customer_ids: set[int] = field(default_factory=set)
    variant_ids: set[int] = field(default_factory=set)
    inventory_item_ids: set[int] = field(default_factory=set)
    product_ids: set[int] = field(default_factory=set)  # only to find their variants


@dataclass(slots=True)
class MirrorLinks:
    """What the mirror says Shopify ids belong to: each order's customer, each product's variants, each
    variant's inventory item. Read before a change (a deleted order still names its customer) and after
    it (a new order names its customer), and merged."""

    customer_of_order: dict[tuple[int, int], int] = field(default_factory=dict)
    variants_of_product: dict[tuple[int, int], set[tuple[int, int | None]]] = field(default_factory=dict)
    variant_items: set[tuple[int, int, int | None]] = field(default_factory=set)  # shop, variant, item

    def update(self, other: MirrorLinks) -> None:
        self.customer_of_order.update(other.customer_of_order)
        for key, variants in other.variants_of_product.items():
            self.variants_of_product.setdefault(key, set()).update(variants)
        self.variant_items |= other.variant_items


class ChangeSet:
    """Shopify ids that changed, per shop, gathered while work runs and turned into one event per kind
    and shop once it has committed: ``orders.changed`` (with the orders' customers), ``customers.changed``
    and ``stock.changed`` (variants with their inventory items, products as their variants)."""

    def __init__(self) -> None:
        self._shops: dict[int, _ShopChanges] = {}

    def _shop(self, shop_id: int) -> _ShopChanges:
        return self._shops.setdefault(shop_id, _ShopChanges())

    def __bool__(self) -> bool:
        return any(
            c.order_ids or c.customer_ids or c.variant_ids or c.inventory_item_ids or c.product_ids
            for c in self._shops.values()
        )

    @property
    def shop_ids(self) -> list[int]:
        return sorted(self._shops)

    def orders(self, shop_id: int, *, order_ids: Iterable[int], customer_ids: Iterable[int] = ()) -> None:
        changes = self._shop(shop_id)
        changes.order_ids.update(order_ids)
        changes.order_customer_ids.update(customer_ids)

    def customers(self, shop_id: int, *, customer_ids: Iterable[int]) -> None:
        self._shop(shop_id).customer_ids.update(customer_ids)

    def stock(
        self,
        shop_id: int,
        *,
        variant_ids: Iterable[int] = (),
        inventory_item_ids: Iterable[int] = (),
        product_ids: Iterable[int] = (),
    ) -> None:
        changes = self._shop(shop_id)
        changes.variant_ids.update(variant_ids)
        changes.inventory_item_ids.update(inventory_item_ids)
        changes.product_ids.update(product_ids)

    def stock_items(self) -> dict[int, set[int]]:
        """The inventory items whose stock changed, per shop."""
        return {
            shop_id: set(c.inventory_item_ids) for shop_id, c in self._shops.items() if c.inventory_item_ids
        }

    def merge(self, other: ChangeSet) -> None:
        for shop_id, theirs in other._shops.items():
            mine = self._shop(shop_id)
            mine.order_ids |= theirs.order_ids
            mine.order_customer_ids |= theirs.order_customer_ids
            mine.customer_ids |= theirs.customer_ids
            mine.variant_ids |= theirs.variant_ids
            mine.inventory_item_ids |= theirs.inventory_item_ids
            mine.product_ids |= theirs.product_ids

    def completed(self, links: MirrorLinks) -> ChangeSet:
        """These changes with what the links add: orders' customers, products' and items' variants."""
        result = ChangeSet()
        result.merge(self)
        for shop_id, changes in result._shops.items():
            for order_id in changes.order_ids:
                customer_id = links.customer_of_order.get((shop_id, order_id))
                if customer_id is not None:
                    changes.order_customer_ids.add(customer_id)
            for product_id in changes.product_ids:
                for variant_id, item_id in links.variants_of_product.get((shop_id, product_id), ()):
                    changes.variant_ids.add(variant_id)
                    if item_id is not None:
                        changes.inventory_item_ids.add(item_id)
            for link_shop, variant_id, item_id in links.variant_items:
                if link_shop != shop_id or item_id is None:
                    continue
                if item_id in changes.inventory_item_ids:
                    changes.variant_ids.add(variant_id)
                elif variant_id in changes.variant_ids:
                    changes.inventory_item_ids.add(item_id)
        return result

    def events(self) -> list[LiveEvent]:
        events: list[LiveEvent] = []
        for shop_id in sorted(self._shops):
            changes = self._shops[shop_id]
            if changes.order_ids:
                events.append(
                    LiveEvent(
                        shop_id,
                        EventKind.ORDERS_CHANGED,
                        {
                            "customer_ids": sorted(changes.order_customer_ids),
                            "order_ids": sorted(changes.order_ids),
                        },
                    )
                )
            if changes.customer_ids:
                events.append(
                    LiveEvent(
                        shop_id, EventKind.CUSTOMERS_CHANGED, {"customer_ids": sorted(changes.customer_ids)}
                    )
                )
            if changes.variant_ids or changes.inventory_item_ids:
                events.append(
                    LiveEvent(
                        shop_id,
                        EventKind.STOCK_CHANGED,
                        {
                            "variant_ids": sorted(changes.variant_ids),
                            "inventory_item_ids": sorted(changes.inventory_item_ids),
                        },
                    )
                )
        return events

    async def read_links(self, session: AsyncSession) -> MirrorLinks:
        """What the mirror says these ids belong to, as it stands in ``session`` (indexed lookups, a
        statement per kind and ``LOOKUP_CHUNK`` ids)."""
        links = MirrorLinks()
        for shop_id, changes in self._shops.items():
            for chunk in _chunks(changes.order_ids):
                rows = await session.execute(
                    select(col(Order.shopify_id), col(Order.customer_shopify_id)).where(
                        col(Order.shop_id) == shop_id, col(Order.shopify_id).in_(chunk)
                    )
                )
                for order_id, customer_id in rows:
                    if customer_id is not None:
                        links.customer_of_order[(shop_id, order_id)] = customer_id
            wanted = (
                (col(Product.shopify_id), changes.product_ids),
                (col(ProductVariant.shopify_id), changes.variant_ids),
                (col(ProductVariant.inventory_item_shopify_id), changes.inventory_item_ids),
            )
            for column, ids in wanted:
                for chunk in _chunks(ids):
                    variants = await session.execute(
                        select(
                            col(ProductVariant.shopify_id),
                            col(ProductVariant.inventory_item_shopify_id),
                            col(Product.shopify_id),
                        )
                        .join(Product, col(Product.id) == col(ProductVariant.product_id))
                        .where(col(ProductVariant.shop_id) == shop_id, column.in_(chunk))
                    )
                    for variant_id, item_id, product_id in variants:
                        links.variants_of_product.setdefault((shop_id, product_id), set()).add(
                            (variant_id, item_id)
                        )
                        links.variant_items.add((shop_id, variant_id, item_id))
        return links


def _chunks(ids: set[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        yield ordered[start : start + LOOKUP_CHUNK]


async def publish_changes(bus: EventBus, changes: ChangeSet) -> int:
    """Publish one event per kind and shop; the number published. Call only after the changes have
    committed. A failure is logged, not raised: the work is done, and a live event is only a hint for
    consoles (which refetch on reconnect)."""
    published = 0
    for event in changes.events():
        try:
            await bus.publish(event)
        except Exception as error:
            logger.warning(
                "live event not published kind=%s shop_id=%s error=%s",
                event.kind,
                event.shop_id,
                type(error).__name__,
            )
            continue
        published += 1
    return published

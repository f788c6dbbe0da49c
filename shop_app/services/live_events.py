"""Live events: what changed, published once and delivered to every open console of the shop.

``InProcessBus`` serves the embedded default (one process). On PostgreSQL every process publishes with
``NOTIFY`` and listens with ``LISTEN`` (``PostgresBus``), so a webhook applied by a worker on one machine
reaches consoles connected to an app process on another.

Event kinds and their data (ids only, never personal data or message bodies):
- ``ticket.created`` / ``ticket.updated``: ``ticket_id``
- ``message.created``: ``ticket_id``, ``message_id``
- ``orders.changed``: ``customer_ids``, ``order_ids`` (orders, fulfillments, refunds)
- ``customers.changed``: ``customer_ids``
- ``stock.changed``: ``variant_ids``, ``inventory_item_ids``
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

logger = logging.getLogger(__name__)

SUBSCRIBER_BUFFER = 256


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

"""A short-lived, per-process cache of shop domain → (id, status) for the webhook hot path.

Webhooks arrive by the thousand for a handful of shops; looking each shop up again costs more than the
rest of the request. Entries live ``ttl_seconds`` (a status change reaches every process within that),
and a shop this process changes is forgotten at once.

One lookup per domain is in flight at a time: the requests that miss together share it (at 64 concurrent
webhooks an expiry used to send 64 identical SELECTs, each waiting for a pooled connection). An entry in
the last ``REFRESH_AHEAD`` of its life is served while one background lookup renews it, so a steady
stream of webhooks never waits for the database here; an expired entry is never served.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from shop_app.database import SessionFactory
from shop_app.models import ShopStatus
from shop_app.shops.installation import get_shop

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 2.0
REFRESH_AHEAD = 0.5  # share of the TTL, at its end, during which a hit also starts a renewal
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class ShopRef:
    id: int
    domain: str
    status: ShopStatus


class ShopDirectory:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, ShopRef | None]] = {}
        self._lookups: dict[str, asyncio.Task[ShopRef | None]] = {}
        self._forgotten = 0  # how many times a shop was forgotten: a read that saw one since keeps nothing

    async def find(self, domain: str) -> ShopRef | None:
        now = self._clock()
        cached = self._entries.get(domain)
        if cached is not None and cached[0] > now:
            if cached[0] - now < self._ttl * REFRESH_AHEAD and domain not in self._lookups:
                renewal = self._lookup(domain)
                renewal.add_done_callback(_ignore_failure)
            return cached[1]
        return await asyncio.shield(self._lookups.get(domain) or self._lookup(domain))

    def _lookup(self, domain: str) -> asyncio.Task[ShopRef | None]:
        task = asyncio.get_running_loop().create_task(self._read(domain), name="shop-directory-lookup")
        self._lookups[domain] = task

        def done(finished: asyncio.Task[ShopRef | None]) -> None:
            if self._lookups.get(domain) is finished:
                del self._lookups[domain]

        task.add_done_callback(done)
        return task

    async def _read(self, domain: str) -> ShopRef | None:
        started, forgotten = self._clock(), self._forgotten
        async with self._sessions() as session:
            shop = await get_shop(session, domain)
        ref = (
            None
            if shop is None or shop.id is None
            else ShopRef(shop.id, shop.domain, ShopStatus(shop.status))
        )
        if self._forgotten != forgotten:
            return ref  # forgotten while this read ran: answer it, but do not keep what may be stale
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[domain] = (started + self._ttl, ref)
        return ref

    def forget(self, domain: str) -> None:
        self._entries.pop(domain, None)
        self._lookups.pop(domain, None)  # the next find reads again, after this change
        self._forgotten += 1


def _ignore_failure(task: asyncio.Task[ShopRef | None]) -> None:
    """A renewal ahead of expiry that failed: the entry expires and the next request reads again."""
    if not task.cancelled() and task.exception() is not None:
        logger.warning("shop lookup ahead of expiry failed error=%s", type(task.exception()).__name__)

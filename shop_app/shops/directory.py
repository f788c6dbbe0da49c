"""A short-lived, per-process cache of shop domain → (id, status) for the webhook hot path.

Webhooks arrive by the thousand for a handful of shops; looking each shop up again costs more than the
rest of the request. Entries live ``ttl_seconds`` (a status change reaches every process within that),
and a shop this process changes is forgotten at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from shop_app.database import SessionFactory
from shop_app.models import ShopStatus
from shop_app.shops.installation import get_shop

DEFAULT_TTL_SECONDS = 2.0
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

    async def find(self, domain: str) -> ShopRef | None:
        now = self._clock()
        cached = self._entries.get(domain)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._sessions() as session:
            shop = await get_shop(session, domain)
        ref = (
            None
            if shop is None or shop.id is None
            else ShopRef(shop.id, shop.domain, ShopStatus(shop.status))
        )
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[domain] = (now + self._ttl, ref)
        return ref

    def forget(self, domain: str) -> None:
        self._entries.pop(domain, None)

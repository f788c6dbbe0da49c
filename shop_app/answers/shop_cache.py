"""What the bot reads about a shop on every message but rarely changes (the order name format, product
titles, settings, template overrides), kept in this process for a short while. Keyed by the shop's id and
installation time, so another database (a test, a restored copy) never shares an entry; a change made in
this process is seen at once, one made by another process within the entry's lifetime."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from shop_app.models import Shop

_entries: dict[tuple[str, int], tuple[float, datetime, Any]] = {}


def cached(kind: str, *, shop: Shop, ttl_seconds: float) -> Any | None:
    assert shop.id is not None
    entry = _entries.get((kind, shop.id))
    if entry is None or entry[1] != shop.installed_at or time.monotonic() - entry[0] >= ttl_seconds:
        return None
    return entry[2]


def remember(kind: str, *, shop: Shop, value: Any) -> None:
    assert shop.id is not None
    _entries[(kind, shop.id)] = (time.monotonic(), shop.installed_at, value)


def forget_shop(shop_id: int) -> None:
    for key in [key for key in _entries if key[1] == shop_id]:
        del _entries[key]

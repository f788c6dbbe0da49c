from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from devstore.clock import Clock, system_clock
from devstore.config import StoreConfig

if TYPE_CHECKING:
    from devstore.records import RecordStore
    from devstore.tokens import TokenRegistry
    from devstore.webhooks import WebhookDispatcher


@dataclass
class StoreState:
    config: StoreConfig
    records: RecordStore
    tokens: TokenRegistry
    webhooks: WebhookDispatcher
    http: httpx.AsyncClient
    clock: Clock = field(default=system_clock)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def known_shops(self) -> list[str]:
        shops = list(self.config.shops)
        shops.extend(shop for shop in self.records.shops() if shop not in shops)
        return shops


def isoformat_z(moment: datetime) -> str:
    """Shopify's GraphQL DateTime: UTC, second precision, ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

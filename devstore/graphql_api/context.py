"""What the GraphQL layer needs from the store (structural types), and one request's context."""

from __future__ import annotations

import pathlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from devstore.records import RecordStore


class AccessCheckLike(Protocol):
    @property
    def client_id(self) -> str | None: ...

    @property
    def expired(self) -> bool: ...


class TokensLike(Protocol):
    def lookup_access_token(self, shop: str, token: str) -> AccessCheckLike | Awaitable[AccessCheckLike]: ...


class WebhooksLike(Protocol):
    async def emit(self, shop: str, topic: str, payload: dict[str, Any]) -> None: ...


class ConfigLike(Protocol):
    @property
    def data_dir(self) -> pathlib.Path: ...


class StoreStateLike(Protocol):
    @property
    def config(self) -> ConfigLike: ...

    @property
    def records(self) -> RecordStore: ...

    @property
    def tokens(self) -> TokensLike: ...

    @property
    def webhooks(self) -> WebhooksLike: ...


WallClock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BulkRunnerLike(Protocol):
    """What the bulk root fields need from the runner (`bulk.BulkRunner`) that a request carries."""

    def start(self, ctx: RequestContext, query: str, group_objects: bool) -> dict[str, Any]: ...

    def cancel(self, ctx: RequestContext, gid: str) -> dict[str, Any]: ...


class MutationLedgerLike(Protocol):
    """Remembers what each `@idempotent(key:)` mutation answered, and counts mutations applied."""

    def replay(self, shop: str, mutation: str, key: str, fingerprint: str) -> dict[str, Any] | None: ...

    def record(
        self, shop: str, mutation: str, key: str | None, fingerprint: str, payload: dict[str, Any]
    ) -> None: ...


@dataclass
class RequestContext:
    shop: str
    client_id: str
    api_version: str
    records: RecordStore
    base_url: str
    wall_clock: WallClock
    bulk: BulkRunnerLike | None = None
    bulk_rows: list[dict[str, Any]] | None = None
    # a bulk operation's documents read by reference (gid → doc), and the owners of embedded ones read
    # (``RecordStore.get``'s cache): the same products, variants and locations recur on every page
    bulk_cache: dict[Any, Any] | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    ledger: MutationLedgerLike | None = None
    idempotency_key: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def in_bulk(self) -> bool:
        return self.bulk_rows is not None

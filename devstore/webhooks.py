"""Webhook delivery as Shopify does it: a durable queue of deliveries, each POSTed with Shopify's headers
and a base64 HMAC of the exact body, retried 8 times with exponential backoff, then given up.

Switchable faults imitate what apps meet in production: duplicates (same event id), reordering, delays
and drops.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from devstore.config import StoreConfig

if TYPE_CHECKING:
    from devstore.records import RecordStore
    from devstore.tokens import TokenRegistry

logger = logging.getLogger(__name__)

RETRY_COUNT = 8
# 56 s doubling eight times sums to about four hours, Shopify's retry window.
RETRY_BASE_DELAY_SECONDS = 56.0
FAILED_DELIVERIES_BEFORE_REMOVAL = 8
MAX_CONCURRENT_DELIVERIES = 16
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
# Delivered even when the app is no longer installed.
AFTER_UNINSTALL_TOPICS = frozenset({"app/uninstalled", "shop/redact"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, shop TEXT NOT NULL, client_id TEXT NOT NULL,
    subscription_id TEXT, topic TEXT NOT NULL, uri TEXT NOT NULL, api_version TEXT NOT NULL,
    name TEXT, body BLOB NOT NULL, triggered_at TEXT NOT NULL, created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending', last_status_code INTEGER, last_error TEXT);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS subscription_failures (
    subscription_id TEXT PRIMARY KEY, shop TEXT NOT NULL, consecutive INTEGER NOT NULL);
"""


def topic_to_enum(topic: str) -> str:
    """``orders/updated`` → ``ORDERS_UPDATED``."""
    return topic.replace("/", "_").upper()


def sign_body(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class WebhookFaults:
    duplicate_rate: float = 0.0
    drop_rate: float = 0.0
    reorder_window_seconds: float = 0.0
    delay_seconds: float = 0.0
    seed: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookFaults:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        faults = cls(**data)
        for name in ("duplicate_rate", "drop_rate"):
            rate = getattr(faults, name)
            if not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("reorder_window_seconds", "delay_seconds"):
            value = getattr(faults, name)
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        return faults

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Target:
    client_id: str
    uri: str
    api_version: str
    subscription_id: str | None
    name: str | None
    include_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    webhook_id: str
    event_id: str
    shop: str
    client_id: str
    subscription_id: str | None
    topic: str
    uri: str
    api_version: str
    name: str | None
    body: bytes
    triggered_at: str
    attempts: int
    status: str
    last_status_code: int | None
    last_error: str | None

    def __repr__(self) -> str:
        return f"Delivery(id={self.id}, topic={self.topic!r}, shop={self.shop!r}, status={self.status!r})"


def _include(payload: dict[str, Any], include_fields: Iterable[str]) -> dict[str, Any]:
    """Shopify's ``includeFields``: keep only the named fields (``a.b`` reaches into objects and lists)."""
    result: dict[str, Any] = {}
    for path in include_fields:
        head, _, rest = path.partition(".")
        if head not in payload:
            continue
        value = payload[head]
        if rest and isinstance(value, dict):
            earlier = result.get(head)
            merged: dict[str, Any] = earlier if isinstance(earlier, dict) else {}
            result[head] = {**merged, **_include(value, [rest])}
        elif rest and isinstance(value, list):
            result[head] = [_include(v, [rest]) if isinstance(v, dict) else v for v in value]
        else:
            result[head] = value
    return result


class WebhookDispatcher:
    def __init__(
        self,
        path: Path,
        *,
        config: StoreConfig,
        records: RecordStore,
        tokens: TokenRegistry,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._config = config
        self._records = records
        self._tokens = tokens
        self._http = http
        self._clock = clock
        self._timer = timer
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        # Deliveries interrupted by a restart are picked up again.
        self._db.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")
        self.faults = WebhookFaults()
        self._rng = random.Random()
        self._wakeup = anyio.Event()
        self.retry_base_delay_seconds = RETRY_BASE_DELAY_SECONDS * config.webhook_time_scale

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def set_faults(self, faults: WebhookFaults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)

    # queueing

    def targets(self, shop: str, topic: str) -> list[Target]:
        installed = {install.client_id for install in self._tokens.installs(shop)}
        wanted = topic_to_enum(topic)
        found: list[Target] = []
        for doc in self._records.iter_type(shop, "WebhookSubscription"):
            client_id = doc.get("_clientId")
            if doc.get("topic") != wanted or not isinstance(client_id, str):
                continue
            if client_id not in installed and topic not in AFTER_UNINSTALL_TOPICS:
                continue
            uri = doc.get("uri") or doc.get("callbackUrl")
            if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
                continue
            api_version = doc.get("apiVersion")
            if isinstance(api_version, dict):
                api_version = api_version.get("handle")
            found.append(
                Target(
                    client_id=client_id,
                    uri=uri,
                    api_version=api_version if isinstance(api_version, str) else self._config.api_version,
                    subscription_id=doc["id"],
                    name=doc.get("name"),
                    include_fields=tuple(doc.get("includeFields") or ()),
                )
            )
        if topic in COMPLIANCE_TOPICS:
            for client_id, uri in self._config.compliance_urls.items():
                if not any(t.client_id == client_id and t.uri == uri for t in found):
                    found.append(Target(client_id, uri, self._config.api_version, None, None, ()))
        return found

    async def emit(
        self, shop: str, topic: str, payload: dict[str, Any], *, client_id: str | None = None
    ) -> None:
        """Queue one event for each subscription of ``shop`` to ``topic`` (only ``client_id``'s if given)."""
        targets = [t for t in self.targets(shop, topic) if client_id is None or t.client_id == client_id]
        self.enqueue(shop, topic, payload, targets)

    def enqueue(self, shop: str, topic: str, payload: dict[str, Any], targets: Iterable[Target]) -> list[int]:
        event_id = str(uuid.uuid4())
        triggered_at = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        now = self._timer()
        faults = self.faults
        queued: list[int] = []
        rows = []
        for target in targets:
            body = encode_body(_include(payload, target.include_fields) if target.include_fields else payload)
            copies = 2 if faults.duplicate_rate and self._rng.random() < faults.duplicate_rate else 1
            for _ in range(copies):
                dropped = faults.drop_rate > 0 and self._rng.random() < faults.drop_rate
                delay = faults.delay_seconds + (
                    self._rng.uniform(0, faults.reorder_window_seconds)
                    if faults.reorder_window_seconds
                    else 0.0
                )
                rows.append(
                    (
                        str(uuid.uuid4()),
                        event_id,
                        shop,
                        target.client_id,
                        target.subscription_id,
                        topic,
                        target.uri,
                        target.api_version,
                        target.name,
                        body,
                        triggered_at,
                        now,
                        now + delay,
                        "dropped" if dropped else "pending",
                    )
                )
        with self._lock:
            for row in rows:
                cursor = self._db.execute(
                    "INSERT INTO deliveries (webhook_id, event_id, shop, client_id, subscription_id, topic,"
                    " uri,"
                    " api_version, name, body, triggered_at, created_at, next_attempt_at, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                queued.append(int(cursor.lastrowid or 0))
        if rows:
            logger.info("webhook queued topic=%s shop=%s deliveries=%d", topic, shop, len(rows))
            self._wakeup.set()
        return queued

    # delivering

    async def run(self) -> None:
        """Deliver due webhooks until cancelled."""
        limiter = anyio.CapacityLimiter(MAX_CONCURRENT_DELIVERIES)
        async with anyio.create_task_group() as group:
            while True:
                self._wakeup = anyio.Event()
                for delivery in self._claim_due():
                    group.start_soon(self._attempt_limited, delivery, limiter)
                wait = self._seconds_until_next_due()
                with anyio.move_on_after(wait):
                    await self._wakeup.wait()

    async def _attempt_limited(self, delivery: Delivery, limiter: anyio.CapacityLimiter) -> None:
        async with limiter:
            await self.attempt(delivery)

    def _claim_due(self) -> list[Delivery]:
        with self._lock:
            rows = self._db.execute(
                _CLAIM_DUE_SQL,
                (self._timer(),),
            ).fetchall()
        return sorted((Delivery(*row) for row in rows), key=lambda d: d.id)

    def _seconds_until_next_due(self) -> float:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'"
            ).fetchone()
        if row[0] is None:
            return 3600.0
        return max(0.0, min(3600.0, float(row[0]) - self._timer()))

    async def attempt(self, delivery: Delivery) -> bool:
        secret = self._config.secret_for(delivery.client_id)
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Shop-Domain": delivery.shop,
            "X-Shopify-API-Version": delivery.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
            "X-Shopify-Hmac-Sha256": sign_body(delivery.body, secret or ""),
            "User-Agent": "Shopify-Captain-Hook",
        }
        if delivery.name:
            headers["X-Shopify-Name"] = delivery.name
        timeout = httpx.Timeout(
            self._config.webhook_total_timeout_seconds, connect=self._config.webhook_connect_timeout_seconds
        )
        status_code: int | None = None
        error: str | None = None
        try:
            with anyio.fail_after(self._config.webhook_total_timeout_seconds):
                response = await self._http.post(
                    delivery.uri,
                    content=delivery.body,
                    headers=headers,
                    timeout=timeout,
                    follow_redirects=False,
                )
            status_code = response.status_code
        except TimeoutError:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        ok = status_code is not None and 200 <= status_code < 300
        self._record_attempt(delivery, ok=ok, status_code=status_code, error=error)
        return ok

    def _record_attempt(
        self, delivery: Delivery, *, ok: bool, status_code: int | None, error: str | None
    ) -> None:
        attempts = delivery.attempts + 1
        if ok:
            status, next_at = "delivered", self._timer()
        elif attempts > RETRY_COUNT:
            status, next_at = "failed", self._timer()
        else:
            status = "pending"
            next_at = self._timer() + self.retry_base_delay_seconds * 2 ** (attempts - 1)
        logger.info(
            "webhook attempt topic=%s shop=%s webhook_id=%s attempt=%d status_code=%s error=%s outcome=%s",
            delivery.topic,
            delivery.shop,
            delivery.webhook_id,
            attempts,
            status_code,
            error,
            status,
        )
        with self._lock:
            self._db.execute(
                "UPDATE deliveries SET attempts = ?, status = ?, next_attempt_at = ?, last_status_code = ?,"
                " last_error = ? WHERE id = ?",
                (attempts, status, next_at, status_code, error, delivery.id),
            )
            remove = self._count_subscription_outcome(delivery, status)
        if remove and delivery.subscription_id:
            # Subscriptions made with the Admin API are deleted after 8 consecutive failed deliveries.
            logger.warning("webhook subscription removed after failures shop=%s", delivery.shop)
            self._records.delete(delivery.shop, delivery.subscription_id)
        self._wakeup.set()

    def _count_subscription_outcome(self, delivery: Delivery, status: str) -> bool:
        if delivery.subscription_id is None or status == "pending":
            return False
        if status == "delivered":
            self._db.execute(
                "DELETE FROM subscription_failures WHERE subscription_id = ?", (delivery.subscription_id,)
            )
            return False
        self._db.execute(
            "INSERT INTO subscription_failures VALUES (?, ?, 1) ON CONFLICT (subscription_id)"
            " DO UPDATE SET consecutive = consecutive + 1",
            (delivery.subscription_id, delivery.shop),
        )
        row = self._db.execute(
            "SELECT consecutive FROM subscription_failures WHERE subscription_id = ?",
            (delivery.subscription_id,),
        ).fetchone()
        return bool(row and row[0] >= FAILED_DELIVERIES_BEFORE_REMOVAL)

    # reading

    def deliveries(self, *, shop: str | None = None, limit: int = 100) -> list[Delivery]:
        sql = "SELECT " + _COLUMNS + " FROM deliveries"  # noqa: S608 (constant column list)
        params: list[Any] = []
        if shop is not None:
            sql += " WHERE shop = ?"
            params.append(shop)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [Delivery(*row) for row in rows]

    def stats(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall()
        counts = {"pending": 0, "sending": 0, "delivered": 0, "failed": 0, "dropped": 0}
        counts.update(dict(rows))
        return counts

    def outstanding(self) -> int:
        counts = self.stats()
        return counts["pending"] + counts["sending"]

    async def wait_idle(self, timeout_seconds: float = 5.0, poll_seconds: float = 0.002) -> None:
        """Wait until nothing is pending or being sent (for tests and scripts)."""
        with anyio.fail_after(timeout_seconds):
            while self.outstanding():  # noqa: ASYNC110 (the queue lives in SQLite, not in memory)
                await anyio.sleep(poll_seconds)


_COLUMNS = (
    "id, webhook_id, event_id, shop, client_id, subscription_id, topic, uri, api_version, name, body,"
    " triggered_at, attempts, status, last_status_code, last_error"
)
_CLAIM_DUE_SQL = (
    "UPDATE deliveries SET status = 'sending' WHERE id IN (SELECT id FROM deliveries"  # noqa: S608 (constant columns)
    " WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 200)"
    " RETURNING " + _COLUMNS
)

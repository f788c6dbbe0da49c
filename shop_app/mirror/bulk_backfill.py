"""Backfill of large resources through a bulk operation: ``bulkOperationRunQuery``, then wait for it
(polling ``bulkOperation(id:)``, woken early by the ``bulk_operations/finish`` webhook when it reaches this
process), then stream the JSONL result.

The result is never held in memory: it is streamed to a temporary file, staged line by line in a temporary
SQLite database keyed by each line's root object (children carry ``__parentId`` and, ungrouped, may come
before their parent), then read back root by root in batches that are upserted with their checkpoint (the
last root id written). A killed process resumes with the same operation (its id is in the checkpoint) and
skips the roots already written; a failed or expired operation is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from integrations.shopify.errors import GraphQLError, ShopifyUnavailable
from integrations.shopify.graphql import document
from integrations.shopify.graphql_resources import (
    Node,
    gid_type,
    id_from_gid,
    parse_customer,
    parse_fulfillment_order,
    parse_order,
)
from integrations.shopify.resources import FulfillmentOrder
from shop_app.mirror.resources import writer_for
from shop_app.mirror.sync_states import now_utc

if TYPE_CHECKING:
    from shop_app.mirror.sync_run import SyncRun

logger = logging.getLogger(__name__)

BULK_DOCUMENTS = {
    "orders": "bulk_orders",
    "customers": "bulk_customers",
    "fulfillment_orders": "bulk_fulfillment_orders",
}
# Operations run after a resource's own: an order's fulfillment orders with their lines would be a sixth
# connection in the orders query (Shopify allows five), so they have an operation of their own.
FOLLOW_UPS = {"orders": ("fulfillment_orders",)}
POLL_FIRST_SECONDS = 0.2
POLL_MAX_SECONDS = 10.0
ROOTS_PER_BATCH = 1000
STAGE_ROWS_PER_INSERT = 5000
DOWNLOAD_CHUNK_BYTES = 1 << 16
FAILED_STATUSES = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})

# Operations this process waits for, woken by the bulk_operations/finish webhook.
_finished: dict[str, asyncio.Event] = {}


def notify_finished(operation_gid: str) -> None:
    """Wake a local waiter for this operation (other processes notice at their next poll)."""
    event = _finished.get(operation_gid)
    if event is not None:
        event.set()


class BulkOperationFailed(ShopifyUnavailable):
    """The bulk operation ended without a result; the next attempt starts a new one."""


@dataclass(frozen=True, slots=True)
class BulkStatus:
    gid: str
    status: str
    url: str | None
    error_code: str | None
    object_count: int


async def start_operation(run: SyncRun, name: str) -> str:
    result = await run.client.execute(
        document("bulk_operation_run_query"), {"query": document(BULK_DOCUMENTS[name])}
    )
    payload = result.data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if errors:
        codes = tuple(str(e.get("code")) for e in errors if e.get("code"))
        if "OPERATION_IN_PROGRESS" in codes:
            raise ShopifyUnavailable("another bulk operation is running", status_code=0)
        raise GraphQLError(f"bulkOperationRunQuery refused: {errors[0].get('message')}", codes=codes)
    operation = payload.get("bulkOperation") or {}
    return str(operation["id"])


async def poll(run: SyncRun, gid: str) -> BulkStatus:
    result = await run.client.execute(document("bulk_operation"), {"id": gid})
    node = result.data.get("bulkOperation")
    if not isinstance(node, Mapping):
        return BulkStatus(gid, "EXPIRED", None, "NOT_FOUND", 0)
    return BulkStatus(
        gid=gid,
        status=str(node.get("status")),
        url=node.get("url"),
        error_code=node.get("errorCode"),
        object_count=int(node.get("objectCount") or 0),
    )


async def wait_for(run: SyncRun, gid: str) -> BulkStatus:
    event = _finished.setdefault(gid, asyncio.Event())
    delay = POLL_FIRST_SECONDS
    try:
        while True:
            status = await poll(run, gid)
            if status.status not in {"CREATED", "RUNNING"}:
                return status
            await run.save(progress={**run.progress, "bulk": {"id": gid, "objects": status.object_count}})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=delay)
            event.clear()
            delay = min(POLL_MAX_SECONDS, delay * 2)
    finally:
        _finished.pop(gid, None)


async def download(run: SyncRun, url: str, path: Path) -> None:
    async with run.services.http.stream("GET", url) as response:
        if response.status_code != 200:
            raise ShopifyUnavailable("bulk result download failed", status_code=response.status_code)
        with path.open("wb") as out:
            async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK_BYTES):
                out.write(chunk)


class Staging:
    """The JSONL lines in a temporary SQLite file, grouped by root object."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE lines (seq INTEGER PRIMARY KEY, gid TEXT, parent TEXT, root TEXT, num INTEGER,"
            " body TEXT NOT NULL)"
        )
        # Objects with an id embedded in a line (an order's fulfillments): their children's lines point at
        # them, so they lead to the line that holds them.
        self.db.execute("CREATE TABLE aliases (gid TEXT PRIMARY KEY, owner TEXT NOT NULL)")

    def load(self, jsonl: Path) -> int:
        rows: list[tuple[str | None, str | None, str | None, int | None, str]] = []
        aliases: list[tuple[str, str]] = []
        count = 0
        with jsonl.open("r", encoding="utf-8") as lines:
            for raw in lines:
                if not raw.strip():
                    continue
                line = json.loads(raw)
                gid = line.get("id") if isinstance(line.get("id"), str) else None
                parent = line.get("__parentId")
                if gid is not None:
                    aliases.extend((embedded, gid) for embedded in _embedded_ids(line))
                if parent is None:
                    rows.append((gid, None, gid, id_from_gid(gid), raw))
                else:
                    rows.append((gid, str(parent), None, None, raw))
                count += 1
                if len(rows) >= STAGE_ROWS_PER_INSERT:
                    self._insert(rows, aliases)
                    rows, aliases = [], []
        self._insert(rows, aliases)
        self.db.execute("CREATE INDEX lines_gid ON lines (gid)")
        for _ in range(3):  # children, then grandchildren, learn their root
            changed = self.db.execute(
                "UPDATE lines SET root = (SELECT p.root FROM lines p WHERE p.gid = COALESCE("
                "(SELECT a.owner FROM aliases a WHERE a.gid = lines.parent), lines.parent))"
                " WHERE root IS NULL AND EXISTS (SELECT 1 FROM lines p WHERE p.root IS NOT NULL AND p.gid = "
                "COALESCE((SELECT a.owner FROM aliases a WHERE a.gid = lines.parent), lines.parent))"
            ).rowcount
            if not changed:
                break
        self.db.execute("CREATE INDEX lines_root ON lines (root)")
        self.db.execute("CREATE INDEX lines_num ON lines (num) WHERE parent IS NULL")
        self.db.commit()
        return count

    def _insert(
        self,
        rows: list[tuple[str | None, str | None, str | None, int | None, str]],
        aliases: list[tuple[str, str]],
    ) -> None:
        self.db.executemany("INSERT INTO lines (gid, parent, root, num, body) VALUES (?, ?, ?, ?, ?)", rows)
        self.db.executemany("INSERT OR IGNORE INTO aliases (gid, owner) VALUES (?, ?)", aliases)

    def batch(self, after_num: int, limit: int) -> list[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
        roots = self.db.execute(
            "SELECT gid, num, body FROM lines WHERE parent IS NULL AND num > ? ORDER BY num LIMIT ?",
            (after_num, limit),
        ).fetchall()
        if not roots:
            return []
        children: dict[str, list[dict[str, Any]]] = defaultdict(list)
        marks = ",".join("?" * len(roots))
        for root, body in self.db.execute(
            f"SELECT root, body FROM lines WHERE parent IS NOT NULL AND root IN ({marks}) ORDER BY seq",  # noqa: S608
            [r[0] for r in roots],
        ):
            children[root].append(json.loads(body))
        return [(num, json.loads(body), children.get(gid, [])) for gid, num, body in roots]

    def close(self) -> None:
        self.db.close()


def _embedded_ids(line: Mapping[str, Any]) -> list[str]:
    found = []
    for key, value in line.items():
        if key == "__parentId":
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                found.append(str(item["id"]))
    return found


def assemble_order(line: dict[str, Any], children: list[dict[str, Any]]) -> Node:
    """An order line and its descendants' lines back into the shape the order documents select."""
    order = dict(line)
    by_parent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for child in children:
        by_parent[str(child.get("__parentId"))].append(child)
    own = by_parent.get(str(order["id"]), [])
    order["lineItems"] = {"nodes": [c for c in own if gid_type(str(c.get("id", ""))) == "LineItem"]}
    fulfillments = []
    for fulfillment in order.get("fulfillments") or ():
        fulfillment = dict(fulfillment)
        nested = by_parent.get(str(fulfillment.get("id")), [])
        events = [c for c in nested if gid_type(str(c.get("id", ""))) == "FulfillmentEvent"]
        lines = [c for c in nested if gid_type(str(c.get("id", ""))) == "FulfillmentLineItem"]
        if events or "events" not in fulfillment:
            fulfillment["events"] = {"nodes": events}
        if lines or "fulfillmentLineItems" not in fulfillment:
            fulfillment["fulfillmentLineItems"] = {"nodes": lines}
        fulfillments.append(fulfillment)
    order["fulfillments"] = fulfillments
    return order


def assemble_fulfillment_orders(children: list[dict[str, Any]]) -> list[FulfillmentOrder]:
    """An order's fulfillment order lines and their lines' lines, as resources."""
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for child in children:
        lines[str(child.get("__parentId"))].append(child)
    return [
        parse_fulfillment_order(child, lines=lines.get(str(child["id"]), []))
        for child in children
        if gid_type(str(child.get("id", ""))) == "FulfillmentOrder"
    ]


def to_resources(name: str, roots: list[tuple[int, dict[str, Any], list[dict[str, Any]]]]) -> list[Any]:
    if name == "orders":
        return [parse_order(assemble_order(line, children)) for _, line, children in roots]
    if name == "fulfillment_orders":  # (order id, its fulfillment orders) pairs
        return [(num, assemble_fulfillment_orders(children)) for num, _, children in roots]
    if name == "customers":
        return [parse_customer(line) for _, line, _ in roots]
    raise ValueError(f"no bulk path for {name}")


async def begin(run: SyncRun, name: str) -> str:
    """The resource's bulk operation: the one this run (or a killed one) started, else a new one."""
    gid = run.entry(name).get("bulk_id")
    if gid is None:
        gid = await start_operation(run, name)
        await run.commit(name, None, added=0, complete=False, mode="bulk", bulk_id=gid, after_id=0)
    return str(gid)


async def bulk_resource(run: SyncRun, name: str) -> None:
    gid = await begin(run, name)
    status = await wait_for(run, gid)
    if status.status != "COMPLETED":
        await run.commit(name, None, added=0, complete=False, mode="bulk", bulk_id=None)
        raise BulkOperationFailed(
            f"bulk operation {gid} ended {status.status} ({status.error_code})", status_code=0
        )
    for follow_up in FOLLOW_UPS.get(name, ()):  # the store builds it while this result is read
        if not run.entry(follow_up).get("complete"):
            run.entry(follow_up)["mode"] = "bulk"
            await begin(run, follow_up)
    if status.url is None:  # nothing matched
        await run.commit(name, None, added=0, complete=True, mode="bulk")
        return
    after_num = int(run.entry(name).get("after_id") or 0)
    with tempfile.TemporaryDirectory(prefix="shop-app-bulk-") as directory:
        jsonl, staged = Path(directory) / "result.jsonl", Path(directory) / "staging.db"
        await download(run, status.url, jsonl)
        staging = Staging(staged)
        try:
            lines = await asyncio.to_thread(staging.load, jsonl)
            jsonl.unlink()
            logger.info("bulk result staged shop=%s resource=%s lines=%s", run.shop.domain, name, lines)
            while True:
                batch = await asyncio.to_thread(staging.batch, after_num, ROOTS_PER_BATCH)
                if not batch:
                    break
                items = to_resources(name, batch)
                after_num = batch[-1][0]
                write = writer_for(name, shop_id=run.shop_id, items=items, synced_at=now_utc())
                await run.commit(
                    name, write, added=len(batch), complete=False, mode="bulk", after_id=after_num
                )
        finally:
            staging.close()
    await run.commit(name, None, added=0, complete=True, mode="bulk")

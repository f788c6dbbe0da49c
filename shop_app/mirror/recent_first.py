"""The recent part of a large store first: before (and while) a bulk operation brings its whole history,
the orders of the last days are paged, with their customers and those customers' older orders, so that a
profile of someone who ordered this week is whole within minutes, not after the last of years of orders.

The orders are read newest first, and the pass spends at most ``sync_recent_points`` query-cost points
(``SHOP_APP_SYNC_RECENT_POINTS``): a store with many recent orders, or customers with long histories, would
otherwise spend the whole rate limit here (110,706 points, 18 minutes at the standard limits, in a
10,000-order store) on records the bulk import brings anyway. The customers of the newest orders are made
whole first: the budget is looked at before each page, and a page begun is finished (its customers whole);
when the budget is spent the pass ends (``capped``) and the bulk import brings the rest.

Each page (its orders, their customers, the customers' other orders) commits with the pass's checkpoint
(``checkpoints["recent"]``: the day it starts from, the cursor, the orders written, the points spent), under
the shop's sync lease: a killed run resumes at the next page, with what it had spent. The bulk import that
follows writes the same records again (from a snapshot a little older or newer); the mirror's upserts keep
whichever version is newest, so the end state is the store's.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.shopify.resources import Customer, Order
from shop_app.database import transaction
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.resources import SPECS, fetch_page
from shop_app.mirror.sync_run import SyncRun
from shop_app.mirror.sync_states import now_utc, save_under_lease

logger = logging.getLogger(__name__)

# customers named in one query (``id:1 OR id:2 …``); a page of orders names at most eight
CUSTOMERS_PER_QUERY = 50


def _moment(value: datetime, *, round_up: bool = False) -> str:
    """The moment in a search query (UTC, whole seconds; ``round_up`` to the next second if between)."""
    value = value.astimezone(UTC) if value.tzinfo is not None else value
    if round_up and value.microsecond:
        value += timedelta(seconds=1)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _any_of(field: str, ids: Sequence[int]) -> str:
    return "(" + " OR ".join(f"{field}:{shopify_id}" for shopify_id in ids) + ")"


class Budget:
    """The query-cost points the pass may still spend: ``limit`` (0: no limit) less what it had spent
    before (a resumed run) and what the client has been charged since."""

    def __init__(self, run: SyncRun, *, limit: int, spent: float) -> None:
        self.client, self.limit, self.before = run.client, limit, spent
        self.charged_at_start = run.client.total_cost_charged

    def spent(self) -> float:
        return self.before + self.client.total_cost_charged - self.charged_at_start

    def exhausted(self) -> bool:
        return self.limit > 0 and self.spent() >= self.limit


async def _customers(run: SyncRun, ids: Sequence[int]) -> list[Customer]:
    found: list[Customer] = []
    spec = SPECS["customers"]
    for start in range(0, len(ids), CUSTOMERS_PER_QUERY):
        query = _any_of("id", ids[start : start + CUSTOMERS_PER_QUERY])
        cursor: str | None = None
        while True:
            page = await fetch_page(run.client, spec, after=cursor, query=query)
            found.extend(await run.reader.convert("customers", page.nodes))
            if not page.has_next:
                break
            cursor = page.end_cursor
    return found


async def _older_orders(run: SyncRun, customer_ids: Sequence[int], *, up_to: str) -> list[Order]:
    """These customers' orders placed up to the oldest of this page: the newer ones came with the pages
    before (newest first), the older ones, in the window or before it, may never come if the pass is
    capped. Orders of this page are among them again (the caller leaves those out)."""
    if not customer_ids:
        return []
    spec = SPECS["orders"]
    query = f"{_any_of('customer_id', customer_ids)} AND created_at:<='{up_to}'"
    orders: list[Order] = []
    cursor: str | None = None
    while True:
        page = await fetch_page(run.client, spec, after=cursor, query=query)
        orders.extend(await run.reader.convert("orders", page.nodes))
        if not page.has_next:
            return orders
        cursor = page.end_cursor


async def _commit(
    run: SyncRun, *, customers: list[Customer], orders: list[Order], entry: dict[str, Any]
) -> None:
    checkpoints = copy.deepcopy(run.checkpoints)
    checkpoints["recent"] = entry
    progress = {**run.progress, "recent": {"orders": entry["done"], "complete": entry["complete"]}}
    synced_at = now_utc()
    async with transaction(run.services.sessions) as session:
        if customers:
            await mirror_writes.upsert_customers(
                session, shop_id=run.shop_id, customers=customers, synced_at=synced_at, authoritative=True
            )
        if orders:
            await mirror_writes.upsert_orders(
                session, shop_id=run.shop_id, orders=orders, synced_at=synced_at, authoritative=True
            )
        await save_under_lease(
            session, shop_id=run.shop_id, owner=run.owner, checkpoints=checkpoints, progress=progress
        )
    run.checkpoints, run.progress = checkpoints, progress


async def recent_first(run: SyncRun, *, days: int, max_points: int = 0) -> None:
    """Page the last ``days`` days of orders, newest first (their customers' profiles whole), spending at
    most ``max_points`` query-cost points (0: no limit), unless done in this run."""
    entry: dict[str, Any] = dict(run.checkpoints.get("recent") or {})
    if days <= 0 or entry.get("complete"):
        return
    if not entry:
        started = datetime.fromisoformat(str(run.checkpoints["run"]["started_at"]))
        entry = {"since": _moment(started - timedelta(days=days)), "cursor": None, "done": 0, "points": 0}
    since = str(entry["since"])
    spec = SPECS["orders"]
    cursor = entry.get("cursor")
    budget = Budget(run, limit=max_points, spent=float(entry.get("points") or 0))
    seen: set[int] = set()  # customers whose profile this run has made whole
    while True:
        if budget.exhausted():
            entry = {**entry, "complete": True, "capped": True, "points": round(budget.spent())}
            await _commit(run, customers=[], orders=[], entry=entry)
            logger.info("recent orders first capped shop=%s orders=%s", run.shop.domain, entry["done"])
            return
        window = f"created_at:>='{since}'"
        page = await fetch_page(
            run.client, spec, after=cursor, query=window, sort_key="CREATED_AT", reverse=True
        )
        recent = await run.reader.convert("orders", page.nodes)
        named = {o.customer_shopify_id for o in recent if o.customer_shopify_id is not None}
        customer_ids = sorted(named - seen)
        seen.update(named)
        customers = await _customers(run, customer_ids)
        on_page = {order.shopify_id for order in recent}
        oldest = min((order.created_at for order in recent), default=None)
        older = (
            []
            if oldest is None
            else await _older_orders(run, customer_ids, up_to=_moment(oldest, round_up=True))
        )
        older = [order for order in older if order.shopify_id not in on_page]
        cursor = page.end_cursor or cursor
        entry = {
            **entry,
            "cursor": cursor,
            "done": int(entry.get("done", 0)) + len(recent) + len(older),
            "points": round(budget.spent()),
            "complete": not page.has_next,
        }
        await _commit(run, customers=customers, orders=[*recent, *older], entry=entry)
        if not page.has_next:
            logger.info("recent orders first shop=%s orders=%s", run.shop.domain, entry["done"])
            return

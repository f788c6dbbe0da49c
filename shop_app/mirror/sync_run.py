"""A run of a shop's sync under its lease: one process at a time per shop, its checkpoints and progress
committed with each page's rows, a heartbeat renewing the lease, and the failure recorded."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from shop_app.database import transaction
from shop_app.mirror.resources import RESOURCES, MirrorReader, Writer
from shop_app.mirror.sync_states import (
    LEASE_RENEW_SECONDS,
    LeaseLost,
    Phase,
    get_sync_state,
    new_owner,
    release_lease,
    renew_lease,
    save_under_lease,
    take_lease,
)
from shop_app.mirror.time_left import Bucket, TimeLeft
from shop_app.mirror.upserts import UpsertResult
from shop_app.models import Shop, SyncState
from shop_app.runtime import admin_client

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500


class SyncRun:
    """One process's run of a shop's sync under its lease: the checkpoints and progress it commits."""

    def __init__(self, services: Services, *, shop: Shop, owner: str, state: SyncState) -> None:
        assert shop.id is not None
        self.services = services
        self.shop = shop
        self.shop_id: int = shop.id
        self.owner = owner
        self.client = admin_client(services, shop)
        self.reader = MirrorReader(self.client)
        self.checkpoints: dict[str, Any] = copy.deepcopy(state.checkpoints or {})
        self.progress: dict[str, Any] = copy.deepcopy(state.progress or {})
        self.time_left = TimeLeft(self.client.clock)
        self._charged = self.client.total_cost_charged

    def entry(self, name: str) -> dict[str, Any]:
        resources = self.checkpoints.setdefault("resources", {})
        entry: dict[str, Any] = resources.setdefault(
            name, {"cursor": None, "done": 0, "complete": False, "mode": "pages"}
        )
        return entry

    def start_rate(self) -> None:
        self.time_left.start()
        self._charged = self.client.total_cost_charged

    def _bucket(self) -> Bucket | None:
        throttle = self.client.throttle
        if not throttle.known:
            return None
        last = self.client.last_cost
        headroom = 0.0 if last is None or last.actual is None else max(0.0, last.requested - last.actual)
        return Bucket(
            available=throttle.available_at(self.client.clock()),
            restore_rate=throttle.restore_rate,
            headroom=headroom,
        )

    def _progress_with(self, checkpoints: Mapping[str, Any]) -> dict[str, Any]:
        progress = copy.deepcopy(self.progress)
        shown = progress.setdefault("resources", {})
        for name, entry in (checkpoints.get("resources") or {}).items():
            total = shown.get(name, {}).get("total")
            done = int(entry.get("done", 0))
            if entry.get("complete") or (total is not None and done > total):
                total = done
            shown[name] = {"done": done, "total": total, "mode": entry.get("mode", "pages")}
        remaining = {
            name: (max(0, int(entry["total"]) - int(entry["done"])), str(entry.get("mode") or "pages"))
            for name, entry in shown.items()
            if entry.get("total") is not None
        }
        rate = self.time_left.records_per_second()
        eta = self.time_left.seconds_left(remaining, self._bucket())
        progress["rate_per_second"] = None if rate is None else round(rate, 2)
        progress["eta_seconds"] = None if eta is None else round(eta, 1)
        return progress

    async def save(self, **values: Any) -> None:
        async with transaction(self.services.sessions) as session:
            await save_under_lease(session, shop_id=self.shop_id, owner=self.owner, **values)

    async def commit(
        self, name: str, write: Writer | None, *, added: int, complete: bool, **entry_values: Any
    ) -> UpsertResult:
        """Upsert a page and move its checkpoint, in one transaction, if this run still holds the lease."""
        checkpoints = copy.deepcopy(self.checkpoints)
        entry = checkpoints.setdefault("resources", {}).setdefault(name, {})
        entry.update(entry_values)
        entry["done"] = int(entry.get("done", 0)) + added
        entry["complete"] = complete
        charged = self.client.total_cost_charged
        self.time_left.record(
            name, records=added, points=charged - self._charged, bulk=entry.get("mode") == "bulk"
        )
        self._charged = charged
        progress = self._progress_with(checkpoints)
        result = UpsertResult()
        async with transaction(self.services.sessions) as session:
            if write is not None:
                result = await write(session)
            await save_under_lease(
                session, shop_id=self.shop_id, owner=self.owner, checkpoints=checkpoints, progress=progress
            )
        self.checkpoints, self.progress = checkpoints, progress
        return result

    async def set_totals(self, totals: Mapping[str, int | None]) -> None:
        shown = self.progress.setdefault("resources", {})
        for name in RESOURCES:
            entry = self.entry(name)
            shown[name] = {
                "done": int(entry.get("done", 0)),
                "total": int(entry["done"]) if entry.get("complete") else totals.get(name),
                "mode": entry.get("mode", "pages"),
            }
        await self.save(progress=self.progress, checkpoints=self.checkpoints)


async def _heartbeat(services: Services, *, shop_id: int, owner: str) -> None:
    while True:
        await asyncio.sleep(LEASE_RENEW_SECONDS)
        try:
            if not await renew_lease(services.sessions, shop_id=shop_id, owner=owner):
                return
        except Exception:  # a missed renewal is retried; the lease outlives several of them
            logger.warning("sync lease renewal failed shop_id=%s", shop_id, exc_info=True)


async def _record_failure(run: SyncRun, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
    with contextlib.suppress(LeaseLost):
        await run.save(phase=Phase.FAILED.value, last_error=message)


async def _load_shop(services: Services, shop_id: int) -> Shop | None:
    async with services.sessions() as session:
        shop = await session.get(Shop, shop_id)
    return shop if shop is not None and shop.is_active else None


Body = Callable[[SyncRun], Awaitable[Any]]


async def run_under_lease(services: Services, *, shop_id: int, body: Body, what: str) -> tuple[bool, Any]:
    """Run ``body`` holding the shop's sync lease; (False, None) when another process holds it."""
    shop = await _load_shop(services, shop_id)
    if shop is None:
        return False, None
    owner = new_owner()
    if not await take_lease(services.sessions, shop_id=shop_id, owner=owner):
        logger.info("%s skipped: another sync holds the lease shop=%s", what, shop.domain)
        return False, None
    heartbeat = asyncio.create_task(_heartbeat(services, shop_id=shop_id, owner=owner))
    try:
        async with services.sessions() as session:
            state = await get_sync_state(session, shop_id=shop_id)
        assert state is not None
        run = SyncRun(services, shop=shop, owner=owner, state=state)
        try:
            return True, await body(run)
        except LeaseLost:
            logger.warning("%s stopped: the sync lease was lost shop=%s", what, shop.domain)
            return False, None
        except Exception as error:
            logger.warning("%s failed shop=%s error=%s", what, shop.domain, type(error).__name__)
            await _record_failure(run, error)
            raise
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        await release_lease(services.sessions, shop_id=shop_id, owner=owner)

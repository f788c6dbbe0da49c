"""Reconciliation: a scheduled sweep per shop that repairs whatever a lost, late or reordered webhook left
wrong. For each resource it pages ``updated_at:>'<watermark - overlap>'`` (sorted by ``UPDATED_AT``),
upserts what it finds (an older ``updated_at`` never overwrites a newer one, so it is harmless when
nothing was missed), advances the watermark to the sweep's start, and reports the ids it changed. What it
repaired is published as live events once the sweep has committed it.

Locations have no ``updated_at`` search and are few: they are read whole. Stock is read through inventory
items updated since the watermark (an inventory change moves its item's ``updatedAt``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shop_app.helpdesk.ticket_links import link_waiting_after_sync
from shop_app.live_events import ChangeSet, publish_changes
from shop_app.mirror.resources import SPECS, fetch_page, writer_for
from shop_app.mirror.shop_details import refresh_shop_policies
from shop_app.mirror.sync_run import SyncRun, run_under_lease
from shop_app.mirror.sync_states import Phase, now_utc
from shop_app.notices.restocks import tell_restocked
from shop_app.observability.metrics import record_reconciliation, record_reconciliation_repairs

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)

RECONCILE_OVERLAP_SECONDS = 300
RECONCILED = ("locations", "products", "inventory", "customers", "orders")
MAX_REPORTED_IDS = 200


def search_since(moment: datetime) -> str:
    return f"updated_at:>'{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def _note_repairs(changes: ChangeSet, name: str, shop_id: int, ids: list[int]) -> None:
    if name == "orders":
        changes.orders(shop_id, order_ids=ids)
    elif name == "customers":
        changes.customers(shop_id, customer_ids=ids)
    elif name == "products":
        changes.stock(shop_id, product_ids=ids)
    elif name == "inventory":
        changes.stock(shop_id, inventory_item_ids=ids)


async def _sweep(run: SyncRun, name: str, since: datetime | None, changes: ChangeSet) -> dict[str, Any]:
    spec = SPECS[name]
    query = search_since(since) if since is not None and spec.searchable else None
    cursor: str | None = None
    checked = 0
    changed: list[int] = []
    stale = 0
    while True:
        page = await fetch_page(run.client, spec, after=cursor, query=query, sort_key=spec.reconcile_sort_key)
        items = await run.reader.convert(name, page.nodes)
        checked += len(page.nodes)
        if items:
            result = await run.commit(
                name,
                writer_for(name, shop_id=run.shop_id, items=items, synced_at=now_utc()),
                added=0,
                complete=True,
            )
            changed.extend(result.changed_ids)
            stale += result.stale
        if not page.has_next:
            break
        cursor = page.end_cursor
    unique = sorted(set(changed))
    _note_repairs(changes, name, run.shop_id, unique)
    record_reconciliation_repairs(resource=name, count=len(unique))
    return {
        "checked": checked,
        "changed": len(unique),
        "changed_ids": unique[:MAX_REPORTED_IDS],
        "stale_ignored": stale,
    }


async def _reconcile_under_lease(run: SyncRun) -> dict[str, Any]:
    async with run.services.sessions() as session:
        from shop_app.mirror.sync_states import get_sync_state

        state = await get_sync_state(session, shop_id=run.shop_id)
    assert state is not None
    if not (state.checkpoints or {}).get("completed_at"):
        return {"skipped": True, "reason": "backfill_incomplete"}
    started = now_utc()
    await run.save(phase=Phase.RECONCILING.value)
    policies = await refresh_shop_policies(run.services, shop=run.shop, client=run.client)
    watermarks: dict[str, Any] = dict(state.watermarks or {})
    overlap = timedelta(seconds=RECONCILE_OVERLAP_SECONDS)
    resources: dict[str, Any] = {}
    repairs = ChangeSet()
    for name in RECONCILED:
        mark = watermarks.get(name)
        since = datetime.fromisoformat(mark) - overlap if isinstance(mark, str) else None
        resources[name] = await _sweep(run, name, since, repairs)
        resources[name]["since"] = since.isoformat() if since is not None else None
        watermarks[name] = started.isoformat()
    finished = now_utc()
    report = {
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "repaired": sum(r["changed"] for r in resources.values()),
        "resources": resources,
        "policies_changed": policies,
    }
    await run.save(
        phase=Phase.IDLE.value,
        watermarks=watermarks,
        last_reconciled_at=finished,
        last_reconcile_report=report,
        last_error=None,
    )
    logger.info("reconciliation shop=%s repaired=%s", run.shop.domain, report["repaired"])
    record_reconciliation()
    if repairs:
        async with run.services.sessions() as session:
            links = await repairs.read_links(session)
        await publish_changes(run.services.events, repairs.completed(links))
        await tell_restocked(run.services, repairs.completed(links))
        await link_waiting_after_sync(run.services, shop=run.shop)
    return report


async def reconcile_shop(services: Services, *, shop_id: int) -> dict[str, Any]:
    """Sweep the shop for changes since its watermarks; the report (also stored in ``sync_states``)."""
    ran, report = await run_under_lease(
        services, shop_id=shop_id, body=_reconcile_under_lease, what="reconciliation"
    )
    if not ran:
        return {"skipped": True, "reason": "sync_running_or_shop_inactive"}
    assert isinstance(report, dict)
    return report

"""Backfill: copy a shop's locations, catalogue, stock, customers and orders into the mirror.

Pages of Admin GraphQL (sorted by id, so records changing during the run do not move) are turned into
resources and upserted; each page's upserts and its checkpoint (cursor and counts) commit in one
transaction under the shop's sync lease, so a process killed anywhere resumes from the last committed page
with no gap and no duplicate. Large resources go through a bulk operation instead (``bulk_backfill``).
The client paces itself from ``throttleStatus`` and retries THROTTLED, 429, 5xx, timeouts and dropped
connections; a page that still fails leaves the checkpoint where it was and is recorded as
``last_error``. Whatever changed behind a page already copied is caught by reconciliation, whose watermark
starts at the backfill's start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shop_app.helpdesk.ticket_links import link_waiting_after_sync
from shop_app.mirror import bulk_backfill
from shop_app.mirror.bulk_backfill import FOLLOW_UPS, bulk_resource
from shop_app.mirror.recent_first import recent_first
from shop_app.mirror.resources import BULK_RESOURCES, RESOURCES, SPECS, fetch_page, fetch_totals, writer_for
from shop_app.mirror.shop_details import refresh_shop_details, refresh_shop_policies
from shop_app.mirror.sync_run import SyncRun, run_under_lease
from shop_app.mirror.sync_states import Phase, get_sync_state, now_utc

if TYPE_CHECKING:
    from shop_app.runtime import Services

logger = logging.getLogger(__name__)


async def page_resource(run: SyncRun, name: str) -> None:
    spec = SPECS[name]
    cursor = run.entry(name).get("cursor")
    while True:
        page = await fetch_page(run.client, spec, after=cursor)
        items = await run.reader.convert(name, page.nodes)
        write = writer_for(name, shop_id=run.shop_id, items=items, synced_at=now_utc())
        await run.commit(
            name,
            write,
            added=len(page.nodes),
            complete=not page.has_next,
            cursor=page.end_cursor or cursor,
            mode="pages",
        )
        if not page.has_next:
            return
        cursor = page.end_cursor


def choose_mode(services: Services, name: str, total: int | None) -> str:
    if name not in BULK_RESOURCES:
        return "pages"
    threshold = services.settings.sync_bulk_threshold
    return "bulk" if total is not None and total >= threshold else "pages"


async def _backfill_under_lease(run: SyncRun, *, full: bool) -> None:
    started = now_utc()
    previous = run.checkpoints.get("run") or {}
    # A killed --full run resumes as itself; a new --full run (or one after a finished run) starts over.
    if not previous or run.checkpoints.get("completed_at") or (full and not previous.get("full")):
        run.checkpoints = {"run": {"started_at": started.isoformat(), "full": full}, "resources": {}}
        run.progress = {"resources": {}}
        await run.save(
            phase=Phase.BACKFILLING.value,
            started_at=started,
            finished_at=None,
            last_error=None,
            checkpoints=run.checkpoints,
            progress=run.progress,
        )
    else:
        await run.save(phase=Phase.BACKFILLING.value, last_error=None)
    totals = await fetch_totals(run.client)
    await run.set_totals(totals)
    run.start_rate()
    for name in RESOURCES:
        entry = run.entry(name)
        if not entry.get("complete") and entry.get("done", 0) == 0 and not entry.get("bulk_id"):
            entry["mode"] = choose_mode(run.services, name, totals.get(name))
    bulk = [name for name in RESOURCES if run.entry(name).get("mode") == "bulk"]
    if bulk and not run.checkpoints.get("recent", {}).get("complete"):
        # the store builds the results while the recent orders are paged (Shopify runs up to five bulk
        # queries of an app at once); the orders' follow-up starts when the orders' result is ready
        for name in bulk:
            if not run.entry(name).get("complete"):
                await bulk_backfill.begin(run, name)
        settings = run.services.settings
        await recent_first(run, days=settings.sync_recent_days, max_points=settings.sync_recent_points)
    for name in RESOURCES:
        entry = run.entry(name)
        if not entry.get("complete"):
            if entry.get("mode") == "bulk":
                await run.save(phase=Phase.BULK.value)
                await bulk_resource(run, name)
                await run.save(phase=Phase.BACKFILLING.value)
            else:
                await page_resource(run, name)
        if run.entry(name).get("mode") != "bulk":
            continue
        for follow_up in FOLLOW_UPS.get(name, ()):
            if not run.entry(follow_up).get("complete"):
                run.entry(follow_up)["mode"] = "bulk"
                shown = run.progress.setdefault("resources", {})
                shown[follow_up] = {**shown.get(follow_up, {}), "total": run.entry(name).get("done")}
                await run.save(phase=Phase.BULK.value)
                await bulk_resource(run, follow_up)
                await run.save(phase=Phase.BACKFILLING.value)
    run_started = str(run.checkpoints["run"]["started_at"])
    finished = now_utc()
    checkpoints = {**run.checkpoints, "completed_at": finished.isoformat()}
    async with run.services.sessions() as session:
        state = await get_sync_state(session, shop_id=run.shop_id)
    watermarks = dict(state.watermarks or {}) if state is not None else {}
    watermarks.update(dict.fromkeys(RESOURCES, run_started))
    await run.save(
        phase=Phase.IDLE.value,
        finished_at=finished,
        checkpoints=checkpoints,
        watermarks=watermarks,
        progress=run._progress_with(checkpoints),
    )
    run.checkpoints = checkpoints
    logger.info(
        "backfill complete shop=%s cost=%.0f requests=%s throttled=%s",
        run.shop.domain,
        run.client.total_cost_charged,
        run.client.requests,
        run.client.throttled_count,
    )


async def backfill_shop(services: Services, *, shop_id: int, full: bool = False) -> None:
    """Copy the whole shop into the mirror, resuming a killed run; ``full`` starts over. A shop whose
    backfill is complete is left as it is (reconciliation keeps it fresh) unless ``full``. Every run first
    reads the shop's own settings (name, country, currency, time zone, locale) and policies."""

    async def body(run: SyncRun) -> None:
        await refresh_shop_details(run.services, shop=run.shop, client=run.client)
        await refresh_shop_policies(run.services, shop=run.shop, client=run.client)
        if run.checkpoints.get("completed_at") and not full:
            return
        await _backfill_under_lease(run, full=full)
        await link_waiting_after_sync(run.services, shop=run.shop)

    await run_under_lease(services, shop_id=shop_id, body=body, what="backfill")

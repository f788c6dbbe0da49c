"""Sync progress as the merchant sees it: the session-token JSON API behind the embedded page's progress
bar, the page itself, and ``shop-app sync`` in a terminal."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console
from sqlalchemy import update

from shop_app.cli import _parser, run_sync
from shop_app.models import SyncState
from tests.factories import session_token
from tests.sync.test_backfill import (  # noqa: F401
    APP_URL,
    ORDERS,
    OTHER_SHOP,
    SHOP,
    World,
    shop_id,
    sync_state,
    synced,
)


def bearer(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


async def test_sync_api_reports_progress_errors_webhooks_and_reconciliation(synced: World) -> None:  # noqa: F811
    response = await synced.browser.get(f"{APP_URL}/api/admin/sync", headers=bearer(SHOP))

    assert response.status_code == 200
    body = response.json()
    assert body["shop"] == SHOP
    assert body["phase"] == "idle" and body["running"] is False
    assert body["backfill_complete"] is True
    assert body["resources"]["orders"] == {"done": ORDERS, "total": ORDERS, "mode": "pages"}
    assert set(body["resources"]) == {"locations", "products", "inventory", "customers", "orders"}
    assert body["last_error"] is None
    assert body["last_reconciled_at"] is not None
    assert body["last_reconcile_report"]["repaired"] == 0
    assert "last_webhook_at" in body and body["eta_seconds"] is None


async def test_sync_api_shows_a_running_sync_with_rate_and_eta(synced: World) -> None:  # noqa: F811
    shop = await shop_id(synced)
    async with synced.services.sessions() as session, session.begin():
        await session.execute(
            update(SyncState)
            .where(SyncState.shop_id == shop)  # type: ignore[arg-type]
            .values(
                phase="backfilling",
                lease_owner="worker-1",
                lease_until=datetime.now(UTC) + timedelta(seconds=60),
                last_error="ShopifyUnavailable: <script>alert(1)</script>",
                progress={
                    "resources": {"orders": {"done": 40, "total": 100, "mode": "pages"}},
                    "rate_per_second": 20.0,
                    "eta_seconds": 3.0,
                },
            )
        )

    body = (await synced.browser.get(f"{APP_URL}/api/admin/sync", headers=bearer(SHOP))).json()

    assert body["running"] is True and body["phase"] == "backfilling"
    assert body["resources"]["orders"] == {"done": 40, "total": 100, "mode": "pages"}
    assert (body["rate_per_second"], body["eta_seconds"]) == (20.0, 3.0)
    assert body["last_error"].startswith("ShopifyUnavailable")
    other = (await synced.browser.get(f"{APP_URL}/api/admin/sync", headers=bearer(OTHER_SHOP))).json()
    assert other["shop"] == OTHER_SHOP and other["running"] is False  # each shop sees its own


async def test_sync_api_needs_a_session_token(synced: World) -> None:  # noqa: F811
    response = await synced.browser.get(f"{APP_URL}/api/admin/sync")
    assert response.status_code == 401


async def test_embedded_page_has_the_progress_bar_and_its_script(synced: World) -> None:  # noqa: F811
    for path, script_name in (("/app", "home.js"), ("/app/sync", "sync.js")):
        page = await synced.browser.get(
            f"{APP_URL}{path}", params={"shop": SHOP, "id_token": session_token(SHOP)}
        )
        assert page.status_code == 200
        assert 'data-sync-url="/api/admin/sync"' in page.text
        assert "<progress" in page.text
        assert f"/static/admin/{script_name}" in page.text
    for script_name in ("home.js", "sync.js", "sync_status.js"):
        script = await synced.browser.get(f"{APP_URL}/static/admin/{script_name}")
        assert script.status_code == 200
        assert "innerHTML" not in script.text  # all text goes in with textContent


async def test_cli_sync_runs_in_the_foreground_and_prints_a_summary(synced: World) -> None:  # noqa: F811
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False)

    code = await run_sync(
        synced.services.settings, shop=SHOP, full=True, http=synced.services.http, console=console
    )

    assert code == 0
    text = out.getvalue()
    assert f"Synced {SHOP}" in text
    assert f"orders           {ORDERS} of {ORDERS} (pages)" in text
    assert "reconciliation repaired 0 records" in text
    state = await sync_state(synced)
    assert state.checkpoints["run"]["full"] is True


async def test_cli_sync_refuses_an_unknown_shop_and_parses_its_options(synced: World) -> None:  # noqa: F811
    console = Console(file=io.StringIO())
    assert (
        await run_sync(
            synced.services.settings,
            shop="nowhere.myshopify.com",
            full=False,
            http=synced.services.http,
            console=console,
        )
        == 1
    )
    assert await run_sync(synced.services.settings, shop="not a shop", full=False, console=console) == 2
    args = _parser().parse_args(["sync", "--shop", SHOP, "--full"])
    assert (args.command, args.shop, args.full) == ("sync", SHOP, True)

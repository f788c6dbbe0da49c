"""The app's first backfill of a generated store at Shopify's standard limits, against the simulated store
in its own process (real HTTP), beside the lower bound the rate limit allows.

The store (``python -m devstore.cli serve``) generates ``--orders`` orders for one shop and keeps its
default bucket (2000 points, 100 restored per second, set again explicitly). A child process, so that its
peak memory is the backfill's alone, migrates a fresh database, installs the shop by the code grant, then
runs the app's ``backfill_shop`` by pagination, or by bulk operations for customers, orders and the
orders' fulfillment orders (``--bulk-orders``), and prints:

- wall time, requests, times throttled, total cost charged (actual cost, summed from every response);
- lower bound = (cost charged − initial bucket) ÷ restore rate, and wall time ÷ lower bound (goal ≤ 1.15
  by pagination; size-independent, so a smaller store measures it too);
- peak memory (VmHWM) of the process that backfilled, its resident size before the backfill, and at each
  tenth of the backfill's time (flat: it holds no more as the store gets bigger).

    python bench/backfill.py [--orders 1000] [--bulk-orders 0] [--database-url URL]

``--bulk-orders N`` adds a run of the bulk path on a store of N orders (the store's bucket does not limit
a bulk operation; its time is generation-independent: the store is generated before the clock starts).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHOP = "hinode-apparel.myshopify.com"
CLIENT_ID = "bench-client"
SECRET = "shpss_bench_" + "0f" * 16
BUCKET = 2000
RESTORE_RATE = 100
SCOPES = (
    "read_orders,read_all_orders,read_customers,read_products,read_inventory,read_locations,"
    "read_fulfillments,read_assigned_fulfillment_orders,read_merchant_managed_fulfillment_orders,"
    "read_third_party_fulfillment_orders"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def sample_rss(samples: list[int], stop: threading.Event, every_seconds: float = 0.5) -> None:
    """The process's resident size, every half second until ``stop``."""
    while not stop.is_set():
        samples.append(memory_kib("VmRSS"))
        stop.wait(every_seconds)


def start_store(data_dir: Path, port: int, orders: int) -> subprocess.Popen[bytes]:
    log = (data_dir / "store.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstore.cli",
            "serve",
            "--data-dir",
            str(data_dir / "store"),
            "--port",
            str(port),
            "--shop",
            SHOP,
            "--app",
            f"{CLIENT_ID}:{SECRET}",
            "--auto-approve",
            "--orders",
            str(orders),
            "--customers",
            str(max(200, orders // 10)),
            "--products",
            "40",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_healthy(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/_devstore/health", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("the store did not start")


async def code_grant(base: str) -> str:
    """Authorize (auto-approved) and check the callback's HMAC; the code the app exchanges."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(
            f"{base}/s/{SHOP}/admin/oauth/authorize",
            params={
                "client_id": CLIENT_ID,
                "scope": SCOPES,
                "redirect_uri": "http://127.0.0.1:9/auth/callback",
                "state": "bench",
            },
        )
        params = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
        signed = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
        expected = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, params["hmac"])
        limits = {"shop": SHOP, "maximumAvailable": BUCKET, "restoreRate": RESTORE_RATE}
        (await client.post(f"{base}/_devstore/throttle", json=limits)).raise_for_status()
        return params["code"]


async def backfill_child(base: str, database_url: str, data_dir: Path, bulk: bool) -> dict[str, Any]:
    """Runs in the child process: install the shop into a fresh database, then backfill it."""
    from cryptography.fernet import Fernet

    from shop_app.cli import migrate
    from shop_app.database import transaction
    from shop_app.main import create_app
    from shop_app.mirror import backfill, sync_run
    from shop_app.models import Order
    from shop_app.settings import Secret, Settings
    from shop_app.shops.installation import install_shop

    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        app_url="http://127.0.0.1:9",
        api_key=CLIENT_ID,
        api_secret=Secret(SECRET),
        encryption_keys=(Secret(Fernet.generate_key().decode()),),
        session_secret=Secret("bench-session-secret-0123456789"),
        app_config_path=ROOT / "shopify.app.toml",
        shop_url_template=f"{base}/s/{{shop}}",
        register_webhooks=False,
        reconcile_interval_seconds=0,
        sync_bulk_threshold=0 if bulk else 10**9,
    )
    await asyncio.to_thread(migrate, settings)  # runs its own event loop for the job engine's schema
    clients: list[Any] = []
    make_client = sync_run.admin_client

    def recording_client(services: Any, shop: Any) -> Any:
        client = make_client(services, shop)
        clients.append(client)
        return client

    sync_run.admin_client = recording_client  # type: ignore[assignment]
    async with httpx.AsyncClient(timeout=60) as http:
        app = create_app(settings, http=http)
        async with app.router.lifespan_context(app) as state:
            assert state is not None
            services = state["services"]
            token = await services.oauth.exchange_code(SHOP, await code_grant(base))
            async with transaction(services.sessions) as session:
                shop = await install_shop(session, domain=SHOP, token=token, cipher=services.cipher)
                shop_id = shop.id
            rss_before = memory_kib("VmRSS")
            samples: list[int] = []
            sampling = threading.Event()
            sampler = threading.Thread(target=sample_rss, args=(samples, sampling), daemon=True)
            sampler.start()
            started = time.perf_counter()
            await backfill.backfill_shop(services, shop_id=shop_id, full=True)
            elapsed = time.perf_counter() - started
            sampling.set()
            sampler.join()
            async with services.sessions() as session:
                from sqlalchemy import func, select

                mirrored = await session.scalar(select(func.count()).select_from(Order))
    return {
        "seconds": elapsed,
        "cost": sum(c.total_cost_charged for c in clients),
        "requests": sum(c.requests for c in clients),
        "throttled": sum(c.throttled_count for c in clients),
        "orders": mirrored,
        "rss_before_mib": rss_before / 1024,
        "peak_mib": memory_kib("VmHWM") / 1024,
        # resident size at each tenth of the run: flat means the backfill holds no more as it goes
        "rss_tenths_mib": [
            round(samples[min(len(samples) - 1, len(samples) * tenth // 10)] / 1024) for tenth in range(11)
        ]
        if samples
        else [],
    }


def run(orders: int, *, bulk: bool, database_url: str | None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store = start_store(work, port, orders)
    try:
        generated = time.perf_counter()
        wait_healthy(base, seconds=3600)
        generation = time.perf_counter() - generated
        url = fresh_postgres(database_url) if database_url else f"sqlite+aiosqlite:///{work / 'app.db'}"
        child = subprocess.run(
            [sys.executable, __file__, "--child", base, url, str(work), "bulk" if bulk else "pages"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "SHOP_APP_LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
        )
        if child.returncode != 0:
            raise RuntimeError(f"the backfill process failed:\n{child.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
        figures["generation_seconds"] = generation
        return figures
    finally:
        store.terminate()
        store.wait(timeout=30)


def fresh_postgres(url: str) -> str:
    """Drop and create the database the URL names, so every run starts empty."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()
    return url


def report(label: str, size: int, figures: dict[str, Any], database: str) -> None:
    cost = figures["cost"]
    bound = max(cost - BUCKET, 0) / RESTORE_RATE
    ratio = figures["seconds"] / bound if bound else float("nan")
    print(
        f"{label}: {size} orders ({figures['orders']} mirrored) on {database}: "
        f"{figures['seconds']:.1f} s wall, {figures['requests']} requests, {figures['throttled']} throttled, "
        f"cost charged {cost:.0f} points ({cost / max(size, 1):.1f}/order)"
    )
    print(
        f"  lower bound (cost − {BUCKET}) ÷ {RESTORE_RATE}/s = {bound:.1f} s; wall ÷ bound = {ratio:.3f}"
        f"  | peak memory (VmHWM) {figures['peak_mib']:.0f} MiB (RSS before backfill "
        f"{figures['rss_before_mib']:.0f} MiB) | store generation {figures['generation_seconds']:.0f} s"
    )
    tenths = " ".join(str(mib) for mib in figures["rss_tenths_mib"])
    print(f"  resident size (MiB) at 0%, 10%, …, 100% of the backfill's time: {tenths}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        base, url, work, mode = sys.argv[2:6]
        figures = asyncio.run(backfill_child(base, url, Path(work), mode == "bulk"))
        print(json.dumps(figures))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1000, help="orders in the store paged (0: skip)")
    parser.add_argument("--bulk-orders", type=int, action="append", default=[], help="bulk run (repeatable)")
    parser.add_argument(
        "--database-url", default=None, help="e.g. postgresql+psycopg://…/bench (default SQLite)"
    )
    args = parser.parse_args()
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {os.cpu_count()} cores, shared; store and app in separate processes (real HTTP)")
    if args.orders:
        report(
            "pagination", args.orders, run(args.orders, bulk=False, database_url=args.database_url), database
        )
    for size in args.bulk_orders:
        report("bulk", size, run(size, bulk=True, database_url=args.database_url), database)


if __name__ == "__main__":
    main()

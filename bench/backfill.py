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
        sync_recent_days=7,
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
            by_tenth = rss_at_tenths(started)
            profiles = ProfileWatch(services.sessions, shop_id, started)
            watching = asyncio.create_task(profiles.watch())
            await backfill.backfill_shop(services, shop_id=shop_id, full=True)
            elapsed = time.perf_counter() - started
            watching.cancel()
            sampling.set()
            sampler.join()
            first_profile = await profiles.first_complete()
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
        # resident size when each tenth of the orders was written (bulk or pages), and the seconds then
        "rss_by_progress": by_tenth,
        "first_profile_seconds": first_profile,
        "rss_tenths_mib": [
            round(samples[min(len(samples) - 1, len(samples) * tenth // 10)] / 1024) for tenth in range(11)
        ]
        if samples
        else [],
    }


def rss_at_tenths(started: float) -> list[tuple[int, float, int]]:
    """(tenth, seconds, RSS MiB) as each tenth of the orders is committed: the run's own checkpoints."""
    from shop_app.mirror import sync_run

    marks: list[tuple[int, float, int]] = []
    real = sync_run.SyncRun.commit

    async def commit(self: Any, name: str, write: Any, **kwargs: Any) -> Any:
        result = await real(self, name, write, **kwargs)
        shown = self.progress.get("resources", {}).get(name, {})
        if name == "orders" and shown.get("total"):
            tenth = min(10, int(shown["done"]) * 10 // int(shown["total"]))
            while len(marks) <= tenth:
                marks.append(
                    (len(marks), round(time.perf_counter() - started, 1), memory_kib("VmRSS") // 1024)
                )
        return result

    sync_run.SyncRun.commit = commit  # type: ignore[method-assign]
    return marks


class ProfileWatch:
    """When the first customer with an order in the last 7 days had every one of their orders mirrored:
    each second, the mirrored order count of every such customer (the first time each count is seen);
    after the run, a customer's profile was whole at the first moment its count reached its final one
    (and their own record was there)."""

    def __init__(self, sessions: Any, shop_id: int, started: float) -> None:
        self.sessions, self.shop_id, self.started = sessions, shop_id, started
        self.seen: dict[int, dict[int, float]] = {}  # customer → order count → first seconds seen

    def _query(self) -> Any:
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import func, select

        from shop_app.models import Customer, Order

        since = datetime.now(UTC) - timedelta(days=7)
        recent = select(Order.customer_shopify_id).where(  # type: ignore[call-overload]
            Order.shop_id == self.shop_id, Order.created_at >= since, Order.customer_shopify_id.is_not(None)
        )
        known = select(Customer.shopify_id).where(Customer.shop_id == self.shop_id)  # type: ignore[call-overload]
        return (
            select(Order.customer_shopify_id, func.count())  # type: ignore[call-overload]
            .where(
                Order.shop_id == self.shop_id,
                Order.customer_shopify_id.in_(recent),
                Order.customer_shopify_id.in_(known),
            )
            .group_by(Order.customer_shopify_id)
        )

    async def sample(self) -> None:
        async with self.sessions() as session:
            rows = (await session.execute(self._query())).all()
        now = round(time.perf_counter() - self.started, 1)
        for customer, count in rows:
            self.seen.setdefault(int(customer), {}).setdefault(int(count), now)

    async def watch(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(1.0)

    async def first_complete(self) -> float | None:
        async with self.sessions() as session:
            final = dict((await session.execute(self._query())).all())
        times = [self.seen[c][n] for c, n in final.items() if c in self.seen and n in self.seen[c]]
        return min(times) if times else None


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
    progress = " ".join(
        f"{tenth * 10}%:{mib}MiB@{seconds:.0f}s" for tenth, seconds, mib in figures["rss_by_progress"]
    )
    print(f"  resident size as each tenth of the orders was written: {progress}")
    first = figures["first_profile_seconds"]
    shown = "none seen" if first is None else f"{first:.1f} s"
    print(f"  first whole profile of a customer with an order in the last 7 days: {shown} after the start")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        base, url, work, mode = sys.argv[2:6]
        profile = os.environ.get("BENCH_PROFILE")  # a cProfile of the backfilling process, to this file
        if profile:
            import cProfile

            with cProfile.Profile() as profiler:
                figures = asyncio.run(backfill_child(base, url, Path(work), mode == "bulk"))
            profiler.dump_stats(profile)
        else:
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

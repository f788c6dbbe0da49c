"""Freshness: the time from a change in the store to its appearance in the app's mirror, p50/p99.

The store (``python -m devstore.cli serve``) and the app (``python -m shop_app.cli serve``, the embedded
SQLite default, in-process jobs) each run under uvicorn in their own process; webhooks travel over real
HTTP. The shop is installed by the code grant through the app (which registers its webhooks and runs the
first backfill). Then, one at a time, the bench makes a change through the store's control API
(``POST /_devstore/shops/{shop}/changes/{action}``: adjust stock, fulfil an order, advance a shipment),
timestamped just before the request is sent, and polls until the change is there: the variant's stock,
the order's shipments, the shipment's last event. ``--via api`` (the default) polls what an agent sees: the
customer profile API (``GET /api/v1/customers/{id}/profile`` with an API key, over HTTP, back to back);
``--via mirror`` polls the app's database directly (read-only, every 2 ms). The app's database is read in
both modes only to choose which record to change.

    python bench/freshness.py [--changes 100] [--orders 300] [--via api|mirror]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHOP = "hinode-apparel.myshopify.com"
CLIENT_ID = "bench-client"
SECRET = "shpss_bench_" + "0f" * 16
SEEN_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.002
IN_FLIGHT = ("LABEL_PURCHASED", "CONFIRMED", "CARRIER_PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELAYED")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/_devstore/health", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("the store did not start")


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def query(db: sqlite3.Connection, sql: str, *params: Any) -> Any:
    row = db.execute(sql, params).fetchone()
    return row[0] if row else None


def wait_for(check: Callable[[], bool], seconds: float, poll: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except sqlite3.OperationalError:  # the app has not created the table yet
            pass
        time.sleep(poll)
    raise RuntimeError("timed out")


class Bench:
    def __init__(
        self, store: str, db: sqlite3.Connection, rng: random.Random, *, app: str, api_key: str | None
    ) -> None:
        self.store = store
        self.db = db
        self.rng = rng
        self.http = httpx.Client(timeout=30)
        self.app = app
        self.api_key = api_key

    def change(self, action: str, body: dict[str, str]) -> tuple[float, int]:
        sent = time.perf_counter()
        answer = self.http.post(f"{self.store}/_devstore/shops/{SHOP}/changes/{action}", json=body)
        return sent, answer.status_code

    def seen_after(self, sent: float, probe: Callable[[], Any], before: Any) -> float | None:
        deadline = sent + SEEN_TIMEOUT_SECONDS
        while time.perf_counter() < deadline:
            if probe() != before:
                return time.perf_counter() - sent
            if self.api_key is None:  # the API probe paces itself: one request after another
                time.sleep(POLL_SECONDS)
        return math.inf

    def profile_orders(self, customer: int) -> list[dict[str, Any]]:
        answer = self.http.get(
            f"{self.app}/api/v1/customers/{customer}/profile",
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        answer.raise_for_status()
        return list(answer.json()["profile"]["orders"])

    def _in_profile(self, order: int) -> int | None:
        """The order's customer, if the profile shows the order (each customer's 10 newest)."""
        found = query(
            self.db,
            "SELECT o.customer_shopify_id FROM orders o WHERE o.shopify_id = ? AND o.customer_shopify_id IS"
            " NOT NULL AND (SELECT count(*) FROM orders n WHERE n.shop_id = o.shop_id AND"
            " n.customer_shopify_id = o.customer_shopify_id AND n.created_at > o.created_at) < 10",
            order,
        )
        return int(found) if found is not None else None

    def adjust_stock(self) -> float | None:
        if self.api_key is None:
            variant = query(self.db, "SELECT shopify_id FROM product_variants ORDER BY random() LIMIT 1")

            def probe() -> Any:
                return query(
                    self.db,
                    "SELECT group_concat(available) FROM (SELECT l.available FROM inventory_levels l JOIN"
                    " product_variants v ON v.inventory_item_shopify_id = l.inventory_item_shopify_id"
                    " WHERE v.shopify_id = ? ORDER BY l.location_shopify_id)",
                    variant,
                )

        else:
            order = self._order(
                "JOIN order_line_items i ON i.order_id = o.id WHERE i.variant_shopify_id IS NOT NULL"
            )
            customer = self._in_profile(order) if order is not None else None
            if customer is None:
                return None
            variant = query(
                self.db,
                "SELECT i.variant_shopify_id FROM order_line_items i JOIN orders o ON o.id = i.order_id"
                " WHERE o.shopify_id = ? AND i.variant_shopify_id IS NOT NULL LIMIT 1",
                order,
            )

            def probe() -> Any:
                for shown in self.profile_orders(customer):
                    for item in shown["items"]:
                        if item["variant_id"] == variant and item["stock"]:
                            return [(s["id"], s["available"]) for s in item["stock"]["locations"]]
                return None

        before = probe()
        body = {
            "variant": f"gid://shopify/ProductVariant/{variant}",
            "delta": str(self.rng.choice((-1, 2, 5))),
        }
        sent, status = self.change("adjust_stock", body)
        return self.seen_after(sent, probe, before) if status == 200 else None

    def _order(self, where: str) -> int | None:
        found = query(self.db, f"SELECT o.shopify_id FROM orders o {where} ORDER BY random() LIMIT 1")  # noqa: S608
        return int(found) if found is not None else None

    def _shipments_probe(
        self, order: int, summary: Callable[[list[dict[str, Any]]], Any]
    ) -> Callable[[], Any] | None:
        customer = self._in_profile(order)
        if customer is None:
            return None

        def probe() -> Any:
            for shown in self.profile_orders(customer):
                if shown["id"] == order:
                    return summary(shown["shipments"])
            return None

        return probe

    def fulfil(self) -> float | None:
        order = self._order(
            "WHERE o.cancelled_at IS NULL AND o.fulfillment_status IN ('UNFULFILLED', 'PARTIALLY_FULFILLED')"
        )
        if order is None:
            return None
        if self.api_key is None:

            def probe() -> Any:
                return query(
                    self.db,
                    "SELECT count(*) FROM fulfillments f JOIN orders o ON o.id = f.order_id WHERE o.shopify_id = ?",
                    order,
                )

        else:
            found = self._shipments_probe(order, len)
            if found is None:
                return None
            probe = found
        before = probe()
        sent, status = self.change("fulfil", {"order": f"gid://shopify/Order/{order}"})
        return self.seen_after(sent, probe, before) if status == 200 else None

    def advance_shipment(self) -> float | None:
        statuses = ", ".join(f"'{s}'" for s in IN_FLIGHT)
        order = self._order(
            f"JOIN fulfillments f ON f.order_id = o.id WHERE f.display_status IN ({statuses})"
            " AND o.cancelled_at IS NULL"
        )
        if order is None:
            return None
        if self.api_key is None:

            def probe() -> Any:
                return query(
                    self.db,
                    "SELECT sum(json_array_length(f.events)) FROM fulfillments f JOIN orders o ON o.id = f.order_id"
                    " WHERE o.shopify_id = ?",
                    order,
                )

        else:
            found = self._shipments_probe(
                order, lambda shipments: [(s["id"], s["status"]["code"], s["last_event"]) for s in shipments]
            )
            if found is None:
                return None
            probe = found
        before = probe()
        sent, status = self.change("advance_shipment", {"order": f"gid://shopify/Order/{order}"})
        return self.seen_after(sent, probe, before) if status == 200 else None


def create_api_key(work: Path, app_env: dict[str, str]) -> str:
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "shop_app.cli",
            "api-key",
            "create",
            "--shop",
            SHOP,
            "--name",
            "freshness bench",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **app_env},
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--orders", type=int, default=300, help="orders in the generated store")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--via", choices=["api", "mirror"], default="api", help="what is polled (default api)"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-freshness-"))
    store_port, app_port = free_port(), free_port()
    store, app_url = f"http://127.0.0.1:{store_port}", f"http://127.0.0.1:{app_port}"
    store_process = start(
        [
            sys.executable,
            "-m",
            "devstore.cli",
            "serve",
            "--data-dir",
            str(work / "store"),
            "--port",
            str(store_port),
            "--shop",
            SHOP,
            "--app",
            f"{CLIENT_ID}:{SECRET}",
            "--app-url",
            f"{CLIENT_ID}={app_url}/app",
            "--compliance-url",
            f"{CLIENT_ID}={app_url}/webhooks/compliance",
            "--auto-approve",
            "--orders",
            str(args.orders),
            "--customers",
            "100",
            "--products",
            "20",
        ],
        work / "store.log",
        {},
    )
    app_env = {
        "SHOP_APP_DATA_DIR": str(work / "app"),
        "SHOP_APP_URL": app_url,
        "SHOPIFY_API_KEY": CLIENT_ID,
        "SHOPIFY_API_SECRET": SECRET,
        "SHOPIFY_SHOP_URL_TEMPLATE": f"{store}/s/{{shop}}",
        "SHOP_APP_RECONCILE_INTERVAL_SECONDS": "0",
        "SHOP_APP_LOG_LEVEL": "WARNING",
    }
    app_process = start(
        [sys.executable, "-m", "shop_app.cli", "serve", "--port", str(app_port)], work / "app.log", app_env
    )
    try:
        wait_healthy(store, seconds=600)
        for _ in range(300):
            try:
                httpx.get(f"{app_url}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(timeout=60, follow_redirects=True) as browser:
            browser.get(f"{app_url}/auth/install", params={"shop": SHOP})
        db = sqlite3.connect(f"file:{work / 'app' / 'shop_app.db'}?mode=ro", uri=True, isolation_level=None)
        started = time.perf_counter()
        wait_for(
            lambda: bool(query(db, "SELECT json_extract(checkpoints, '$.completed_at') FROM sync_states")),
            seconds=1800,
        )
        print(
            f"machine: {os.cpu_count()} cores, shared; store and app each under uvicorn, webhooks over HTTP"
        )
        print(f"install + first backfill of {args.orders} orders: {time.perf_counter() - started:.1f} s")
        api_key = create_api_key(work, app_env) if args.via == "api" else None
        bench = Bench(store, db, random.Random(args.seed), app=app_url, api_key=api_key)
        actions = {
            "adjust_stock": bench.adjust_stock,
            "fulfil": bench.fulfil,
            "advance": bench.advance_shipment,
        }
        latencies: dict[str, list[float]] = {name: [] for name in actions}
        skipped = 0
        unseen: list[str] = []
        attempts = 0
        while sum(map(len, latencies.values())) < args.changes and attempts < args.changes * 3:
            attempts += 1
            name = bench.rng.choice(list(actions))
            latency = actions[name]()
            if latency is None:  # no order in a state this change applies to, or the store refused it (409)
                skipped += 1
                continue
            if latency == math.inf:
                unseen.append(name)
                continue
            latencies[name].append(latency)
            time.sleep(bench.rng.uniform(0.05, 0.2))
        every = [value for values in latencies.values() for value in values]
        print(
            f"freshness over {len(every)} changes (store change → "
            f"{'the profile API' if api_key else 'the mirror in the app database'}): "
            f"p50 {statistics.median(every) * 1000:.0f} ms, p99 {percentile(every, 0.99) * 1000:.0f} ms, "
            f"max {max(every) * 1000:.0f} ms; never seen within {SEEN_TIMEOUT_SECONDS:.0f} s: {len(unseen)} "
            f"{sorted(unseen)}; skipped (store refused or no candidate): {skipped}"
        )
        for name, values in latencies.items():
            if values:
                print(
                    f"  {name}: {len(values)} changes, p50 {statistics.median(values) * 1000:.0f} ms, "
                    f"p99 {percentile(values, 0.99) * 1000:.0f} ms"
                )
    finally:
        for process in (app_process, store_process):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

"""The simulated store's Admin GraphQL throughput with throttling off, beside what the app's sync can
consume at Shopify's standard limits (100 points/s restored), so the store is never a benchmark's
bottleneck.

It starts ``shop-app devstore serve`` on its own port (real HTTP, uvicorn), installs a client by the code
grant (auto-approve), switches the store's throttling off, then asks for pages of orders with their line
items, fulfillments and tracking (a backfill-shaped query) from several connections for a fixed time.

    python bench/devstore_graphql.py [--orders 2000] [--seconds 10] [--concurrency 4] [--page 50]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHOP = "hinode-apparel.myshopify.com"
CLIENT_ID = "bench-client"
SECRET = "shpss_bench_" + "0f" * 16
STANDARD_RESTORE_RATE = 100.0

QUERY = """
query Orders($first: Int!, $after: String) {
  orders(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      customer { id }
      lineItems(first: 5) { nodes { id sku quantity variant { id } } }
      fulfillments(first: 3) { id status trackingInfo(first: 3) { company number url } }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def install(base: str) -> str:
    """The code grant as Shopify answers it: authorize (auto-approved), then the code for a token."""
    shop_url = f"{base}/s/{SHOP}"
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(
            f"{shop_url}/admin/oauth/authorize",
            params={
                "client_id": CLIENT_ID,
                "scope": "read_orders",
                "redirect_uri": "http://127.0.0.1:9/cb",
                "state": "bench",
            },
        )
        params = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
        signed = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
        assert hmac.compare_digest(
            hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest(), params["hmac"]
        )
        token = await client.post(
            f"{shop_url}/admin/oauth/access_token",
            data={"client_id": CLIENT_ID, "client_secret": SECRET, "code": params["code"], "expiring": "1"},
        )
        token.raise_for_status()
        throttle = await client.post(f"{base}/_devstore/throttle", json={"enabled": False})
        throttle.raise_for_status()
        return str(token.json()["access_token"])


async def drive(
    base: str, token: str, seconds: float, concurrency: int, page: int
) -> tuple[int, int, float, float]:
    url = f"{base}/s/{SHOP}/admin/api/2026-07/graphql.json"
    requests = orders = 0
    cost = 0.0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=60, headers={"X-Shopify-Access-Token": token}) as client:

        async def loop() -> None:
            nonlocal requests, orders, cost
            after = None
            while time.perf_counter() < deadline:
                answer = await client.post(
                    url, json={"query": QUERY, "variables": {"first": page, "after": after}}
                )
                body = answer.json()
                connection = body["data"]["orders"]
                requests += 1
                orders += len(connection["nodes"])
                cost = float(body["extensions"]["cost"]["requestedQueryCost"])
                after = connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] else None

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return requests, orders, elapsed, cost


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=2000, help="orders per shop in the generated store")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--page", type=int, default=50)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-devstore-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (data_dir / "store.log").open("wb")
    store = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstore.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--app",
            f"{CLIENT_ID}:{SECRET}",
            "--auto-approve",
            "--orders",
            str(args.orders),
            "--customers",
            "200",
            "--products",
            "30",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/_devstore/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = asyncio.run(install(base))
        requests, orders, elapsed, cost = asyncio.run(
            drive(base, token, args.seconds, args.concurrency, args.page)
        )
    finally:
        store.terminate()
        store.wait(timeout=10)
    served_rate = requests / elapsed
    consumed_rate = STANDARD_RESTORE_RATE / cost
    print(
        f"store, throttling off: {served_rate:.1f} requests/s, {orders / elapsed:.0f} orders/s "
        f"({args.concurrency} connections, {args.page}-order pages, requested cost {cost:.0f})"
    )
    print(
        f"app sync at standard limits can use {consumed_rate:.2f} such requests/s "
        f"({consumed_rate * args.page:.0f} orders/s): the store serves {served_rate / consumed_rate:.0f}× that"
    )


if __name__ == "__main__":
    main()

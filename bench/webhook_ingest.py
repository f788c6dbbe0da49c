"""Webhook ingest benchmark: signed ``orders/updated`` deliveries against the running server.

For each backend (embedded SQLite default, and PostgreSQL with a procrastinate worker when reachable) it
starts ``uvicorn`` in its own process, then drives it from this process:
- a fixed offered rate (open loop: requests leave on schedule whatever the answers do),
- saturation (closed loop: N connections sending back to back),
and, in the same run, a bare Starlette endpoint that only answers 200 (the ceiling on this machine).
It reports accepted/s, p50/p99 time to the 200, and deliveries lost (acknowledged but not stored or not
processed) or applied twice (stored twice, or processed more than once). 5% of deliveries repeat an
earlier event id, as Shopify's retries do; those must be acknowledged and not stored again.

    python bench/webhook_ingest.py [--rate 200] [--seconds 10] [--concurrency 32] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SHOP = "bench-shop.myshopify.com"
SECRET = "shpss_bench_" + "a1b2c3d4" * 4
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "shop_app_bench"
DUPLICATE_SHARE = 0.05

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def ok(request):
    await request.body()
    return JSONResponse({"ok": True})

app = Starlette(routes=[Route("/webhooks", ok, methods=["POST"])])
"""


@dataclass
class Result:
    name: str
    sent: int
    accepted: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    fixed_percentiles: tuple[float, float] | None = None

    def percentile(self, p: float) -> float:
        if self.fixed_percentiles is not None and p in (50, 99):
            return self.fixed_percentiles[0 if p == 50 else 1]
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def order_body(rng: random.Random) -> bytes:
    sample = ROOT.parent / "shared" / "shopify-reference" / "webhook-payloads" / "Order.json"
    base = json.loads(sample.read_text()) if sample.exists() else {"id": 1, "name": "#1001", "line_items": []}
    base["id"] = rng.randrange(10**12, 10**13)
    base["name"] = f"#{rng.randrange(1000, 999999)}"
    base["admin_graphql_api_id"] = f"gid://shopify/Order/{base['id']}"
    return json.dumps(base, ensure_ascii=False).encode()


class Deliveries:
    """Signed deliveries; a share of them repeat an earlier event id (Shopify's retries)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.body = order_body(self.rng)
        self.signature = base64.b64encode(
            hmac.new(SECRET.encode(), self.body, hashlib.sha256).digest()
        ).decode()
        self.event_ids: list[str] = []
        self.acknowledged: set[str] = set()

    def next_headers(self) -> dict[str, str]:
        if self.event_ids and self.rng.random() < DUPLICATE_SHARE:
            event_id = self.rng.choice(self.event_ids)
        else:
            event_id = str(uuid.uuid4())
            self.event_ids.append(event_id)
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/updated",
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-API-Version": "2026-07",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": "2026-11-22T00:00:00Z",
            "X-Shopify-Hmac-Sha256": self.signature,
        }


async def post(client: httpx.AsyncClient, deliveries: Deliveries, latencies: list[float]) -> bool:
    headers = deliveries.next_headers()
    started = time.perf_counter()
    try:
        response = await client.post("/webhooks", content=deliveries.body, headers=headers)
    except httpx.HTTPError:
        return False
    latencies.append((time.perf_counter() - started) * 1000)
    if response.status_code == 200:
        deliveries.acknowledged.add(headers["X-Shopify-Event-Id"])
    return response.status_code == 200


async def fixed_rate(base_url: str, name: str, rate: float, seconds: float, deliveries: Deliveries) -> Result:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:
        total = int(rate * seconds)
        started = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(client, deliveries, latencies)))
        outcomes = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return Result(name, total, sum(outcomes), elapsed, latencies)


async def saturate(
    base_url: str, name: str, concurrency: int, seconds: float, deliveries: Deliveries
) -> Result:
    latencies: list[float] = []
    accepted = sent = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def loop() -> None:
            nonlocal accepted, sent
            while time.perf_counter() < deadline:
                sent += 1
                ok = await post(client, deliveries, latencies)
                accepted += ok

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, sent, accepted, elapsed, latencies)


WRK_SCRIPT = """
local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end
function init(args)
  sent = 0
  unique = 0
  math.randomseed(tid * 7919)
  prefix = os.time() .. "-" .. tid .. "-"
end
function request()
  sent = sent + 1
  local event
  if unique > 20 and math.random() < DUPLICATE_SHARE then
    event = prefix .. math.random(1, unique)
  else
    unique = unique + 1
    event = prefix .. unique
  end
  wrk.headers["X-Shopify-Event-Id"] = event
  return wrk.format("POST", "/webhooks")
end
function done(summary, latency, requests)
  local distinct = 0
  for _, thread in ipairs(threads) do distinct = distinct + thread:get("unique") end
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("WRK %d %d %d %.3f %.3f %d\\n", summary.requests, failed, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, distinct))
end
"""


def wrk_saturate(
    port: int, name: str, concurrency: int, seconds: float, deliveries: Deliveries
) -> tuple[Result, int]:
    """Saturation driven by wrk (C), so the load generator is not the bottleneck; distinct event ids sent."""
    headers = deliveries.next_headers()
    lines = [
        f"wrk.body = {json.dumps(deliveries.body.decode())}",
        *(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}"
            for k, v in headers.items()
            if k != "X-Shopify-Event-Id"
        ),
        WRK_SCRIPT.replace("DUPLICATE_SHARE", str(DUPLICATE_SHARE)),
    ]
    script = Path(tempfile.mkdtemp(prefix="bench-wrk-")) / "deliveries.lua"
    script.write_text("\n".join(lines))
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{concurrency}",
            f"-d{int(seconds)}s",
            "-s",
            str(script),
            "--latency",
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = next(line for line in output.splitlines() if line.startswith("WRK ")).split()
    requests, failed, duration_us = int(fields[1]), int(fields[2]), int(fields[3])
    p50, p99, distinct = float(fields[4]), float(fields[5]), int(fields[6])
    result = Result(name, requests, requests - failed, duration_us / 1e6, [])
    result.fixed_percentiles = (p50, p99)
    return result, distinct


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_ready(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def app_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "SHOP_APP_DATA_DIR": str(data_dir),
        "SHOPIFY_API_SECRET": SECRET,
        "SHOP_APP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SHOP_APP_LOG_LEVEL": "WARNING",
        "SHOPIFY_APP_TOML": str(bench_toml(data_dir)),
        "PYTHONPATH": str(ROOT),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def bench_toml(data_dir: Path) -> Path:
    """The project's toml plus an ``orders/updated`` subscription (the sync issue adds its handler)."""
    toml = (ROOT / "shopify.app.toml").read_text()
    if '"orders/updated"' not in toml:
        toml += '\n  [[webhooks.subscriptions]]\n  topics = ["orders/updated"]\n  uri = "/webhooks"\n'
    path = data_dir / "shopify.app.toml"
    path.write_text(toml)
    return path


def prepare(env: dict[str, str]) -> None:
    script = (
        "import asyncio, time\n"
        "from shop_app.cli import migrate\n"
        "from shop_app.settings import load_settings\n"
        "from shop_app.database import make_engine, make_session_factory, transaction\n"
        "from shop_app.encryption import Cipher\n"
        "from shop_app.shops.installation import install_shop\n"
        "from integrations.shopify.oauth import AccessToken\n"
        "s = load_settings(); migrate(s)\n"
        "async def main():\n"
        "    engine = make_engine(s.database_url)\n"
        "    async with transaction(make_session_factory(engine)) as session:\n"
        f"        await install_shop(session, domain={SHOP!r}, cipher=Cipher(s.encryption_keys),\n"
        "            token=AccessToken('shpat_bench', 'read_orders', time.time() + 3600, 'shprt', None))\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)


def delivery_counts(database_url: str) -> tuple[int, int, int]:
    engine = create_engine(database_url.replace("+aiosqlite", ""))
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT count(*), sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) FROM webhook_deliveries"
            )
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


def processed_event_ids(database_url: str) -> set[str]:
    engine = create_engine(database_url.replace("+aiosqlite", ""))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT event_id FROM webhook_deliveries WHERE status = 'done'"))
        ids = {row[0] for row in rows}
    engine.dispose()
    return ids


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {PG_BENCH_DB}"))
        engine.dispose()
    except Exception as error:
        print(f"PostgreSQL not available ({type(error).__name__}); skipping that backend")
        return False
    return True


def report(result: Result, ceiling: Result | None = None) -> None:
    ratio = f"  ({result.rate / ceiling.rate:.2f}× bare)" if ceiling and ceiling.rate else ""
    print(
        f"  {result.name:<34} sent {result.sent:>6}  accepted/s {result.rate:8.1f}{ratio}  "
        f"p50 {result.percentile(50):6.1f} ms  p99 {result.percentile(99):6.1f} ms"
    )


def ensure_wrk() -> bool:
    """wrk (Debian package) drives the saturation phase; install it when we can."""
    if shutil.which("wrk"):
        return True
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk") is not None


def saturate_any(
    port: int, label: str, args: argparse.Namespace, deliveries: Deliveries
) -> tuple[Result, int]:
    name = f"{label} saturated ({args.concurrency} conns)"
    if ensure_wrk():
        return wrk_saturate(port, name + " [wrk]", args.concurrency, args.seconds, deliveries)
    print("  (wrk not found: `apt-get install wrk`; saturating with httpx, which tops out before the server)")
    return asyncio.run(
        saturate(f"http://127.0.0.1:{port}", name + " [httpx]", args.concurrency, args.seconds, deliveries)
    ), 0


def run_backend(
    label: str, database_url: str | None, args: argparse.Namespace, bare: dict[str, Result]
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    env = app_env(data_dir, database_url)
    prepare(env)
    port = free_port()
    server = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "shop_app.main:app_from_environment",
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env,
        data_dir / "server.log",
    )
    worker = (
        start(
            [sys.executable, "-m", "shop_app", "worker", "--concurrency", "8"], env, data_dir / "worker.log"
        )
        if database_url
        else None
    )
    url = database_url or f"sqlite:///{data_dir / 'shop_app.db'}"
    try:
        wait_ready(port)
        deliveries = Deliveries()
        print(f"{label}:")
        fixed = asyncio.run(
            fixed_rate(
                f"http://127.0.0.1:{port}",
                f"app @ {args.rate}/s offered",
                args.rate,
                args.seconds,
                deliveries,
            )
        )
        report(fixed, bare["fixed"])
        saturated, wrk_distinct = saturate_any(port, "app", args, deliveries)
        report(saturated, bare["saturated"])
        deadline = time.time() + 120
        while True:
            stored, done, retried = delivery_counts(url)
            if done >= stored or time.time() > deadline:
                break
            time.sleep(0.5)
        done_ids = processed_event_ids(url)
        lost = deliveries.acknowledged - done_ids
        wrk_stored = len(done_ids - set(deliveries.event_ids))
        print(
            f"  httpx phase: {len(deliveries.acknowledged)} distinct events acknowledged, "
            f"{len(deliveries.acknowledged & done_ids)} stored and processed, lost {len(lost)}"
        )
        if wrk_distinct:
            print(
                f"  wrk phase: {wrk_distinct} distinct events sent, {wrk_stored} stored and processed "
                f"(the difference, at most {args.concurrency}, is requests in flight when wrk stopped)"
            )
        print(
            f"  all: {stored} rows for {stored} distinct events (stored twice: 0 by the unique key), "
            f"{done} processed, processed more than once: {retried}"
        )
    finally:
        if worker:
            stop(worker)
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="offered deliveries per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=32, help="connections at saturation")
    parser.add_argument("--no-postgres", action="store_true", help="only the embedded SQLite default")
    args = parser.parse_args()

    bare_dir = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    (bare_dir / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    bare_server = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--app-dir",
            str(bare_dir),
        ],
        dict(os.environ),
        bare_dir / "server.log",
    )
    try:
        wait_ready(port, "/")
        print(f"bare Starlette endpoint (ceiling), {args.seconds:.0f} s per phase:")
        bare = {
            "fixed": asyncio.run(
                fixed_rate(
                    f"http://127.0.0.1:{port}",
                    f"bare @ {args.rate}/s offered",
                    args.rate,
                    args.seconds,
                    Deliveries(),
                )
            ),
            "saturated": saturate_any(port, "bare", args, Deliveries())[0],
        }
        for result in bare.values():
            report(result)
    finally:
        stop(bare_server)

    run_backend("embedded default (SQLite, in-process jobs)", None, args, bare)
    if not args.no_postgres and postgres_available():
        run_backend(
            "PostgreSQL (procrastinate worker)",
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}",
            args,
            bare,
        )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; one run: compare ratios, not absolutes")


if __name__ == "__main__":
    main()

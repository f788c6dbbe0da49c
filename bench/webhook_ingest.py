"""Webhook ingest: signed ``orders/updated`` deliveries against ``shop-app serve``, beside a bare endpoint.

Three servers, one after the other, in one run, each in its own process and driven by the same generator
(``bench/load_generator.py``: HTTP/1.1 over keep-alive connections, httptools, uvloop) with the very same
request bytes:
- a null server (a canned 200, no HTTP framework): what the generator itself can do, its ceiling;
- the bare endpoint: a do-nothing Starlette app served exactly as ``serve`` serves the app (the same
  ``ServerConfig``: uvicorn, httptools, the same connection limits), the ceiling of the stack;
- the app (``python -m shop_app serve``; on PostgreSQL with one ``shop-app worker`` beside it).

Two phases on each:
- fixed rate (``--rate``, default 200/s, for ``--seconds``): open loop, each request leaves when it is due
  whatever earlier ones are doing, and its latency is counted from when it was due (coordinated omission
  counted). The generator is shown not to be the bottleneck when the bare endpoint's p99 there is under
  ``--bare-p99-bar-ms`` (10 ms): if it is not, the machine or the generator could not hold the rate, and
  the app's figures are printed as NOT VALID and the script exits 3.
- saturation: ``--burst`` deliveries over ``--connections`` connections back to back (closed loop); its
  figure is accepted/s (latency there counted from each send).

Every delivery is signed with the app's secret (HMAC-SHA256 of the body, base64, as Shopify signs), is an
order at some version (a new order, or a later ``updated_at`` of an earlier one), and 5% repeat an earlier
delivery byte for byte (Shopify's retries). After the run the app's database is read, for the bench's own
shop: deliveries acknowledged but not stored (lost), event ids stored twice, stored rows that no request
sent, deliveries not processed, processed more than once (claimed again), and the mirror: orders missing
and orders left at an older version than the newest stored.

The cost of observing (``--metrics on|off|both``, default ``off``): with ``on`` the app runs with metrics
on (``SHOP_APP_METRICS_TOKEN`` set, so every request, webhook and job is recorded) and a scraper reads
``/metrics`` every ``--scrape-interval`` seconds (1 s: fifteen times Prometheus's default) while the load
runs; ``off`` has neither (the app then records nothing). ``both`` runs the app twice in the same run, off
then on, each on a fresh shop with its own deliveries of the same sizes, and prints on beside off: the goal
is under 5% fewer accepted/s at saturation.

    python bench/webhook_ingest.py [--database-url postgresql://user@host/db] [--rate 200] [--seconds 10]
                                   [--burst 10000] [--connections 64] [--metrics on|off|both]

SQLite (a fresh file) by default; ``--database-url`` runs the app on that PostgreSQL database (migrated
here; the bench adds a shop of its own and touches no other shop's rows).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import math
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import load_generator  # noqa: E402
from load_generator import Outcome, Summary, summarise  # noqa: E402

REFERENCE_ORDER = ROOT.parent / "shared" / "shopify-reference" / "webhook-payloads" / "Order.json"
SECRET = "shpss_bench_" + "a1b2c3d4" * 4
DUPLICATE_SHARE = 0.05
NEW_ORDER_SHARE = 0.6
BARE_P99_BAR_MS = 10.0
INVALID_EXIT = 3
FIRST_VERSION_AT = datetime(2026, 11, 1, tzinfo=UTC)
METRICS_TOKEN = "bench-metrics-" + "0f1e2d3c" * 4
METRICS_COST_GOAL = 0.05


# Deliveries -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    order_id: int
    version: int

    @property
    def updated_at(self) -> datetime:
        return FIRST_VERSION_AT + timedelta(minutes=self.version)


def order_template() -> dict[str, Any]:
    """Shopify's sample ``orders/updated`` body (7.8 KB) when the reference is on this machine."""
    if REFERENCE_ORDER.exists():
        loaded: dict[str, Any] = json.loads(REFERENCE_ORDER.read_text())
        return loaded
    return {
        "id": 1, "name": "#1001", "number": 1, "created_at": "2026-11-01T09:00:00+09:00",
        "updated_at": "2026-11-01T09:00:00+09:00", "currency": "JPY", "financial_status": "paid",
        "fulfillment_status": None, "email": "bench@example.jp", "total_price": "3300",
        "line_items": [{"id": 1, "title": "Tシャツ", "quantity": 1, "price": "3300", "sku": "T-1",
                        "variant_id": 2, "product_id": 3, "variant_title": "M"}],
    }  # fmt: skip


class Deliveries:
    """Signed requests and what each one carries; ``requests[i]`` is ``events[i]``."""

    def __init__(self, shop: str, seed: int) -> None:
        self.shop = shop
        self.rng = random.Random(seed)
        self.template = order_template()
        self.template.update(cancelled_at=None, cancel_reason=None, closed_at=None)
        self.next_order = 10**12
        self.versions: dict[int, int] = {}

    def batch(self, count: int) -> tuple[list[bytes], list[Event]]:
        requests: list[bytes] = []
        events: list[Event] = []
        for _ in range(count):
            if requests and self.rng.random() < DUPLICATE_SHARE:
                repeat = self.rng.randrange(len(requests))
                requests.append(requests[repeat])
                events.append(events[repeat])
                continue
            if not self.versions or self.rng.random() < NEW_ORDER_SHARE:
                self.next_order += 1
                order_id, version = self.next_order, 0
            else:
                order_id = self.rng.choice(list(self.versions)) if len(self.versions) < 64 else self.recent()
                version = self.versions[order_id] + 1
            self.versions[order_id] = version
            event = Event(str(uuid.uuid4()), order_id, version)
            requests.append(self.request(event))
            events.append(event)
        return requests, events

    def recent(self) -> int:
        # an update is of a recent order most of the time, as a shop's orders are
        return self.next_order - int(self.rng.random() ** 2 * min(len(self.versions), 5000))

    def request(self, event: Event) -> bytes:
        order = dict(self.template)
        order["id"] = event.order_id
        order["admin_graphql_api_id"] = f"gid://shopify/Order/{event.order_id}"
        order["name"] = f"#{event.order_id % 10**6}"
        order["updated_at"] = event.updated_at.isoformat()
        order["line_items"] = [
            {**line, "id": event.order_id * 10 + k, "admin_graphql_api_id": f"gid://shopify/LineItem/{event.order_id * 10 + k}"}
            for k, line in enumerate(self.template.get("line_items") or [])
        ]  # fmt: skip
        body = json.dumps(order, ensure_ascii=False).encode()
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        head = (
            "POST /webhooks HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "X-Shopify-Topic: orders/updated\r\n"
            f"X-Shopify-Shop-Domain: {self.shop}\r\n"
            "X-Shopify-API-Version: 2026-07\r\n"
            f"X-Shopify-Webhook-Id: {uuid.uuid4()}\r\n"
            f"X-Shopify-Event-Id: {event.event_id}\r\n"
            f"X-Shopify-Triggered-At: {event.updated_at.isoformat()}\r\n"
            f"X-Shopify-Hmac-Sha256: {signature}\r\n"
            "\r\n"
        )
        return head.encode() + body


# Servers ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}); see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}; see {log}")


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path, port: int | None) -> Iterator[None]:
    with log.open("ab") as handle:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    try:
        if port is not None:
            wait_listening(port, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_bare(port: int) -> int:
    """The bare endpoint, served by the same ``ServerConfig`` and ``run_server`` as ``shop-app serve``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from shop_app.settings import ConnectionLimits
    from shop_app.web_server import ServerConfig, run_server

    async def ok(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/webhooks", ok, methods=["POST"])])
    config = ServerConfig(
        app, limits=ConnectionLimits(), log_level="WARNING", host="127.0.0.1", port=port, proxy_headers=True
    )
    return run_server(config)


def app_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SHOP_APP_DATA_DIR": str(data_dir),
        "SHOPIFY_API_SECRET": SECRET,
        "SHOP_APP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SHOP_APP_LOG_LEVEL": "WARNING",
        # nothing leaves this machine: the shop's Admin API is a closed local port, and nothing is due
        "SHOPIFY_SHOP_URL_TEMPLATE": "http://127.0.0.1:9/{shop}",
        "SHOP_APP_REGISTER_WEBHOOKS": "false",
        "SHOP_APP_RECONCILE_INTERVAL_SECONDS": "86400",
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def install_bench_shop(env: dict[str, str], shop: str) -> tuple[str, int]:
    """Migrate the database and install the bench's shop; the app's database URL and the shop's id."""
    import asyncio

    from integrations.shopify.oauth import AccessToken
    from shop_app.database import make_engine, make_session_factory, transaction
    from shop_app.encryption import Cipher
    from shop_app.settings import load_settings
    from shop_app.shops.installation import install_shop

    subprocess.run([sys.executable, "-m", "shop_app", "migrate"], cwd=ROOT, env=env, check=True)
    settings = load_settings(env)

    async def install() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with transaction(make_session_factory(engine)) as session:
                token = AccessToken("shpat_bench", "read_orders", time.time() + 86400, None, None)
                installed = await install_shop(
                    session, domain=shop, token=token, cipher=Cipher(settings.encryption_keys)
                )
                await session.flush()
                assert installed.id is not None
                return installed.id
        finally:
            await engine.dispose()

    return settings.database_url, asyncio.run(install())


# What the database holds ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stored:
    event_ids: set[str]
    rows: int
    stored_twice: int
    done: int
    failed: int
    unfinished: int
    claimed_again: int
    orders: dict[int, datetime]


def read_database(database_url: str, shop_id: int) -> Stored:
    from sqlalchemy import create_engine, func, select

    from shop_app.database import sync_url
    from shop_app.models import DeliveryStatus, Order, WebhookDelivery

    deliveries = WebhookDelivery.__table__  # type: ignore[attr-defined]
    orders = Order.__table__  # type: ignore[attr-defined]
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as db:
            rows = db.execute(
                select(deliveries.c.event_id, deliveries.c.status, deliveries.c.attempts).where(
                    deliveries.c.shop_id == shop_id
                )
            ).all()
            twice = db.execute(
                select(func.count()).select_from(
                    select(deliveries.c.event_id)
                    .where(deliveries.c.shop_id == shop_id)
                    .group_by(deliveries.c.event_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            ).scalar_one()
            mirrored = db.execute(
                select(orders.c.shopify_id, orders.c.updated_at).where(orders.c.shop_id == shop_id)
            ).all()
    finally:
        engine.dispose()
    statuses = [str(status) for _, status, _ in rows]
    return Stored(
        event_ids={str(event_id) for event_id, _, _ in rows},
        rows=len(rows),
        stored_twice=int(twice),
        done=statuses.count(DeliveryStatus.DONE),
        failed=statuses.count(DeliveryStatus.FAILED),
        unfinished=sum(s in (DeliveryStatus.PENDING, DeliveryStatus.PROCESSING) for s in statuses),
        claimed_again=sum(
            1 for _, status, attempts in rows if status == DeliveryStatus.DONE and attempts > 1
        ),
        orders={int(order_id): updated_at for order_id, updated_at in mirrored},
    )


def wait_processed(database_url: str, shop_id: int, timeout: float) -> tuple[Stored, float]:
    started = time.monotonic()
    while True:
        stored = read_database(database_url, shop_id)
        if stored.unfinished == 0 or time.monotonic() - started > timeout:
            return stored, time.monotonic() - started
        time.sleep(0.5)


@dataclass(frozen=True, slots=True)
class Accounting:
    sent: int  # distinct event ids
    acknowledged: int
    lost: int  # acknowledged, not stored
    stored_unacknowledged: int  # stored, but the answer never came (timeouts)
    unknown: int  # stored, never sent
    orders_expected: int
    orders_missing: int
    orders_stale: int


def account(events: Sequence[Event], outcomes: Sequence[Outcome], stored: Stored) -> Accounting:
    sent = {e.event_id for e in events}
    acknowledged = {e.event_id for e, o in zip(events, outcomes, strict=True) if 200 <= o.status < 300}
    newest: dict[int, Event] = {}
    for event in events:
        if event.event_id in stored.event_ids:
            known = newest.get(event.order_id)
            if known is None or event.version > known.version:
                newest[event.order_id] = event
    missing = sum(1 for order_id in newest if order_id not in stored.orders)
    stale = sum(
        1
        for order_id, event in newest.items()
        if order_id in stored.orders and stored.orders[order_id] != event.updated_at
    )
    return Accounting(
        sent=len(sent),
        acknowledged=len(acknowledged),
        lost=len(acknowledged - stored.event_ids),
        stored_unacknowledged=len((stored.event_ids & sent) - acknowledged),
        unknown=len(stored.event_ids - sent),
        orders_expected=len(newest),
        orders_missing=missing,
        orders_stale=stale,
    )


# Running ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phases:
    fixed: Summary
    saturated: Summary
    fixed_outcomes: list[Outcome]
    saturated_outcomes: list[Outcome]


def drive(port: int, fixed: Sequence[bytes], burst: Sequence[bytes], args: argparse.Namespace) -> Phases:
    fixed_outcomes = load_generator.run(
        load_generator.send_all(
            "127.0.0.1", port, fixed, rate=args.rate, max_connections=args.max_connections
        )
    )
    saturated_outcomes = load_generator.run(
        load_generator.send_all(
            "127.0.0.1", port, burst, rate=None, max_connections=args.connections, warm_connections=args.connections
        )
    )  # fmt: skip
    return Phases(
        summarise(fixed_outcomes, from_due=True),
        summarise(saturated_outcomes, from_due=False),
        fixed_outcomes,
        saturated_outcomes,
    )


def figure(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.1f}"


def ratio(value: float, baseline: float) -> str:
    if math.isnan(value) or math.isnan(baseline) or baseline == 0 or math.isinf(baseline):
        return "—"
    return "∞" if math.isinf(value) else f"{value / baseline:.2f}×"


def print_row(
    name: str, summary: Summary, baseline: Summary | None, *, fixed: bool, against: str = "bare"
) -> None:
    line = (
        f"  {name:<22} {summary.ok:>6}/{summary.requests:<6} {summary.ok_per_second:9.1f}/s "
        f"p50 {figure(summary.p50_ms):>7} ms  p99 {figure(summary.p99_ms):>7} ms"
    )
    if fixed:
        line += f"  send lag p99 {figure(summary.lag_p99_ms):>6} ms"
    if baseline is not None:
        line += (
            f"   vs {against}: accepted/s {ratio(summary.ok_per_second, baseline.ok_per_second)}, "
            f"p50 {ratio(summary.p50_ms, baseline.p50_ms)}, p99 {ratio(summary.p99_ms, baseline.p99_ms)}"
        )
    print(line)


@dataclass(frozen=True, slots=True)
class AppRun:
    phases: Phases
    stored: Stored
    drained: float
    accounting: Accounting
    scrapes: int


def app_label(mode: str, args: argparse.Namespace, valid: bool) -> str:
    name = "app" if args.metrics == "off" else f"app, metrics {mode}"
    return name if valid else f"{name} (NOT VALID)"


@contextmanager
def scraping(port: int, interval: float, log: Path) -> Iterator[Path]:
    """Read /metrics every ``interval`` seconds while the block runs (as Prometheus would, only more
    often), from a process of its own so the generator's process is not slowed; one line per scrape is
    written to the returned file."""
    command = [sys.executable, __file__, "--scrape", str(port), "--scrape-interval", str(interval)]
    with running(command, dict(os.environ), log, None):
        yield log


def scrape_forever(port: int, interval: float) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    while True:
        time.sleep(interval)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - our own local port
            size = len(answer.read())
        print(f"scrape {size} bytes {1000 * (time.perf_counter() - started):.1f} ms", flush=True)


def run_app(
    args: argparse.Namespace,
    data_dir: Path,
    shop: str,
    fixed: Sequence[bytes],
    burst: Sequence[bytes],
    events: Sequence[Event],
    *,
    metrics: bool,
) -> AppRun:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = app_env(data_dir, args.database_url)
    if metrics:
        env["SHOP_APP_METRICS_TOKEN"] = METRICS_TOKEN
    database_url, shop_id = install_bench_shop(env, shop)
    port = free_port()
    serve = [sys.executable, "-m", "shop_app", "serve", "--port", str(port)]
    scrape_log: Path | None = None
    with running(serve, env, data_dir / "app.log", port), contextlib.ExitStack() as stack:
        if args.database_url:
            worker = [sys.executable, "-m", "shop_app", "worker", "--concurrency", "8"]
            stack.enter_context(running(worker, env, data_dir / "worker.log", None))
        if metrics:
            scrape_log = stack.enter_context(scraping(port, args.scrape_interval, data_dir / "scrapes.log"))
        phases = drive(port, fixed, burst, args)
        stored, drained = wait_processed(database_url, shop_id, args.drain_timeout)
    accounting = account(events, phases.fixed_outcomes + phases.saturated_outcomes, stored)
    scrapes = scrape_log.read_text().count("scrape ") if scrape_log is not None else 0
    return AppRun(phases, stored, drained, accounting, scrapes)


def print_accounting(run: AppRun, which: str) -> None:
    accounting, stored = run.accounting, run.stored
    print(
        f"\nfrom the database after the run{which} (processing drained {run.drained:.1f} s after the last "
        f"answer):\n"
        f"  deliveries: {accounting.sent:,} distinct event ids sent, {accounting.acknowledged:,} acknowledged, "
        f"{stored.rows:,} rows stored ({DUPLICATE_SHARE:.0%} of requests repeat an earlier one)\n"
        f"  lost (acknowledged, not stored): {accounting.lost}; stored twice: {stored.stored_twice}; "
        f"stored but never sent: {accounting.unknown}; stored without an answer: "
        f"{accounting.stored_unacknowledged}\n"
        f"  processed: {stored.done:,}; failed: {stored.failed}; not processed: {stored.unfinished}; "
        f"processed more than once: {stored.claimed_again}\n"
        f"  mirror: {accounting.orders_expected:,} orders in the stored deliveries; missing: "
        f"{accounting.orders_missing}; at an older version than the newest stored: {accounting.orders_stale}"
    )


def print_cost(runs: Sequence[tuple[str, AppRun]], args: argparse.Namespace) -> None:
    """On beside off: each round's pair, and the median of the rounds' ratios."""
    pairs = [dict(runs[i : i + 2]) for i in range(0, len(runs) - 1, 2)]
    rates = [
        pair["on"].phases.saturated.ok_per_second / pair["off"].phases.saturated.ok_per_second
        for pair in pairs
    ]
    p99s = [pair["on"].phases.saturated.p99_ms / pair["off"].phases.saturated.p99_ms for pair in pairs]
    scrapes = sum(pair["on"].scrapes for pair in pairs)
    median = statistics.median(rates)
    print(
        f"\ncost of observing: metrics on (scraped every {args.scrape_interval:g} s, {scrapes} scrapes) beside "
        f"metrics off, {len(pairs)} round(s) in this run, alternating:\n"
        f"  saturation accepted/s on/off per round: {', '.join(f'{r:.2f}×' for r in rates)}; "
        f"median {median:.2f}× ({1 - median:+.1%} cost; goal under {METRICS_COST_GOAL:.0%})\n"
        f"  saturation p99 on/off per round: {', '.join(f'{r:.2f}×' for r in p99s)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL for the app (default: a fresh SQLite file)")
    parser.add_argument("--rate", type=float, default=200.0, help="offered deliveries per second (open loop)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the fixed-rate phase")
    parser.add_argument("--burst", type=int, default=10_000, help="deliveries sent at saturation")
    parser.add_argument("--connections", type=int, default=64, help="connections at saturation")
    parser.add_argument("--max-connections", type=int, default=512, help="connection cap at the fixed rate")
    parser.add_argument("--bare-p99-bar-ms", type=float, default=BARE_P99_BAR_MS)
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for processing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--metrics",
        choices=("on", "off", "both"),
        default="off",
        help="the app's metrics (both: off, then on)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --metrics both: off/on pairs to run")
    parser.add_argument("--scrape-interval", type=float, default=1.0, help="seconds between scrapes (on)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs and the SQLite file")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--scrape", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        return serve_bare(args.serve_bare)
    if args.scrape:
        return scrape_forever(args.scrape, args.scrape_interval)

    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        status = measure(args, work)
    except BaseException:
        print(f"the servers' logs are in {work}", file=sys.stderr)
        raise
    if args.keep:
        print(f"the servers' logs are in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return status


def measure(args: argparse.Namespace, work: Path) -> int:
    shop = f"bench-{secrets.token_hex(4)}.myshopify.com"
    deliveries = Deliveries(shop, args.seed)
    fixed_requests, fixed_events = deliveries.batch(max(1, int(args.rate * args.seconds)))
    burst_requests, burst_events = deliveries.batch(args.burst)
    backend = "PostgreSQL (one `shop-app worker`)" if args.database_url else "SQLite (jobs in `serve`)"
    print(
        f"webhook ingest: {len(fixed_requests):,} deliveries at {args.rate:g}/s open loop, then {args.burst:,} "
        f"over {args.connections} connections back to back; {backend}"
    )
    print(
        f"generator: {load_generator.loop_name()} + httptools, one process; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start"
    )

    port = free_port()
    null_log = work / "null.log"
    generator_script = str(Path(__file__).with_name("load_generator.py"))
    with running(
        [sys.executable, generator_script, "null-server", "--port", str(port)],
        dict(os.environ),
        null_log,
        port,
    ):
        null = drive(port, fixed_requests, burst_requests, args)  # fmt: skip

    port = free_port()
    with running(
        [sys.executable, __file__, "--serve-bare", str(port)], dict(os.environ), work / "bare.log", port
    ):
        bare = drive(port, fixed_requests, burst_requests, args)  # fmt: skip

    # both: off and on alternate, ABBA (off, on, on, off, ...), so a machine getting busier or quieter
    # during the run weighs on both alike
    modes = (
        [mode for r in range(args.rounds) for mode in (("off", "on") if r % 2 == 0 else ("on", "off"))]
        if args.metrics == "both"
        else [args.metrics]
    )
    runs: list[tuple[str, AppRun]] = []
    for index, mode in enumerate(modes):
        if index == 0:
            fixed, burst, events = fixed_requests, burst_requests, fixed_events + burst_events
        else:  # a fresh shop, its own deliveries of the same sizes (the first run's would be duplicates)
            shop = f"bench-{secrets.token_hex(4)}.myshopify.com"
            other = Deliveries(shop, args.seed)
            fixed, fixed_more = other.batch(len(fixed_requests))
            burst, burst_more = other.batch(args.burst)
            events = fixed_more + burst_more
        run = run_app(args, work / f"app-{index}-{mode}", shop, fixed, burst, events, metrics=mode == "on")
        runs.append((mode, run))
    valid = bare.fixed.p99_ms < args.bare_p99_bar_ms
    print(f"\nfixed rate, {args.rate:g}/s offered (latency from when each request was due):")
    print_row("generator → null", null.fixed, None, fixed=True)
    print_row("bare endpoint", bare.fixed, None, fixed=True)
    for mode, run in runs:
        print_row(app_label(mode, args, valid), run.phases.fixed, bare.fixed, fixed=True)
    print(f"\nsaturation, {args.burst:,} over {args.connections} connections (latency from each send):")
    print_row("generator → null", null.saturated, None, fixed=False)
    print_row("bare endpoint", bare.saturated, null.saturated, fixed=False, against="null")
    for mode, run in runs:
        print_row(app_label(mode, args, valid), run.phases.saturated, bare.saturated, fixed=False)
    generator_share = bare.saturated.ok_per_second / null.saturated.ok_per_second
    print(
        f"  the generator's ceiling is {1 / generator_share:.1f}× the bare endpoint's rate"
        + ("" if generator_share < 0.8 else " (close: the bare saturation figure may be the generator's)")
    )

    for index, (mode, run) in enumerate(runs):
        print_accounting(run, f" (run {index + 1}, metrics {mode})" if len(runs) > 1 else "")
    if len(runs) > 1:
        print_cost(runs, args)
    print(
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
        f"python {sys.version.split()[0]}; compare ratios within this run, not absolutes across runs"
    )
    if not valid:
        print(
            f"NOT VALID: the bare endpoint's p99 at {args.rate:g}/s was {figure(bare.fixed.p99_ms)} ms, not under "
            f"{args.bare_p99_bar_ms:g} ms: this machine (or the generator) could not hold the rate, so the app's "
            "figures above say nothing about the app. Run again on a quieter machine."
        )
        return INVALID_EXIT
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Webhook processing spread over ``shop-app worker`` processes on PostgreSQL: 1, 2, 4 … workers.

For each worker count, in one run: a backlog of ``--burst`` signed ``orders/updated`` deliveries (the same
bodies as ``bench/webhook_ingest.py``: new orders and later versions of earlier ones, shuffled as webhooks
arrive) is stored in the inbox of a fresh shop while no worker runs, the workers are started and waited for
until each answers ``/readyz``, and then the backlog's jobs are queued at once, as the web processes'
dispatcher queues them (``batch_defer``, ``JOB_CHUNK`` ids a job). The clock runs from that moment until
the database says every delivery is processed: the drain time, and deliveries/s. The first count is the
baseline; each other is printed as a ratio to it.

Counted from the database for each run: deliveries not processed, processed more than once (claimed
again), failed; and the mirror: orders missing, and orders left at an older version than the newest
delivered (per-shop ordering: with several workers, versions of one order run in different processes at
once, and an older one must never overwrite a newer one).

    python bench/workers.py --database-url postgresql://user@host/db [--burst 20000] [--workers 1,2,4]
                            [--concurrency 4]

The bench adds shops of its own to that database (migrated here) and touches no other shop's rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import webhook_ingest  # noqa: E402
from load_generator import Outcome  # noqa: E402
from webhook_ingest import Deliveries, Event, account, app_env, free_port, install_bench_shop  # noqa: E402

STORE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Run:
    workers: int
    deliveries: int
    drain_seconds: float
    not_processed: int
    claimed_again: int
    failed: int
    orders_expected: int
    orders_missing: int
    orders_stale: int

    @property
    def per_second(self) -> float:
        return self.deliveries / self.drain_seconds if self.drain_seconds > 0 else float("inf")


def backlog(shop: str, count: int, seed: int) -> tuple[list[tuple[Event, str]], list[Event]]:
    """``count`` distinct deliveries (no repeats: each is one unit of work), shuffled a little as webhooks
    arrive out of order; each with its body."""
    deliveries = Deliveries(shop, seed)
    deliveries.rng = random.Random(seed)
    events: list[Event] = []
    seen: set[str] = set()
    out: list[tuple[Event, str]] = []
    while len(out) < count:
        requests, batch = deliveries.batch(min(1000, count - len(out)))
        for request, event in zip(requests, batch, strict=True):
            if event.event_id in seen or len(out) >= count:
                continue
            seen.add(event.event_id)
            events.append(event)
            out.append((event, request.split(b"\r\n\r\n", 1)[1].decode()))
    rng = random.Random(seed + 1)
    for i in range(len(out) - 1):  # neighbours swap now and then: an update may arrive before its order
        if rng.random() < 0.1:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out, events


def store(database_url: str, shop_id: int, items: list[tuple[Event, str]]) -> list[int]:
    """The backlog, in the inbox as the web processes store it; its ids in arrival order."""
    from shop_app.database import make_engine, make_session_factory, transaction
    from shop_app.mirror.webhooks.inbox import IncomingWebhook, record_deliveries

    async def write() -> list[int]:
        engine = make_engine(database_url)
        ids: list[int] = []
        try:
            sessions = make_session_factory(engine)
            for start in range(0, len(items), STORE_BATCH):
                chunk = [
                    (
                        shop_id,
                        IncomingWebhook(
                            topic="orders/updated",
                            event_id=event.event_id,
                            webhook_id=event.event_id,
                            api_version="2026-07",
                            triggered_at=event.updated_at,
                            body=body,
                        ),
                    )
                    for event, body in items[start : start + STORE_BATCH]
                ]
                async with transaction(sessions) as session:
                    stored = await record_deliveries(session, chunk)
                ids.extend(stored[(shop_id, w.event_id)] for _, w in chunk)
        finally:
            await engine.dispose()
        return ids

    return asyncio.run(write())


def queue_jobs(database_url: str, delivery_ids: list[int]) -> None:
    """What the web processes' dispatcher does with stored ids: ``JOB_CHUNK`` ids a job, one round trip."""
    from shop_app.jobs.dispatch import JOB_CHUNK
    from shop_app.jobs.procrastinate_queue import build_app
    from shop_app.jobs.tasks import TaskName

    async def defer() -> None:
        app = build_app(database_url, reconcile_interval_seconds=0)
        async with app.open_async():
            jobs = [
                {"delivery_ids": delivery_ids[i : i + JOB_CHUNK]}
                for i in range(0, len(delivery_ids), JOB_CHUNK)
            ]
            await app.configure_task(name=TaskName.PROCESS_WEBHOOKS.value).batch_defer_async(*jobs)

    asyncio.run(defer())


@contextmanager
def workers(count: int, env: dict[str, str], concurrency: int, logs: Path) -> Iterator[None]:
    processes: list[subprocess.Popen[bytes]] = []
    ports = [free_port() for _ in range(count)]
    try:
        for n, port in enumerate(ports):
            with (logs / f"worker-{count}-{n}.log").open("ab") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "shop_app", "worker", "--concurrency", str(concurrency),
                         "--health-port", str(port)],
                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
        deadline = time.monotonic() + 120
        for process, port in zip(processes, ports, strict=True):
            while not ready(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker did not start; see {logs}")
                time.sleep(0.1)
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def run_one(count: int, args: argparse.Namespace, env: dict[str, str], logs: Path) -> Run:
    shop = f"bench-workers-{count}-{os.getpid()}-{int(time.time())}.myshopify.com"
    database_url, shop_id = install_bench_shop(env, shop)
    items, events = backlog(shop, args.burst, args.seed)
    delivery_ids = store(database_url, shop_id, items)
    with workers(count, env, args.concurrency, logs):
        started = time.monotonic()
        queue_jobs(database_url, delivery_ids)
        stored, _ = webhook_ingest.wait_processed(database_url, shop_id, args.drain_timeout)
        drain = time.monotonic() - started  # from queueing the jobs to the last delivery processed
    outcomes = [Outcome(index=i, due=0.0, sent=0.0, done=0.0, status=200) for i in range(len(events))]
    accounting = account(events, outcomes, stored)
    return Run(
        workers=count,
        deliveries=len(events),
        drain_seconds=drain,
        not_processed=stored.unfinished,
        claimed_again=stored.claimed_again,
        failed=stored.failed,
        orders_expected=accounting.orders_expected,
        orders_missing=accounting.orders_missing,
        orders_stale=accounting.orders_stale,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="the PostgreSQL database (migrated here)")
    parser.add_argument("--burst", type=int, default=20_000, help="deliveries in the backlog of each run")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated (first: baseline)")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs each worker runs at once")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL database (workers run on PostgreSQL only)")
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    cpus = os.cpu_count() or 1
    print(
        f"webhook processing by `shop-app worker` processes on PostgreSQL: a backlog of {args.burst:,} "
        f"deliveries per run, workers {', '.join(map(str, counts))} (concurrency {args.concurrency} each)"
    )
    print(f"{cpus} CPUs, load average {os.getloadavg()[0]:.1f} at the start (PostgreSQL on this machine too)")
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        data = Path(tmp)
        env = app_env(data, args.database_url)
        env["SHOP_APP_LOG_LEVEL"] = "WARNING"
        runs: list[Run] = []
        for count in counts:
            runs.append(run_one(count, args, env, data))
            run = runs[-1]
            ratio = run.per_second / runs[0].per_second
            print(
                f"  {count} worker{'s' if count > 1 else ' '}  drained {run.deliveries:,} in "
                f"{run.drain_seconds:7.1f} s  {run.per_second:8.1f} deliveries/s  vs 1st: {ratio:.2f}×  | "
                f"not processed: {run.not_processed}; processed more than once: {run.claimed_again}; "
                f"failed: {run.failed}; orders missing: {run.orders_missing}; "
                f"at an older version: {run.orders_stale} (of {run.orders_expected:,})"
            )
    print(f"load average at the end {os.getloadavg()[0]:.1f} on {cpus} CPUs; compare ratios within this run")
    print(json.dumps({str(r.workers): round(r.per_second, 1) for r in runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

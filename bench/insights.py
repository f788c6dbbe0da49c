"""Insights latency: ``GET /api/v1/insights`` p50/p99 for a 30-day and a 365-day range (issue 18).

A fresh database (SQLite by default, PostgreSQL with ``--database-url URL``, also ``--postgres``) is migrated and filled directly with
one busy shop holding a year of history: at ``--scale 1``, 200,000 tickets with 1,000,000 messages (five
each), a bot decision on 70% of them (order, stock and handed-over questions), 100,000 orders, CSAT surveys
for a third of the resolved tickets, spread over 8 agents, four channels and the shop's business hours
(Asia/Tokyo, Monday–Friday 09:00–18:00); and a second shop of 1,000 tickets, so every query has another
tenant's rows to skip. ``--scale 0.01`` fills a hundredth (the suite's smoke test). The real app then runs in
this process behind httpx's ASGI transport, signed in as an agent, and asks each range ``--requests`` times,
beside a trivial query measured in the same run (``GET /api/v1/desk-settings``: the app's routing,
authentication and JSON with one row read) that the figures are printed against.

Goals (issue 18): p99 < 300 ms for 30 days, < 1 s for 365 days, on SQLite and PostgreSQL.

    python bench/insights.py [--scale 1] [--requests 20] [--database-url postgresql://…/db] [--keep DIR]

``--keep DIR`` keeps the filled database (SQLite: ``DIR/bench.sqlite3``; PostgreSQL: the database itself,
``DIR`` marks it filled) and a later run with the same ``--keep`` and ``--scale`` reuses it: it is only
migrated, not filled again (the full fill takes a quarter of an hour).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ticket_list import PASSWORD, add_agents, percentile, settings_for  # noqa: E402

from shop_app.database import make_engine, make_session_factory, migrate, sync_url  # noqa: E402
from shop_app.insights.rollup import refresh_all  # noqa: E402
from shop_app.main import create_app  # noqa: E402
from shop_app.models import (  # noqa: E402
    BotDecision,
    Contact,
    CsatSurvey,
    Message,
    Order,
    Shop,
    Ticket,
)

BUSY = "busy-insights.myshopify.com"
QUIET = "quiet-insights.myshopify.com"
BATCH = 5_000
FULL_TICKETS = 200_000
MESSAGES_PER_TICKET = 5
ORDERS_PER_TICKET = 0.5
CHANNELS = ("web_chat", "line", "email", "api")
CHANNEL_WEIGHTS = (55, 25, 15, 5)
HOURS = {day: {"opens": "09:00", "closes": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")}
# (intent, action, reason, weight)
DECISIONS = (
    ("order_status", "reply", "order in_transit", 30),
    ("order_status", "reply", "order not_shipped", 12),
    ("order_status", "reply", "order delivered", 8),
    ("order_status", "handoff", "order late", 4),
    ("stock", "reply", "stock in_stock (policy deny)", 10),
    ("stock", "reply", "stock sold_out (policy deny)", 5),
    ("cancel", "handoff", "cancel is for a person", 8),
    ("human", "handoff", "asked for a person", 6),
    ("other", "handoff", "low confidence (0.41 < 0.6)", 7),
)
PRODUCTS = (("Linen shirt", "M"), ("Linen shirt", "L"), ("Tote bag", None), ("Socks", "Blue"))


def fill(url: str, *, scale: float, seed: int = 18) -> tuple[int, int]:
    rng = random.Random(seed)
    engine = create_engine(sync_url(url))
    now = datetime.now(UTC).replace(microsecond=0)
    busy_tickets = max(50, int(FULL_TICKETS * scale))
    messages = 0
    with engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(text("SET synchronous_commit TO off"))
        shop_ids = {}
        for domain in (BUSY, QUIET):
            shop_ids[domain] = db.execute(
                insert(Shop)
                .values(
                    domain=domain,
                    status="installed",
                    scopes="",
                    installed_at=now,
                    updated_at=now,
                    iana_timezone="Asia/Tokyo",
                    business_hours={"timezone": None, "week": HOURS, "holidays": []},
                )
                .returning(Shop.id)  # type: ignore[arg-type]
            ).scalar_one()
        agent_ids = add_agents(db, shop_ids[BUSY], now)
        weights = [d[3] for d in DECISIONS]
        for domain, count in ((BUSY, busy_tickets), (QUIET, 1_000)):
            shop_id = shop_ids[domain]
            contacts = max(1, int(count * 0.6))
            first_contact = db.execute(text("SELECT COALESCE(MAX(id), 0) FROM contacts")).scalar_one() + 1
            for start in range(0, contacts, BATCH):
                db.execute(
                    insert(Contact),
                    [
                        {
                            "shop_id": shop_id,
                            "name": f"Customer {i}",
                            "email": f"c{i}@{domain}",
                            "locale": "ja" if i % 4 else "en",
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(start, min(contacts, start + BATCH))
                    ],
                )
            orders = max(1, int(count * ORDERS_PER_TICKET))
            for start in range(0, orders, BATCH):
                db.execute(
                    insert(Order),
                    [
                        {
                            "shop_id": shop_id,
                            "shopify_id": 500_000 + i,
                            "name": f"#{1000 + i}",
                            "created_at": now - timedelta(seconds=rng.randrange(366 * 86400)),
                            "updated_at": now,
                            "synced_at": now,
                            "tags": [],
                            "custom_attributes": [],
                        }
                        for i in range(start, min(orders, start + BATCH))
                    ],
                )
            first_ticket = db.execute(text("SELECT COALESCE(MAX(id), 0) FROM tickets")).scalar_one() + 1
            for start in range(0, count, BATCH):
                tickets, decisions, surveys, bodies = [], [], [], []
                for i in range(start, min(count, start + BATCH)):
                    ticket_id = first_ticket + i
                    created = now - timedelta(seconds=rng.randrange(365 * 86400))
                    channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
                    resolved = rng.random() < 0.8
                    by_bot = resolved and rng.random() < 0.45
                    first = created + timedelta(seconds=rng.randrange(30, 6 * 3600))
                    done = first + timedelta(seconds=rng.randrange(60, 48 * 3600)) if resolved else None
                    agent = None if by_bot else rng.choice([*agent_ids, None]) if domain == BUSY else None
                    tickets.append(
                        {
                            "shop_id": shop_id,
                            "contact_id": first_contact + rng.randrange(contacts),
                            "channel": channel,
                            "status": "resolved" if resolved else "open",
                            "subject": f"Question {i}",
                            "assignee_id": agent,
                            "tags": [],
                            "link_candidates": [],
                            "unlinked_by_agent": False,
                            "message_count": MESSAGES_PER_TICKET,
                            "created_at": created,
                            "updated_at": done or first,
                            "last_message_at": done or first,
                            "first_response_at": first,
                            "resolved_at": done,
                            "resolved_by_bot": by_bot,
                            "reopened_at": first if rng.random() < 0.04 else None,
                        }
                    )
                    if rng.random() < 0.7:
                        intent, action, reason, _ = rng.choices(DECISIONS, weights=weights)[0]
                        product, variant = rng.choice(PRODUCTS) if intent == "stock" else (None, None)
                        decisions.append(
                            {
                                "shop_id": shop_id,
                                "ticket_id": ticket_id,
                                "intent": intent,
                                "confidence": 0.9,
                                "language": "ja",
                                "order_shopify_id": 500_000 + rng.randrange(orders)
                                if intent == "order_status"
                                else None,
                                "verification": "storefront",
                                "action": action,
                                "reason": reason,
                                "priority": False,
                                "product_title": product,
                                "variant_title": variant,
                                "created_at": created,
                            }
                        )
                    if done is not None and channel != "api" and rng.random() < 0.33:
                        surveys.append(
                            {
                                "shop_id": shop_id,
                                "ticket_id": ticket_id,
                                "channel": channel,
                                "language": "ja",
                                "agent_id": agent,
                                "by_bot": by_bot,
                                "token_digest": f"{ticket_id:064x}",
                                "resolved_at": done,
                                "sent_at": done + timedelta(hours=1),
                                "score": rng.choice([None, 3, 4, 5, 5, 2]),
                            }
                        )
                    for n in range(MESSAGES_PER_TICKET):
                        bodies.append(
                            {
                                "shop_id": shop_id,
                                "ticket_id": ticket_id,
                                "author_type": ("customer", "bot", "customer", "agent", "customer")[n],
                                "body": f"message {n} of {ticket_id}",
                                "created_at": created + timedelta(minutes=n),
                            }
                        )
                db.execute(insert(Ticket), tickets)
                if decisions:
                    db.execute(insert(BotDecision), decisions)
                if surveys:
                    db.execute(insert(CsatSurvey), surveys)
                db.execute(insert(Message), bodies)
                messages += len(bodies) if domain == BUSY else 0
        if db.dialect.name == "postgresql":
            db.execute(text("ANALYZE"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as db:
            db.execute(text("ANALYZE"))
    engine.dispose()
    return busy_tickets, messages


async def roll_up(url: str, touch: int = 0, at: datetime | None = None) -> int:
    """The scheduled rollup run (after ``touch`` tickets changed ``at`` a moment since the last run, to
    time an incremental one)."""
    if touch:
        engine = create_engine(sync_url(url))
        with engine.begin() as db:
            db.execute(
                text("UPDATE tickets SET updated_at = :at WHERE id IN (SELECT id FROM tickets LIMIT :n)"),
                {"at": at, "n": touch},
            )
        engine.dispose()
    engine_async = make_engine(url)
    try:
        return await refresh_all(make_session_factory(engine_async))
    finally:
        await engine_async.dispose()


def analyse(url: str) -> None:
    """The planner's statistics of the rollup's tables (PostgreSQL: and the visibility map an index-only scan
    needs), as autovacuum would have them after the rollup's first run; SQLite has no autovacuum to do it."""
    engine = create_engine(sync_url(url))
    tables = ("insight_tickets", "insight_days", "insight_day_keys", "insight_order_days")
    with engine.connect() as db:
        if db.dialect.name == "postgresql":
            db = db.execution_options(isolation_level="AUTOCOMMIT")
            db.execute(text(f"VACUUM ANALYZE {', '.join(tables)}"))
        else:
            db.execute(text("ANALYZE"))
            db.commit()
    engine.dispose()


async def measure(url: str, data_dir: Path, requests: int) -> list[tuple[str, float, float, int]]:
    app = create_app(settings_for(url, data_dir))
    async with app.router.lifespan_context(app) as state:
        lifespan_state = dict(state or {})

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app({**scope, "state": dict(lifespan_state)}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench.test", timeout=120
        ) as client:
            signed = await client.post(
                "/api/v1/session", json={"shop": BUSY, "email": "agent0@bench.test", "password": PASSWORD}
            )
            signed.raise_for_status()
            today = datetime.now(UTC).date()
            cases: list[tuple[str, str, dict[str, Any]]] = [
                ("desk settings (baseline)", "/api/v1/desk-settings", {}),
                (
                    "insights, 30 days",
                    "/api/v1/insights",
                    {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()},
                ),
                (
                    "insights, 365 days",
                    "/api/v1/insights",
                    {"start": (today - timedelta(days=364)).isoformat(), "end": today.isoformat()},
                ),
                (
                    "insights, 30 days, line only",
                    "/api/v1/insights",
                    {
                        "start": (today - timedelta(days=29)).isoformat(),
                        "end": today.isoformat(),
                        "channel": "line",
                    },
                ),
            ]
            results = []
            for label, path, params in cases:
                for _ in range(2):  # warm the caches
                    (await client.get(path, params=params)).raise_for_status()
                timings = []
                tickets = 0
                for _ in range(requests):
                    started = time.perf_counter()
                    answer = await client.get(path, params=params)
                    timings.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
                    tickets = int(answer.json().get("current", {}).get("tickets", 0))
                results.append((label, statistics.median(timings), percentile(timings, 0.99), tickets))
            return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of 200,000 tickets / 1,000,000 messages"
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--postgres",
        "--database-url",
        dest="postgres",
        help="a PostgreSQL database to fill (its tables are dropped first)",
    )
    parser.add_argument("--keep", type=Path, help="keep the filled database in DIR and reuse it next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.keep or Path(scratch)
        data_dir.mkdir(parents=True, exist_ok=True)
        marker = data_dir / f"filled-{args.scale}-{'postgres' if args.postgres else 'sqlite'}"
        reuse = args.keep is not None and marker.exists()
        if args.postgres:
            url = args.postgres
            if not reuse:
                engine = create_engine(sync_url(url))
                with engine.begin() as db:
                    db.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                engine.dispose()
        else:
            url = f"sqlite+aiosqlite:///{data_dir / 'bench.sqlite3'}"
            if not reuse:
                (data_dir / "bench.sqlite3").unlink(missing_ok=True)
        migrate(url)
        started = time.perf_counter()
        if reuse:
            tickets, messages = (int(n) for n in marker.read_text().split())
            print(f"reusing the database filled earlier in {data_dir}")
        else:
            tickets, messages = fill(url, scale=args.scale)
            if args.keep is not None:
                marker.write_text(f"{tickets} {messages}")
        print(
            f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; filled {tickets:,} tickets and "
            f"{messages:,} messages over 365 days (+1,000 tickets in another shop) in "
            f"{time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.2f}"
        )
        started = time.perf_counter()
        first_run = datetime.now(UTC)
        written = asyncio.run(roll_up(url))
        print(
            f"insights rollup: {written:,} ticket rows written in {time.perf_counter() - started:.1f} s "
            "(the scheduled run; 0 when a kept database's rollup is current)"
        )
        touch = max(10, tickets // 100)
        started = time.perf_counter()
        written = asyncio.run(roll_up(url, touch, first_run + timedelta(seconds=1)))
        print(
            f"insights rollup after {touch:,} tickets changed: {written:,} rows written in "
            f"{time.perf_counter() - started:.2f} s (an incremental run)"
        )
        started = time.perf_counter()
        written = asyncio.run(roll_up(url))
        print(
            f"insights rollup, the next run: {written:,} rows written in {time.perf_counter() - started:.2f} s "
            "(it reads again the last 30 s of changes)"
        )
        analyse(url)
        results = asyncio.run(measure(url, data_dir, args.requests))
    print(
        f"{'request':<30} {'p50 ms':>9} {'p99 ms':>9} {'p50 ÷ base':>10} {'p99 ÷ base':>10} {'tickets':>8}"
        f"   ({args.requests} requests each, in-process ASGI; ÷ base: beside the baseline)"
    )
    base50, base99 = results[0][1], results[0][2]
    for label, p50, p99, tickets in results:
        print(f"{label:<30} {p50:9.2f} {p99:9.2f} {p50 / base50:10.1f} {p99 / base99:10.1f} {tickets:8d}")
    goals = {"insights, 30 days": 300.0, "insights, 365 days": 1000.0}
    for label, _, p99, _ in results:
        if label in goals:
            verdict = "met" if p99 < goals[label] else "MISSED"
            print(f"goal {label}: p99 < {goals[label]:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

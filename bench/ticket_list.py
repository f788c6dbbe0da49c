"""Ticket list latency: ``GET /api/v1/tickets`` p50/p99 on a shop with 100,000 tickets.

A fresh database (SQLite by default, PostgreSQL with ``--postgres URL``) is migrated and filled directly
with one busy shop (``--tickets`` tickets from 60% as many contacts, two messages each, spread over 8
agents and three statuses) and a second shop of 1,000 tickets, so every query has another tenant's rows to
skip. The real app then runs in this process (its lifespan, routing, authentication and JSON) behind
httpx's ASGI transport, signed in as an agent with the console's cookie session, and each list the console
asks for is requested ``--requests`` times: open tickets, mine, unassigned, resolved, the second page by
cursor, and a search by email and by order name.

    python bench/ticket_list.py [--tickets 100000] [--requests 300] [--postgres postgresql://…/db]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Connection, create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shop_app.database import migrate, sync_url  # noqa: E402
from shop_app.helpdesk.agents import hash_password  # noqa: E402
from shop_app.main import create_app  # noqa: E402
from shop_app.models import (  # noqa: E402
    Agent,
    Contact,
    Customer,
    Membership,
    Message,
    Order,
    Shop,
    Ticket,
    TicketTag,
)
from shop_app.settings import Secret, Settings  # noqa: E402

BUSY = "busy-shop.myshopify.com"
QUIET = "quiet-shop.myshopify.com"
PASSWORD = "bench password 123"
BATCH = 5_000
STATUSES = ("open", "open", "pending", "resolved", "resolved", "resolved")
CHANNELS = ("web_chat", "line", "email", "api")
CHANNEL_WEIGHTS = (60, 20, 15, 5)
TAG_SHARES = (("vip", 0.02), ("late parcel", 0.10), ("返品", 0.05))


def add_agents(db: Connection, shop_id: int, now: datetime, count: int = 8) -> list[int]:
    """``count`` agents of the shop (agent0@bench.test…, all with ``PASSWORD``); their ids."""
    agent_ids = []
    hashed = hash_password(PASSWORD)
    for n in range(count):
        agent_id = db.execute(
            insert(Agent)
            .values(
                email=f"agent{n}@bench.test",
                name=f"Agent {n}",
                password_hash=hashed,
                locale="en",
                disabled=False,
                created_at=now,
            )
            .returning(Agent.id)  # type: ignore[arg-type]
        ).scalar_one()
        agent_ids.append(agent_id)
        db.execute(
            insert(Membership).values(shop_id=shop_id, agent_id=agent_id, role="agent", created_at=now)
        )
    return agent_ids


def fill(url: str, *, tickets: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    engine = create_engine(sync_url(url))
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(text("SET synchronous_commit TO off"))
        shop_ids = {}
        for domain in (BUSY, QUIET):
            shop_ids[domain] = db.execute(
                insert(Shop)
                .values(domain=domain, status="installed", scopes="", installed_at=now, updated_at=now)
                .returning(Shop.id)  # type: ignore[arg-type]
            ).scalar_one()
        agent_ids = add_agents(db, shop_ids[BUSY], now)
        for domain, count in ((BUSY, tickets), (QUIET, 1_000)):
            shop_id = shop_ids[domain]
            contacts = max(1, int(count * 0.6))
            first_contact = (db.execute(text("SELECT COALESCE(MAX(id), 0) FROM contacts")).scalar_one()) + 1
            for start in range(0, contacts, BATCH):
                db.execute(
                    insert(Contact),
                    [
                        {
                            "shop_id": shop_id,
                            "name": f"Customer {i}",
                            "email": f"c{i}@{domain}",
                            "phone": None,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(start, min(contacts, start + BATCH))
                    ],
                )
            db.execute(
                insert(Customer),
                [
                    {
                        "shop_id": shop_id,
                        "shopify_id": 10_000 + i,
                        "email": f"c{i}@{domain}",
                        "first_name": "C",
                        "updated_at": now,
                        "synced_at": now,
                        "tags": [],
                    }
                    for i in range(min(contacts, 20_000))
                ],
            )
            db.execute(
                insert(Order),
                [
                    {
                        "shop_id": shop_id,
                        "shopify_id": 50_000 + i,
                        "name": f"#{1000 + i}",
                        "email": f"c{i}@{domain}",
                        "customer_shopify_id": 10_000 + i,
                        "created_at": now,
                        "updated_at": now,
                        "synced_at": now,
                        "tags": [],
                        "custom_attributes": [],
                    }
                    for i in range(min(contacts, 20_000))
                ],
            )
            first_ticket = (db.execute(text("SELECT COALESCE(MAX(id), 0) FROM tickets")).scalar_one()) + 1
            tagged: list[tuple[int, str]] = []
            for start in range(0, count, BATCH):
                rows = []
                for i in range(start, min(count, start + BATCH)):
                    contact = rng.randrange(contacts)
                    last = now - timedelta(seconds=rng.randrange(90 * 86400))
                    channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
                    tags = [tag for tag, share in TAG_SHARES if rng.random() < share]
                    tagged.extend((first_ticket + i, tag) for tag in tags)
                    rows.append(
                        {
                            "shop_id": shop_id,
                            "contact_id": first_contact + contact,
                            "channel": channel,
                            "status": rng.choice(STATUSES),
                            "subject": f"Question {i}",
                            "assignee_id": rng.choice([*agent_ids, None, None]) if domain == BUSY else None,
                            "tags": tags,
                            "link_candidates": [],
                            "unlinked_by_agent": False,
                            "customer_shopify_id": 10_000 + contact if contact < 20_000 else None,
                            "link_reason": "email" if contact < 20_000 else None,
                            "message_count": 2,
                            "created_at": last - timedelta(hours=1),
                            "updated_at": last,
                            "last_message_at": last,
                        }
                    )
                db.execute(insert(Ticket), rows)
            for start in range(0, len(tagged), BATCH):
                db.execute(
                    insert(TicketTag),
                    [
                        {"ticket_id": t, "tag": tag, "shop_id": shop_id}
                        for t, tag in tagged[start : start + BATCH]
                    ],
                )
            for start in range(0, count, BATCH):
                ids = range(first_ticket + start, first_ticket + min(count, start + BATCH))
                db.execute(
                    insert(Message),
                    [
                        {
                            "shop_id": shop_id,
                            "ticket_id": t,
                            "author_type": kind,
                            "body": f"{kind} message {t}",
                            "created_at": now,
                        }
                        for t in ids
                        for kind in ("customer", "agent")
                    ],
                )
        if db.dialect.name == "postgresql":
            db.execute(text("ANALYZE"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as db:
            db.execute(text("ANALYZE"))
    engine.dispose()


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        app_url="http://bench.test",
        api_key="bench",
        api_secret=Secret("bench-secret-0123456789abcdef"),
        encryption_keys=(Secret(Fernet.generate_key().decode()),),
        session_secret=Secret("bench-session-secret-0123456789"),
        register_webhooks=False,
        app_config_path=ROOT / "shopify.app.toml",
        webhook_workers=1,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(url: str, data_dir: Path, requests: int) -> list[tuple[str, float, float, int]]:
    app = create_app(settings_for(url, data_dir))
    async with app.router.lifespan_context(app) as state:
        lifespan_state = dict(state or {})

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app({**scope, "state": dict(lifespan_state)}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
            signed = await client.post(
                "/api/v1/session", json={"shop": BUSY, "email": "agent0@bench.test", "password": PASSWORD}
            )
            signed.raise_for_status()
            first = (await client.get("/api/v1/tickets", params={"status": "open"})).json()
            cases: list[tuple[str, dict[str, Any]]] = [
                ("open, newest 25", {"status": "open"}),
                ("mine, open", {"status": "open", "view": "mine"}),
                ("unassigned, open", {"status": "open", "view": "unassigned"}),
                ("resolved", {"status": "resolved"}),
                ("all, page 2 by cursor", {"cursor": first["next_cursor"]} if first["next_cursor"] else {}),
                ("search by email", {"q": f"c123@{BUSY}"}),
                ("search by order name", {"q": "#1123"}),
                ("channel line, open", {"status": "open", "channel": "line"}),
                ("tag vip (2%)", {"tag": "vip"}),
                ("tag late parcel, open", {"status": "open", "tag": "late parcel"}),
                ("channel email + tag vip", {"channel": "email", "tag": "VIP"}),
            ]
            results = []
            for label, params in cases:
                for _ in range(10):  # warm the caches
                    (await client.get("/api/v1/tickets", params=params)).raise_for_status()
                timings = []
                rows = 0
                for _ in range(requests):
                    started = time.perf_counter()
                    answer = await client.get("/api/v1/tickets", params=params)
                    timings.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
                    rows = len(answer.json()["tickets"])
                results.append((label, statistics.median(timings), percentile(timings, 0.99), rows))
            return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--postgres", help="an empty PostgreSQL database to fill (its tables are dropped first)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        if args.postgres:
            url = args.postgres
            engine = create_engine(sync_url(url))
            with engine.begin() as db:
                db.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
        else:
            url = f"sqlite+aiosqlite:///{data_dir / 'bench.sqlite3'}"
        migrate(url)
        started = time.perf_counter()
        fill(url, tickets=args.tickets)
        print(
            f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; filled {args.tickets:,} tickets "
            f"(+1,000 in another shop) in {time.perf_counter() - started:.1f} s"
        )
        results = asyncio.run(measure(url, data_dir, args.requests))
    print(
        f"{'list':<26} {'p50 ms':>8} {'p99 ms':>8} {'p50 ÷ first':>11} {'rows':>5}"
        f"   ({args.requests} requests each, in-process ASGI; ÷ first: beside the plain open list)"
    )
    baseline = results[0][1]
    for label, p50, p99, rows in results:
        print(f"{label:<26} {p50:8.2f} {p99:8.2f} {p50 / baseline:11.2f} {rows:5d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

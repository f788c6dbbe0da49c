"""Notices before they are asked for: the back-in-stock fan-out and the proactive rules' scan, with the
SQL statements each costs, as ratios to a baseline measured in the same run.

Fan-out: one sold-out variant with N email subscribers (N = 1, then 10, 100 and ``--subscribers``); its stock
returns and ``notify_restocked`` tells each once (claim, message, outbox row), timed with its commit. The
baseline is N = 1 (after one untimed warm-up notice): the figure printed is the time per subscriber ÷ the time of one, so 1.0× means the
fan-out costs exactly N single notices, and less means the fixed part (reading the subscriptions and the
stock once) is shared.

Scan: a mirror of ``--orders`` orders over the rules' 60-day look-back (each with a shipment; ``--stale``
percent of them with no carrier event for a week, one in a hundred on hold), all four rules on, the
customers never having written (so nothing is sent: the scan and its consent checks are what is timed).
The baseline is reading what the rules read (the newest 2,000 orders in the window, their shipments and
holds) with three plain SELECTs; the figure is ``run_rules`` ÷ that floor.

SQLite in a temporary directory by default, or ``--postgres URL`` (an empty database: its tables are dropped
first). Figures only; the machine may be shared (its load average is printed).

    python bench/notices.py [--subscribers 1000] [--orders 20000] [--stale 5] [--repeat 3]
                            [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shop_app.database import make_engine, make_session_factory, migrate, sync_url, transaction  # noqa: E402
from shop_app.models import (  # noqa: E402
    Contact,
    Fulfillment,
    FulfillmentOrder,
    InventoryLevel,
    NoticeRule,
    Order,
    Product,
    ProductVariant,
    Shop,
    StockSubscription,
    Ticket,
)
from shop_app.notices.back_in_stock import notify_restocked  # noqa: E402
from shop_app.notices.notice_settings import save_notice_settings  # noqa: E402
from shop_app.notices.proactive import LOOKBACK_DAYS, MAX_ORDERS_PER_RUN, run_rules  # noqa: E402

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # noon in Tokyo: outside the quiet hours
LOCATION = 101
BATCH = 2_000


class Statements:
    """Counts the SQL statements the engine sends."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


def table(model: Any) -> Any:
    return model.__table__


async def bulk(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(table(model)), rows[start : start + BATCH])


async def make_shop(sessions: Any, domain: str) -> int:
    async with transaction(sessions) as session:
        shop = Shop(
            domain=domain, name="Bench", primary_locale="ja", iana_timezone="Asia/Tokyo", country_code="JP"
        )
        session.add(shop)
        await session.flush()
        assert shop.id is not None
        return shop.id


async def sold_out_variant(sessions: Any, shop_id: int, n: int, key: int) -> int:
    """A variant (inventory item ``key``) with ``n`` email subscribers; its stock is zero."""
    async with transaction(sessions) as session:
        product = Product(
            shop_id=shop_id, shopify_id=key, title=f"Shirt {key}", handle=f"shirt-{key}", updated_at=NOW
        )
        session.add(product)
        await session.flush()
        session.add(
            ProductVariant(
                shop_id=shop_id,
                shopify_id=key,
                product_id=product.id or 0,
                title="M",
                inventory_item_shopify_id=key,
                updated_at=NOW,
            )
        )
        session.add(
            InventoryLevel(
                shop_id=shop_id,
                inventory_item_shopify_id=key,
                location_shopify_id=LOCATION,
                available=0,
                updated_at=NOW,
            )
        )
        first_contact = await session.scalar(select(Contact.id).order_by(Contact.id.desc()).limit(1)) or 0
        await bulk(
            session,
            Contact,
            [{"shop_id": shop_id, "email": f"s{key}-{i}@example.jp", "name": f"S {i}"} for i in range(n)],
        )
        contacts = list(
            (
                await session.execute(
                    select(Contact.id).where(Contact.id > first_contact).order_by(Contact.id)
                )
            ).scalars()
        )
        first_ticket = await session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0
        await bulk(
            session,
            Ticket,
            [
                {
                    "shop_id": shop_id,
                    "contact_id": contact,
                    "channel": "email",
                    "subject": "在庫",
                    "status": "resolved",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "last_message_at": NOW,
                }
                for contact in contacts
            ],
        )
        tickets = list(
            (
                await session.execute(select(Ticket.id).where(Ticket.id > first_ticket).order_by(Ticket.id))
            ).scalars()
        )
        await bulk(
            session,
            StockSubscription,
            [
                {
                    "shop_id": shop_id,
                    "ticket_id": ticket,
                    "contact_id": contact,
                    "channel": "email",
                    "product_shopify_id": key,
                    "variant_shopify_id": key,
                    "inventory_item_shopify_id": key,
                    "location_shopify_ids": [],
                    "item_name": f"Shirt {key} (M)",
                    "language": "ja",
                    "status": "active",
                    "expires_at": NOW + timedelta(days=30),
                    "created_at": NOW,
                    "confirmed_at": NOW,
                }
                for ticket, contact in zip(tickets, contacts, strict=True)
            ],
        )
    return n


async def timed(
    engine: AsyncEngine, counter: Statements, work: Callable[[], Awaitable[Any]]
) -> tuple[float, int, Any]:
    before = counter.count
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, counter.count - before, result


async def fan_out(url: str, sizes: list[int]) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    counter = Statements(engine)
    shop_id = await make_shop(sessions, "fanout-bench.myshopify.com")
    print("back-in-stock fan-out (one variant, N email subscribers, stock returns)")
    print(
        f"  {'N':>6} {'time ms':>9} {'per subscriber ms':>18} {'÷ N=1':>7} {'statements':>11} {'per sub':>8}"
    )
    baseline: float | None = None
    # a warm-up notice, not timed: the first call loads the message catalogue and prepares statements
    await sold_out_variant(sessions, shop_id, 1, 7_000_000)
    async with transaction(sessions) as session:
        await session.execute(update(table(InventoryLevel)).values(available=5))
        await notify_restocked(session, shop_id=shop_id, inventory_item_ids=[7_000_000], now=NOW)
    for key, n in enumerate(sizes, start=7_000_001):
        await sold_out_variant(sessions, shop_id, n, key)
        async with transaction(sessions) as session:
            await session.execute(
                update(table(InventoryLevel))
                .where(table(InventoryLevel).c.inventory_item_shopify_id == key)
                .values(available=5)
            )

        async def tell(key: int = key) -> list[int]:
            async with transaction(sessions) as session:
                return await notify_restocked(session, shop_id=shop_id, inventory_item_ids=[key], now=NOW)

        seconds, statements, posted = await timed(engine, counter, tell)
        assert len(posted) == n, (len(posted), n)
        per = seconds / n
        baseline = baseline or per
        print(
            f"  {n:>6} {seconds * 1000:>9.1f} {per * 1000:>18.2f} {per / baseline:>6.2f}× "
            f"{statements:>11} {statements / n:>8.1f}"
        )
    await engine.dispose()


async def scan(url: str, orders: int, stale_percent: float, repeat: int) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    counter = Statements(engine)
    shop_id = await make_shop(sessions, "scan-bench.myshopify.com")
    window = timedelta(days=LOOKBACK_DAYS - 1)
    stale_every = max(int(100 / stale_percent), 1) if stale_percent > 0 else 0
    async with transaction(sessions) as session:
        await bulk(
            session,
            Order,
            [
                {
                    "shop_id": shop_id,
                    "shopify_id": 9_000_000 + i,
                    "name": f"#{10_000 + i}",
                    "customer_shopify_id": 50_000 + i,
                    "email": f"c{i}@example.jp",
                    "created_at": NOW - window * (i / orders),
                    "updated_at": NOW,
                    "shipping_address": {"country_code": "JP"},
                    "custom_attributes": [],
                    "tags": [],
                }
                for i in range(orders)
            ],
        )
        ids = list((await session.execute(select(Order.id).where(Order.shop_id == shop_id))).scalars())
        fulfillments, holds = [], []
        for i, order_id in enumerate(ids):
            stale = stale_every and i % stale_every == 0
            last = NOW - timedelta(days=8 if stale else 1)
            fulfillments.append(
                {
                    "shop_id": shop_id,
                    "shopify_id": 8_000_000 + i,
                    "order_id": order_id,
                    "status": "SUCCESS",
                    "display_status": "IN_TRANSIT",
                    "created_at": last,
                    "updated_at": last,
                    "tracking": [{"company": "ヤマト運輸", "number": f"4455{i:08d}", "url": None}],
                    "events": [{"id": i, "status": "IN_TRANSIT", "happened_at": last.isoformat()}],
                    "line_items": [],
                }
            )
            if i % 100 == 0:
                holds.append(
                    {
                        "shop_id": shop_id,
                        "shopify_id": 6_000_000 + i,
                        "order_id": order_id,
                        "status": "ON_HOLD",
                    }
                )
        await bulk(session, Fulfillment, fulfillments)
        await bulk(session, FulfillmentOrder, holds)
        await save_notice_settings(
            session,
            shop_id=shop_id,
            enabled=set(NoticeRule),
            days={},
            quiet_start_minutes=21 * 60,
            quiet_end_minutes=9 * 60,
            daily_cap=50,
            subscription_days=30,
        )

    async def floor() -> int:
        async with sessions() as session:
            newest = list(
                (
                    await session.execute(
                        select(Order)
                        .where(
                            Order.shop_id == shop_id, Order.created_at >= NOW - timedelta(days=LOOKBACK_DAYS)
                        )
                        .order_by(Order.created_at.desc())
                        .limit(MAX_ORDERS_PER_RUN)
                    )
                ).scalars()
            )
            wanted = [o.id for o in newest]
            shipped = (
                (
                    await session.execute(
                        select(Fulfillment).where(
                            Fulfillment.shop_id == shop_id, Fulfillment.order_id.in_(wanted)
                        )
                    )
                )
                .scalars()
                .all()
            )
            held = (
                (
                    await session.execute(
                        select(FulfillmentOrder).where(
                            FulfillmentOrder.shop_id == shop_id, FulfillmentOrder.order_id.in_(wanted)
                        )
                    )
                )
                .scalars()
                .all()
            )
            return len(newest) + len(shipped) + len(held)

    async def rules() -> Any:
        async with transaction(sessions) as session:
            shop = await session.get_one(Shop, shop_id)
            return await run_rules(session, shop=shop, now=NOW)

    floors, runs = [], []
    report = None
    statements = 0
    for _ in range(repeat):
        floors.append((await timed(engine, counter, floor))[0])
        seconds, statements, report = await timed(engine, counter, rules)
        runs.append(seconds)
    base, run = statistics.median(floors), statistics.median(runs)
    assert report is not None
    print(
        f"proactive rules over {orders:,} orders ({min(orders, MAX_ORDERS_PER_RUN):,} newest scanned, "
        f"{stale_percent:g}% stale, 1% on hold), median of {repeat}"
    )
    print(f"  baseline (three SELECTs of what the rules read): {base * 1000:.1f} ms")
    print(
        f"  run_rules: {run * 1000:.1f} ms = {run / base:.2f}× the baseline; {statements} statements; "
        f"situations found {report.no_consent + report.already + len(report.sent)} "
        f"(sent {len(report.sent)}, no consent {report.no_consent})"
    )
    await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument(
        "--stale", type=float, default=5.0, help="percent of shipments with no event for a week"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="an empty PostgreSQL database (its tables are dropped first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.postgres:
            url = args.postgres
            engine = create_engine(sync_url(url))
            with engine.begin() as db:
                db.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
        else:
            url = f"sqlite+aiosqlite:///{Path(scratch) / 'notices.sqlite3'}"
        migrate(url)
        print(
            f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; load average {os.getloadavg()[0]:.2f}"
        )
        sizes = sorted({1, 10, 100, args.subscribers})
        asyncio.run(fan_out(url, sizes))
        asyncio.run(scan(url, args.orders, args.stale, args.repeat))
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

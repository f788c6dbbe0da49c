"""The bot's answer latency inside the server on a store of 1,000,000 orders (issue 6: p50/p99, goal p99 < 30 ms).

The database is the one ``bench/profile_api.py`` fills (a busy shop of ``--customers`` customers and
``--orders`` orders, a second shop a tenth that size, 20,000 earlier tickets); this run fills it with the
same code when the busy shop is missing, else reuses it. Either way it is first migrated to the current
Alembic head, and two products with sizes and colours stocked at the three locations are added once
(the filled catalogue's variants carry no options, so no stock question could be narrowed to one).

Then ``--messages`` shopper messages, half Japanese, half English, shuffled, each the first message of its
own new ticket (opened beforehand, not timed), of four kinds:
- ``order+proof``: an order number and that order's email, from an anonymous visitor (verification by proof;
  each from its own source, so no attempt limit is reached);
- ``signed-in``: "where is my order?" from a signed storefront customer (their recent orders);
- ``stock``: a product with size and colour, sometimes a location, sometimes the size left out;
- ``handoff``: person-only messages (a human, cancel, return, damaged item).

Timed: ``answer_message`` with ``post=True`` inside its transaction, commit included: what the API or the
widget spends on the answer inside the server, before serialising it. A warm-up of ``--warmup`` messages
(caches, prepared statements) is not counted. Beside it, ``understand`` alone on the same messages, the
floor the database work sits on (with the shop's ~200 product titles as hints: matching them is most of
its cost). And the CPU time this process spent per answer, which a shared machine's load does not inflate.
Figures only; the machine may be shared (its load average is printed).

    python bench/answer_latency.py (--sqlite FILE | --postgres URL) [--messages 1000] [--warmup 60]
                                   [--orders 1000000] [--customers 200000] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_api import (  # profile_api puts the project on sys.path
    BUSY,
    LOCATIONS,
    TICKETS,
    bulk_insert,
    fill,
    percentile,
    table,
)

from shop_app.answers import Trust, answer_message, forget_shop_cache, shop_hints
from shop_app.answers.understanding import understand
from shop_app.database import make_engine, make_session_factory, migrate, sync_url, transaction
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket
from shop_app.models import Channel, InventoryLevel, Order, Product, ProductVariant, Shop

KINDS = ("order+proof", "signed-in", "stock", "handoff")
PRODUCT_BASE = 39_000_000  # the bench catalogue's Shopify ids, clear of profile_api's
ITEM_BASE = 39_500_000
SHIRTS = (
    ("リネンシャツ", "サイズ", "カラー", ("S", "M", "L"), ("ネイビー", "ホワイト")),
    ("Linen Shirt", "Size", "Color", ("S", "M", "L"), ("Navy", "White")),
)
SIGNED_IN = (
    "注文した商品はいつ届きますか？",
    "When will my order arrive?",
    "注文の状況を教えてください",
    "Where is my order?",
)
HANDOFF = (
    "担当者と話したいです。",
    "I want to talk to a human, please.",
    "注文番号{n}をキャンセルしたいです。",
    "I'd like to cancel order #{n}.",
    "注文番号{n}の商品を返品したいです",
    "I want to return the items from order #{n}.",
    "届いた商品が破損していました。",
    "The item I received was damaged.",
)


@dataclass(frozen=True, slots=True)
class Ask:
    kind: str
    text: str
    trust: Trust
    storefront_customer_id: int | None = None


# ---- the database


def busy_shop_id(url: str) -> int | None:
    engine = create_engine(sync_url(url))
    with engine.connect() as db:
        found = db.execute(text("SELECT id FROM shops WHERE domain = :d"), {"d": BUSY}).scalar_one_or_none()
    engine.dispose()
    return None if found is None else int(found)


def add_catalogue(url: str, shop_id: int) -> None:
    """Two shirts, three sizes by two colours, stocked (unevenly, some sold out) at every location."""
    engine = create_engine(sync_url(url))
    now = datetime.now(UTC)
    rng = random.Random(3)
    with engine.begin() as db:
        products = table(Product)
        there = db.execute(
            select(products.c.id).where(products.c.shop_id == shop_id, products.c.shopify_id == PRODUCT_BASE)
        ).first()
        if there is None:
            item = ITEM_BASE
            for p, (title, size_name, colour_name, sizes, colours) in enumerate(SHIRTS):
                product_id = db.execute(
                    insert(products)
                    .values(shop_id=shop_id, shopify_id=PRODUCT_BASE + p, title=title, status="ACTIVE",
                            tags=[], options=[], updated_at=now, synced_at=now)
                    .returning(products.c.id)
                ).scalar_one()  # fmt: skip
                variants, levels = [], []
                for size in sizes:
                    for colour in colours:
                        item += 1
                        variants.append(
                            {"shop_id": shop_id, "shopify_id": item, "product_id": product_id,
                             "title": f"{size} / {colour}", "sku": f"SHIRT-{item}", "inventory_policy": "DENY",
                             "selected_options": [[size_name, size], [colour_name, colour]],
                             "inventory_item_shopify_id": item, "updated_at": now, "synced_at": now}
                        )  # fmt: skip
                        levels += [
                            {"shop_id": shop_id, "inventory_item_shopify_id": item, "location_shopify_id": lid,
                             "available": rng.choice((0, 0, 2, 7, 25)), "on_hand": 0, "committed": 0,
                             "incoming": rng.choice((0, 0, 10)), "reserved": 0, "updated_at": now,
                             "synced_at": now}
                            for lid, _ in LOCATIONS
                        ]  # fmt: skip
                bulk_insert(db, ProductVariant, variants)
                bulk_insert(db, InventoryLevel, levels)
    engine.dispose()


def sample_orders(url: str, shop_id: int, orders: int, count: int, rng: random.Random) -> list[Any]:
    """Random orders of the busy shop (its rows are 1..orders): name, email and customer."""
    ids = rng.sample(range(1, orders + 1), count)
    engine = create_engine(sync_url(url))
    with engine.connect() as db:
        orders_table = table(Order)
        rows = db.execute(
            select(orders_table.c.name, orders_table.c.email, orders_table.c.customer_shopify_id).where(
                orders_table.c.shop_id == shop_id, orders_table.c.id.in_(ids)
            )
        ).all()
    engine.dispose()
    rng.shuffle(rows)
    return list(rows)


# ---- the messages


def asks(rng: random.Random, rows: list[Any], count: int) -> list[Ask]:
    made: list[Ask] = []
    customers = [row.customer_shopify_id for row in rows if row.customer_shopify_id is not None]
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        japanese = (n // len(KINDS)) % 2 == 0
        row = rows[n % len(rows)]
        number = row.name.lstrip("#")
        source = Trust(source=f"ip:bench-{n}")
        if kind == "order+proof":
            body = (
                f"注文番号{number}の配送状況を教えてください。メールは{row.email}です。"
                if japanese
                else f"Hi, where is my order #{number}? My email is {row.email}."
            )
            made.append(Ask(kind, body, source))
        elif kind == "signed-in":
            customer = customers[n % len(customers)]
            body = rng.choice(SIGNED_IN[:2] if japanese else SIGNED_IN[2:])
            trust = Trust(storefront_customer_id=customer, source=f"widget:bench-{n}")
            made.append(Ask(kind, body, trust, storefront_customer_id=customer))
        elif kind == "stock":
            title, _, _, sizes, colours = SHIRTS[0 if japanese else 1]
            size, colour = rng.choice(sizes), rng.choice(colours)
            where = rng.choice(LOCATIONS)[1]
            body = rng.choice(
                (
                    f"{title}の{size}サイズ、{colour}は在庫ありますか？",
                    f"{title}（{colour}）の{size}は{where}にありますか？",
                    f"{title}の{colour}はまだ買えますか？",  # no size: asked back
                )
                if japanese
                else (
                    f"Do you have the {title} in {colour.lower()}, size {size}?",
                    f"Is the {title} size {size} in {colour.lower()} back in stock?",
                    f"Is the {title} in {colour.lower()} still available?",
                )
            )
            made.append(Ask(kind, body, source))
        else:
            body = rng.choice(HANDOFF[0::2] if japanese else HANDOFF[1::2]).format(n=number)
            made.append(Ask(kind, body, source))
    rng.shuffle(made)
    return made


# ---- measuring


async def measure(url: str, shop_id: int, work: list[Ask], warmup: int) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        forget_shop_cache(shop_id)
        hints = await shop_hints(session, shop=shop)
    timings: dict[str, list[float]] = defaultdict(list)
    actions: dict[str, Counter[str]] = defaultdict(Counter)
    cpu: list[float] = []  # this process's CPU time (every thread: aiosqlite's too), the load-proof part
    for n, ask in enumerate(work):
        async with transaction(sessions) as session:
            contact = await find_or_create_contact(
                session,
                shop=shop,
                details=ContactDetails(name=f"bench {n}"),
                storefront_customer_id=ask.storefront_customer_id,
            )
            ticket, message = await open_ticket(
                session,
                shop=shop,
                contact=contact,
                channel=Channel.WEB_CHAT,
                subject="",
                first_message=ask.text,
            )
        started, cpu_started = time.perf_counter(), time.process_time()
        async with transaction(sessions) as session:
            decision = await answer_message(
                session, shop=shop, ticket=ticket, message=message, trust=ask.trust, post=True
            )
        elapsed = (time.perf_counter() - started) * 1000
        if n >= warmup:
            timings[ask.kind].append(elapsed)
            cpu.append((time.process_time() - cpu_started) * 1000)
            actions[ask.kind][decision.action.value] += 1
    await engine.dispose()

    # understand alone on the same texts and hints: three rounds, the median rate
    texts = [ask.text for ask in work]
    rates, alone = [], []
    for _ in range(3):
        round_started = time.perf_counter()
        for body in texts:
            before = time.perf_counter()
            understand(body, hints=hints)
            alone.append((time.perf_counter() - before) * 1000)
        rates.append(len(texts) / (time.perf_counter() - round_started))
    return {
        "timings": timings,
        "actions": actions,
        "cpu": cpu,
        "understand_rate": statistics.median(rates),
        "alone": alone,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", help="the SQLite file (filled by this run or by profile_api.py)")
    where.add_argument("--postgres", help="the PostgreSQL database (filled by this run or by profile_api.py)")
    parser.add_argument("--messages", type=int, default=1_000, help="messages timed (a quarter of each kind)")
    parser.add_argument("--warmup", type=int, default=60, help="messages answered first, not counted")
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to fill (or assumed on reuse)")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    database = "PostgreSQL" if args.postgres else "SQLite"
    url = args.postgres or f"sqlite+aiosqlite:///{args.sqlite}"
    migrate(url)
    shop_id = busy_shop_id(url)
    if shop_id is None:
        started = time.perf_counter()
        shop_id = fill(url, orders=args.orders, customers=args.customers)[BUSY]
        print(
            f"database: {database}; filled {args.orders:,} orders / {args.customers:,} customers "
            f"(+{args.orders // 10:,} in another shop, {TICKETS:,} tickets) in {time.perf_counter() - started:.0f} s"
        )
    else:
        print(
            f"database: {database}; reusing a filled database ({args.orders:,} orders assumed), migrated to head"
        )
    add_catalogue(url, shop_id)

    rng = random.Random(args.seed)
    total = args.warmup + args.messages
    rows = sample_orders(url, shop_id, args.orders, total, rng)
    result = asyncio.run(measure(url, shop_id, asks(rng, rows, total), args.warmup))

    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(f"load average after measuring: {load} on {os.cpu_count()} CPUs (the machine is shared)")
    print(
        f"{'answer_message, post=True, commit':<34} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   actions"
    )
    everything: list[float] = []
    for kind in KINDS:
        timings = result["timings"][kind]
        everything += timings
        done = ", ".join(f"{action} {count}" for action, count in result["actions"][kind].most_common())
        print(
            f"  {kind:<32} {len(timings):5} {statistics.median(timings):8.2f} {percentile(timings, 0.99):8.2f} "
            f"{max(timings):8.2f}   {done}"
        )
    p50 = statistics.median(everything)
    print(
        f"  {'all (half Japanese, half English)':<32} {len(everything):5} {p50:8.2f} "
        f"{percentile(everything, 0.99):8.2f} {max(everything):8.2f}   (goal p99 < 30 ms)"
    )
    print(
        f"  {'CPU time of this process':<32} {len(result['cpu']):5} {statistics.median(result['cpu']):8.2f} "
        f"{percentile(result['cpu'], 0.99):8.2f} {max(result['cpu']):8.2f}   (SQLite's work included, PostgreSQL's not)"
    )
    alone = statistics.median(result["alone"])
    answered = 1000 * len(everything) / sum(everything)
    print(
        f"understand() alone on the same messages: {result['understand_rate']:,.0f} messages/s, p50 "
        f"{alone * 1000:.0f} µs; answer_message one at a time: {answered:,.0f} messages/s "
        f"(understanding is {alone / p50:.1%} of the answer's p50)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

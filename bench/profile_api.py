"""Customer profile latency from the mirror, beside what the same profile costs from Shopify's GraphQL.

A fresh database (SQLite by default, PostgreSQL with ``--postgres URL``) is migrated and filled directly
with Core inserts: one busy shop of ``--customers`` customers and ``--orders`` orders (1-3 line items each,
most shipped with a tracking number and carrier events, a quarter with a requested delivery day), a
catalogue of 1,000 variants stocked at three locations, 20,000 earlier tickets; and a second shop a tenth
that size whose Shopify ids collide with the first's, so every query has another tenant's rows to skip.
Orders are spread unevenly (some customers have dozens, some none), about 5% are guests'.

Then, for ``--profiles`` random customers each:
- ``build_profile`` called directly (the service: its queries and the shaping of the answer);
- ``GET /api/v1/customers/{id}/profile`` through the real app (lifespan, routing, API key authentication,
  JSON) in this process behind httpx's ASGI transport;
- the customer with the most orders, on its own.

Beside it, unless ``--store-orders 0``, what the same profile costs read live from Shopify, as peers
that fetch on every view do: two queries one after the other (the customer with its 10 newest orders,
items and shipments; then the stock of those items at every location), against the simulated store
(``devstore serve``, its own process, real HTTP, ``--store-orders`` orders):
- latency, over ``--live-samples`` (200) random customers with orders, the throttle off: each query's
  measured answer time from the store, plus ``--shopify-rtt-ms`` per query for the network between the
  app and Shopify, which the store on this machine does not have. The round trip is added, not slept.
- at Shopify's standard limits (a 2,000-point bucket, 100 points/s restored), ``--store-profiles``
  profiles back to back: the bucket, not the network, sets the pace.
The figure the script is about is the ratio: the live fetch's p50/p99 over the profile API's.

Where the round trip comes from: it is an assumption, not a measurement (we found no published
measurement of the Admin API's round trip from Japan). We assume the Admin API answers from Shopify's
data centres in North America, so an app serving Japanese merchants from Tokyo crosses the Pacific once
per request (on a kept-alive TLS connection: no handshake is counted). Physics gives the floor: light in
fibre covers about 200 km per millisecond, and Tokyo is about 8,800 km from Los Angeles and 10,000 km
from the US Midwest along great circles, so a round trip cannot be under 88-100 ms and real routes are
longer (the cloud providers' inter-region ping tables are where to look for measured figures). The
default, 100 ms, is that floor, so the ratio is, if anything, kind to live fetching. Measure yours from
the app's host (``curl -so /dev/null -w '%{time_connect}' https://SHOP.myshopify.com``: the TCP connect
is one round trip) and pass it with ``--shopify-rtt-ms``.

    python bench/profile_api.py [--orders 1000000] [--customers 200000] [--profiles 1000]
                                [--postgres postgresql://…/db | --sqlite FILE] [--reuse]
                                [--store-orders 20000] [--live-samples 200] [--shopify-rtt-ms 100]
                                [--store-profiles 100]

``--reuse`` measures again a database an earlier run filled (``--sqlite FILE`` or ``--postgres URL``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import JSON, Table, create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shop_app.database import make_engine, make_session_factory, migrate, sync_url, transaction  # noqa: E402
from shop_app.helpdesk.api_keys import create_api_key  # noqa: E402
from shop_app.helpdesk.profiles import ProfileTarget, build_profile  # noqa: E402
from shop_app.main import create_app  # noqa: E402
from shop_app.models import (  # noqa: E402
    Contact,
    Customer,
    Fulfillment,
    InventoryLevel,
    Location,
    Order,
    OrderLineItem,
    Product,
    ProductVariant,
    Shop,
    Ticket,
)
from shop_app.models.base import UTCDateTime  # noqa: E402
from shop_app.settings import Secret, Settings  # noqa: E402

BUSY = "busy-shop.myshopify.com"
QUIET = "quiet-shop.myshopify.com"
BATCH = 10_000
VARIANTS_PER_PRODUCT = 5
PRODUCTS = 200
LOCATIONS = ((61, "東京倉庫"), (62, "大阪倉庫"), (63, "福岡店"))
TICKETS = 20_000
CUSTOMER_BASE = 1_000_000
ORDER_BASE = 5_000_000
VARIANT_BASE = 40_000_000
ITEM_BASE = 50_000_000
START = datetime(2023, 11, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86400
FINANCIAL = ("PAID",) * 8 + ("REFUNDED", "PARTIALLY_REFUNDED", "PENDING", "AUTHORIZED")
CARRIERS = (("ヤマト運輸", 12), ("佐川急便", 12), ("日本郵便", 12), ("Yamato (JA)", 12))
EVENTS = ("LABEL_PURCHASED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED")
SLOTS = ("午前中", "14時〜16時", "16時〜18時", "18時〜20時", "19時〜21時", "指定なし")
SURNAMES = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
GIVEN = ("陽子", "花子", "美咲", "結衣", "さくら", "健太", "翔太", "大輔", "拓也", "直美")

STORE_SHOP = "hinode-apparel.myshopify.com"
CLIENT_ID = "bench-client"
SECRET = "shpss_bench_" + "0f" * 16
BUCKET = 2000
RESTORE_RATE = 100
SCOPES = "read_orders,read_all_orders,read_customers,read_products,read_inventory,read_locations"
PROFILE_QUERY = """
query Profile($id: ID!) {
  customer(id: $id) {
    id firstName lastName tags note numberOfOrders
    defaultEmailAddress { emailAddress }
    defaultPhoneNumber { phoneNumber }
    amountSpent { amount currencyCode }
    orders(first: 10, sortKey: CREATED_AT, reverse: true) {
      nodes {
        id name createdAt cancelledAt cancelReason displayFinancialStatus displayFulfillmentStatus
        totalPriceSet { shopMoney { amount currencyCode } }
        shippingAddress { name address1 address2 city province zip countryCodeV2 }
        customAttributes { key value }
        lineItems(first: 10) {
          nodes { title variantTitle sku quantity variant { id inventoryPolicy inventoryItem { id } } }
        }
        fulfillments(first: 5) {
          id status displayStatus estimatedDeliveryAt deliveredAt
          trackingInfo(first: 5) { company number url }
          events(last: 1) { nodes { status happenedAt message } }
        }
      }
    }
  }
}
"""
STOCK_QUERY = """
query Stock($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevels(first: 5) {
        nodes { location { id name } quantities(names: ["available", "on_hand", "incoming"]) { name quantity } }
      }
    }
  }
}
"""
SHOPIFY_RTT_MS = 100.0  # an assumption, the speed-of-light floor Tokyo ↔ US: see the module's docstring
STOCK_ITEMS_PER_QUERY = 25  # keeps the requested cost under the single-query maximum of 1,000


def table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def bulk_insert(db: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Many rows at once below SQLAlchemy's per-value processing: COPY on PostgreSQL, the driver's
    executemany on SQLite (times as SQLAlchemy stores them there: naive UTC text)."""
    if not rows:
        return
    name = table(model).name
    columns = list(rows[0])
    postgres = db.dialect.name == "postgresql"

    def sqlite_time(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        text = moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return text if moment.microsecond else text + ".000000"

    def converter(column: str) -> Any:
        kind = table(model).c[column].type
        if isinstance(kind, JSON):
            return lambda item: None if item is None else json.dumps(item)
        if isinstance(kind, UTCDateTime) and not postgres:
            return sqlite_time
        return None

    converters = [converter(column) for column in columns]
    converted = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
    values = []
    for row in rows:
        raw = [row[column] for column in columns]
        for i, convert in converted:
            raw[i] = convert(raw[i])
        values.append(tuple(raw))
    if postgres:
        cursor = db.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        db.connection.driver_connection.executemany(
            f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - the app's own table and columns
            values,
        )


# Filling the database -------------------------------------------------------------------------------


def customer_of(rng: random.Random, customers: int) -> int | None:
    """Uneven: low numbers order far more often than high ones; about 5% of orders are guests'."""
    if rng.random() < 0.05:
        return None
    return int(customers * rng.random() ** 1.6)


def order_rows(
    rng: random.Random, shop_id: int, first: int, count: int, customers: int, total: int, now: datetime
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]]:
    for i in range(first, first + count):
        order_id = i + 1
        created = START + timedelta(seconds=SPAN_SECONDS * i // total + rng.randrange(3600))
        owner = customer_of(rng, customers)
        shipped = rng.random() < 0.8 and created < now - timedelta(days=2)
        attributes = []
        if rng.random() < 0.25:
            day = (created + timedelta(days=rng.randint(2, 9))).strftime("%Y-%m-%d")
            attributes = [["配送希望日", day], ["配送時間帯", rng.choice(SLOTS)]]
        order = {
            "id": order_id,
            "shop_id": shop_id,
            "shopify_id": ORDER_BASE + i,
            "name": f"#{1001 + i}",
            "number": 1 + i,
            "customer_shopify_id": None if owner is None else CUSTOMER_BASE + owner,
            "email": f"guest{i}@example.net" if owner is None else f"c{owner}@example.jp",
            "phone": None,
            "created_at": created,
            "updated_at": created + timedelta(days=3),
            "processed_at": created,
            "cancelled_at": None,
            "cancel_reason": None,
            "closed_at": None,
            "financial_status": rng.choice(FINANCIAL),
            "fulfillment_status": "FULFILLED" if shipped else "UNFULFILLED",
            "currency": "JPY",
            "total_price": str(rng.randrange(2, 60) * 550),
            "subtotal_price": None,
            "total_refunded": "0",
            "shipping_address": {
                "name": f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}", "company": None,
                "address1": f"神宮前{rng.randint(1, 6)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
                "address2": None, "city": "渋谷区", "province": "東京都", "province_code": "JP-13",
                "zip": "150-0001", "country": "Japan", "country_code": "JP", "phone": None,
            },
            "custom_attributes": attributes,
            "tags": [],
            "note": None,
            "synced_at": now,
        }  # fmt: skip
        items = []
        for k in range(rng.choice((1, 1, 2, 2, 3))):
            variant = rng.randrange(PRODUCTS * VARIANTS_PER_PRODUCT)
            items.append(
                {
                    "shop_id": shop_id,
                    "shopify_id": ITEM_BASE + i * 4 + k,
                    "order_id": order_id,
                    "title": f"商品 {variant // VARIANTS_PER_PRODUCT}",
                    "variant_title": f"サイズ {variant % VARIANTS_PER_PRODUCT}",
                    "sku": f"SKU-{variant}",
                    "quantity": rng.randint(1, 3),
                    "current_quantity": None,
                    "variant_shopify_id": VARIANT_BASE + variant,
                    "product_shopify_id": None,
                    "unit_price": "1100",
                    "currency": "JPY",
                    "synced_at": now,
                }
            )
        fulfillment = None
        if shipped:
            company, digits = rng.choice(CARRIERS)
            at = created + timedelta(days=1)
            steps = EVENTS[: rng.randint(2, len(EVENTS))]
            fulfillment = {
                "shop_id": shop_id,
                "shopify_id": ORDER_BASE + i,
                "order_id": order_id,
                "status": "SUCCESS",
                "display_status": steps[-1],
                "created_at": at,
                "updated_at": at + timedelta(days=len(steps)),
                "delivered_at": at + timedelta(days=len(steps)) if steps[-1] == "DELIVERED" else None,
                "in_transit_at": at + timedelta(hours=6),
                "estimated_delivery_at": at + timedelta(days=2),
                "tracking": [
                    {"company": company, "number": "".join(str(rng.randrange(10)) for _ in range(digits)), "url": None}
                ],
                "events": [
                    {"id": (ORDER_BASE + i) * 10 + n, "status": status,
                     "happened_at": (at + timedelta(days=n)).isoformat(), "message": None}
                    for n, status in enumerate(steps)
                ],
                "line_items": [[item["shopify_id"], item["quantity"]] for item in items],
                "location_shopify_id": LOCATIONS[0][0],
                "synced_at": now,
            }  # fmt: skip
        yield order, items, fulfillment


def fill_shop(
    db: Any, rng: random.Random, shop_id: int, *, customers: int, orders: int, first_order_row: int
) -> int:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    for start in range(0, customers, BATCH):
        bulk_insert(
            db,
            Customer,
            [
                {
                    "shop_id": shop_id, "shopify_id": CUSTOMER_BASE + c, "first_name": rng.choice(GIVEN),
                    "last_name": rng.choice(SURNAMES), "email": f"c{c}@example.jp",
                    "phone": f"+8190{c:08d}", "tags": ["VIP"] if c % 50 == 0 else [], "note": None,
                    "amount_spent": str(rng.randrange(1, 400) * 1100), "currency": "JPY",
                    "orders_count": None, "locale": "ja", "default_address": None,
                    "created_at": START, "updated_at": now, "synced_at": now,
                }
                for c in range(start, min(customers, start + BATCH))
            ],
        )  # fmt: skip
    bulk_insert(
        db,
        Location,
        [{"shop_id": shop_id, "shopify_id": lid, "name": name, "is_active": True, "address": None,
          "updated_at": now, "synced_at": now} for lid, name in LOCATIONS],
    )  # fmt: skip
    for p in range(PRODUCTS):
        product_id = db.execute(
            insert(table(Product))
            .values(shop_id=shop_id, shopify_id=30_000_000 + p, title=f"商品 {p}", tags=[], options=[],
                    updated_at=now, synced_at=now)
            .returning(table(Product).c.id)
        ).scalar_one()  # fmt: skip
        bulk_insert(
            db,
            ProductVariant,
            [
                {"shop_id": shop_id, "shopify_id": VARIANT_BASE + v, "product_id": product_id,
                 "title": f"サイズ {v % VARIANTS_PER_PRODUCT}", "sku": f"SKU-{v}",
                 "inventory_policy": "CONTINUE" if v % 7 == 0 else "DENY", "selected_options": [],
                 "inventory_item_shopify_id": 45_000_000 + v, "updated_at": now, "synced_at": now}
                for v in range(p * VARIANTS_PER_PRODUCT, (p + 1) * VARIANTS_PER_PRODUCT)
            ],
        )  # fmt: skip
    bulk_insert(
        db,
        InventoryLevel,
        [
            {"shop_id": shop_id, "inventory_item_shopify_id": 45_000_000 + v, "location_shopify_id": lid,
             "available": rng.randint(-2, 40), "on_hand": rng.randint(0, 40), "committed": 0,
             "incoming": rng.choice((0, 0, 10)), "reserved": 0, "updated_at": now, "synced_at": now}
            for v in range(PRODUCTS * VARIANTS_PER_PRODUCT)
            for lid, _ in LOCATIONS
        ],
    )  # fmt: skip
    for start in range(0, orders, BATCH):
        batch = list(order_rows(rng, shop_id, start, min(BATCH, orders - start), customers, orders, now))
        for order, _, _ in batch:
            order["id"] += first_order_row
        for _, items, fulfillment in batch:
            for item in items:
                item["order_id"] += first_order_row
            if fulfillment is not None:
                fulfillment["order_id"] += first_order_row
        bulk_insert(db, Order, [order for order, _, _ in batch])
        bulk_insert(db, OrderLineItem, [item for _, items, _ in batch for item in items])
        shipped = [f for _, _, f in batch if f is not None]
        if shipped:
            bulk_insert(db, Fulfillment, shipped)
    return first_order_row + orders


def fill_tickets(db: Any, rng: random.Random, shop_id: int, customers: int) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    first_contact = db.execute(text("SELECT COALESCE(MAX(id), 0) FROM contacts")).scalar_one() + 1
    owners = [int(customers * rng.random() ** 1.6) for _ in range(TICKETS)]
    bulk_insert(
        db,
        Contact,
        [{"shop_id": shop_id, "name": None, "email": f"c{owner}@example.jp", "phone": None,
          "created_at": now, "updated_at": now} for owner in owners],
    )  # fmt: skip
    bulk_insert(
        db,
        Ticket,
        [
            {"shop_id": shop_id, "contact_id": first_contact + n, "channel": "web_chat", "status": "resolved",
             "subject": f"お問い合わせ {n}", "tags": [], "link_candidates": [], "unlinked_by_agent": False,
             "customer_shopify_id": CUSTOMER_BASE + owner, "link_reason": "email", "message_count": 2,
             "created_at": now - timedelta(seconds=rng.randrange(SPAN_SECONDS)), "updated_at": now,
             "last_message_at": now}
            for n, owner in enumerate(owners)
        ],
    )  # fmt: skip


def fill(url: str, *, orders: int, customers: int, seed: int = 11) -> dict[str, int]:
    rng = random.Random(seed)
    engine = create_engine(sync_url(url))
    now = datetime(2026, 11, 20, tzinfo=UTC)
    shop_ids: dict[str, int] = {}
    with engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(text("SET synchronous_commit TO off"))
        for domain in (BUSY, QUIET):
            shop_ids[domain] = db.execute(
                insert(table(Shop))
                .values(domain=domain, status="installed", scopes="", installed_at=now, updated_at=now,
                        currency_code="JPY", iana_timezone="Asia/Tokyo", country_code="JP", primary_locale="ja")
                .returning(table(Shop).c.id)
            ).scalar_one()  # fmt: skip
        next_row = fill_shop(db, rng, shop_ids[BUSY], customers=customers, orders=orders, first_order_row=0)
        fill_shop(
            db, rng, shop_ids[QUIET], customers=max(1, customers // 10), orders=orders // 10,
            first_order_row=next_row,
        )  # fmt: skip
        fill_tickets(db, rng, shop_ids[BUSY], customers)
        if db.dialect.name == "postgresql":
            db.execute(
                text("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT MAX(id) FROM orders))")
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM ANALYZE" if db.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    return shop_ids


# Measuring the mirror -------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def settings_for(url: str, data_dir: Path) -> Settings:
    from cryptography.fernet import Fernet

    return Settings(
        data_dir=data_dir, database_url=url, app_url="http://bench.test", api_key="bench",
        api_secret=Secret("bench-secret-0123456789abcdef"), encryption_keys=(Secret(Fernet.generate_key().decode()),),
        session_secret=Secret("bench-session-secret-0123456789"), register_webhooks=False,
        app_config_path=ROOT / "shopify.app.toml", webhook_workers=1,
    )  # fmt: skip


def pick_customers(rng: random.Random, customers: int, count: int) -> list[int]:
    return [CUSTOMER_BASE + rng.randrange(customers) for _ in range(count)]


async def measure_service(url: str, busy_id: int, picks: list[int], whale: int) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        shop = await session.get(Shop, busy_id)
    assert shop is not None
    timings: list[float] = []
    shown = 0

    async def one(customer_id: int) -> float:
        nonlocal shown
        started = time.perf_counter()
        async with sessions() as session:
            profile = await build_profile(
                session, shop=shop, target=ProfileTarget(customer_shopify_id=customer_id), locale="ja"
            )
        elapsed = (time.perf_counter() - started) * 1000
        shown += len(profile.orders)
        return elapsed

    for customer_id in picks[:100]:  # warm the caches (and PostgreSQL's prepared statements)
        await one(customer_id)
    shown = 0
    for customer_id in picks:
        timings.append(await one(customer_id))
    whale_timings = [await one(whale) for _ in range(30)]
    await engine.dispose()
    return {
        "p50": statistics.median(timings),
        "p99": percentile(timings, 0.99),
        "max": max(timings),
        "orders_shown": shown / len(picks),
        "whale_p50": statistics.median(whale_timings),
    }


async def measure_api(url: str, data_dir: Path, busy_id: int, picks: list[int]) -> dict[str, Any]:
    from tests.conftest import with_lifespan_state

    settings = settings_for(url, data_dir)
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        services = (state or {})["services"]
        async with transaction(services.sessions) as session:
            shop = await session.get(Shop, busy_id)
            assert shop is not None
            _, key = await create_api_key(session, shop=shop, name="profile bench")
        transport = httpx.ASGITransport(app=with_lifespan_state(app, dict(state or {})))
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench.test", headers=headers
        ) as client:
            path = "/api/v1/customers/{}/profile"
            for customer_id in picks[:100]:
                (await client.get(path.format(customer_id), params={"locale": "ja"})).raise_for_status()
            timings = []
            for customer_id in picks:
                started = time.perf_counter()
                answer = await client.get(path.format(customer_id), params={"locale": "ja"})
                timings.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            size = len(answer.content)
    return {
        "p50": statistics.median(timings),
        "p99": percentile(timings, 0.99),
        "max": max(timings),
        "bytes": size,
    }


def existing_shops(url: str) -> dict[str, int]:
    engine = create_engine(sync_url(url))
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT domain, id FROM shops WHERE domain IN (:busy, :quiet)"),
            {"busy": BUSY, "quiet": QUIET},
        )
        found = {str(domain): int(shop_id) for domain, shop_id in rows}
    engine.dispose()
    if BUSY not in found:
        raise SystemExit("that database was not filled by this benchmark")
    return found


def heaviest_customer(url: str, shop_id: int) -> tuple[int, int]:
    engine = create_engine(sync_url(url))
    with engine.connect() as db:
        row = db.execute(
            text(
                "SELECT customer_shopify_id, COUNT(*) AS n FROM orders WHERE shop_id = :shop "
                "AND customer_shopify_id IS NOT NULL GROUP BY customer_shopify_id ORDER BY n DESC LIMIT 1"
            ),
            {"shop": shop_id},
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1])


# The simulated store --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_store(data_dir: Path, port: int, orders: int) -> subprocess.Popen[bytes]:
    log = (data_dir / "store.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable, "-m", "devstore.cli", "serve", "--data-dir", str(data_dir / "store"), "--port",
            str(port), "--shop", STORE_SHOP, "--app", f"{CLIENT_ID}:{SECRET}", "--auto-approve", "--orders",
            str(orders), "--customers", str(max(200, orders // 5)), "--products", "80",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


async def store_token(base: str) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        shop_url = f"{base}/s/{STORE_SHOP}"
        answer = await client.get(
            f"{shop_url}/admin/oauth/authorize",
            params={
                "client_id": CLIENT_ID,
                "scope": SCOPES,
                "redirect_uri": "http://127.0.0.1:9/cb",
                "state": "b",
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
        limits = {"shop": STORE_SHOP, "maximumAvailable": BUCKET, "restoreRate": RESTORE_RATE}
        (await client.post(f"{base}/_devstore/throttle", json=limits)).raise_for_status()
        return str(token.json()["access_token"])


class StoreClient:
    """Sends a query, and when THROTTLED waits for the points it lacks (as a careful peer would)."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url = client, url
        self.requests = 0
        self.throttled = 0
        self.cost = 0.0
        self.requested = 0.0
        self.answered_ms: list[float] = []  # each request's own time, from the send to the whole answer

    async def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        while True:
            self.requests += 1
            started = time.perf_counter()
            answer = await self.client.post(self.url, json={"query": document, "variables": variables})
            self.answered_ms.append((time.perf_counter() - started) * 1000)
            body = answer.json()
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                self.throttled += 1
                cost = body["extensions"]["cost"]
                lacking = cost["requestedQueryCost"] - cost["throttleStatus"]["currentlyAvailable"]
                await asyncio.sleep(max(lacking, 1) / cost["throttleStatus"]["restoreRate"])
                continue
            if errors:
                raise RuntimeError(f"GraphQL errors: {errors}")
            self.cost += float(body["extensions"]["cost"]["actualQueryCost"] or 0)
            self.requested += float(body["extensions"]["cost"]["requestedQueryCost"] or 0)
            return body["data"]  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class LiveFetch:
    """One profile read live: the store's own answer times, and how many round trips they took."""

    orders: int
    answered_ms: tuple[float, ...]

    def with_network_ms(self, rtt_ms: float) -> float:
        # the queries are sequential (the second needs the first's inventory item ids): a round trip each
        return sum(self.answered_ms) + rtt_ms * len(self.answered_ms)


async def live_profile(store: StoreClient, customer_gid: str) -> LiveFetch:
    first = len(store.answered_ms)
    data = await store.query(PROFILE_QUERY, {"id": customer_gid})
    items = sorted(
        {
            line["variant"]["inventoryItem"]["id"]
            for order in data["customer"]["orders"]["nodes"]
            for line in order["lineItems"]["nodes"]
            if line.get("variant") and line["variant"].get("inventoryItem")
        }
    )
    for start in range(0, len(items), STOCK_ITEMS_PER_QUERY):
        await store.query(STOCK_QUERY, {"ids": items[start : start + STOCK_ITEMS_PER_QUERY]})
    return LiveFetch(len(data["customer"]["orders"]["nodes"]), tuple(store.answered_ms[first:]))


async def measure_store(
    store_orders: int, samples: int, paced_profiles: int, seed: int, rtt_ms: float
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-profile-store-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_store(work, port, store_orders)
    try:
        deadline = time.monotonic() + 3600
        async with httpx.AsyncClient(timeout=1) as probe:
            while True:
                try:
                    (await probe.get(f"{base}/_devstore/health")).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(f"the store did not start; see {work / 'store.log'}") from None
                    await asyncio.sleep(0.3)
        token = await store_token(base)
        url = f"{base}/s/{STORE_SHOP}/admin/api/2026-07/graphql.json"
        async with httpx.AsyncClient(timeout=60, headers={"X-Shopify-Access-Token": token}) as http:
            store = StoreClient(http, url)
            with_orders: set[str] = set()
            after = None
            while len(with_orders) < 2000:
                page = await store.query(
                    "query($after: String) { orders(first: 250, after: $after) { pageInfo { hasNextPage endCursor } "
                    "nodes { customer { id } } } }",
                    {"after": after},
                )
                with_orders.update(n["customer"]["id"] for n in page["orders"]["nodes"] if n["customer"])
                if not page["orders"]["pageInfo"]["hasNextPage"]:
                    break
                after = page["orders"]["pageInfo"]["endCursor"]
            rng = random.Random(seed)
            candidates = sorted(with_orders)

            # the latency of one live profile with room in the bucket: the throttle is off, so each
            # sample is the store's own work (two or more queries, one after the other)
            (await http.post(f"{base}/_devstore/throttle", json={"enabled": False})).raise_for_status()
            for gid in rng.sample(candidates, min(10, len(candidates))):  # warm the store's caches
                await live_profile(store, gid)
            live = [await live_profile(store, rng.choice(candidates)) for _ in range(samples)]

            # back to back at Shopify's standard limits, as a busy team opens profiles: the bucket sets
            # the pace (a full bucket to start from)
            (await http.post(f"{base}/_devstore/throttle", json={"enabled": True})).raise_for_status()
            await asyncio.sleep(BUCKET / RESTORE_RATE)
            store.requests = store.throttled = 0
            store.cost = store.requested = 0.0
            paced: list[float] = []
            shown = 0
            run_started = time.perf_counter()
            for gid in [rng.choice(candidates) for _ in range(paced_profiles)]:
                started = time.perf_counter()
                fetched = await live_profile(store, gid)
                shown += fetched.orders
                # the waits for the bucket as measured, and a round trip per request sent
                paced.append((time.perf_counter() - started) * 1000 + rtt_ms * len(fetched.answered_ms))
            run_seconds = time.perf_counter() - run_started
    finally:
        process.terminate()
        process.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)  # kept (with the store's log) when the run failed
    store_only = [sum(fetch.answered_ms) for fetch in live]
    with_network = [fetch.with_network_ms(rtt_ms) for fetch in live]
    return {
        "samples": len(live),
        "queries_per_profile": statistics.mean(len(fetch.answered_ms) for fetch in live),
        "store_p50": statistics.median(store_only),
        "store_p99": percentile(store_only, 0.99),
        "live_p50": statistics.median(with_network),
        "live_p99": percentile(with_network, 0.99),
        "paced_p50": statistics.median(paced) if paced else math.nan,
        "paced_p99": percentile(paced, 0.99) if paced else math.nan,
        "per_second": len(paced) / run_seconds if paced else math.nan,
        "cost_per_profile": store.cost / max(1, len(paced)),
        "requested_per_profile": store.requested / max(1, len(paced)),
        "requests_per_profile": store.requests / max(1, len(paced)),
        "throttled": store.throttled,
        "orders_shown": shown / max(1, len(paced)),
        "profiles": len(paced),
    }


# Main -----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--profiles", type=int, default=1_000, help="random customers measured")
    parser.add_argument(
        "--postgres", help="an empty PostgreSQL database to fill (its tables are dropped first)"
    )
    parser.add_argument("--store-orders", type=int, default=20_000, help="simulated store's orders (0: skip)")
    parser.add_argument(
        "--live-samples", type=int, default=200, help="profiles fetched live for the latency (at least 200)"
    )
    parser.add_argument(
        "--shopify-rtt-ms",
        type=float,
        default=SHOPIFY_RTT_MS,
        help=f"network round trip added to each live request (default {SHOPIFY_RTT_MS:g}: see the docstring)",
    )
    parser.add_argument(
        "--store-profiles", type=int, default=100, help="profiles fetched back to back at the standard limits"
    )
    parser.add_argument("--sqlite", help="the SQLite file to fill (default: a temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure a database an earlier run filled (same sizes)"
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        database = "PostgreSQL" if args.postgres else "SQLite"
        url = args.postgres or f"sqlite+aiosqlite:///{args.sqlite or data_dir / 'bench.sqlite3'}"
        if args.reuse:
            shop_ids = existing_shops(url)
            print(f"database: {database}; reusing the filled database ({args.orders:,} orders assumed)")
        else:
            if args.postgres:
                engine = create_engine(sync_url(url))
                with engine.begin() as db:
                    db.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                engine.dispose()
            elif args.sqlite:
                for path in (Path(args.sqlite), Path(f"{args.sqlite}-wal"), Path(f"{args.sqlite}-shm")):
                    path.unlink(missing_ok=True)
            migrate(url)
            started = time.perf_counter()
            shop_ids = fill(url, orders=args.orders, customers=args.customers)
            filled = time.perf_counter() - started
            print(
                f"database: {database}; filled {args.orders:,} orders / {args.customers:,} customers "
                f"(+{args.orders // 10:,} / {args.customers // 10:,} in another shop, {TICKETS:,} tickets) "
                f"in {filled:.0f} s"
            )
        rng = random.Random(args.seed)
        picks = pick_customers(rng, args.customers, args.profiles)
        whale, whale_orders = heaviest_customer(url, shop_ids[BUSY])
        service = asyncio.run(measure_service(url, shop_ids[BUSY], picks, whale))
        api = asyncio.run(measure_api(url, data_dir, shop_ids[BUSY], picks))

    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(f"load average after measuring: {load} on {os.cpu_count()} CPUs (the machine is shared)")
    print(
        f"{'profile from the mirror':<44} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   ({args.profiles} random customers)"
    )
    print(
        f"{'build_profile (service)':<44} {service['p50']:8.2f} {service['p99']:8.2f} {service['max']:8.2f}"
        f"   {service['orders_shown']:.1f} orders shown on average"
    )
    print(
        f"{'GET /api/v1/customers/{id}/profile (ASGI)':<44} {api['p50']:8.2f} {api['p99']:8.2f} {api['max']:8.2f}"
        f"   API key auth, {api['bytes']:,} bytes last answer"
    )
    print(f"{'customer with the most orders (' + str(whale_orders) + '), service':<44} {service['whale_p50']:8.2f}"
          f"   (p50 of 30; 10 orders shown)")  # fmt: skip
    if not args.store_orders:
        return 0
    store = asyncio.run(
        measure_store(
            args.store_orders, args.live_samples, args.store_profiles, args.seed, args.shopify_rtt_ms
        )
    )
    rtt = args.shopify_rtt_ms
    print(
        f"\nlive from Shopify instead ({store['samples']} random customers with orders; the simulated store, "
        f"{args.store_orders:,} orders, its own process over HTTP, throttle off; "
        f"{store['queries_per_profile']:.1f} queries per profile, one after the other):"
    )
    print(f"{'':<44} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'the store answering (same machine)':<44} {store['store_p50']:8.1f} {store['store_p99']:8.1f}")
    print(
        f"{f'+ {rtt:g} ms round trip per query':<44} {store['live_p50']:8.1f} {store['live_p99']:8.1f}"
        "   (assumed Japan → Shopify round trip; --shopify-rtt-ms)"
    )
    print(
        f"\nratio, live fetch ÷ profile API from the mirror (GET /api/v1/customers/{{id}}/profile): "
        f"p50 {store['live_p50'] / api['p50']:.0f}×, p99 {store['live_p99'] / api['p99']:.0f}×"
        f"  (store alone, no network: p50 {store['store_p50'] / api['p50']:.1f}×, "
        f"p99 {store['store_p99'] / api['p99']:.1f}×)"
    )
    if store["profiles"]:
        print(
            f"\nat Shopify's standard limits (bucket {BUCKET}, {RESTORE_RATE} points/s), {store['profiles']} profiles "
            f"back to back: {store['requests_per_profile']:.1f} requests, {store['requested_per_profile']:.0f} "
            f"points requested and {store['cost_per_profile']:.0f} charged per profile ({store['orders_shown']:.1f} "
            f"orders shown on average), {store['throttled']} requests throttled; p50 {store['paced_p50']:.0f} ms, "
            f"p99 {store['paced_p99']:.0f} ms per profile (with the round trips), {store['per_second']:.2f} "
            f"profiles/s for the whole shop: at most {RESTORE_RATE / max(store['cost_per_profile'], 1):.1f} "
            "profiles/s once the bucket is empty, however many agents"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

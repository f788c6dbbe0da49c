"""Generate a whole store (shop, locations, products, customers, orders) deterministically, streaming the
orders to the record store in batches so a million of them fit in bounded memory."""

from __future__ import annotations

import random
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from devstore.generator.catalog import VariantRef, location_docs, product_docs, shop_doc
from devstore.generator.histories import MULTI_LINE_SCENARIOS, OLDER_WEIGHTS, RECENT_WEIGHTS, play
from devstore.generator.ids import IdAllocator, gid, minor_units
from devstore.generator.orders import Doc, OrderContext, Scenario, build_order
from devstore.generator.people import customer_doc, person
from devstore.generator.shops import profile_for

if TYPE_CHECKING:
    from devstore.records import RecordStore

FIRST_ORDER_NUMBER = 1001
RECENT_DAYS = 12
GUEST_SHARE = 0.12
LINE_COUNT_WEIGHTS = (55, 28, 12, 5)
PROGRESS_EVERY_ORDERS = 20_000

Progress = Callable[[str], None]


@dataclass
class ShopReport:
    shop: str
    orders: int = 0
    customers: int = 0
    products: int = 0
    variants: int = 0
    locations: int = 0
    scenarios: dict[str, int] = field(default_factory=dict)


@dataclass
class GenerationReport:
    seconds: float
    shops: list[ShopReport]

    @property
    def orders(self) -> int:
        return sum(s.orders for s in self.shops)


def generate_store(
    records: RecordStore,
    *,
    shops: Sequence[str],
    seed: int,
    orders: int,
    customers: int,
    products: int,
    now: datetime,
    progress: Progress | None = None,
) -> GenerationReport:
    started = time.perf_counter()
    reports = [
        _generate_shop(
            records,
            shop=shop,
            shop_index=index,
            seed=seed,
            orders=orders,
            customers=customers,
            products=products,
            now=now.replace(microsecond=0),
            progress=progress,
        )
        for index, shop in enumerate(shops)
    ]
    return GenerationReport(seconds=time.perf_counter() - started, shops=reports)


def _order_times(count: int, now: datetime) -> Callable[[int], datetime]:
    recent = min(count, max(3 * len(Scenario), count // 25))
    older = count - recent
    span_days = 30 + min(700, count // 20)
    older_start = now - timedelta(days=span_days)
    older_seconds = (span_days - RECENT_DAYS) * 86400
    recent_start = now - timedelta(days=RECENT_DAYS)
    recent_seconds = RECENT_DAYS * 86400 - 1800

    def created_at(index: int) -> datetime:
        if index < older:
            return older_start + timedelta(seconds=older_seconds * index / max(older, 1))
        return recent_start + timedelta(seconds=recent_seconds * (index - older) / recent)

    return created_at


def _generate_shop(
    records: RecordStore,
    *,
    shop: str,
    shop_index: int,
    seed: int,
    orders: int,
    customers: int,
    products: int,
    now: datetime,
    progress: Progress | None,
) -> ShopReport:
    profile = profile_for(shop, shop_index)
    rng = random.Random(seed * 7_919 + shop_index)
    ids = IdAllocator(shop_index)
    opened = now - timedelta(days=30 + min(700, orders // 20) + 30)
    report = ShopReport(shop=shop)

    records.put(shop, shop_doc(profile, ids, opened))
    locations = location_docs(profile, ids, opened)
    records.put_many(shop, locations)
    product_list, refs = product_docs(
        profile, ids, rng, count=max(products, 1), locations=locations, created_at=opened
    )
    records.put_many(shop, product_list)
    report.products, report.variants, report.locations = len(product_list), len(refs), len(locations)
    del product_list

    order_counts = array("I", bytes(4 * customers))
    spent = array("q", bytes(8 * customers))
    first_order = array("d", [0.0]) * customers
    last_order = array("d", [0.0]) * customers
    last_order_number = array("q", bytes(8 * customers))
    customer_base = ids.take("Customer")
    for _ in range(customers - 1):
        ids.take("Customer")
    ctx = OrderContext(profile=profile, rng=rng, ids=ids, locations=locations, now=now)
    created_at = _order_times(orders, now)
    recent_from = orders - min(orders, max(3 * len(Scenario), orders // 25))
    guaranteed_from = orders - min(orders, len(Scenario))
    all_scenarios = list(Scenario)
    recent_choices, recent_weights = list(RECENT_WEIGHTS), list(RECENT_WEIGHTS.values())
    older_choices, older_weights = list(OLDER_WEIGHTS), list(OLDER_WEIGHTS.values())

    def stream() -> Iterator[Doc]:
        for index in range(orders):
            if index >= guaranteed_from:
                scenario = all_scenarios[index - guaranteed_from]
            elif index >= recent_from:
                scenario = rng.choices(recent_choices, recent_weights)[0]
            else:
                scenario = rng.choices(older_choices, older_weights)[0]
            moment = created_at(index)
            if customers and rng.random() >= GUEST_SHARE:
                customer_index = int(customers * rng.random() ** 1.7)
                buyer = person(seed, shop_index, customer_index, japanese_shop=profile.japanese)
                customer_gid: str | None = gid("Customer", customer_base + customer_index)
            else:
                customer_index = -1
                buyer = person(seed, shop_index, customers + index, japanese_shop=profile.japanese)
                customer_gid = None
            lines = _pick_lines(rng, refs, multi=scenario in MULTI_LINE_SCENARIOS)
            order = build_order(
                ctx,
                number=FIRST_ORDER_NUMBER + index,
                created_at=moment,
                buyer=buyer,
                customer_gid=customer_gid,
                lines=lines,
            )
            play(ctx, order, scenario, moment)
            report.scenarios[scenario.value] = report.scenarios.get(scenario.value, 0) + 1
            if customer_index >= 0:
                stamp = moment.timestamp()
                if order_counts[customer_index] == 0:
                    first_order[customer_index] = stamp
                order_counts[customer_index] += 1
                last_order[customer_index] = stamp
                last_order_number[customer_index] = int(order["legacyResourceId"])
                if order["displayFinancialStatus"] in {"PAID", "PARTIALLY_REFUNDED"}:
                    spent[customer_index] += minor_units(
                        order["currentTotalPriceSet"]["shopMoney"]["amount"], profile.currency
                    )
            if progress is not None and (index + 1) % PROGRESS_EVERY_ORDERS == 0:
                progress(f"{shop}: {index + 1:,}/{orders:,} orders")
            yield order

    report.orders = records.put_many(shop, stream())

    def customer_stream() -> Iterator[Doc]:
        for index in range(customers):
            someone = person(seed, shop_index, index, japanese_shop=profile.japanese)
            count = order_counts[index]
            signed_up = datetime.fromtimestamp(
                (first_order[index] if count else now.timestamp()) - 86400 * (1 + index % 90), now.tzinfo
            )
            yield customer_doc(
                gid("Customer", customer_base + index),
                someone,
                currency=profile.currency,
                created_at=signed_up,
                updated_at=datetime.fromtimestamp(last_order[index], now.tzinfo) if count else signed_up,
                orders=count,
                spent_minor=spent[index],
                last_order=gid("Order", last_order_number[index]) if count else None,
            )

    report.customers = records.put_many(shop, customer_stream())
    if progress is not None:
        progress(
            f"{shop}: {report.orders:,} orders, {report.customers:,} customers, {report.products:,} products"
        )
    return report


def _pick_lines(
    rng: random.Random, refs: Sequence[VariantRef], *, multi: bool
) -> list[tuple[VariantRef, int]]:
    count = rng.choices((1, 2, 3, 4), LINE_COUNT_WEIGHTS)[0]
    if multi:
        count = max(count, 2)
    chosen: dict[str, tuple[VariantRef, int]] = {}
    for _ in range(count):
        ref = refs[rng.randrange(len(refs))]
        quantity = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        chosen.setdefault(ref.variant_id, (ref, quantity))
    if multi and len(chosen) < 2 and len(refs) > 1:
        extra = next(r for r in refs if r.variant_id not in chosen)
        chosen[extra.variant_id] = (extra, 1)
    return list(chosen.values())

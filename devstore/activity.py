"""Store activity: what happens in a shop over a day (orders placed, paid, fulfilled, carried, delivered,
refunded, cancelled; stock adjusted; customers updated), each change saved to the documents with a newer
``updatedAt`` and announced with the webhooks Shopify would send.

Every change is a method usable by tests and by the store admin page; ``run`` is the switchable clock.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

import anyio

from devstore import rest_payloads
from devstore.generator.catalog import VariantRef, variant_refs
from devstore.generator.ids import legacy_id, minor_units, money
from devstore.generator.orders import (
    NEXT_EVENT,
    Doc,
    OrderContext,
    add_event,
    build_order,
    cancel_order,
    close_if_done,
    create_fulfillment,
    create_refund,
    mark_paid,
    place_on_hold,
    release_hold,
)
from devstore.generator.people import Person, customer_doc, person
from devstore.generator.shops import profile_for
from devstore.generator.store_data import FIRST_ORDER_NUMBER
from devstore.records import SortKey
from devstore.state import StoreState, isoformat_z

logger = logging.getLogger(__name__)

RECENT_ORDERS_SCANNED = 300
STEP_WEIGHTS = {
    "create_order": 30,
    "fulfil": 18,
    "advance_shipment": 32,
    "refund": 4,
    "cancel": 3,
    "adjust_stock": 8,
    "update_customer": 3,
    "hold": 2,
}


class NothingToChange(Exception):
    """No document is in a state this change applies to."""


@dataclass
class Change:
    shop: str
    description: str
    subject: str | None = None
    topics: list[str] = field(default_factory=list)


class _RecordIds:
    def __init__(self, state: StoreState, shop: str) -> None:
        self._state = state
        self._shop = shop

    def take(self, type_name: str) -> int:
        return self._state.records.next_id(self._shop, type_name)


class StoreActivity:
    def __init__(self, state: StoreState, *, seed: int | None = None) -> None:
        self._state = state
        self._rng = random.Random(seed)
        self._lock = anyio.Lock()

    # helpers

    def _ctx(self, shop: str) -> OrderContext:
        index = self._state.known_shops().index(shop) if shop in self._state.known_shops() else 0
        return OrderContext(
            profile=profile_for(shop, index),
            rng=self._rng,
            ids=_RecordIds(self._state, shop),
            locations=list(self._state.records.iter_type(shop, "Location")),
            now=self._state.now(),
        )

    def _shop_doc(self, shop: str) -> Doc:
        doc = next(iter(self._state.records.iter_type(shop, "Shop")), None)
        if doc is None:
            raise NothingToChange(f"{shop} has no data; generate the store first")
        return doc

    async def _emit(self, change: Change, topic: str, payload: dict[str, Any]) -> None:
        change.topics.append(topic)
        await self._state.webhooks.emit(change.shop, topic, payload)

    def _resolve(self, shop: str) -> Any:
        return lambda gid_value: self._state.records.get(shop, gid_value)

    def _recent_orders(self, shop: str) -> list[Doc]:
        rows = self._state.records.page(
            shop, "Order", limit=RECENT_ORDERS_SCANNED, sort=SortKey.CREATED_AT, reverse=True
        )
        return [row.doc for row in rows]

    def _order(self, shop: str, order_gid: str | None, wanted: Any, what: str) -> Doc:
        if order_gid is not None:
            doc = self._state.records.get(shop, order_gid)
            if doc is None or not wanted(doc):
                raise NothingToChange(f"order {order_gid} cannot be {what}")
            return doc
        candidates = [doc for doc in self._recent_orders(shop) if wanted(doc)]
        if not candidates:
            raise NothingToChange(f"no recent order can be {what}")
        return self._rng.choice(candidates)

    async def _order_updated(self, change: Change, order: Doc) -> None:
        self._state.records.put(change.shop, order)
        await self._emit(
            change, "orders/updated", rest_payloads.order_payload(order, self._resolve(change.shop))
        )

    def _variant_refs(self, shop: str, currency: str) -> list[VariantRef]:
        refs: list[VariantRef] = []
        for product in self._state.records.iter_type(shop, "Product"):
            if product.get("status") != "ACTIVE":
                continue
            sellable = {v["id"] for v in product["variants"] if v.get("availableForSale")}
            refs.extend(ref for ref in variant_refs(product, currency) if ref.variant_id in sellable)
        return refs

    async def _move_stock(
        self, change: Change, *, inventory_item: str, location: str, deltas: dict[str, int]
    ) -> None:
        item = self._state.records.get(change.shop, inventory_item)
        if item is None:
            return
        product = self._state.records.get(change.shop, item["_owner"])
        if product is None:
            return
        stamp = isoformat_z(self._state.now())
        for variant in product["variants"]:
            inventory = variant["inventoryItem"]
            if inventory["id"] != inventory_item:
                continue
            level = next((lv for lv in inventory["inventoryLevels"] if lv["location"] == location), None)
            if level is None:
                level = inventory["inventoryLevels"][0]
            for quantity in level["quantities"]:
                if quantity["name"] in deltas:
                    quantity["quantity"] += deltas[quantity["name"]]
                    quantity["updatedAt"] = stamp
            level["updatedAt"] = inventory["updatedAt"] = stamp
            available = sum(
                q["quantity"]
                for lv in inventory["inventoryLevels"]
                for q in lv["quantities"]
                if q["name"] == "available"
            )
            variant["inventoryQuantity"] = available
            variant["availableForSale"] = available > 0 or variant["inventoryPolicy"] == "CONTINUE"
            product["totalInventory"] = sum(v["inventoryQuantity"] for v in product["variants"])
            product["hasOutOfStockVariants"] = any(v["inventoryQuantity"] <= 0 for v in product["variants"])
            if "available" in deltas:  # the product's own stock figure moved: it is updated, and says so
                variant["updatedAt"] = product["updatedAt"] = stamp
            self._state.records.put(change.shop, product)
            if "available" in deltas:
                await self._emit(
                    change, "inventory_levels/update", rest_payloads.inventory_level_payload(inventory, level)
                )
                await self._emit(change, "products/update", rest_payloads.product_payload(product))
            return

    # changes

    async def create_order(self, shop: str, *, paid: bool | None = None) -> Change:
        async with self._lock:
            return await self._create_order(shop, paid=self._rng.random() < 0.9 if paid is None else paid)

    async def _create_order(self, shop: str, *, paid: bool) -> Change:
        ctx = self._ctx(shop)
        refs = self._variant_refs(shop, ctx.currency)
        if not refs or not ctx.locations:
            raise NothingToChange(f"{shop} has nothing to sell")
        records = self._state.records
        latest = records.page(shop, "Order", limit=1, sort=SortKey.ID, reverse=True)
        number = int(latest[0].doc["name"].lstrip("#")) + 1 if latest else FIRST_ORDER_NUMBER
        customer: Doc | None = None
        customers = records.count(shop, "Customer")
        roll = self._rng.random()
        if customers and roll < 0.75:
            pick = self._rng.randrange(min(customers, 200))
            rows = records.page(shop, "Customer", limit=pick + 1, sort=SortKey.UPDATED_AT, reverse=True)
            customer = rows[-1].doc if rows else None
        if customer is not None:
            buyer = _person_of(customer)
        else:
            buyer = person(
                self._rng.randrange(10**6), 99, self._rng.randrange(10**6), japanese_shop=ctx.profile.japanese
            )
        new_customer = customer is None and roll < 0.85
        if new_customer:
            customer = customer_doc(
                ctx.new_gid("Customer"),
                buyer,
                currency=ctx.currency,
                created_at=ctx.now,
                updated_at=ctx.now,
                orders=0,
                spent_minor=0,
                last_order=None,
            )
        count = self._rng.choice((1, 1, 1, 2, 2, 3))
        lines = {
            ref.variant_id: (ref, 1 if self._rng.random() < 0.85 else 2)
            for ref in (self._rng.choice(refs) for _ in range(count))
        }
        order = build_order(
            ctx,
            number=number,
            created_at=ctx.now,
            buyer=buyer,
            customer_gid=customer["id"] if customer else None,
            lines=list(lines.values()),
        )
        if paid:
            mark_paid(ctx, order, ctx.now)
        change = Change(shop, f"Order {order['name']} placed", subject=order["id"])
        records.put(shop, order)
        if customer is not None:
            customer["numberOfOrders"] = str(int(customer["numberOfOrders"]) + 1)
            if paid:
                spent = minor_units(customer["amountSpent"]["amount"], ctx.currency) + minor_units(
                    order["totalPriceSet"]["shopMoney"]["amount"], ctx.currency
                )
                customer["amountSpent"] = money(spent, ctx.currency)
            customer["lastOrder"] = order["id"]
            customer["state"] = "ENABLED"
            customer["updatedAt"] = order["createdAt"]
            records.put(shop, {k: v for k, v in customer.items() if k not in {"_owner", "_parent"}})
            topic = "customers/create" if new_customer else "customers/update"
            await self._emit(change, topic, rest_payloads.customer_payload(customer))
        payload = rest_payloads.order_payload(order, self._resolve(shop))
        await self._emit(change, "orders/create", payload)
        if paid:
            await self._emit(change, "orders/paid", payload)
        for fulfillment_order in order["fulfillmentOrders"]:
            await self._emit(
                change,
                "fulfillment_orders/order_routing_complete",
                rest_payloads.fulfillment_order_status_payload(fulfillment_order),
            )
        location = order["fulfillmentOrders"][0]["assignedLocation"]["location"]
        for item in order["lineItems"]:
            await self._move_stock(
                change,
                inventory_item=item["_inventoryItem"],
                location=location,
                deltas={"available": -item["quantity"], "committed": item["quantity"]},
            )
        return change

    async def mark_paid(self, shop: str, order_gid: str | None = None) -> Change:
        async with self._lock:
            order = self._order(shop, order_gid, _payable, "paid")
            ctx = self._ctx(shop)
            mark_paid(ctx, order, ctx.now)
            change = Change(shop, f"Order {order['name']} paid", subject=order["id"])
            self._state.records.put(shop, order)
            await self._emit(change, "orders/paid", rest_payloads.order_payload(order, self._resolve(shop)))
            await self._order_updated(change, order)
            return change

    async def hold(self, shop: str, order_gid: str | None = None) -> Change:
        async with self._lock:
            order = self._order(shop, order_gid, _fulfillable, "held")
            ctx = self._ctx(shop)
            place_on_hold(ctx, order, ctx.now)
            change = Change(shop, f"Order {order['name']} put on hold", subject=order["id"])
            fulfillment_order = order["fulfillmentOrders"][0]
            held: dict[str, Any] = {
                "fulfillment_order": {
                    "id": fulfillment_order["id"],
                    "status": "on_hold",
                    "fulfillment_holds": [
                        {"reason": h["reason"].lower(), "reason_notes": h.get("reasonNotes")}
                        for h in fulfillment_order["fulfillmentHolds"]
                    ],
                },
                "remaining_fulfillment_order": None,
                "held_fulfillment_order_line_items": [],
            }
            self._state.records.put(shop, order)
            await self._emit(change, "fulfillment_orders/placed_on_hold", held)
            await self._order_updated(change, order)
            return change

    async def fulfil(self, shop: str, order_gid: str | None = None, *, partial: bool | None = None) -> Change:
        async with self._lock:
            order = self._order(shop, order_gid, _shippable, "fulfilled")
            ctx = self._ctx(shop)
            released: list[dict[str, Any]] = []
            if order["displayFulfillmentStatus"] == "ON_HOLD":
                held = [fo for fo in order["fulfillmentOrders"] if fo["status"] == "ON_HOLD"]
                release_hold(ctx, order, ctx.now)
                released = [rest_payloads.fulfillment_order_status_payload(fo) for fo in held]
            remaining = {
                line["lineItem"]: line["remainingQuantity"]
                for fo in order["fulfillmentOrders"]
                for line in fo["lineItems"]
                if line["remainingQuantity"] > 0
            }
            split = partial if partial is not None else len(remaining) > 1 and self._rng.random() < 0.3
            if split and len(remaining) > 1:
                first = next(iter(remaining))
                remaining = {first: remaining[first]}
            fulfillment = create_fulfillment(ctx, order, ctx.now, quantities=remaining)
            add_event(ctx, order, fulfillment, "LABEL_PURCHASED", ctx.now)
            change = Change(
                shop, f"Order {order['name']} fulfilled ({fulfillment['name']})", subject=order["id"]
            )
            self._state.records.put(shop, order)
            for body in released:
                await self._emit(change, "fulfillment_orders/hold_released", body)
            await self._emit(
                change, "fulfillments/create", rest_payloads.fulfillment_payload(order, fulfillment)
            )
            payload = rest_payloads.order_payload(order, self._resolve(shop))
            if order["displayFulfillmentStatus"] == "FULFILLED":
                await self._emit(change, "orders/fulfilled", payload)
            else:
                await self._emit(change, "orders/partially_fulfilled", payload)
            await self._emit(change, "orders/updated", payload)
            location = fulfillment["location"]
            items = {item["id"]: item for item in order["lineItems"]}
            for line in fulfillment["fulfillmentLineItems"]:
                await self._move_stock(
                    change,
                    inventory_item=items[line["lineItem"]]["_inventoryItem"],
                    location=location,
                    deltas={"committed": -line["quantity"], "on_hand": -line["quantity"]},
                )
            return change

    async def advance_shipment(
        self, shop: str, order_gid: str | None = None, *, status: str | None = None
    ) -> Change:
        """Move one shipment a step along its carrier's route (or to ``status``)."""
        async with self._lock:
            order = self._order(shop, order_gid, _in_flight, "advanced")
            ctx = self._ctx(shop)
            fulfillment = self._rng.choice(
                [f for f in order["fulfillments"] if f["displayStatus"] in NEXT_EVENT]
            )
            next_status = status or self._rng.choice(NEXT_EVENT[fulfillment["displayStatus"]])
            event = add_event(ctx, order, fulfillment, next_status, ctx.now)
            close_if_done(ctx, order, ctx.now)
            change = Change(
                shop, f"Shipment {fulfillment['name']} of {order['name']}: {next_status}", subject=order["id"]
            )
            self._state.records.put(shop, order)
            shop_id = legacy_id(self._shop_doc(shop)["id"])
            await self._emit(
                change,
                "fulfillment_events/create",
                rest_payloads.fulfillment_event_payload(order, fulfillment, event, shop_id=shop_id),
            )
            await self._emit(
                change, "fulfillments/update", rest_payloads.fulfillment_payload(order, fulfillment)
            )
            await self._emit(
                change, "orders/updated", rest_payloads.order_payload(order, self._resolve(shop))
            )
            return change

    async def refund(self, shop: str, order_gid: str | None = None, *, full: bool | None = None) -> Change:
        async with self._lock:
            order = self._order(shop, order_gid, _refundable, "refunded")
            ctx = self._ctx(shop)
            items = [i for i in order["lineItems"] if i["refundableQuantity"] > 0]
            whole = full if full is not None else self._rng.random() < 0.4
            quantities = {i["id"]: i["refundableQuantity"] for i in items} if whole else {items[-1]["id"]: 1}
            restock = self._rng.random() < 0.5
            refund = create_refund(ctx, order, ctx.now, quantities=quantities, restock=restock)
            change = Change(
                shop, f"Order {order['name']} refunded ({order['displayFinancialStatus']})", order["id"]
            )
            self._state.records.put(shop, order)
            await self._emit(change, "refunds/create", rest_payloads.refund_payload(order, refund))
            await self._emit(
                change, "orders/updated", rest_payloads.order_payload(order, self._resolve(shop))
            )
            if restock:
                await self._restock(change, order, refund)
            return change

    async def _restock(self, change: Change, order: Doc, refund: Doc) -> None:
        items = {item["id"]: item for item in order["lineItems"]}
        for line in refund["refundLineItems"]:
            if line.get("restocked") and line.get("location"):
                await self._move_stock(
                    change,
                    inventory_item=items[line["lineItem"]]["_inventoryItem"],
                    location=line["location"],
                    deltas={"available": line["quantity"], "on_hand": line["quantity"]},
                )

    async def cancel(self, shop: str, order_gid: str | None = None) -> Change:
        async with self._lock:
            order = self._order(shop, order_gid, _cancellable, "cancelled")
            ctx = self._ctx(shop)
            refund = cancel_order(ctx, order, ctx.now, reason="CUSTOMER")
            change = Change(shop, f"Order {order['name']} cancelled", subject=order["id"])
            self._state.records.put(shop, order)
            payload = rest_payloads.order_payload(order, self._resolve(shop))
            await self._emit(change, "orders/cancelled", payload)
            if refund is not None:
                await self._emit(change, "refunds/create", rest_payloads.refund_payload(order, refund))
            await self._emit(change, "orders/updated", payload)
            return change

    async def adjust_stock(
        self, shop: str, variant_gid: str | None = None, *, delta: int | None = None
    ) -> Change:
        async with self._lock:
            if variant_gid is not None:
                variant = self._state.records.get(shop, variant_gid)
                if variant is None:
                    raise NothingToChange(f"no variant {variant_gid}")
            else:
                products = list(self._state.records.iter_type(shop, "Product"))
                if not products:
                    raise NothingToChange(f"{shop} has no products")
                variant = self._rng.choice(self._rng.choice(products)["variants"])
            amount = delta if delta is not None else self._rng.choice((-3, -1, 5, 10, 24))
            level = self._rng.choice(variant["inventoryItem"]["inventoryLevels"])
            change = Change(shop, f"Stock of {variant['sku']} adjusted by {amount:+d}", subject=variant["id"])
            await self._move_stock(
                change,
                inventory_item=variant["inventoryItem"]["id"],
                location=level["location"],
                deltas={"available": amount, "on_hand": amount},
            )
            return change

    async def update_customer(self, shop: str, customer_gid: str | None = None) -> Change:
        async with self._lock:
            records = self._state.records
            customer = records.get(shop, customer_gid) if customer_gid else None
            if customer is None:
                rows = records.page(shop, "Customer", limit=50, sort=SortKey.UPDATED_AT, reverse=True)
                if not rows:
                    raise NothingToChange(f"{shop} has no customers")
                customer = self._rng.choice(rows).doc
            tags = list(customer.get("tags") or [])
            tag = self._rng.choice(("VIP", "newsletter", "要注意", "wholesale"))
            customer["tags"] = [t for t in tags if t != tag] if tag in tags else [*tags, tag]
            customer["updatedAt"] = isoformat_z(self._state.now())
            records.put(shop, customer)
            change = Change(shop, f"Customer {customer['displayName']} updated", subject=customer["id"])
            await self._emit(change, "customers/update", rest_payloads.customer_payload(customer))
            return change

    async def update_shop(
        self,
        shop: str,
        *,
        name: str | None = None,
        timezone: str | None = None,
        currency: str | None = None,
        country_code: str | None = None,
        country: str | None = None,
        locale: str | None = None,
    ) -> Change:
        """The merchant edits the store's settings (what is given changes): ``shop/update``."""
        async with self._lock:
            doc = self._shop_doc(shop)
            if name is not None:
                doc["name"] = name
            if timezone is not None:
                doc["ianaTimezone"] = timezone
            if currency is not None:
                doc["currencyCode"] = currency
                doc["enabledPresentmentCurrencies"] = [currency]
            if country_code is not None:
                address = dict(doc.get("shopAddress") or doc.get("billingAddress") or {})
                address.update(countryCodeV2=country_code, country=country or country_code)
                doc["shopAddress"] = address
            if locale is not None:
                held = [e for e in doc.get("_locales") or () if e.get("locale") != locale]
                doc["_locale"] = locale
                doc["_locales"] = [
                    {"locale": locale, "primary": True, "published": True},
                    *({**entry, "primary": False} for entry in held),
                ]
            doc["updatedAt"] = isoformat_z(self._state.now())
            self._state.records.put(shop, doc)
            change = Change(shop, "Store settings updated", subject=doc["id"])
            await self._emit(change, "shop/update", rest_payloads.shop_payload(doc))
            return change

    async def uninstall_app(self, shop: str, client_id: str) -> Change:
        async with self._lock:
            change = Change(shop, f"App {client_id} uninstalled", subject=client_id)
            if not self._state.tokens.uninstall(shop=shop, client_id=client_id):
                raise NothingToChange(f"app {client_id} is not installed on {shop}")
            payload = rest_payloads.shop_payload(self._shop_doc(shop))
            change.topics.append("app/uninstalled")
            await self._state.webhooks.emit(shop, "app/uninstalled", payload, client_id=client_id)
            # Subscriptions made through the Admin API belong to the installation and go with it.
            for subscription in list(self._state.records.iter_type(shop, "WebhookSubscription")):
                if subscription.get("_clientId") == client_id:
                    self._state.records.delete(shop, subscription["id"])
            return change

    async def send_compliance(
        self, shop: str, topic: str, *, customer_gid: str | None = None, client_id: str | None = None
    ) -> Change:
        async with self._lock:
            shop_doc = self._shop_doc(shop)
            change = Change(shop, f"Compliance request {topic} sent")
            if topic == "shop/redact":
                payload = rest_payloads.shop_redact_payload(shop_doc)
            elif topic in {"customers/data_request", "customers/redact"}:
                customer = self._state.records.get(shop, customer_gid) if customer_gid else None
                if customer is None:
                    rows = self._state.records.page(
                        shop, "Customer", limit=20, sort=SortKey.UPDATED_AT, reverse=True
                    )
                    if not rows:
                        raise NothingToChange(f"{shop} has no customers")
                    customer = rows[0].doc
                order_ids = [
                    legacy_id(row["id"])
                    for row in self._recent_orders(shop)
                    if row.get("customer") == customer["id"]
                ]
                change.subject = customer["id"]
                if topic == "customers/data_request":
                    payload = rest_payloads.customers_data_request_payload(
                        shop_doc, customer, order_ids, self._rng.randrange(10**6, 10**7)
                    )
                else:
                    payload = rest_payloads.customers_redact_payload(shop_doc, customer, order_ids)
            else:
                raise ValueError(f"not a compliance topic: {topic}")
            change.topics.append(topic)
            await self._state.webhooks.emit(shop, topic, payload, client_id=client_id)
            return change

    # the clock

    async def step(self, shop: str) -> Change | None:
        """One random change, as the clock makes them; None when nothing applied."""
        name = self._rng.choices(list(STEP_WEIGHTS), list(STEP_WEIGHTS.values()))[0]
        try:
            change: Change = await getattr(self, name)(shop)
        except NothingToChange:
            return None
        logger.info("store activity shop=%s change=%s", shop, name)
        return change

    async def run(self, interval_seconds: float) -> None:
        """Make changes to every shop until cancelled."""
        while True:
            for shop in self._state.known_shops():
                await self.step(shop)
            await anyio.sleep(interval_seconds)


def _person_of(customer: Doc) -> Person:
    address = customer.get("defaultAddress") or {}
    email = (customer.get("defaultEmailAddress") or {}).get("emailAddress")
    phone = (customer.get("defaultPhoneNumber") or {}).get("phoneNumber")
    return Person(
        first_name=customer.get("firstName") or "",
        last_name=customer.get("lastName") or "",
        email=email,
        phone_e164=phone,
        address_phone=address.get("phone"),
        address={k: v for k, v in address.items() if k != "id"},
        locale=customer.get("locale") or "en",
        japanese=customer.get("locale") == "ja",
    )


def _open(order: Doc) -> bool:
    return order.get("cancelledAt") is None


def _payable(order: Doc) -> bool:
    return _open(order) and order["displayFinancialStatus"] in {"PENDING", "AUTHORIZED"}


def _fulfillable(order: Doc) -> bool:
    return (
        _open(order)
        and order["displayFinancialStatus"] == "PAID"
        and order["displayFulfillmentStatus"] in {"UNFULFILLED", "PARTIALLY_FULFILLED"}
    )


def _shippable(order: Doc) -> bool:
    return (
        _open(order)
        and order["displayFinancialStatus"] in {"PAID", "PARTIALLY_REFUNDED"}
        and any(
            line["remainingQuantity"] > 0 for fo in order["fulfillmentOrders"] for line in fo["lineItems"]
        )
    )


def _in_flight(order: Doc) -> bool:
    return _open(order) and any(f["displayStatus"] in NEXT_EVENT for f in order["fulfillments"])


def _refundable(order: Doc) -> bool:
    return (
        _open(order)
        and order["displayFinancialStatus"] in {"PAID", "PARTIALLY_REFUNDED"}
        and any(item["refundableQuantity"] > 0 for item in order["lineItems"])
    )


def _cancellable(order: Doc) -> bool:
    return _open(order) and not order["fulfillments"] and order["displayFinancialStatus"] != "REFUNDED"

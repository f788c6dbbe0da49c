from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstore.config import DEFAULT_SHOPS
from devstore.generator import generate_store
from devstore.generator.orders import Scenario
from devstore.records import RecordStore
from tests.devstore.store.conftest import HINODE, NORTHWIND

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SCHEMA = (
    Path(__file__).resolve().parents[4]
    / "shared/shopify-reference/admin-graphql-schema/admin-2026-07.graphql"
)


def _generate(path: Path, seed: int = 3, orders: int = 120) -> RecordStore:
    records = RecordStore(path)
    generate_store(records, shops=DEFAULT_SHOPS, seed=seed, orders=orders, customers=30, products=10, now=NOW)
    return records


def _dump(records: RecordStore) -> list[str]:
    return [
        json.dumps(doc, sort_keys=True, ensure_ascii=False)
        for shop in DEFAULT_SHOPS
        for type_name in ("Shop", "Location", "Product", "Customer", "Order")
        for doc in records.iter_type(shop, type_name)
    ]


def test_same_seed_gives_the_same_documents(tmp_path: Path) -> None:
    first, second, other = (
        _generate(tmp_path / f"{n}.db", seed=s) for n, s in (("a", 3), ("b", 3), ("c", 4))
    )
    try:
        assert _dump(first) == _dump(second)
        assert _dump(first) != _dump(other)
    finally:
        for records in (first, second, other):
            records.close()


def _orders(records: RecordStore, shop: str) -> list[dict[str, Any]]:
    return list(records.iter_type(shop, "Order"))


def test_every_order_state_is_present_in_each_shop(tmp_path: Path) -> None:
    records = _generate(tmp_path / "store.db")
    try:
        for shop in DEFAULT_SHOPS:
            orders = _orders(records, shop)
            financial = {o["displayFinancialStatus"] for o in orders}
            fulfillment = {o["displayFulfillmentStatus"] for o in orders}
            shipments = {f["displayStatus"] for o in orders for f in o["fulfillments"]}
            assert {"PENDING", "PAID", "PARTIALLY_REFUNDED", "REFUNDED"} <= financial
            assert {"UNFULFILLED", "ON_HOLD", "PARTIALLY_FULFILLED", "FULFILLED"} <= fulfillment
            assert any(o["cancelledAt"] for o in orders)
            assert {
                "LABEL_PURCHASED",
                "IN_TRANSIT",
                "OUT_FOR_DELIVERY",
                "ATTEMPTED_DELIVERY",
                "DELAYED",
                "DELIVERED",
            } <= shipments
            assert any(o["customer"] is None for o in orders), "guest orders"
            assert any(len(o["fulfillments"]) >= 2 for o in orders), "several shipments per order"
            assert any(len(f["trackingInfo"]) >= 2 for o in orders for f in o["fulfillments"])
            assert len(orders) == 120
    finally:
        records.close()


def test_japanese_shop_looks_japanese(tmp_path: Path) -> None:
    records = _generate(tmp_path / "store.db", orders=300)
    try:
        orders = _orders(records, HINODE)
        companies = {t["company"] for o in orders for f in o["fulfillments"] for t in f["trackingInfo"]}
        assert companies & {"ヤマト運輸", "Yamato Transport", "Yamato (JA)"}
        assert companies & {"佐川急便", "Sagawa Express", "Sagawa (JA)"}
        assert companies & {"日本郵便", "Japan Post", "Japan Post (JA)"}
        tracking = [t for o in orders for f in o["fulfillments"] for t in f["trackingInfo"]]
        assert any(t["url"] is None for t in tracking) and any(t["url"] for t in tracking)
        assert any("," in (t["number"] or "") for t in tracking), "comma-joined tracking numbers"
        keys = {a["key"] for o in orders for a in o["customAttributes"]}
        assert {"配送希望日", "配送時間帯"} <= keys
        assert all(o["currencyCode"] == "JPY" for o in orders)
        zips = {o["shippingAddress"]["zip"] for o in orders}
        assert any(re.fullmatch(r"\d{3}-\d{4}", z) for z in zips)
        phones = {o["shippingAddress"]["phone"] for o in orders if o["shippingAddress"]["phone"]}
        assert any(re.fullmatch(r"0[789]0-\d{4}-\d{4}", p) for p in phones)
        products = list(records.iter_type(HINODE, "Product"))
        options = {v["value"] for p in products for v0 in p["variants"] for v in v0["selectedOptions"]}
        assert {"S", "M", "L", "XL"} <= options
        assert any(o.endswith("cm") for o in options)
        assert any(v["inventoryPolicy"] == "CONTINUE" for p in products for v in p["variants"])
        assert any(v["inventoryQuantity"] <= 0 for p in products for v in p["variants"])
        names = {
            q["name"]
            for p in products
            for v in p["variants"]
            for lv in v["inventoryItem"]["inventoryLevels"]
            for q in lv["quantities"]
        }
        assert {"available", "on_hand", "committed", "incoming"} <= names
        assert records.count(HINODE, "Location") >= 2
    finally:
        records.close()


def test_english_shop_uses_us_carriers_with_urls(tmp_path: Path) -> None:
    records = _generate(tmp_path / "store.db")
    try:
        tracking = [
            t for o in _orders(records, NORTHWIND) for f in o["fulfillments"] for t in f["trackingInfo"]
        ]
        assert {t["company"] for t in tracking} <= {"UPS", "USPS", "FedEx"}
        assert all(t["url"] and t["url"].startswith("https://") for t in tracking)
        customers = list(records.iter_type(NORTHWIND, "Customer"))
        assert any((c["defaultPhoneNumber"] or {}).get("phoneNumber", "").startswith("+1") for c in customers)
    finally:
        records.close()


def test_documents_use_field_names_of_the_2026_07_schema(tmp_path: Path) -> None:
    sdl = SCHEMA.read_text()

    def fields_of(type_name: str) -> set[str]:
        body = re.search(rf"^type {type_name} [^{{]*\{{(.*?)^\}}", sdl, re.S | re.M)
        assert body is not None
        text = re.sub(r'""".*?"""', "", body.group(1), flags=re.S)
        return set(re.findall(r"^  ([a-zA-Z0-9_]+)", text, re.M))

    records = _generate(tmp_path / "store.db", orders=40)
    try:
        order = next(o for o in _orders(records, HINODE) if o["fulfillments"] and o["refunds"])
        checks = [
            ("Order", order),
            ("LineItem", order["lineItems"][0]),
            ("Fulfillment", order["fulfillments"][0]),
            ("FulfillmentEvent", order["fulfillments"][0]["events"][0]),
            ("FulfillmentOrder", order["fulfillmentOrders"][0]),
            ("Refund", order["refunds"][0]),
            ("Customer", next(records.iter_type(HINODE, "Customer"))),
            ("Product", next(records.iter_type(HINODE, "Product"))),
            ("Location", next(records.iter_type(HINODE, "Location"))),
        ]
        for type_name, doc in checks:
            unknown = {k for k in doc if not k.startswith("_")} - fields_of(type_name)
            assert not unknown, f"{type_name}: {unknown}"
    finally:
        records.close()


def test_scenarios_cover_the_catalogue() -> None:
    assert len(Scenario) == 15

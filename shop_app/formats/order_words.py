"""Plain words for Shopify's status codes, in English and Japanese, as an agent would say them to a
customer.

Codes are the 2026-07 Admin GraphQL enum spellings the mirror stores (REST webhook values are upper-cased
to the same spelling on the way in): ``OrderDisplayFinancialStatus``, ``OrderDisplayFulfillmentStatus``,
``FulfillmentDisplayStatus`` and ``FulfillmentEventStatus`` (shipments and their events share one table),
``FulfillmentStatus`` for shipments without a display status, and ``OrderCancelReason``. Stock levels are the
app's own codes (``StockLevel``). A code not listed here (a newer API version, a typo in a webhook) reads as
the code itself made readable, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shop_app.formats.display import UiLocale, ui_locale

UNKNOWN_CODE = "UNKNOWN"
LOW_STOCK_UNITS = 5  # this many available or fewer reads as "low stock"


class WordKind(StrEnum):
    FINANCIAL = "financial"
    FULFILLMENT = "fulfillment"
    SHIPMENT = "shipment"
    STOCK = "stock"
    CANCEL_REASON = "cancel_reason"


class StockLevel(StrEnum):
    IN_STOCK = "IN_STOCK"
    LOW_STOCK = "LOW_STOCK"
    SOLD_OUT = "SOLD_OUT"
    BACKORDER = "BACKORDER"  # none left, but the variant keeps selling (inventory policy CONTINUE)
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class PlainWord:
    code: str
    text: str


# code → (English, Japanese)
_FINANCIAL = {
    "PAID": ("Paid", "支払い済み"),
    "PENDING": ("Payment pending", "支払い待ち"),
    "AUTHORIZED": ("Payment authorized, not yet captured", "決済承認済み（売上未確定）"),
    "PARTIALLY_PAID": ("Partially paid", "一部支払い済み"),
    "REFUNDED": ("Refunded", "返金済み"),
    "PARTIALLY_REFUNDED": ("Partially refunded", "一部返金済み"),
    "VOIDED": ("Payment cancelled", "決済取り消し済み"),
    "EXPIRED": ("Payment authorization expired", "決済の有効期限切れ"),
}

_FULFILLMENT = {
    "UNFULFILLED": ("Not shipped yet", "未発送"),
    "FULFILLED": ("Shipped", "発送済み"),
    "PARTIALLY_FULFILLED": ("Partly shipped", "一部発送済み"),
    "IN_PROGRESS": ("Being prepared for shipping", "発送準備中"),
    "ON_HOLD": ("On hold", "発送保留中"),
    "SCHEDULED": ("Shipping scheduled", "発送予定"),
    "RESTOCKED": ("Returned to stock", "在庫に戻し済み"),
    "PENDING_FULFILLMENT": ("Waiting for the warehouse to accept", "倉庫の受付待ち"),
    "OPEN": ("Not shipped yet", "未発送"),
    "REQUEST_DECLINED": ("Warehouse declined the request", "倉庫が出荷依頼を断りました"),
}

_SHIPMENT = {
    # FulfillmentDisplayStatus and FulfillmentEventStatus
    "LABEL_PURCHASED": ("Shipping label created", "送り状発行済み"),
    "LABEL_PRINTED": ("Shipping label printed", "送り状印刷済み"),
    "LABEL_VOIDED": ("Shipping label voided", "送り状取り消し"),
    "SUBMITTED": ("Sent to the carrier", "配送業者に依頼済み"),
    "CONFIRMED": ("Accepted by the carrier", "配送業者が受付済み"),
    "CARRIER_PICKED_UP": ("Picked up by the carrier", "配送業者が集荷済み"),
    "IN_TRANSIT": ("On the way", "輸送中"),
    "OUT_FOR_DELIVERY": ("Out for delivery", "配達中"),
    "ATTEMPTED_DELIVERY": ("Delivery attempted, nobody home", "不在のため持ち戻り"),
    "DELAYED": ("Delayed", "配送遅延"),
    "READY_FOR_PICKUP": ("Ready for pickup", "受け取り可能"),
    "PICKED_UP": ("Picked up by the customer", "受け取り済み"),
    "DELIVERED": ("Delivered", "配達完了"),
    "NOT_DELIVERED": ("Not delivered", "未配達"),
    "FAILURE": ("Delivery failed", "配達できませんでした"),
    "FULFILLED": ("Shipped", "発送済み"),
    "MARKED_AS_FULFILLED": ("Marked as shipped", "発送済みに設定"),
    "CANCELED": ("Shipment cancelled", "発送取り消し"),
    # FulfillmentStatus, when Shopify gives no display status
    "SUCCESS": ("Shipped", "発送済み"),
    "CANCELLED": ("Shipment cancelled", "発送取り消し"),
    "ERROR": ("Shipment error", "発送エラー"),
    "PENDING": ("Shipment pending", "発送処理中"),
    "OPEN": ("Shipment pending", "発送処理中"),
}

_STOCK = {
    StockLevel.IN_STOCK: ("In stock", "在庫あり"),
    StockLevel.LOW_STOCK: ("Low stock", "残りわずか"),
    StockLevel.SOLD_OUT: ("Sold out", "在庫切れ"),
    StockLevel.BACKORDER: ("Out of stock, can still be ordered", "在庫切れ（注文は可能）"),
    StockLevel.UNKNOWN: ("Stock unknown", "在庫不明"),
}

_CANCEL_REASON = {
    "CUSTOMER": ("Customer changed or cancelled the order", "お客様のご都合"),
    "DECLINED": ("Payment declined", "決済が承認されませんでした"),
    "FRAUD": ("Suspected fraud", "不正注文の疑い"),
    "INVENTORY": ("Items unavailable", "在庫不足"),
    "STAFF": ("Staff error", "スタッフの操作ミス"),
    "OTHER": ("Other", "その他"),
}

_TABLES: dict[WordKind, dict[str, tuple[str, str]]] = {
    WordKind.FINANCIAL: _FINANCIAL,
    WordKind.FULFILLMENT: _FULFILLMENT,
    WordKind.SHIPMENT: _SHIPMENT,
    WordKind.STOCK: {str(code): words for code, words in _STOCK.items()},
    WordKind.CANCEL_REASON: _CANCEL_REASON,
}
_UNKNOWN = ("Unknown", "不明")
_SEPARATORS = re.compile(r"[\s\-_]+")


def normalise_code(code: str | None) -> str:
    """``partially_paid``, ``Partially paid``, ``PARTIALLY-PAID`` → ``PARTIALLY_PAID``; none → UNKNOWN."""
    cleaned = _SEPARATORS.sub("_", (code or "").strip()).strip("_").upper()
    return cleaned or UNKNOWN_CODE


def readable_code(code: str) -> str:
    """``SOMETHING_NEW`` → ``Something new``."""
    words = code.replace("_", " ").strip().lower()
    return words[:1].upper() + words[1:]


def describe(kind: WordKind, code: str | None, *, locale: str | UiLocale) -> PlainWord:
    normal = normalise_code(code)
    words = _TABLES[kind].get(normal)
    if words is None:
        words = _UNKNOWN if normal == UNKNOWN_CODE else (readable_code(normal), readable_code(normal))
    english, japanese = words
    return PlainWord(code=normal, text=japanese if ui_locale(locale) == UiLocale.JA else english)


def stock_level(available: int | None, *, policy: str | None) -> StockLevel:
    """From the units available over all locations and the variant's inventory policy (DENY/CONTINUE)."""
    if available is None:
        return StockLevel.UNKNOWN
    if available <= 0:
        return StockLevel.BACKORDER if normalise_code(policy) == "CONTINUE" else StockLevel.SOLD_OUT
    return StockLevel.LOW_STOCK if available <= LOW_STOCK_UNITS else StockLevel.IN_STOCK


def known_codes(kind: WordKind) -> frozenset[str]:
    return frozenset(_TABLES[kind])

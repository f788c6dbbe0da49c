"""Shopify's search syntax (`query:` arguments) parsed into record store conditions.

Supported: `field:value`, comparisons `field:>v` `>=` `<` `<=`, quoted values ('…' or "…"), a trailing `*`
for a prefix, `-field:value` or `NOT field:value`, terms joined by spaces or `AND`, alternatives with `OR`
(`AND` binds tighter), and parentheses. Unknown fields match everything, as Shopify ignores them.
"""

from __future__ import annotations

import re

from devstore.records import AllOf, AnyOf, Condition, Operator, Term

_TOKEN = re.compile(
    r"""\s*(?:(?P<open>\()|(?P<close>\))|(?P<term>-?[A-Za-z_][A-Za-z0-9_.]*:(?:>=|<=|>|<|=)?(?:'[^']*'|"[^"]*"|[^\s()]*))|(?P<word>'[^']*'|"[^"]*"|[^\s()]+))"""
)
_TERM = re.compile(r"^(?P<neg>-?)(?P<field>[A-Za-z_][A-Za-z0-9_.]*):(?P<op>>=|<=|>|<|=)?(?P<value>.*)$")

_COMMON_FIELDS = {"id": "id", "updated_at": "updated_at", "created_at": "created_at"}
FIELDS_BY_TYPE: dict[str, dict[str, str]] = {
    "Order": {
        "name": "name",
        "email": "email",
        "phone": "phone",
        "status": "status",
        "financial_status": "financial_status",
        "fulfillment_status": "fulfillment_status",
        "tag": "tag",
        "sku": "sku",
        "customer_id": "customer_id",
        "processed_at": "created_at",
    },
    "Customer": {
        "email": "email",
        "phone": "phone",
        "tag": "tag",
        "first_name": "first_name",
        "last_name": "last_name",
    },
    "Product": {
        "title": "title",
        "handle": "handle",
        "status": "status",
        "vendor": "vendor",
        "product_type": "product_type",
        "tag": "tag",
        "sku": "sku",
        "barcode": "barcode",
    },
    "ProductVariant": {"sku": "sku", "barcode": "barcode", "title": "title"},
    "InventoryItem": {"sku": "sku"},
    "Location": {"name": "name", "active": "active"},
    "BulkOperation": {"status": "status", "operation_type": "operation_type"},
    "WebhookSubscription": {"topic": "topic"},
}
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "Order": ("name", "email", "sku"),
    "Customer": ("email", "first_name", "last_name"),
    "Product": ("title", "sku"),
    "ProductVariant": ("sku", "title"),
    "InventoryItem": ("sku",),
    "Location": ("name",),
}


class _Parser:
    def __init__(self, type_name: str, tokens: list[str]) -> None:
        self.fields = {**_COMMON_FIELDS, **FIELDS_BY_TYPE.get(type_name, {})}
        self.defaults = DEFAULT_FIELDS.get(type_name, ())
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        piece = self.tokens[self.at]
        self.at += 1
        return piece

    def alternatives(self) -> Condition | None:
        parts = [self.conjunction()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.conjunction())
        kept = [part for part in parts if part is not None]
        if len(kept) < len(parts):
            return None  # one alternative matches everything
        return kept[0] if len(kept) == 1 else AnyOf(tuple(kept))

    def conjunction(self) -> Condition | None:
        parts: list[Condition] = []
        while (piece := self.peek()) is not None and piece not in {"OR", ")"}:
            if piece == "AND":
                self.take()
                continue
            part = self.unary()
            if part is not None:
                parts.append(part)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def unary(self) -> Condition | None:
        piece = self.take()
        if piece == "NOT":
            inner = self.unary()
            return None if inner is None else _negate(inner)
        if piece == "(":
            inner = self.alternatives()
            if self.peek() == ")":
                self.take()
            return inner
        return self.term(piece)

    def term(self, piece: str) -> Condition | None:
        match = _TERM.match(piece)
        if match is None:
            value = _unquote(piece).lower()
            if not value or not self.defaults:
                return None
            return AnyOf(tuple(_value_term(field, "=", value) for field in self.defaults))
        field = self.fields.get(match["field"].lower())
        if field is None:
            return None
        op: Operator = match["op"] or "="  # type: ignore[assignment]
        value = _unquote(match["value"])
        condition = _value_term(field, op, value)
        return _negate(condition) if match["neg"] else condition


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _normalise(field: str, value: str) -> str:
    if field == "name":
        return value.lower().lstrip("#")
    if field == "phone":
        return "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if field in {"id", "customer_id"}:
        return value.rsplit("/", 1)[-1]
    if field in {"updated_at", "created_at"}:
        return value
    return value.lower()


def _value_term(field: str, op: Operator, value: str) -> Condition:
    if op == "=" and value.endswith("*") and field not in {"id", "updated_at", "created_at"}:
        return Term(field, "prefix", _normalise(field, value[:-1]))
    return Term(field, op, _normalise(field, value))


def _negate(condition: Condition) -> Condition:
    if isinstance(condition, Term):
        return Term(condition.field, condition.op, condition.value, negate=not condition.negate)
    if isinstance(condition, AllOf):
        return AnyOf(tuple(_negate(part) for part in condition.parts))
    return AllOf(tuple(_negate(part) for part in condition.parts))


def parse_search(type_name: str, query: str | None) -> Condition | None:
    """The condition for `query` on documents of `type_name`, or None when it matches everything."""
    if not query or not query.strip():
        return None
    tokens = [next(group for group in m.groups() if group is not None) for m in _TOKEN.finditer(query)]
    return _Parser(type_name, [t for t in tokens if t]).alternatives()

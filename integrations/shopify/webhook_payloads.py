"""Strict parsing of the webhook bodies the app acts on. Ids are exact 64-bit integers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class MalformedPayload(ValueError):
    pass


def parse_json_object(body: str | bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPayload("body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("body is not a JSON object")
    return payload


def _int(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{key} must be an integer")
    return value


def _optional_str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    raise MalformedPayload(f"{key} must be a string")


def _int_list(payload: dict[str, Any], key: str) -> tuple[int, ...]:
    value = payload.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise MalformedPayload(f"{key} must be a list of integers")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class CompliancePayloadCustomer:
    id: int
    email: str | None
    phone: str | None

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> CompliancePayloadCustomer:
        customer = payload.get("customer")
        if not isinstance(customer, dict):
            raise MalformedPayload("customer must be an object")
        return cls(
            id=_int(customer, "id"),
            email=_optional_str(customer, "email"),
            phone=_optional_str(customer, "phone"),
        )


@dataclass(frozen=True, slots=True)
class CustomersDataRequest:
    shop_domain: str
    customer: CompliancePayloadCustomer
    orders_requested: tuple[int, ...]
    data_request_id: int | None

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> CustomersDataRequest:
        request = payload.get("data_request")
        request_id = _int(request, "id") if isinstance(request, dict) else None
        return cls(
            shop_domain=str(payload.get("shop_domain", "")),
            customer=CompliancePayloadCustomer.parse(payload),
            orders_requested=_int_list(payload, "orders_requested"),
            data_request_id=request_id,
        )


@dataclass(frozen=True, slots=True)
class CustomersRedact:
    shop_domain: str
    customer: CompliancePayloadCustomer
    orders_to_redact: tuple[int, ...]

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> CustomersRedact:
        return cls(
            shop_domain=str(payload.get("shop_domain", "")),
            customer=CompliancePayloadCustomer.parse(payload),
            orders_to_redact=_int_list(payload, "orders_to_redact"),
        )


@dataclass(frozen=True, slots=True)
class ScopesUpdate:
    current: tuple[str, ...]
    previous: tuple[str, ...]

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> ScopesUpdate:
        def scopes(key: str) -> tuple[str, ...]:
            value = payload.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise MalformedPayload(f"{key} must be a list of scopes")
            return tuple(value)

        return cls(current=scopes("current"), previous=scopes("previous"))


def _customer_gid(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key)
    prefix = "gid://shopify/Customer/"
    tail = value.removeprefix(prefix) if isinstance(value, str) and value.startswith(prefix) else ""
    if not (tail.isascii() and tail.isdigit()):
        raise MalformedPayload(f"{key} must be a customer gid")
    return int(tail)


@dataclass(frozen=True, slots=True)
class CustomersMerge:
    """``customers/merge``: the customer Shopify kept and the one merged into it; only a ``completed``
    merge without errors changed anything."""

    kept_customer_id: int
    deleted_customer_id: int
    status: str
    error_count: int

    @property
    def completed(self) -> bool:
        return self.status.lower() == "completed" and self.error_count == 0

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> CustomersMerge:
        errors = payload.get("errors") or []
        if not isinstance(errors, list):
            raise MalformedPayload("errors must be a list")
        return cls(
            kept_customer_id=_customer_gid(payload, "admin_graphql_api_customer_kept_id"),
            deleted_customer_id=_customer_gid(payload, "admin_graphql_api_customer_deleted_id"),
            status=_optional_str(payload, "status") or "",
            error_count=len(errors),
        )

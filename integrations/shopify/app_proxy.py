"""Shopify App Proxy signatures: who is signed in on the storefront, vouched for by Shopify.

A storefront request through the app proxy carries ``shop``, ``logged_in_customer_id`` (empty when
nobody is signed in), ``path_prefix``, ``timestamp`` and ``signature``. The signature is the hex
HMAC-SHA256, keyed with the app's secret, of every other parameter as ``key=value`` sorted by key and
joined with no separator; a repeated parameter's values are joined with commas in received order. This
differs from the OAuth query HMAC (``hmac_signatures``): no ``&`` between pairs, no escaping.

Verification accepts the current or the previous secret (during a rotation), compares in constant
time, and refuses a timestamp older than ``max_age_seconds`` (or further than the leeway in the future)
so a signed query cannot be replayed later. Shopify signs each request as it forwards it, so a genuine
query is seconds old: the window only absorbs clock skew. Within it the same signed query still verifies;
the app remembers the signatures it answered (``signature`` of the result) until ``signature_expiry`` and
answers each once. It returns a result with a reason; the caller picks the HTTP status.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from integrations.shopify.errors import InvalidShopDomain
from integrations.shopify.shop_domains import normalise_shop_domain

SIGNATURE_KEY = "signature"
# Shopify signs each proxied request as it forwards it; older signed queries are refused as replays.
APP_PROXY_MAX_AGE_SECONDS = 2 * 60
APP_PROXY_FUTURE_LEEWAY_SECONDS = 60
MAX_CUSTOMER_ID = 2**63 - 1
MAX_CUSTOMER_ID_DIGITS = 19
MAX_TIMESTAMP_DIGITS = 12

QueryParams = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


class ProxyRejection(StrEnum):
    MISSING_SIGNATURE = "missing_signature"
    BAD_SIGNATURE = "bad_signature"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    BAD_SHOP = "bad_shop"
    BAD_CUSTOMER_ID = "bad_customer_id"


@dataclass(frozen=True, slots=True)
class StorefrontIdentity:
    """What a valid signature vouches for. ``logged_in_customer_id`` is ``None`` for a visitor."""

    shop: str
    logged_in_customer_id: int | None
    path_prefix: str | None
    timestamp: int


@dataclass(frozen=True, slots=True)
class ProxyVerification:
    identity: StorefrontIdentity | None
    rejection: ProxyRejection | None
    # the verified signature (lower-case hex): what a caller remembers to answer it once
    signature: str | None = None

    @property
    def ok(self) -> bool:
        return self.identity is not None


def signature_expiry(
    timestamp: int,
    *,
    max_age_seconds: int = APP_PROXY_MAX_AGE_SECONDS,
) -> int:
    """The Unix time after which a query signed at ``timestamp`` no longer verifies: a remembered
    signature may be forgotten then."""
    return timestamp + max_age_seconds + 1


def _pairs(params: QueryParams) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in params.items():
            if isinstance(value, str):
                pairs.append((key, value))
            else:
                pairs.extend((key, item) for item in value)
        return pairs
    return list(params)


def _joined(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    return {key: ",".join(items) for key, items in values.items()}


def app_proxy_message(params: QueryParams) -> str:
    """The text Shopify signs: ``key=value`` pairs but the signature, sorted by key, no separator."""
    joined = _joined([(k, v) for k, v in _pairs(params) if k != SIGNATURE_KEY])
    return "".join(f"{key}={value}" for key, value in sorted(joined.items()))


def sign_app_proxy_query(params: QueryParams, secret: str) -> str:
    message = app_proxy_message(params).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_app_proxy_query(
    params: QueryParams,
    *,
    secrets: Sequence[str],
    now: float,
    max_age_seconds: int = APP_PROXY_MAX_AGE_SECONDS,
) -> ProxyVerification:
    """Check an app proxy query's signature and age (``now`` in Unix seconds)."""
    pairs = _pairs(params)
    received = [value for key, value in pairs if key == SIGNATURE_KEY]
    if not received or not received[0] or not secrets:
        return ProxyVerification(None, ProxyRejection.MISSING_SIGNATURE)
    if len(received) > 1:
        return ProxyVerification(None, ProxyRejection.BAD_SIGNATURE)
    try:
        received_bytes = received[0].lower().encode("ascii")
    except UnicodeEncodeError:
        return ProxyVerification(None, ProxyRejection.BAD_SIGNATURE)
    matched = False
    for secret in secrets:
        expected = sign_app_proxy_query(pairs, secret).encode("ascii")
        matched |= hmac.compare_digest(expected, received_bytes)
    if not matched:
        return ProxyVerification(None, ProxyRejection.BAD_SIGNATURE)
    verdict = _identity(_joined(pairs), now=now, max_age_seconds=max_age_seconds)
    if verdict.identity is None:
        return verdict
    return ProxyVerification(verdict.identity, None, received_bytes.decode("ascii"))


def _digits(text: str, max_digits: int) -> bool:
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def _identity(values: Mapping[str, str], *, now: float, max_age_seconds: int) -> ProxyVerification:
    timestamp_text = values.get("timestamp", "")
    if not _digits(timestamp_text, MAX_TIMESTAMP_DIGITS):
        return ProxyVerification(None, ProxyRejection.BAD_TIMESTAMP)
    timestamp = int(timestamp_text)
    if now - timestamp > max_age_seconds or timestamp - now > APP_PROXY_FUTURE_LEEWAY_SECONDS:
        return ProxyVerification(None, ProxyRejection.STALE_TIMESTAMP)
    try:
        shop = normalise_shop_domain(values.get("shop"))
    except InvalidShopDomain:
        return ProxyVerification(None, ProxyRejection.BAD_SHOP)
    customer_text = values.get("logged_in_customer_id", "")
    customer_id: int | None = None
    if customer_text:
        if not _digits(customer_text, MAX_CUSTOMER_ID_DIGITS):
            return ProxyVerification(None, ProxyRejection.BAD_CUSTOMER_ID)
        customer_id = int(customer_text)
        if not 0 < customer_id <= MAX_CUSTOMER_ID:
            return ProxyVerification(None, ProxyRejection.BAD_CUSTOMER_ID)
    identity = StorefrontIdentity(
        shop=shop,
        logged_in_customer_id=customer_id,
        path_prefix=values.get("path_prefix") or None,
        timestamp=timestamp,
    )
    return ProxyVerification(identity, None)

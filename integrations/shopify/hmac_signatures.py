"""Shopify's two HMAC signatures: hex over sorted query parameters (OAuth, app proxy) and base64 over a
webhook's raw body. Every comparison is constant time and accepts the current or the previous secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence

EXCLUDED_QUERY_KEYS = frozenset({"hmac", "signature"})


def _escape(text: str, *, is_key: bool) -> str:
    escaped = text.replace("%", "%25").replace("&", "%26")
    return escaped.replace("=", "%3D") if is_key else escaped


def query_hmac_message(params: Iterable[tuple[str, str]]) -> str:
    """The message Shopify signs: parameters but ``hmac``/``signature``, sorted, joined ``k=v`` by ``&``.

    Repeated ``key[]`` parameters become one ``key`` whose value is the list, in received order.
    """
    singles: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for key, value in params:
        if key in EXCLUDED_QUERY_KEYS:
            continue
        if key.endswith("[]"):
            lists.setdefault(key[:-2], []).append(value)
        else:
            singles[key] = value
    for key, values in lists.items():
        singles[key] = "[" + ", ".join(f'"{v}"' for v in values) + "]"
    return "&".join(
        f"{_escape(key, is_key=True)}={_escape(value, is_key=False)}"
        for key, value in sorted(singles.items())
    )


def compute_query_hmac(params: Iterable[tuple[str, str]], secret: str) -> str:
    message = query_hmac_message(params).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_query_hmac(params: Sequence[tuple[str, str]], secrets: Sequence[str]) -> bool:
    received = next((value for key, value in params if key == "hmac"), "")
    if not received or not secrets:
        return False
    matched = False
    for secret in secrets:
        expected = compute_query_hmac(params, secret)
        matched |= hmac.compare_digest(expected.encode(), received.lower().encode())
    return matched


def compute_webhook_hmac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook_hmac(body: bytes, received: str | None, secrets: Sequence[str]) -> bool:
    if not received or not secrets:
        return False
    try:
        received_digest = base64.b64decode(received.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return False
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, received_digest)
    return matched

"""Agent-bot webhook signatures (Chatwoot v4.13.0+; account webhooks since v4.11.2):
``X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "{X-Chatwoot-Timestamp}.{raw body}")>``, keyed by
the bot's ``secret`` (not its access token). ``X-Chatwoot-Delivery`` is a UUID kept across retries.

Verification is constant time (``hmac.compare_digest``) and happens before the body is parsed; a timestamp
further than ``TOLERANCE_SECONDS`` from now (either way) is refused, so a captured call cannot be replayed
later (a replay within the window is refused by its delivery id, which the app stores).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "x-chatwoot-signature"
TIMESTAMP_HEADER = "x-chatwoot-timestamp"
DELIVERY_HEADER = "x-chatwoot-delivery"
TOLERANCE_SECONDS = 300
PREFIX = "sha256="
MAX_SIGNATURE_CHARS = 80
MAX_TIMESTAMP_CHARS = 12


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def verify_signature(
    body: bytes, *, signature: str | None, timestamp: str | None, secret: str, now: float
) -> bool:
    """True only for a well-formed, fresh timestamp and the right signature. The HMAC is computed (and
    compared) even when the headers are missing, so timing tells nothing."""
    stamp = (timestamp or "").strip()
    fresh = (
        stamp.isdigit() and len(stamp) <= MAX_TIMESTAMP_CHARS and abs(now - int(stamp)) <= TOLERANCE_SECONDS
    )
    presented = (signature or "").strip()
    if len(presented) > MAX_SIGNATURE_CHARS or not presented.isascii():
        presented = ""
    expected = sign(body, secret=secret, timestamp=int(stamp) if fresh else 0)
    matches = hmac.compare_digest(expected.encode(), presented.encode())
    return bool(secret) and fresh and matches

"""Webhook signatures: ``X-Zendesk-Webhook-Signature`` = Base64(HMAC-SHA256(signing secret, timestamp + raw
body)), the timestamp being ``X-Zendesk-Webhook-Signature-Timestamp`` (ISO 8601) as sent.

Verification is a result with a reason (the app picks the status), decided before anything reads the body:
header shapes first (a missing, over-long or non-ASCII header is refused), then the timestamp's window (a
replay of a captured delivery outside it is refused), then ``hmac.compare_digest`` against the current and
the previous secret (a rotation keeps working while both are set). Zendesk also keeps
``x-zendesk-webhook-invocation-id`` the same on its retries: the app dedupes on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"
INVOCATION_HEADER = "x-zendesk-webhook-invocation-id"
WEBHOOK_ID_HEADER = "x-zendesk-webhook-id"
ACCOUNT_HEADER = "x-zendesk-account-id"
# Base64 of 32 bytes is 44 characters; an ISO 8601 time with offset and fraction is under 40.
MAX_SIGNATURE_CHARS = 64
MAX_TIMESTAMP_CHARS = 40
REPLAY_WINDOW_SECONDS = 300


class Refusal(StrEnum):
    MISSING = "signature or timestamp missing"
    MALFORMED = "signature or timestamp malformed"
    STALE = "timestamp outside the replay window"
    MISMATCH = "signature does not match"
    UNCONFIGURED = "no signing key configured"


@dataclass(frozen=True, slots=True)
class Verification:
    refusal: Refusal | None
    signed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def sign(body: bytes, *, timestamp: str, secret: str) -> str:
    """The signature Zendesk sends (for tests and for the simulated Zendesk)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_timestamp(timestamp: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def verify_webhook(
    body: bytes,
    *,
    signature: str | None,
    timestamp: str | None,
    secrets: Sequence[str],
    now: datetime | None = None,
    window_seconds: float = REPLAY_WINDOW_SECONDS,
) -> Verification:
    if not any(secrets):
        return Verification(Refusal.UNCONFIGURED)
    if not signature or not timestamp:
        return Verification(Refusal.MISSING)
    if (
        len(signature) > MAX_SIGNATURE_CHARS
        or len(timestamp) > MAX_TIMESTAMP_CHARS
        or not signature.isascii()
        or not timestamp.isascii()
    ):
        return Verification(Refusal.MALFORMED)
    signed_at = parse_timestamp(timestamp)
    if signed_at is None:
        return Verification(Refusal.MALFORMED)
    age = ((now or datetime.now(UTC)) - signed_at).total_seconds()
    if abs(age) > window_seconds:
        return Verification(Refusal.STALE)
    given = signature.encode()
    matched = False
    for secret in secrets:
        if secret:
            # every secret is compared (no early exit), so timing says nothing about which one matched
            matched |= hmac.compare_digest(sign(body, timestamp=timestamp, secret=secret).encode(), given)
    if not matched:
        return Verification(Refusal.MISMATCH)
    return Verification(None, signed_at)

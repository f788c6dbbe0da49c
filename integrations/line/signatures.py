"""Webhook signatures: ``x-line-signature`` is Base64(HMAC-SHA256(channel secret, raw body)).

The comparison is line-bot-sdk's ``SignatureValidator`` (``hmac.compare_digest``). It takes text, so a body
that is not UTF-8 (LINE only sends JSON in UTF-8) is refused before it; decoding is not parsing, and the
UTF-8 bytes of the decoded text are the received bytes. A missing or over-long header is refused as well.
Callers verify before reading anything from the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from linebot.v3.webhook import SignatureValidator  # type: ignore[import-untyped]

SIGNATURE_HEADER = "x-line-signature"
# Base64 of 32 bytes is 44 characters; anything much longer is not a signature.
MAX_SIGNATURE_CHARS = 128


def verify_signature(body: bytes, signature: str | None, *, channel_secret: str) -> bool:
    if not signature or len(signature) > MAX_SIGNATURE_CHARS or not signature.isascii() or not channel_secret:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(SignatureValidator(channel_secret).validate(text, signature))


def sign(body: bytes, *, channel_secret: str) -> str:
    """The signature LINE would send (for tests and for clients that sign like LINE)."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()

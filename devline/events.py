"""Webhook event objects as LINE builds them, and the ``x-line-signature`` of a body.

The signer is written here independently of the app's verifier, so that each checks the other."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sign_body(body: bytes, channel_secret: str) -> str:
    """Base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()


def encode_body(destination: str, events: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"destination": destination, "events": events}, ensure_ascii=False, separators=(",", ":")
    ).encode()


def new_event_id(now_seconds: float) -> str:
    """A ULID (as LINE's ``webhookEventId``): 48 bits of milliseconds, 80 random bits, Crockford base32."""
    value = (int(now_seconds * 1000) & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _base(kind: str, *, user_id: str, now_seconds: float, reply_token: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(now_seconds * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": new_event_id(now_seconds),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    return event


def message_event(
    *, user_id: str, now_seconds: float, reply_token: str, message: dict[str, Any]
) -> dict[str, Any]:
    return {
        **_base("message", user_id=user_id, now_seconds=now_seconds, reply_token=reply_token),
        "message": message,
    }


def follow_event(*, user_id: str, now_seconds: float, reply_token: str, is_unblocked: bool) -> dict[str, Any]:
    return {
        **_base("follow", user_id=user_id, now_seconds=now_seconds, reply_token=reply_token),
        "follow": {"isUnblocked": is_unblocked},
    }


def unfollow_event(*, user_id: str, now_seconds: float) -> dict[str, Any]:
    return _base("unfollow", user_id=user_id, now_seconds=now_seconds, reply_token=None)


def unsend_event(*, user_id: str, now_seconds: float, message_id: str) -> dict[str, Any]:
    """The user unsent one of their messages: no reply token (LINE's reference)."""
    return {
        **_base("unsend", user_id=user_id, now_seconds=now_seconds, reply_token=None),
        "unsend": {"messageId": message_id},
    }


def postback_event(
    *, user_id: str, now_seconds: float, reply_token: str, data: str, params: dict[str, str] | None = None
) -> dict[str, Any]:
    postback: dict[str, Any] = {"data": data}
    if params:
        postback["params"] = params
    return {
        **_base("postback", user_id=user_id, now_seconds=now_seconds, reply_token=reply_token),
        "postback": postback,
    }


def account_link_event(
    *, user_id: str, now_seconds: float, reply_token: str | None, nonce: str, ok: bool
) -> dict[str, Any]:
    """``link.result`` ok carries the user and a reply token; failed carries neither (LINE's reference)."""
    event = _base(
        "accountLink", user_id=user_id, now_seconds=now_seconds, reply_token=reply_token if ok else None
    )
    if not ok:
        del event["source"]
    event["link"] = {"result": "ok" if ok else "failed", "nonce": nonce}
    return event

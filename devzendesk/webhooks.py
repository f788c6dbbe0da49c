"""Webhook delivery as Zendesk does it: one POST per fired trigger to the webhook's endpoint, signed
(``X-Zendesk-Webhook-Signature`` = Base64(HMAC-SHA256(signing secret, timestamp + body))) with the
timestamp in ``X-Zendesk-Webhook-Signature-Timestamp`` and a fresh invocation id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid

import httpx

from devzendesk.state import Delivery, ZendeskState, iso

logger = logging.getLogger(__name__)

USER_AGENT = "Zendesk Webhook"


def signature(body: bytes, *, timestamp: str, secret: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    ).decode()


def signed_headers(state: ZendeskState, body: bytes, *, invocation_id: str) -> dict[str, str]:
    timestamp = iso(state.clock())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "x-zendesk-account-id": str(state.config.installation_id),
        "x-zendesk-webhook-id": "01FMJQSY40HZBCBVPZB9212S8V",
        "x-zendesk-webhook-invocation-id": invocation_id,
        "x-zendesk-webhook-signature-timestamp": timestamp,
        "x-zendesk-webhook-signature": signature(
            body, timestamp=timestamp, secret=state.config.signing_secret
        ),
    }


async def deliver_pending(state: ZendeskState, http: httpx.AsyncClient) -> list[Delivery]:
    """Sends every queued trigger notification once (Zendesk retries failures; the simulator records them)."""
    sent: list[Delivery] = []
    while state.pending:
        url, body = state.pending.popleft()
        invocation_id = uuid.uuid4().hex
        try:
            answer = await http.post(
                url,
                content=body,
                headers=signed_headers(state, body, invocation_id=invocation_id),
                timeout=state.config.webhook_timeout_seconds,
            )
            delivery = Delivery(invocation_id, url, body, answer.status_code, None)
        except httpx.HTTPError as error:
            delivery = Delivery(invocation_id, url, body, None, type(error).__name__)
        if not delivery.ok:
            logger.warning(
                "devzendesk webhook failed status=%s error=%s", delivery.status_code, delivery.error
            )
        state.deliveries.append(delivery)
        sent.append(delivery)
    return sent

"""Webhook endpoints, at the URIs ``shopify.app.toml`` declares.

Order of checks: the body HMAC first (401 when missing or wrong, before anything is parsed), then the
required headers (400), then the shop (unknown or uninstalled: acknowledged with 200 and logged, since a
retry would not change anything). An accepted delivery is stored before the 200; a repeated event id is
acknowledged and not stored again. The work itself runs in a job after the answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.shopify.app_config import AppConfig
from integrations.shopify.errors import InvalidShopDomain
from integrations.shopify.hmac_signatures import verify_webhook_hmac
from integrations.shopify.shop_domains import normalise_shop_domain
from shop_app.errors import AppError, BadRequest, Unauthorized
from shop_app.logging_config import bound_log_context
from shop_app.mirror.webhooks.handlers import COMPLIANCE_TOPICS
from shop_app.mirror.webhooks.inbox import IncomingWebhook
from shop_app.models import ShopStatus
from shop_app.observability.metrics import record_webhook
from shop_app.routes.request_state import inbox, services

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_HEADER_LENGTH = 100


class PayloadTooLarge(AppError):
    http_status = 413
    default_code = "payload_too_large"


def _acknowledged(request: Request, outcome: str) -> Response:
    request.state.webhook_outcome = outcome
    return JSONResponse({"ok": True, "outcome": outcome})


def _observed(
    receive: Callable[[Request], Awaitable[Response]], known_topics: frozenset[str]
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint with its acknowledgement time and outcome in the metrics, and the webhook's id on
    every log line it causes (the job that applies the delivery logs it too)."""

    async def observed(request: Request) -> Response:
        started = time.perf_counter()
        outcome = "error"
        try:
            with bound_log_context(webhook_id=request.headers.get("x-shopify-webhook-id") or None):
                response = await receive(request)
            outcome = getattr(request.state, "webhook_outcome", "error")
            return response
        except Unauthorized:
            outcome = "rejected_signature"
            raise
        except AppError:
            outcome = "rejected_request"
            raise
        finally:
            record_webhook(
                topic=request.headers.get("x-shopify-topic", ""),
                known_topics=known_topics,
                outcome=outcome,
                seconds=time.perf_counter() - started,
            )

    return observed


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge("The body is too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge("The body is too large")
    return body


def _header(request: Request, name: str) -> str:
    value = request.headers.get(name, "").strip()
    if not value or len(value) > MAX_HEADER_LENGTH:
        raise BadRequest(f"Missing or invalid {name} header", code="missing_header")
    return value


def _triggered_at(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def webhook_endpoint(path: str, app_config: AppConfig) -> Route:
    topics_here = frozenset(s.topic for s in app_config.subscriptions if s.uri == path)

    async def receive(request: Request) -> Response:
        app = services(request)
        body = await _read_body(request)
        secrets = [s.reveal() for s in app.settings.api_secrets]
        if not verify_webhook_hmac(body, request.headers.get("x-shopify-hmac-sha256"), secrets):
            logger.warning("webhook rejected reason=bad_hmac path=%s", path)
            raise Unauthorized("The webhook signature is not valid", code="invalid_hmac")
        topic = _header(request, "x-shopify-topic")
        event_id = request.headers.get("x-shopify-event-id") or _header(request, "x-shopify-webhook-id")
        try:
            domain = normalise_shop_domain(_header(request, "x-shopify-shop-domain"))
        except InvalidShopDomain:
            raise BadRequest("Invalid X-Shopify-Shop-Domain header", code="invalid_shop") from None
        if topic not in topics_here:
            logger.warning("webhook for an unsubscribed topic acknowledged topic=%s shop=%s", topic, domain)
            return _acknowledged(request, "ignored")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The body is not UTF-8", code="invalid_body") from None
        webhook = IncomingWebhook(
            topic=topic,
            event_id=event_id[:MAX_HEADER_LENGTH],
            webhook_id=request.headers.get("x-shopify-webhook-id", "")[:MAX_HEADER_LENGTH],
            api_version=request.headers.get("x-shopify-api-version", "")[:20],
            triggered_at=_triggered_at(request.headers.get("x-shopify-triggered-at")),
            body=text,
        )
        shop = await app.shop_directory.find(domain)
        if shop is None:
            logger.info("webhook for an unknown shop acknowledged topic=%s shop=%s", topic, domain)
            return _acknowledged(request, "unknown_shop")
        if shop.status == ShopStatus.UNINSTALLED and topic not in COMPLIANCE_TOPICS:
            logger.info("webhook for an uninstalled shop acknowledged topic=%s shop=%s", topic, domain)
            return _acknowledged(request, "uninstalled_shop")
        delivery_id = await inbox(request).submit(shop.id, webhook)
        if delivery_id is None:
            logger.info("duplicate webhook acknowledged topic=%s shop=%s", topic, domain)
            return _acknowledged(request, "duplicate")
        return _acknowledged(request, "accepted")

    known_topics = frozenset(s.topic for s in app_config.subscriptions)
    return Route(path, _observed(receive, known_topics), methods=["POST"])


def webhook_routes(app_config: AppConfig) -> list[Route]:
    return [webhook_endpoint(path, app_config) for path in sorted({s.uri for s in app_config.subscriptions})]

"""The embedded admin's notices page's API: back-in-stock demand per product, the proactive rules (on/off,
their days, a preview of each message in both languages), quiet hours, the daily cap and how long a
stock request lasts. Everything is the session token's shop's, and nothing else."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shop_app.database import transaction
from shop_app.errors import BadRequest
from shop_app.models import NoticeRule, NoticeSettings, Shop
from shop_app.models.base import utcnow
from shop_app.notices import back_in_stock, proactive
from shop_app.notices.notice_settings import RULE_DAYS, notice_settings, rule_choice, save_notice_settings
from shop_app.routes.embedded_admin import authenticate_admin
from shop_app.routes.request_state import services

MAX_FORM_BYTES = 8 * 1024


def _settings_json(settings: NoticeSettings) -> dict[str, Any]:
    rules = []
    for rule in NoticeRule:
        choice = rule_choice(settings, rule)
        rules.append(
            {
                "rule": rule.value,
                "enabled": choice.enabled,
                "days": choice.days,
                "days_name": RULE_DAYS[rule][0] if rule in RULE_DAYS else None,
            }
        )
    return {
        "rules": rules,
        "quiet_start_minutes": settings.quiet_start_minutes,
        "quiet_end_minutes": settings.quiet_end_minutes,
        "daily_cap": settings.daily_cap,
        "subscription_days": settings.subscription_days,
    }


async def _state(request: Request, shop: Shop) -> dict[str, Any]:
    assert shop.id is not None
    async with services(request).sessions() as session:
        settings = await notice_settings(session, shop_id=shop.id)
        demand = await back_in_stock.demand(session, shop_id=shop.id)
        sent_today = await proactive.sent_today(session, shop=shop, now=utcnow())
    return {
        "settings": _settings_json(settings),
        "previews": {
            rule.value: {lang: proactive.preview(rule, lang, shop=shop) for lang in ("ja", "en")}
            for rule in NoticeRule
        },
        "demand": [
            {
                "product_id": row.product_shopify_id,
                "title": row.title,
                "waiting": row.waiting,
                "pending": row.pending,
                "notified": row.notified,
                "available": row.available,
            }
            for row in demand
        ],
        "sent_today": sent_today,
    }


async def notices_state(request: Request) -> Response:
    admin = await authenticate_admin(request)
    return JSONResponse(await _state(request, admin.shop), headers={"Cache-Control": "no-store"})


async def save_notices(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    raw = await request.body()
    try:
        data = json.loads(raw) if len(raw) <= MAX_FORM_BYTES else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise BadRequest("rules and the numbers are required", code="invalid_body")
    enabled: set[NoticeRule] = set()
    days: dict[NoticeRule, Any] = {}
    for entry in data["rules"]:
        if not isinstance(entry, dict) or entry.get("rule") not in {r.value for r in NoticeRule}:
            raise BadRequest("unknown rule", code="invalid_rule")
        rule = NoticeRule(entry["rule"])
        if entry.get("enabled") is True:
            enabled.add(rule)
        days[rule] = entry.get("days")
    async with transaction(services(request).sessions) as session:
        await save_notice_settings(
            session,
            shop_id=admin.shop.id,
            enabled=enabled,
            days=days,
            quiet_start_minutes=data.get("quiet_start_minutes"),
            quiet_end_minutes=data.get("quiet_end_minutes"),
            daily_cap=data.get("daily_cap"),
            subscription_days=data.get("subscription_days"),
        )
    return JSONResponse(await _state(request, admin.shop))


routes: list[BaseRoute] = [
    Route("/api/admin/notices", notices_state, methods=["GET"]),
    Route("/api/admin/notices", save_notices, methods=["PUT"]),
]

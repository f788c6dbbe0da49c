"""The embedded admin surface: the page Shopify frames, and the JSON API its script calls with App Bridge
session tokens (``Authorization: Bearer``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from integrations.shopify.errors import InvalidShopDomain
from integrations.shopify.session_tokens import InvalidSessionToken, SessionToken, decode_session_token
from integrations.shopify.shop_domains import normalise_shop_domain
from shop_app.errors import BadRequest, NotFound, Unauthorized
from shop_app.i18n import DEFAULT_LOCALE, catalogue, supported_locale
from shop_app.jobs.tasks import TaskName
from shop_app.mirror.sync_states import describe, get_sync_state
from shop_app.models import CustomerDataExport, Order, Shop, ShopCredential, ShopStatus
from shop_app.routes.request_state import jobs, services, templates
from shop_app.shops.installation import get_shop
from shop_app.shops.managed_install import shop_for_session

APP_BRIDGE_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
ROW_ID_PATTERN = re.compile(r"[0-9]{1,10}")
MAX_ROW_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class AdminSession:
    shop: Shop
    claims: SessionToken


def _verify(request: Request, raw: str) -> SessionToken:
    app = services(request)
    try:
        return decode_session_token(
            raw, client_id=app.settings.api_key, secrets=[s.reveal() for s in app.settings.api_secrets]
        )
    except InvalidSessionToken as error:
        raise Unauthorized(str(error), code="invalid_session_token") from None


async def authenticate_admin(request: Request) -> AdminSession:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("A session token is required", code="missing_session_token")
    raw = header.removeprefix("Bearer ").strip()
    claims = _verify(request, raw)
    app = services(request)
    shop, installed_now = await shop_for_session(
        app.sessions, claims=claims, raw_token=raw, oauth=app.oauth, cipher=app.cipher
    )
    if installed_now:
        if app.settings.register_webhooks:
            await jobs(request).enqueue(TaskName.REGISTER_WEBHOOKS, shop_id=shop.id)
        await jobs(request).enqueue(TaskName.SYNC_SHOP, shop_id=shop.id)
    return AdminSession(shop=shop, claims=claims)


def _frame_ancestors(shop: str) -> str:
    return f"frame-ancestors https://{shop} https://admin.shopify.com;"


async def admin_page(request: Request) -> Response:
    return await _embedded_page(request, "admin/home.html")


async def replies_page(request: Request) -> Response:
    """The reply template editor: the bot's wording per intent, state and language, with a live preview."""
    return await _embedded_page(request, "admin/replies.html")


async def _embedded_page(request: Request, template: str) -> Response:
    try:
        shop = normalise_shop_domain(request.query_params.get("shop"))
    except InvalidShopDomain:
        raise BadRequest("The shop must be a *.myshopify.com domain", code="invalid_shop") from None
    app = services(request)
    id_token = request.query_params.get("id_token", "")
    async with app.sessions() as session:
        known = await get_shop(session, shop)
    if id_token:
        claims = _verify(request, id_token)
        if claims.shop != shop:
            raise Unauthorized("The session token is for another shop", code="invalid_session_token")
    elif known is None or not known.is_active:
        return RedirectResponse(f"/auth/install?shop={shop}", status_code=302)
    response = templates(request).TemplateResponse(
        request,
        template,
        {
            "shop": shop,
            "api_key": app.settings.api_key,
            "app_bridge_url": APP_BRIDGE_URL,
            "id_token": id_token,
            "host": request.query_params.get("host", ""),
            "reauthorisation": _reauthorisation_notice(request, known),
        },
    )
    response.headers["Content-Security-Policy"] = _frame_ancestors(shop)
    return response


def _reauthorisation_notice(request: Request, shop: Shop | None) -> dict[str, str] | None:
    """What the merchant reads when Shopify no longer accepts the shop's token, in the admin's language
    (Shopify adds ``locale`` to the embedded app's URL), else the shop's."""
    if shop is None or shop.status != ShopStatus.NEEDS_REAUTH:
        return None
    locale = (
        supported_locale(request.query_params.get("locale"))
        or supported_locale(shop.primary_locale)
        or DEFAULT_LOCALE
    )
    words = catalogue(locale)
    return {
        "locale": locale,
        "title": words.text("admin.reauthorise.title"),
        "body": words.text("admin.reauthorise.body"),
    }


async def shop_status(request: Request) -> Response:
    admin = await authenticate_admin(request)
    app = services(request)
    async with app.sessions() as session:
        credential = await session.get(ShopCredential, admin.shop.id)
        exports = (
            await session.execute(
                select(
                    col(CustomerDataExport.id),
                    col(CustomerDataExport.created_at),
                    col(CustomerDataExport.data_request_id),
                )
                .where(col(CustomerDataExport.shop_id) == admin.shop.id)
                .order_by(col(CustomerDataExport.id).desc())
            )
        ).all()
    return JSONResponse(
        {
            "shop": admin.shop.domain,
            "status": admin.shop.status,
            "scopes": [s for s in admin.shop.scopes.split(",") if s],
            "installed_at": admin.shop.installed_at.isoformat(),
            "has_access_token": credential is not None,
            "api_version": app.app_config.api_version,
            "webhook_topics": list(app.app_config.topics) + list(app.app_config.compliance_topics),
            "data_exports": [
                {
                    "id": row.id,
                    "created_at": row.created_at.isoformat(),
                    "data_request_id": row.data_request_id,
                }
                for row in exports
            ],
        }
    )


async def sync_status(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    async with services(request).sessions() as session:
        state = await get_sync_state(session, shop_id=admin.shop.id)
    return JSONResponse({"shop": admin.shop.domain, **describe(state)})


async def download_data_export(request: Request) -> Response:
    admin = await authenticate_admin(request)
    app = services(request)
    raw_id = request.path_params["export_id"]
    # Bounded before it reaches the database: an id beyond the column's range is a 500 otherwise.
    if not ROW_ID_PATTERN.fullmatch(raw_id) or int(raw_id) > MAX_ROW_ID:
        raise NotFound("No such export", code="export_not_found")
    export_id = int(raw_id)
    async with app.sessions() as session:
        export = await session.get(CustomerDataExport, export_id)
    if export is None or export.shop_id != admin.shop.id:
        raise NotFound("No such export", code="export_not_found")
    document = json.loads(app.cipher.decrypt(export.ciphertext))
    return JSONResponse(
        document,
        headers={"Content-Disposition": f'attachment; filename="customer-data-export-{export.id}.json"'},
    )


RECENT_ORDERS_LISTED = 20


async def recent_orders(request: Request) -> Response:
    """The shop's latest orders (or those whose name contains ``q``), to preview templates against."""
    admin = await authenticate_admin(request)
    query = request.query_params.get("q", "").strip()[:64]
    statement = (
        select(col(Order.shopify_id), col(Order.name), col(Order.created_at))
        .where(col(Order.shop_id) == admin.shop.id)
        .order_by(col(Order.created_at).desc())
        .limit(RECENT_ORDERS_LISTED)
    )
    if query:
        statement = statement.where(col(Order.name).contains(query, autoescape=True))
    async with services(request).sessions() as session:
        rows = (await session.execute(statement)).all()
    return JSONResponse(
        {
            "orders": [
                {"id": r.shopify_id, "name": r.name, "created_at": r.created_at.isoformat()} for r in rows
            ]
        }
    )


routes = [
    Route("/app", admin_page, methods=["GET"]),
    Route("/app/replies", replies_page, methods=["GET"]),
    Route("/api/admin/orders", recent_orders, methods=["GET"]),
    Route("/api/admin/shop", shop_status, methods=["GET"]),
    Route("/api/admin/sync", sync_status, methods=["GET"]),
    Route("/api/admin/data-exports/{export_id}", download_data_export, methods=["GET"]),
]

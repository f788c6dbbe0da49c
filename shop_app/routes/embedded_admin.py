"""The embedded admin surface: the pages Shopify frames (home, replies, help desk, team, store data), the
page for ``/app`` opened outside the admin, and the JSON API their scripts call with App Bridge session
tokens (``Authorization: Bearer``).

The pages are Shopify's Polaris web components with App Bridge's navigation menu, both from Shopify's CDN;
neither is needed: without them the same markup is plainly styled by ``admin.css`` and works the same.
They speak the admin's language: Shopify's ``locale`` parameter, else the shop's, else the browser's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from integrations.shopify.errors import InvalidShopDomain
from integrations.shopify.session_tokens import InvalidSessionToken, SessionToken, decode_session_token
from integrations.shopify.shop_domains import normalise_shop_domain
from shop_app.channels.line.connections import (
    check_connection,
    connect_line,
    connection_for_shop,
    webhook_url,
)
from shop_app.database import transaction
from shop_app.errors import BadRequest, NotFound, Unauthorized
from shop_app.i18n import accepted_locales, catalogue, first_supported
from shop_app.jobs.tasks import TaskName
from shop_app.mirror.sync_states import describe, get_sync_state
from shop_app.models import CustomerDataExport, LineConnection, Order, Shop, ShopCredential, ShopStatus
from shop_app.routes.request_state import jobs, services, templates
from shop_app.settings import Mode
from shop_app.shops.installation import get_shop
from shop_app.shops.managed_install import shop_for_session

SHOPIFY_CDN = "https://cdn.shopify.com"
APP_BRIDGE_URL = f"{SHOPIFY_CDN}/shopifycloud/app-bridge.js"
POLARIS_URL = f"{SHOPIFY_CDN}/shopifycloud/polaris.js"
ADMIN_MESSAGES = "admin."
ROW_ID_PATTERN = re.compile(r"[0-9]{1,10}")
MAX_ROW_ID = 2**31 - 1
SIMULATED_SHOPS_LISTED = 20
# Pages with no script at all (the page for /app opened outside the admin).
PLAIN_PAGE_POLICY = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"


@dataclass(frozen=True, slots=True)
class AdminPage:
    name: str
    path: str

    @property
    def template(self) -> str:
        return f"admin/{self.name}.html"


PAGES = (
    AdminPage("home", "/app"),
    AdminPage("replies", "/app/replies"),
    AdminPage("desk", "/app/desk"),
    AdminPage("team", "/app/team"),
    AdminPage("sync", "/app/sync"),
    AdminPage("email", "/app/email"),
    AdminPage("line", "/app/line"),
    AdminPage("notices", "/app/notices"),
    AdminPage("faq", "/app/faq"),
    AdminPage("actions", "/app/actions"),
    AdminPage("connectors", "/app/connectors"),
    AdminPage("insights", "/app/insights"),
)


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


def embedded_policy(shop: str) -> str:
    """Framed only by the shop's own admin; scripts only from here and Shopify's CDN (App Bridge, Polaris)."""
    return (
        f"frame-ancestors https://{shop} https://admin.shopify.com; "
        f"script-src 'self' {SHOPIFY_CDN}; object-src 'none'; base-uri 'self'"
    )


def _admin_locale(request: Request, shop: Shop | None) -> str:
    return first_supported(
        request.query_params.get("locale"),
        shop.primary_locale if shop is not None else None,
        *accepted_locales(request.headers.get("accept-language")),
    )


def _page_route(page: AdminPage) -> Callable[[Request], Awaitable[Response]]:
    async def show(request: Request) -> Response:
        return await _embedded_page(request, page)

    return show


async def _embedded_page(request: Request, page: AdminPage) -> Response:
    if "shop" not in request.query_params:
        return await _open_from_admin(request, shop=None, known=None, status_code=200)
    try:
        shop = normalise_shop_domain(request.query_params.get("shop"))
    except InvalidShopDomain:
        return await _open_from_admin(request, shop=None, known=None, status_code=400)
    app = services(request)
    async with app.sessions() as session:
        known = await get_shop(session, shop)
    id_token = request.query_params.get("id_token", "")
    if id_token:
        try:
            claims: SessionToken | None = _verify(request, id_token)
        except Unauthorized:
            claims = None
        if claims is None or claims.shop != shop:
            return await _open_from_admin(request, shop=shop, known=known, status_code=401)
    elif known is None or not known.is_active:
        return RedirectResponse(f"/auth/install?shop={shop}", status_code=302)
    locale = _admin_locale(request, known)
    messages = catalogue(locale)
    # Links between the pages carry what identifies the shop and the language, never the id_token: inside
    # the admin App Bridge gives fresh tokens; outside it the page's script adds the one it was opened with.
    query = urlencode({"shop": shop, "host": request.query_params.get("host", ""), "locale": locale}, safe="")
    links = {each.name: f"{each.path}?{query}" for each in PAGES}
    response = templates(request).TemplateResponse(
        request,
        page.template,
        {
            "page": page.name,
            "locale": locale,
            "t": messages.text,
            "messages_json": messages.as_json(prefix=ADMIN_MESSAGES),
            "shop": shop,
            "api_key": app.settings.api_key,
            "app_bridge_url": APP_BRIDGE_URL,
            "polaris_url": POLARIS_URL,
            "id_token": id_token,
            "pages": PAGES,
            "links": links,
        },
    )
    response.headers["Content-Security-Policy"] = embedded_policy(shop)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _open_from_admin(
    request: Request, *, shop: str | None, known: Shop | None, status_code: int
) -> Response:
    """``/app`` outside the Shopify admin (no shop, or a session token that is not valid for it): a page
    that says where the app lives, and in development the simulated stores to open it from."""
    locale = _admin_locale(request, known)
    response = templates(request).TemplateResponse(
        request,
        "admin/open_from_admin.html",
        {
            "locale": locale,
            "t": catalogue(locale).text,
            "expired": status_code == 401,
            "simulated_shops": await _simulated_shops(request),
        },
        status_code=status_code,
    )
    # framed by the shop's admin when its session token was refused there; never framed otherwise
    policy = f"{PLAIN_PAGE_POLICY}; frame-ancestors " + (
        f"https://{shop} https://admin.shopify.com" if shop else "'none'"
    )
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "no-store"
    return response


async def _simulated_shops(request: Request) -> list[dict[str, str]] | None:
    """In development against the simulated store: its shops with the app installed, each with its admin
    and the address that opens the app from it. ``None`` anywhere else."""
    app = services(request)
    settings = app.settings
    probe = "probe.myshopify.com"
    if settings.mode is not Mode.DEVELOPMENT or settings.shop_url(probe) == f"https://{probe}":
        return None
    async with app.sessions() as session:
        domains = (
            await session.execute(
                select(col(Shop.domain))
                .where(col(Shop.status) == ShopStatus.INSTALLED)
                .order_by(col(Shop.domain))
                .limit(SIMULATED_SHOPS_LISTED)
            )
        ).scalars()
        return [
            {
                "domain": domain,
                "admin_url": f"{settings.shop_url(domain)}/admin",
                "open_url": f"{settings.shop_url(domain)}/admin/apps/{settings.api_key}",
            }
            for domain in domains
        ]


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


MAX_LINE_FORM_BYTES = 8 * 1024


def _line_out(request: Request, connection: LineConnection | None) -> dict[str, object]:
    """The connection as the admin sees it: never the secret or the token."""
    if connection is None:
        return {"connected": False}
    return {
        "connected": True,
        "enabled": connection.enabled,
        "channel_id": connection.channel_id,
        "bot_name": connection.bot_name,
        "webhook_url": webhook_url(services(request).settings, connection),
        "last_check": connection.last_check_code,
        "last_checked_at": connection.last_checked_at.isoformat() if connection.last_checked_at else None,
    }


async def _line_state(request: Request, shop_id: int) -> dict[str, object]:
    async with services(request).sessions() as session:
        return _line_out(request, await connection_for_shop(session, shop_id=shop_id))


async def line_connection(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    return JSONResponse(await _line_state(request, admin.shop.id), headers={"Cache-Control": "no-store"})


async def save_line_connection(request: Request) -> Response:
    """Connect the shop's LINE channel or replace its credentials, then test them against LINE."""
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    raw = await request.body()
    try:
        data = json.loads(raw) if len(raw) <= MAX_LINE_FORM_BYTES else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(name), str) for name in ("channel_id", "channel_secret", "access_token")
    ):
        raise BadRequest("channel_id, channel_secret and access_token are required", code="invalid_body")
    app = services(request)
    async with transaction(app.sessions) as session:
        await connect_line(
            session,
            shop=admin.shop,
            cipher=app.cipher,
            channel_id=data["channel_id"],
            channel_secret=data["channel_secret"],
            access_token=data["access_token"],
        )
    result = await check_connection(app, shop_id=admin.shop.id)
    return JSONResponse({"result": result, "connection": await _line_state(request, admin.shop.id)})


async def check_line_connection(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    result = await check_connection(services(request), shop_id=admin.shop.id)
    if result is None:
        raise NotFound("LINE is not connected", code="line_not_connected")
    return JSONResponse({"result": result, "connection": await _line_state(request, admin.shop.id)})


routes: list[BaseRoute] = [
    Route("/api/admin/line", line_connection, methods=["GET"]),
    Route("/api/admin/line", save_line_connection, methods=["PUT"]),
    Route("/api/admin/line/check", check_line_connection, methods=["POST"]),
    *(Route(page.path, _page_route(page), methods=["GET"]) for page in PAGES),
    Route("/api/admin/orders", recent_orders, methods=["GET"]),
    Route("/api/admin/shop", shop_status, methods=["GET"]),
    Route("/api/admin/sync", sync_status, methods=["GET"]),
    Route("/api/admin/data-exports/{export_id}", download_data_export, methods=["GET"]),
]

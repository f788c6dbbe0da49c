from __future__ import annotations

import logging
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations.shopify.app_config import AppConfig, load_app_config
from shop_app.errors import AppError
from shop_app.lifespan import build_lifespan
from shop_app.observability.metrics import record_metrics
from shop_app.routes import (
    api,
    connectors,
    console,
    email_settings,
    embedded_admin,
    health,
    line,
    live,
    metrics,
    oauth,
    widget,
    zendesk,
)
from shop_app.routes.admin import connectors as admin_connectors
from shop_app.routes.admin import faq as admin_faq
from shop_app.routes.admin import insights as admin_insights
from shop_app.routes.admin import notices as admin_notices
from shop_app.routes.request_observation import ObservedRequests
from shop_app.routes.shoppers import csat, notices
from shop_app.routes.webhooks import webhook_routes
from shop_app.settings import Settings

logger = logging.getLogger(__name__)

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if _wants_html(request):
        templates: Jinja2Templates = request.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": exc.message, "code": exc.code},
            status_code=exc.http_status,
            headers=exc.headers,
        )
    body = {"error": {"code": exc.code, "message": exc.message}}
    return JSONResponse(body, status_code=exc.http_status, headers=exc.headers)


async def client_disconnected(request: Request, exc: Exception) -> Response:
    """A client gone before its request body arrived in full: nothing to answer, nothing went wrong."""
    assert isinstance(exc, ClientDisconnect)
    logger.debug(
        "client disconnected before its request body ended method=%s path=%s",
        request.method,
        request.url.path,
    )
    return Response(status_code=400)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": {"code": "http_error", "message": exc.detail}},
        status_code=exc.status_code,
        headers=exc.headers,
    )


class SecurityHeaders:
    """Conservative headers on every answer; embedded pages set their own frame-ancestors policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                names = {name.lower() for name, _ in headers}
                defaults = {
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"strict-origin-when-cross-origin",
                    b"content-security-policy": b"frame-ancestors 'none';",
                }
                headers.extend((name, value) for name, value in defaults.items() if name not in names)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings, *, app_config: AppConfig | None = None, http: httpx.AsyncClient | None = None
) -> Starlette:
    config = app_config or load_app_config(settings.app_config_path)
    record_metrics(settings.metrics_enabled)
    templates = Jinja2Templates(directory=str(FRONTEND / "templates"))
    # the webhooks first: Starlette tries the routes in order, and they are the busiest by far (at line
    # rate, matching them last cost more than the rest of the routing)
    routes = [
        *webhook_routes(config),
        *health.routes,
        *oauth.routes,
        *embedded_admin.routes,
        *admin_faq.routes,
        *email_settings.routes,
        *live.routes,
        *api.routes,
        *console.routes,
        *widget.routes,
        *csat.routes,
        *admin_insights.routes,
        *line.routes,
        *notices.routes,
        *admin_notices.routes,
        *connectors.routes,
        *zendesk.routes,
        *admin_connectors.routes,
        *(metrics.routes if settings.metrics_token else ()),
        Mount("/static", StaticFiles(directory=str(FRONTEND / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(ObservedRequests), Middleware(SecurityHeaders)],
        exception_handlers={
            AppError: app_error,
            HTTPException: http_error,
            ClientDisconnect: client_disconnected,
        },
        lifespan=build_lifespan(settings, app_config=config, templates=templates, http=http),
    )


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory`` and ``shop-app serve``: settings are read once, here."""
    from shop_app.logging_config import configure_logging
    from shop_app.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)

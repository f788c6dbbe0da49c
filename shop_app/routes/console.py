"""The agent console: the sign-in page and the one-page app. Both are shells; their scripts talk to
``/api/v1`` (the session cookie, a CSRF header on writes) and to ``/api/v1/events`` for live updates.

Pages carry a strict Content-Security-Policy: scripts, styles and connections only from this origin, no
inline script, never framed. Data reaches the scripts in ``data-*`` attributes, escaped by Jinja.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from shop_app.errors import Forbidden, Unauthorized
from shop_app.helpdesk.agents import set_agent_locale
from shop_app.i18n import (
    LOCALE_COOKIE,
    LOCALE_COOKIE_MAX_AGE_SECONDS,
    catalogue,
    choose_locale,
    supported_locale,
)
from shop_app.routes.api.auth import Caller, authenticate
from shop_app.routes.request_state import services, templates

CONSOLE_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
LOGIN_PATH = "/console/login"
CONSOLE_PATH = "/console"


async def _signed_in_agent(request: Request) -> Caller | None:
    """The signed-in agent, or ``None`` for anyone else: a page never answers with a JSON error."""
    if request.headers.get("authorization"):
        return None  # pages are for browsers with the session cookie, not for keys or tokens
    try:
        caller = await authenticate(request)
    except (Unauthorized, Forbidden):
        return None
    return caller if caller.agent is not None else None


def _locale(request: Request, *, agent_locale: str | None) -> str:
    return choose_locale(
        requested=request.query_params.get("lang"),
        cookie=request.cookies.get(LOCALE_COOKIE),
        agent_locale=agent_locale,
        accept_language=request.headers.get("accept-language"),
    )


def _page(request: Request, template: str, *, locale: str, context: dict[str, Any]) -> Response:
    messages = catalogue(locale)
    response = templates(request).TemplateResponse(
        request,
        template,
        {"locale": locale, "t": messages.text, "messages_json": messages.as_json(), **context},
    )
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    response.headers["Cache-Control"] = "no-store"
    if supported_locale(request.query_params.get("lang")) == locale:
        # the agent switched language: remember it for the next pages
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=LOCALE_COOKIE_MAX_AGE_SECONDS,
            path=CONSOLE_PATH,
            httponly=True,
            samesite="lax",
        )
    return response


async def login_page(request: Request) -> Response:
    if await _signed_in_agent(request) is not None:
        return RedirectResponse(CONSOLE_PATH, status_code=303)
    locale = _locale(request, agent_locale=None)
    return _page(
        request,
        "console/login.html",
        locale=locale,
        context={"shop_domain": request.query_params.get("shop", "")[:255]},
    )


async def console_page(request: Request) -> Response:
    caller = await _signed_in_agent(request)
    if caller is None or caller.agent is None:
        lang = supported_locale(request.query_params.get("lang"))
        return RedirectResponse(LOGIN_PATH + (f"?lang={lang}" if lang else ""), status_code=303)
    switched = supported_locale(request.query_params.get("lang"))
    if switched is not None and switched != caller.agent.locale and caller.agent.id is not None:
        # the agent's choice is theirs, not only this browser's: the next sign-in anywhere opens in it
        async with services(request).sessions() as session, session.begin():
            await set_agent_locale(session, agent_id=caller.agent.id, locale=switched)
    locale = _locale(request, agent_locale=caller.agent.locale)
    return _page(
        request,
        "console/app.html",
        locale=locale,
        context={
            "agent": caller.agent,
            "shop": caller.shop,
            "role": caller.role.value,
            "timezone": caller.shop.iana_timezone or "UTC",
        },
    )


routes: list[BaseRoute] = [
    Route(LOGIN_PATH, login_page, methods=["GET"]),
    Route(CONSOLE_PATH, console_page, methods=["GET"]),
]

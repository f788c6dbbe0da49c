"""Agent sign-in for the console: a cookie session bound to one shop, and the CSRF token writes need.
Failed sign-ins are limited per account and per client address (``helpdesk/sign_in_limits.py``); the
address is the connection's, as uvicorn reports it (``X-Forwarded-For`` only from trusted proxies)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from integrations.shopify.errors import InvalidShopDomain
from integrations.shopify.shop_domains import normalise_shop_domain
from shop_app.errors import Unauthorized
from shop_app.helpdesk.agents import (
    SESSION_LIFETIME_SECONDS,
    agent_label,
    csrf_token,
    end_session,
    set_agent_locale,
    sign_in,
)
from shop_app.helpdesk.sign_in_limits import begin_sign_in, sign_in_keys, sign_in_succeeded
from shop_app.models import Agent, Role, Shop
from shop_app.routes.api.auth import SESSION_COOKIE, authenticate
from shop_app.routes.api.io import Endpoint, JSONModelResponse, read_body
from shop_app.routes.request_state import services
from shop_app.schemas.tickets import SessionAgent, SessionOut, ShopOut, SignInIn


def _session_out(agent: Agent, shop: Shop, role: Role, token: str, key: str) -> SessionOut:
    assert agent.id is not None
    assert shop.id is not None
    return SessionOut(
        agent=SessionAgent(id=agent.id, name=agent_label(agent), email=agent.email, locale=agent.locale),
        shop=ShopOut(id=shop.id, domain=shop.domain, name=shop.name),
        role=role,
        csrf_token=csrf_token(token, key=key),
    )


async def sign_in_endpoint(request: Request) -> Response:
    body = await read_body(request, SignInIn)
    app = services(request)
    address = request.client.host if request.client else "unknown"
    keys = sign_in_keys(shop=body.shop, email=body.email, address=address, key=app.digest_key)
    async with app.sessions() as session, session.begin():
        pending = await begin_sign_in(session, keys=keys)
    try:
        domain = normalise_shop_domain(body.shop)
    except InvalidShopDomain:
        raise Unauthorized("The shop, email or password is not right", code="invalid_credentials") from None
    async with app.sessions() as session, session.begin():
        signed_in = await sign_in(session, shop_domain=domain, email=body.email, password=body.password)
        await sign_in_succeeded(session, pending=pending)
        if body.locale is not None:
            # the language of the page the agent signed in on is theirs: the console opens in it
            assert signed_in.agent.id is not None
            await set_agent_locale(session, agent_id=signed_in.agent.id, locale=body.locale)
    response = JSONModelResponse(
        _session_out(signed_in.agent, signed_in.shop, signed_in.role, signed_in.token, app.digest_key)
    )
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=SESSION_LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",
        secure=app.settings.app_url.startswith("https://"),
        path="/",
    )
    return response


async def session_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    token = request.cookies.get(SESSION_COOKIE)
    if caller.agent is None or token is None:
        raise Unauthorized("This is for signed-in agents", code="not_signed_in")
    return JSONModelResponse(
        _session_out(caller.agent, caller.shop, caller.role, token, services(request).digest_key)
    )


async def sign_out_endpoint(request: Request) -> Response:
    await authenticate(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with services(request).sessions() as session, session.begin():
            await end_session(session, token=token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/session",
        sign_in_endpoint,
        "Sign an agent in to one shop (sets the session cookie)",
        "session",
        body=SignInIn,
        response=SessionOut,
        auth=False,
        responses={
            401: "Wrong shop, email or password",
            429: "Too many failed sign-ins from this address or for this account: wait for Retry-After "
            "seconds",
        },
    ),
    Endpoint(
        "GET", "/api/v1/session", session_endpoint, "The signed-in agent", "session", response=SessionOut
    ),
    Endpoint("DELETE", "/api/v1/session", sign_out_endpoint, "Sign out", "session", status=204),
]

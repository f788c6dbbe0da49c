"""Who is calling the API: a signed-in agent (cookie + CSRF header on writes), a bot or helpdesk (API key),
or the merchant in the embedded admin (App Bridge session token). Every caller is bound to one shop."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from shop_app.errors import Forbidden, Unauthorized
from shop_app.helpdesk.agents import csrf_matches, resolve_session
from shop_app.helpdesk.api_keys import looks_like_api_key, resolve_api_key
from shop_app.models import Agent, ApiKey, Role, Shop
from shop_app.routes.embedded_admin import authenticate_admin
from shop_app.routes.request_state import services

SESSION_COOKIE = "shop_app_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Caller:
    shop: Shop
    role: Role
    agent: Agent | None = None
    api_key: ApiKey | None = None

    @property
    def shop_id(self) -> int:
        assert self.shop.id is not None
        return self.shop.id

    @property
    def agent_id(self) -> int | None:
        return self.agent.id if self.agent else None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


async def authenticate(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthorized("Use 'Authorization: Bearer <key or token>'", code="invalid_authorization")
        credential = credential.strip()
        if looks_like_api_key(credential):
            return await _api_key_caller(request, credential)
        return await _embedded_admin_caller(request)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("Sign in, or send an API key", code="not_signed_in")
    app = services(request)
    async with app.sessions() as session:
        signed_in = await resolve_session(session, token=token)
    if request.method not in SAFE_METHODS and not csrf_matches(
        token, request.headers.get(CSRF_HEADER, ""), key=app.digest_key
    ):
        raise Forbidden("The request did not come from the console", code="csrf_failed")
    return Caller(shop=signed_in.shop, role=signed_in.role, agent=signed_in.agent)


async def _api_key_caller(request: Request, key: str) -> Caller:
    async with services(request).sessions() as session, session.begin():
        api_key, shop = await resolve_api_key(session, key=key)
    return Caller(shop=shop, role=Role.AGENT, api_key=api_key)


async def _embedded_admin_caller(request: Request) -> Caller:
    admin = await authenticate_admin(request)
    return Caller(shop=admin.shop, role=Role.ADMIN)


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("Only the shop's admins can do this", code="admin_only")

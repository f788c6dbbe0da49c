"""Shopify's app proxy, as the store runs it: ``/s/{shop}/apps/{subpath}/…`` on the storefront is forwarded
to the app's proxy URL with ``shop``, ``logged_in_customer_id`` (empty for visitors), ``path_prefix``,
``timestamp`` and ``signature`` added to the query.

The signature is the hex HMAC-SHA256, keyed with the app's secret, of every other query parameter as
``key=value`` sorted by key, joined with no separator (a repeated key's values joined by commas). The store
signs with its own code: it stands where Shopify stands and imports nothing of the app.

The demo storefront's "signed-in customer" is a cookie set by ``/s/{shop}/account/login`` (a stand-in for
Shopify's customer accounts); only this proxy turns it into a signed ``logged_in_customer_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from devstore.config import AppProxy
from devstore.oauth import form_fields
from devstore.state import StoreState

logger = logging.getLogger(__name__)

CUSTOMER_COOKIE = "devstore_customer"
PROXY_ADDED_PARAMS = frozenset({"shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature"})
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language", "x-widget-session", "user-agent")
FORWARDED_RESPONSE_HEADERS = ("content-type", "cache-control", "retry-after")
MAX_PROXY_BODY_BYTES = 64 * 1024
PROXY_TIMEOUT_SECONDS = 15.0


def proxy_message(pairs: Iterable[tuple[str, str]]) -> str:
    joined: dict[str, list[str]] = {}
    for key, value in pairs:
        if key != "signature":
            joined.setdefault(key, []).append(value)
    return "".join(f"{key}={','.join(values)}" for key, values in sorted(joined.items()))


def proxy_signature(pairs: Sequence[tuple[str, str]], secret: str) -> str:
    return hmac.new(secret.encode(), proxy_message(pairs).encode(), hashlib.sha256).hexdigest()


def signed_proxy_query(
    pairs: Sequence[tuple[str, str]],
    *,
    shop: str,
    customer_id: int | None,
    path_prefix: str,
    now: float,
    secret: str,
) -> list[tuple[str, str]]:
    """The storefront's own query without anything it tried to pass off as Shopify's, then Shopify's
    parameters and their signature."""
    kept = [(key, value) for key, value in pairs if key not in PROXY_ADDED_PARAMS]
    kept += [
        ("shop", shop),
        ("logged_in_customer_id", str(customer_id) if customer_id is not None else ""),
        ("path_prefix", path_prefix),
        ("timestamp", str(int(now))),
    ]
    return [*kept, ("signature", proxy_signature(kept, secret))]


def customer_gid(customer_id: int) -> str:
    return f"gid://shopify/Customer/{customer_id}"


def signed_in_customer(state: StoreState, request: Request, shop: str) -> int | None:
    raw = request.cookies.get(CUSTOMER_COOKIE, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    customer_id = int(raw)
    return customer_id if state.records.get(shop, customer_gid(customer_id)) is not None else None


def customer_email(doc: Mapping[str, Any]) -> str:
    """A customer's email as the store keeps it (``defaultEmailAddress``, as the Admin API returns it)."""
    return str((doc.get("defaultEmailAddress") or {}).get("emailAddress") or "")


def find_customer(state: StoreState, shop: str, who: str) -> int | None:
    """A customer of the shop by numeric id or email (the demo's stand-in for signing in)."""
    who = who.strip()
    if who.isascii() and who.isdigit() and len(who) <= 19:
        return int(who) if state.records.get(shop, customer_gid(int(who))) is not None else None
    wanted = who.lower()
    if not wanted:
        return None
    for doc in state.records.iter_type(shop, "Customer"):
        if customer_email(doc).lower() == wanted:
            return int(str(doc["id"]).rsplit("/", 1)[-1])
    return None


def routes(state: StoreState) -> list[BaseRoute]:
    def app_for(shop: str, subpath: str) -> tuple[AppProxy, str] | None:
        for client_id, proxy in state.config.app_proxies.items():
            secret = state.config.secret_for(client_id)
            if proxy.subpath == subpath and secret and state.tokens.install(shop, client_id) is not None:
                return proxy, secret
        return None

    async def forward(request: Request) -> Response:
        shop = request.path_params["shop"]
        subpath = request.path_params["subpath"]
        found = app_for(shop, subpath) if shop in state.known_shops() else None
        if found is None:
            return Response("Not Found", status_code=404)
        proxy, secret = found
        body = await request.body()
        if len(body) > MAX_PROXY_BODY_BYTES:
            return Response("Payload Too Large", status_code=413)
        query = signed_proxy_query(
            request.query_params.multi_items(),
            shop=shop,
            customer_id=signed_in_customer(state, request, shop),
            path_prefix=f"/{proxy.prefix}/{subpath}",
            now=state.clock(),
            secret=secret,
        )
        headers = {
            name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers
        }
        if request.client is not None:
            headers["x-forwarded-for"] = request.client.host
        target = f"{proxy.url.rstrip('/')}/{request.path_params['rest']}"
        try:
            answer = await state.http.request(
                request.method,
                target,
                params=tuple(query),
                content=body,
                headers=headers,
                timeout=PROXY_TIMEOUT_SECONDS,
                follow_redirects=False,
            )
        except httpx.HTTPError as error:
            logger.warning(
                "app proxy failed shop=%s subpath=%s error=%s", shop, subpath, type(error).__name__
            )
            return Response("Bad Gateway", status_code=502)
        kept = {name: answer.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in answer.headers}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    async def login(request: Request) -> Response:
        shop = request.path_params["shop"]
        if shop not in state.known_shops():
            return Response("Not Found", status_code=404)
        # a urlencoded form, read by the store itself (Starlette's request.form() needs python-multipart)
        form = await form_fields(request) if request.method == "POST" else dict(request.query_params)
        customer_id = find_customer(state, shop, form.get("customer", ""))
        response = RedirectResponse(f"/s/{shop}/", status_code=303)
        if customer_id is None:
            return RedirectResponse(f"/s/{shop}/?login=failed", status_code=303)
        response.set_cookie(
            CUSTOMER_COOKIE, str(customer_id), path=f"/s/{shop}", httponly=True, samesite="lax"
        )
        return response

    async def logout(request: Request) -> Response:
        shop = request.path_params["shop"]
        response = RedirectResponse(f"/s/{shop}/", status_code=303)
        response.delete_cookie(CUSTOMER_COOKIE, path=f"/s/{shop}")
        return response

    return [
        Route("/s/{shop}/apps/{subpath}/{rest:path}", forward, methods=["GET", "POST"]),
        Route("/s/{shop}/account/login", login, methods=["GET", "POST"]),
        Route("/s/{shop}/account/logout", logout, methods=["GET", "POST"]),
    ]

"""Shopify's OAuth endpoints: the authorize page and ``POST /admin/oauth/access_token`` with the
authorization-code, refresh-token and token-exchange grants, answering errors as Shopify does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from devstore.state import StoreState
from devstore.storefront import templates
from devstore.tokens import IssuedTokens, OAuthError, verify_session_token

logger = logging.getLogger(__name__)

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN, not a secret)
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 (a URN, not a secret)
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105 (a URN, not a secret)
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"  # noqa: S105 (a URN, not a secret)
NON_EXPIRING_REFUSED = (
    "Non-expiring access tokens are no longer accepted for new public apps. Request an expiring offline "
    "access token with expiring=1."
)
# Shopify managed installation grants the scopes the app's configuration declares.
MANAGED_INSTALL_SCOPES = (
    "read_orders,read_all_orders,read_customers,read_products,read_inventory,read_locations,"
    "read_fulfillments,read_merchant_managed_fulfillment_orders,read_assigned_fulfillment_orders,"
    "read_third_party_fulfillment_orders,read_locales,read_legal_policies"
)


def _escape(text: str, *, is_key: bool) -> str:
    escaped = text.replace("%", "%25").replace("&", "%26")
    return escaped.replace("=", "%3D") if is_key else escaped


def sign_query(params: Mapping[str, str], secret: str) -> str:
    """Hex HMAC-SHA256 over the parameters but ``hmac``/``signature``, sorted, joined ``k=v`` by ``&``."""
    message = "&".join(
        f"{_escape(key, is_key=True)}={_escape(value, is_key=False)}"
        for key, value in sorted(params.items())
        if key not in {"hmac", "signature"}
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def host_param(shop: str) -> str:
    """The ``host`` parameter: base64 of the shop's admin address, as Shopify sends it (no padding)."""
    handle = shop.split(".", 1)[0]
    return base64.b64encode(f"admin.shopify.com/store/{handle}".encode()).decode().rstrip("=")


def signed_redirect(redirect_uri: str, params: Mapping[str, str], secret: str) -> str:
    query = urlencode({**params, "hmac": sign_query(params, secret)})
    return f"{redirect_uri}{'&' if urlsplit(redirect_uri).query else '?'}{query}"


def _error_page(request: Request, message: str, status: int) -> Response:
    return templates.TemplateResponse(request, "oauth_error.html", {"message": message}, status_code=status)


def routes(state: StoreState) -> list[BaseRoute]:
    def known_shop(shop: str) -> bool:
        return shop in state.known_shops()

    def callback_url(shop: str, client_id: str, redirect_uri: str, scope: str, nonce: str) -> str:
        secret = state.config.secret_for(client_id) or ""
        code = state.tokens.issue_code(shop=shop, client_id=client_id, scope=scope)
        params = {
            "code": code,
            "host": host_param(shop),
            "shop": shop,
            "state": nonce,
            "timestamp": str(int(state.clock())),
        }
        logger.info("oauth authorization granted shop=%s client_id=%s", shop, client_id)
        return signed_redirect(redirect_uri, params, secret)

    async def authorize(request: Request) -> Response:
        shop = request.path_params["shop"]
        if not known_shop(shop):
            return _error_page(request, "This shop does not exist.", 404)
        params = dict(request.query_params) if request.method == "GET" else await form_fields(request)
        client_id = str(params.get("client_id") or "")
        redirect_uri = str(params.get("redirect_uri") or "")
        scope = str(params.get("scope") or "")
        nonce = str(params.get("state") or "")
        if state.config.secret_for(client_id) is None:
            return _error_page(request, "Oauth error invalid_request: The client_id is invalid.", 400)
        if not redirect_uri.startswith(("http://", "https://")):
            return _error_page(
                request, "Oauth error invalid_request: The redirect_uri is missing or invalid.", 400
            )
        if request.method == "POST" or state.config.auto_approve:
            if request.method == "POST" and params.get("decision") != "approve":
                query = urlencode({"error": "access_denied", "state": nonce})
                return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)
            return RedirectResponse(
                callback_url(shop, client_id, redirect_uri, scope, nonce), status_code=302
            )
        context = {
            "shop": shop,
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "scopes": [s for s in scope.split(",") if s],
            "nonce": nonce,
        }
        return templates.TemplateResponse(request, "authorize.html", context)

    async def access_token(request: Request) -> Response:
        shop = request.path_params["shop"]
        if not known_shop(shop):
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        try:
            params = await _body_params(request)
            tokens = _grant(state, shop, params)
        except OAuthError as error:
            logger.info("oauth token request refused shop=%s error=%s", shop, error.error)
            return JSONResponse(error.as_json(), status_code=error.status)
        return JSONResponse(tokens.as_json())

    return [
        Route("/s/{shop}/admin/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/s/{shop}/admin/oauth/access_token", access_token, methods=["POST"]),
    ]


async def _body_params(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            data: Any = json.loads(await request.body())
        except ValueError:
            raise OAuthError("invalid_request", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise OAuthError("invalid_request", "The request body must be a JSON object.")
        return {str(k): str(v) for k, v in data.items() if v is not None}
    return await form_fields(request)


async def form_fields(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (parsed here: python-multipart is not a dependency)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _grant(state: StoreState, shop: str, params: Mapping[str, str]) -> IssuedTokens:
    client_id = params.get("client_id", "")
    expected = state.config.secret_for(client_id)
    given = params.get("client_secret", "")
    if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
        raise OAuthError(
            "invalid_client", "Client authentication failed: the client id or secret is invalid."
        )
    grant_type = params.get("grant_type", "authorization_code")
    if grant_type == "refresh_token":
        refresh_token = params.get("refresh_token", "")
        if not refresh_token:
            raise OAuthError("invalid_request", "The refresh_token parameter is missing.")
        return state.tokens.refresh(shop=shop, client_id=client_id, refresh_token=refresh_token)
    if params.get("expiring") != "1":
        raise OAuthError("invalid_request", NON_EXPIRING_REFUSED)
    if grant_type == "authorization_code":
        code = params.get("code", "")
        if not code:
            raise OAuthError("invalid_request", "The code parameter is missing.")
        return state.tokens.redeem_code(shop=shop, client_id=client_id, code=code)
    if grant_type == TOKEN_EXCHANGE_GRANT:
        return _token_exchange(state, shop, client_id, expected, params)
    raise OAuthError("unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")


def _token_exchange(
    state: StoreState, shop: str, client_id: str, secret: str, params: Mapping[str, str]
) -> IssuedTokens:
    if params.get("subject_token_type", ID_TOKEN_TYPE) != ID_TOKEN_TYPE:
        raise OAuthError("invalid_request", "subject_token_type must be an id_token.")
    if params.get("requested_token_type", OFFLINE_TOKEN_TYPE) != OFFLINE_TOKEN_TYPE:
        raise OAuthError("invalid_request", "Only offline access tokens can be requested from this store.")
    verify_session_token(
        params.get("subject_token", ""), shop=shop, client_id=client_id, secret=secret, now=state.clock()
    )
    install = state.tokens.install(shop, client_id)
    scope = install.scope if install is not None else MANAGED_INSTALL_SCOPES
    logger.info("oauth token exchange shop=%s client_id=%s", shop, client_id)
    return state.tokens.issue_tokens(shop=shop, client_id=client_id, scope=scope)

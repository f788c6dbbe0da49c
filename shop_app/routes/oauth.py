"""The authorization code grant, for installs that do not come through Shopify's managed install."""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from integrations.shopify.errors import InvalidShopDomain, OAuthError, ShopifyUnavailable
from integrations.shopify.oauth import CallbackRejection, authorize_url, verify_callback
from integrations.shopify.shop_domains import normalise_shop_domain
from shop_app.database import transaction
from shop_app.errors import BadRequest, Forbidden, Unauthorized, Unavailable
from shop_app.jobs.tasks import TaskName
from shop_app.routes.request_state import jobs, services
from shop_app.shops.installation import install_shop
from shop_app.shops.oauth_states import consume_state, issue_state

logger = logging.getLogger(__name__)

BROWSER_COOKIE = "shop_app_oauth"
CALLBACK_PATH = "/auth/callback"


def _shop_param(request: Request) -> str:
    try:
        return normalise_shop_domain(request.query_params.get("shop"))
    except InvalidShopDomain:
        raise BadRequest("The shop must be a *.myshopify.com domain", code="invalid_shop") from None


async def install(request: Request) -> Response:
    shop = _shop_param(request)
    app = services(request)
    browser_secret = secrets.token_urlsafe(32)
    async with transaction(app.sessions) as session:
        nonce = await issue_state(
            session,
            shop_domain=shop,
            browser_secret=browser_secret,
            ttl_seconds=app.settings.oauth_state_ttl_seconds,
        )
    url = authorize_url(
        shop_url=app.settings.shop_url(shop),
        client_id=app.settings.api_key,
        scopes=app.app_config.scopes,
        redirect_uri=app.settings.app_url + CALLBACK_PATH,
        state=nonce,
    )
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        BROWSER_COOKIE,
        browser_secret,
        max_age=app.settings.oauth_state_ttl_seconds,
        path="/auth",
        httponly=True,
        secure=app.settings.app_url.startswith("https://"),
        samesite="lax",
    )
    return response


_REJECTIONS = {
    CallbackRejection.BAD_HMAC: Unauthorized("The request signature is not valid", code="invalid_hmac"),
    CallbackRejection.BAD_SHOP: BadRequest("The shop must be a *.myshopify.com domain", code="invalid_shop"),
    CallbackRejection.STALE_TIMESTAMP: BadRequest(
        "The request is too old; install again", code="stale_request"
    ),
    CallbackRejection.MISSING_CODE: BadRequest("The authorization code is missing", code="missing_code"),
}


async def callback(request: Request) -> Response:
    app = services(request)
    params = list(request.query_params.multi_items())
    result = verify_callback(params, secrets=[s.reveal() for s in app.settings.api_secrets])
    if result.rejection is not None:
        logger.warning("oauth callback rejected reason=%s", result.rejection)
        raise _REJECTIONS[result.rejection]
    async with transaction(app.sessions) as session:
        state_ok = await consume_state(
            session,
            nonce=result.state,
            browser_secret=request.cookies.get(BROWSER_COOKIE, ""),
            shop_domain=result.shop,
        )
    if not state_ok:
        logger.warning("oauth callback rejected reason=bad_state shop=%s", result.shop)
        raise Forbidden(
            "This install link was already used, has expired, or belongs to another browser",
            code="invalid_state",
        )
    try:
        token = await app.oauth.exchange_code(result.shop, result.code)
    except OAuthError as error:
        logger.warning("code exchange refused shop=%s error=%s", result.shop, error.error)
        raise Unauthorized(
            "Shopify refused the authorization code; install again", code="code_refused"
        ) from None
    except ShopifyUnavailable:
        raise Unavailable("Shopify could not be reached; try again", code="shopify_unavailable") from None
    async with transaction(app.sessions) as session:
        shop = await install_shop(session, domain=result.shop, token=token, cipher=app.cipher)
        shop_id = shop.id
    if app.settings.register_webhooks:
        await jobs(request).enqueue(TaskName.REGISTER_WEBHOOKS, shop_id=shop_id)
    await jobs(request).enqueue(TaskName.SYNC_SHOP, shop_id=shop_id)
    response = RedirectResponse(f"/app?shop={result.shop}", status_code=302)
    response.delete_cookie(BROWSER_COOKIE, path="/auth")
    return response


routes = [
    Route("/auth/install", install, methods=["GET"]),
    Route("/auth", install, methods=["GET"], name="auth"),
    Route(CALLBACK_PATH, callback, methods=["GET"]),
]

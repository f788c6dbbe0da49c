from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import update

from shop_app.database import transaction
from shop_app.models import OAuthState, ShopCredential, ShopStatus
from shop_app.models.base import utcnow
from shop_app.routes.oauth import BROWSER_COOKIE
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.app.database_checks import all_rows, row_counts
from tests.conftest import FakeShopify
from tests.factories import BAD_SHOP_DOMAINS, form_of, signed_query, token_payload

NEW_TOKEN = "shpat_from_code_exchange_4242"
NEW_REFRESH = "shprt_from_code_exchange_4242"


def token_endpoint(shopify: FakeShopify) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/admin/oauth/access_token":
            return httpx.Response(200, json=token_payload(access_token=NEW_TOKEN, refresh_token=NEW_REFRESH))
        return httpx.Response(404)

    return answer


def code_exchanges(shopify: FakeShopify) -> list[httpx.Request]:
    return [r for r in shopify.requests if r.url.path == "/admin/oauth/access_token"]


async def start_install(app: RunningApp, shop: str) -> str:
    """Visit the install route; the state nonce it put in the authorize URL."""
    response = await app.client.get("/auth/install", params={"shop": shop})
    assert response.status_code == 302
    return httpx.URL(response.headers["location"]).params["state"]


def callback_query(shop: str, state: str, *, timestamp: float | None = None, **extra: str) -> dict[str, str]:
    params = {
        "code": "auth-code-123",
        "shop": shop,
        "state": state,
        "timestamp": str(int(time.time() if timestamp is None else timestamp)),
        "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWxwaGE",
        **extra,
    }
    return signed_query(params)


async def test_install_redirects_to_the_shops_authorize_url(app: RunningApp) -> None:
    response = await app.client.get("/auth/install", params={"shop": "Alpha.myshopify.com"})
    assert response.status_code == 302
    url = httpx.URL(response.headers["location"])
    assert (url.scheme, url.host, url.path) == ("https", ALPHA, "/admin/oauth/authorize")
    params = dict(url.params)
    assert params["client_id"] == app.services.settings.api_key
    assert params["scope"].split(",") == list(app.services.app_config.scopes)
    assert params["redirect_uri"] == "https://app.example.test/auth/callback"
    assert len(params["state"]) >= 32
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{BROWSER_COOKIE}=")
    assert "HttpOnly" in cookie and "Secure" in cookie and "Path=/auth" in cookie
    assert params["state"] not in cookie


async def test_each_install_gets_its_own_state(app: RunningApp) -> None:
    assert await start_install(app, ALPHA) != await start_install(app, ALPHA)


@pytest.mark.parametrize("shop", BAD_SHOP_DOMAINS)
async def test_install_for_a_bad_shop_is_refused_before_anything_happens(
    app: RunningApp, shopify: FakeShopify, database_url: str, shop: str | None
) -> None:
    before = row_counts(database_url)
    params = {} if shop is None else {"shop": shop}
    response = await app.client.get("/auth/install", params=params)
    assert response.status_code == 400
    assert "set-cookie" not in response.headers
    assert shopify.requests == []
    assert row_counts(database_url) == before


async def test_callback_exchanges_the_code_and_stores_the_token_encrypted(
    app: RunningApp, shopify: FakeShopify, database_url: str
) -> None:
    # given
    shopify.handler = token_endpoint(shopify)
    state = await start_install(app, ALPHA)
    # when
    response = await app.client.get("/auth/callback", params=callback_query(ALPHA, state))
    # then
    assert response.status_code == 302, response.text
    assert response.headers["location"] == f"/app?shop={ALPHA}"
    [exchange] = code_exchanges(shopify)
    assert exchange.url.host == ALPHA
    assert form_of(exchange) == {
        "client_id": app.services.settings.api_key,
        "client_secret": app.services.settings.api_secret.reveal(),
        "code": "auth-code-123",
        "expiring": "1",
    }
    shop = await app.shop(ALPHA)
    assert shop is not None and shop.status == ShopStatus.INSTALLED
    raw = repr(all_rows(database_url))
    assert NEW_TOKEN not in raw and NEW_REFRESH not in raw
    [credential] = await app.rows(ShopCredential, shop)
    opened = app.services.cipher.decrypt(credential.ciphertext)
    assert NEW_TOKEN in opened and NEW_REFRESH in opened
    assert await app.services.access_tokens.for_shop(shop) == NEW_TOKEN


async def test_callback_reinstalls_a_shop_without_touching_another(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    shopify.handler = token_endpoint(shopify)
    state = await start_install(app, ALPHA)
    response = await app.client.get("/auth/callback", params=callback_query(ALPHA, state))
    assert response.status_code == 302
    assert await app.services.access_tokens.for_shop(shops.alpha) == NEW_TOKEN
    assert await app.services.access_tokens.for_shop(shops.beta) == "shpat_beta"


async def test_replayed_state_is_refused_without_a_second_code_exchange(
    app: RunningApp, shopify: FakeShopify, database_url: str
) -> None:
    # given
    shopify.handler = token_endpoint(shopify)
    query = callback_query(ALPHA, await start_install(app, ALPHA))
    assert (await app.client.get("/auth/callback", params=query)).status_code == 302
    before = row_counts(database_url)
    # when
    replay = await app.client.get("/auth/callback", params=query)
    # then
    assert replay.status_code == 403
    assert len(code_exchanges(shopify)) == 1
    assert row_counts(database_url) == before


async def test_state_from_another_browser_is_refused(
    app: RunningApp, shopify: FakeShopify, database_url: str
) -> None:
    shopify.handler = token_endpoint(shopify)
    state = await start_install(app, ALPHA)
    app.client.cookies.clear()
    app.client.cookies.set(BROWSER_COOKIE, "another-browsers-secret", domain="app.example.test", path="/auth")
    before = row_counts(database_url)
    response = await app.client.get("/auth/callback", params=callback_query(ALPHA, state))
    assert response.status_code == 403
    assert shopify.requests == []
    assert row_counts(database_url) == before


async def test_state_without_the_browser_cookie_is_refused(app: RunningApp, shopify: FakeShopify) -> None:
    state = await start_install(app, ALPHA)
    app.client.cookies.clear()
    response = await app.client.get("/auth/callback", params=callback_query(ALPHA, state))
    assert response.status_code == 403
    assert shopify.requests == []


async def test_state_issued_for_another_shop_is_refused(app: RunningApp, shopify: FakeShopify) -> None:
    shopify.handler = token_endpoint(shopify)
    state = await start_install(app, ALPHA)
    response = await app.client.get("/auth/callback", params=callback_query(BETA, state))
    assert response.status_code == 403
    assert shopify.requests == []


async def test_expired_state_is_refused(app: RunningApp, shopify: FakeShopify, database_url: str) -> None:
    shopify.handler = token_endpoint(shopify)
    state = await start_install(app, ALPHA)
    async with transaction(app.services.sessions) as session:
        await session.execute(update(OAuthState).values(expires_at=utcnow()))
    before = row_counts(database_url)
    response = await app.client.get("/auth/callback", params=callback_query(ALPHA, state))
    assert response.status_code == 403
    assert shopify.requests == []
    assert row_counts(database_url) == before


async def test_callback_with_a_bad_hmac_is_rejected(
    app: RunningApp, shopify: FakeShopify, database_url: str
) -> None:
    query = callback_query(ALPHA, await start_install(app, ALPHA))
    query["hmac"] = ("0" if query["hmac"][0] != "0" else "1") + query["hmac"][1:]
    before = row_counts(database_url)
    response = await app.client.get("/auth/callback", params=query)
    assert response.status_code == 401
    assert shopify.requests == []
    assert row_counts(database_url) == before


async def test_callback_with_a_changed_parameter_is_rejected(app: RunningApp, shopify: FakeShopify) -> None:
    query = callback_query(ALPHA, await start_install(app, ALPHA))
    query["code"] = "a-different-code"
    response = await app.client.get("/auth/callback", params=query)
    assert response.status_code == 401
    assert shopify.requests == []


async def test_callback_signed_with_an_unknown_secret_is_rejected(
    app: RunningApp, shopify: FakeShopify
) -> None:
    state = await start_install(app, ALPHA)
    params = {k: v for k, v in callback_query(ALPHA, state).items() if k != "hmac"}
    response = await app.client.get(
        "/auth/callback", params=signed_query(params, "shpss_not_ours_000000000000")
    )
    assert response.status_code == 401
    assert shopify.requests == []


@pytest.mark.parametrize("age_seconds", [-200, 200, 3600])
async def test_callback_with_a_stale_timestamp_is_rejected(
    app: RunningApp, shopify: FakeShopify, database_url: str, age_seconds: int
) -> None:
    state = await start_install(app, ALPHA)
    before = row_counts(database_url)
    query = callback_query(ALPHA, state, timestamp=time.time() - age_seconds)
    response = await app.client.get("/auth/callback", params=query)
    assert response.status_code == 400
    assert shopify.requests == []
    assert row_counts(database_url) == before


@pytest.mark.parametrize("shop", [s for s in BAD_SHOP_DOMAINS if s is not None])
async def test_correctly_signed_callback_for_a_bad_shop_is_rejected(
    app: RunningApp, shopify: FakeShopify, database_url: str, shop: str
) -> None:
    shopify.handler = token_endpoint(shopify)
    state = await start_install(app, ALPHA)
    before = row_counts(database_url)
    response = await app.client.get("/auth/callback", params=callback_query(shop, state))
    assert response.status_code == 400
    assert shopify.requests == []
    assert row_counts(database_url) == before


async def test_callback_without_a_code_is_rejected(app: RunningApp, shopify: FakeShopify) -> None:
    state = await start_install(app, ALPHA)
    params = {k: v for k, v in callback_query(ALPHA, state).items() if k not in ("hmac", "code")}
    response = await app.client.get("/auth/callback", params=signed_query(params))
    assert response.status_code == 400
    assert shopify.requests == []


async def test_callback_whose_code_shopify_refuses_installs_nothing(
    app: RunningApp, shopify: FakeShopify, database_url: str
) -> None:
    shopify.handler = lambda _request: httpx.Response(400, json={"error": "invalid_request"})
    state = await start_install(app, ALPHA)
    response = await app.client.get("/auth/callback", params=callback_query(ALPHA, state))
    assert response.status_code == 401
    assert await app.shop(ALPHA) is None
    assert row_counts(database_url)["shop_credentials"] == 0

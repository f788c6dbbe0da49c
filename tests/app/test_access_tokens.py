from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from integrations.shopify.oauth import AccessToken, OAuthClient
from integrations.shopify.session_tokens import decode_session_token
from shop_app.database import make_engine, make_session_factory
from shop_app.models import Shop, ShopCredential, ShopStatus
from shop_app.runtime import admin_client
from shop_app.settings import Settings
from shop_app.shops.access_tokens import AccessTokens, ReauthorisationNeeded
from tests.app.conftest import ALPHA, BETA, PAYLOADS, RunningApp, TwoShops, compliance_body
from tests.conftest import (
    TEST_API_KEY,
    TEST_API_SECRET,
    TEST_ENCRYPTION_KEY,
    TEST_PREVIOUS_SECRET,
    FakeShopify,
)
from tests.factories import access_token, form_of, installed_shop, session_token, signed_query, token_payload

REFRESHED = "shpat_refreshed_alpha_5150"
REFRESHED_REFRESH = "shprt_refreshed_alpha_5150"

AsyncHandler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def refresh_endpoint(*, delay: float = 0.0) -> AsyncHandler:
    async def answer(request: httpx.Request) -> httpx.Response:
        if delay:
            await asyncio.sleep(delay)
        return httpx.Response(
            200, json=token_payload(access_token=REFRESHED, refresh_token=REFRESHED_REFRESH)
        )

    return answer


async def _credential(app: RunningApp, shop: Shop) -> tuple[ShopCredential, AccessToken]:
    [credential] = await app.rows(ShopCredential, shop)
    return credential, AccessToken(**json.loads(app.services.cipher.decrypt(credential.ciphertext)))


@pytest.fixture
async def expiring_shops(app: RunningApp) -> tuple[Shop, Shop]:
    """Alpha's token expires within the refresh margin; beta's is fresh."""
    services = app.services
    alpha = await installed_shop(
        services.sessions,
        services.cipher,
        ALPHA,
        access_token(token="shpat_alpha", refresh="shprt_alpha", expires_in=60),
    )
    beta = await installed_shop(
        services.sessions, services.cipher, BETA, access_token(token="shpat_beta", refresh="shprt_beta")
    )
    return alpha, beta


async def test_fresh_token_is_handed_out_without_any_request(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    assert await app.services.access_tokens.for_shop(shops.alpha) == "shpat_alpha"
    assert await app.services.access_tokens.for_shop(shops.beta) == "shpat_beta"
    assert shopify.requests == []


async def test_token_expiring_within_the_margin_is_refreshed_and_both_new_tokens_saved_together(
    app: RunningApp, expiring_shops: tuple[Shop, Shop], shopify: FakeShopify
) -> None:
    # given
    alpha, beta = expiring_shops
    shopify.handler = refresh_endpoint()
    beta_before, _ = await _credential(app, beta)
    # when
    token = await app.services.access_tokens.for_shop(alpha)
    # then
    assert token == REFRESHED
    [request] = shopify.requests
    assert request.url.host == ALPHA
    assert form_of(request)["grant_type"] == "refresh_token"
    assert form_of(request)["refresh_token"] == "shprt_alpha"
    credential, stored = await _credential(app, alpha)
    assert (stored.access_token, stored.refresh_token) == (REFRESHED, REFRESHED_REFRESH)
    assert stored.expires_at is not None and stored.expires_at > time.time() + 3000
    assert credential.version == 2
    assert credential.refresh_lease_owner is None
    beta_after, _ = await _credential(app, beta)
    assert (beta_after.version, beta_after.ciphertext) == (1, beta_before.ciphertext)
    # the refreshed token is used from now on, without another refresh
    assert await app.services.access_tokens.for_shop(alpha) == REFRESHED
    assert len(shopify.requests) == 1


@pytest.fixture
async def second_worker(
    settings: Settings, shopify: FakeShopify
) -> AsyncIterator[Callable[[], AccessTokens]]:
    """Builds AccessTokens the way another worker process would: own engine, own HTTP client."""
    engines = []
    clients: list[httpx.AsyncClient] = []

    def build() -> AccessTokens:
        engine = make_engine(settings.database_url)
        engines.append(engine)
        http = shopify.client()
        clients.append(http)
        oauth = OAuthClient(
            http, client_id=TEST_API_KEY, client_secret=TEST_API_SECRET, shop_url=settings.shop_url
        )
        from shop_app.encryption import Cipher

        return AccessTokens(
            make_session_factory(engine),
            cipher=Cipher(settings.encryption_keys),
            oauth=oauth,
            margin_seconds=settings.token_refresh_margin_seconds,
        )

    yield build
    for http in clients:
        await http.aclose()
    for engine in engines:
        await engine.dispose()


async def test_refresh_race_between_two_workers_makes_one_refresh_request(
    app: RunningApp,
    expiring_shops: tuple[Shop, Shop],
    shopify: FakeShopify,
    second_worker: Callable[[], AccessTokens],
) -> None:
    # given: two workers, each with its own engine, on the same database; Shopify answers slowly
    alpha, _beta = expiring_shops
    shopify.handler = refresh_endpoint(delay=0.05)
    first, second = second_worker(), second_worker()
    # when
    tokens = await asyncio.gather(first.for_shop(alpha), second.for_shop(alpha))
    # then
    assert list(tokens) == [REFRESHED, REFRESHED]
    assert len(shopify.requests) == 1
    credential, stored = await _credential(app, alpha)
    assert credential.version == 2
    assert stored.refresh_token == REFRESHED_REFRESH


async def test_many_concurrent_callers_in_one_process_make_one_refresh_request(
    app: RunningApp, expiring_shops: tuple[Shop, Shop], shopify: FakeShopify
) -> None:
    alpha, _beta = expiring_shops
    shopify.handler = refresh_endpoint(delay=0.02)
    tokens = await asyncio.gather(*(app.services.access_tokens.for_shop(alpha) for _ in range(5)))
    assert set(tokens) == {REFRESHED}
    assert len(shopify.requests) == 1


async def test_invalid_grant_marks_the_shop_as_needing_reauthorisation(
    app: RunningApp, expiring_shops: tuple[Shop, Shop], shopify: FakeShopify
) -> None:
    # given
    alpha, beta = expiring_shops
    shopify.handler = lambda _request: httpx.Response(400, json={"error": "invalid_grant"})
    # when
    with pytest.raises(ReauthorisationNeeded):
        await app.services.access_tokens.for_shop(alpha)
    # then
    stored_alpha, stored_beta = await app.shop(ALPHA), await app.shop(BETA)
    assert stored_alpha is not None and stored_alpha.status == ShopStatus.NEEDS_REAUTH
    assert stored_beta is not None and stored_beta.status == ShopStatus.INSTALLED
    credential, _ = await _credential(app, alpha)
    assert credential.refresh_lease_owner is None and credential.refresh_lease_until is None
    with pytest.raises(ReauthorisationNeeded):
        await app.services.access_tokens.for_shop(alpha)
    assert len(shopify.requests) == 1
    assert await app.services.access_tokens.for_shop(beta) == "shpat_beta"


REFUSED_BODY = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def refusing_admin_api(*, refresh: AsyncHandler) -> AsyncHandler:
    """Shopify refusing every access token at the Admin API, and its token endpoint answering ``refresh``."""

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/admin/oauth/access_token"):
            return await refresh(request)
        return httpx.Response(401, json=REFUSED_BODY)

    return answer


async def test_a_token_refused_early_is_refreshed_once_for_every_caller_refused_with_it(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    # given: alpha's token is far from its expiry, and five callers were refused with it at once
    shopify.handler = refresh_endpoint(delay=0.02)
    tokens = app.services.access_tokens

    # when
    await asyncio.gather(*(tokens.refused(shops.alpha, "shpat_alpha", again=False) for _ in range(5)))

    # then: one refresh; a refusal of a token already replaced changes nothing
    assert len(shopify.requests) == 1
    assert await tokens.for_shop(shops.alpha) == REFRESHED
    await tokens.refused(shops.alpha, "shpat_alpha", again=True)
    stored_alpha = await app.shop(ALPHA)
    assert stored_alpha is not None and stored_alpha.status == ShopStatus.INSTALLED
    assert await tokens.for_shop(shops.beta) == "shpat_beta"


async def test_a_refreshed_token_refused_again_marks_the_shop_as_needing_reauthorisation(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    # given
    shopify.handler = refusing_admin_api(refresh=refresh_endpoint())

    # when
    with pytest.raises(ReauthorisationNeeded):
        await admin_client(app.services, shops.alpha).execute("{ shop { name } }")

    # then: one refresh and one retry, then the shop waits for its merchant
    sent = [
        (r.url.path.rsplit("/", 1)[-1], r.headers.get("X-Shopify-Access-Token")) for r in shopify.requests
    ]
    assert sent == [("graphql.json", "shpat_alpha"), ("access_token", None), ("graphql.json", REFRESHED)]
    stored_alpha, stored_beta = await app.shop(ALPHA), await app.shop(BETA)
    assert stored_alpha is not None and stored_alpha.status == ShopStatus.NEEDS_REAUTH
    assert stored_beta is not None and stored_beta.status == ShopStatus.INSTALLED
    with pytest.raises(ReauthorisationNeeded):
        await app.services.access_tokens.for_shop(shops.alpha)
    assert len(shopify.requests) == 3


async def test_failed_refresh_releases_the_lease_for_a_later_attempt(
    app: RunningApp, expiring_shops: tuple[Shop, Shop], shopify: FakeShopify
) -> None:
    alpha, _beta = expiring_shops
    shopify.handler = lambda _request: httpx.Response(503)
    with pytest.raises(Exception, match="token endpoint failed"):
        await app.services.access_tokens.for_shop(alpha)
    shopify.handler = refresh_endpoint()
    assert await app.services.access_tokens.for_shop(alpha) == REFRESHED


async def test_non_expiring_legacy_token_is_migrated_by_token_exchange(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    # given
    legacy = AccessToken(
        access_token="shpat_legacy_forever",
        scope="read_orders",
        expires_at=None,
        refresh_token=None,
        refresh_token_expires_at=None,
    )
    gamma = await installed_shop(app.services.sessions, app.services.cipher, "gamma.myshopify.com", legacy)
    shopify.handler = refresh_endpoint()
    # when
    token = await app.services.access_tokens.for_shop(gamma)
    # then
    assert token == REFRESHED
    [request] = shopify.requests
    form = form_of(request)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert form["subject_token"] == "shpat_legacy_forever"
    assert form["subject_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert form["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert form["expiring"] == "1"
    _, stored = await _credential(app, gamma)
    assert stored.expires_at is not None and stored.refresh_token == REFRESHED_REFRESH
    assert await app.services.access_tokens.for_shop(shops.alpha) == "shpat_alpha"


async def test_tokens_and_secrets_never_appear_in_logs(
    app: RunningApp, expiring_shops: tuple[Shop, Shop], shopify: FakeShopify, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alpha, _beta = expiring_shops
    install_token = session_token("gamma.myshopify.com")

    async def answer(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        if form.get("grant_type") == "refresh_token":
            return await refresh_endpoint()(request)
        if "code" in form:
            return httpx.Response(
                200, json=token_payload(access_token="shpat_code_delta", refresh_token="shprt_code_delta")
            )
        return httpx.Response(
            200, json=token_payload(access_token="shpat_exchange_gamma", refresh_token="shprt_exchange_gamma")
        )

    shopify.handler = answer
    # install by token exchange, install by code, refresh, webhooks
    assert (
        await app.client.get("/api/admin/shop", headers={"Authorization": f"Bearer {install_token}"})
    ).status_code == 200
    location = (await app.client.get("/auth/install", params={"shop": "delta.myshopify.com"})).headers[
        "location"
    ]
    query = signed_query(
        {
            "code": "c0de",
            "shop": "delta.myshopify.com",
            "state": httpx.URL(location).params["state"],
            "timestamp": str(int(time.time())),
        }
    )
    assert (await app.client.get("/auth/callback", params=query)).status_code == 302
    assert await app.services.access_tokens.for_shop(alpha) == REFRESHED
    await app.webhook("customers/data_request", ALPHA, compliance_body("customers-data_request", ALPHA))
    await app.webhook("app/uninstalled", BETA, (PAYLOADS / "AppUninstalled.json").read_bytes())
    await app.drain()

    logged = caplog.text
    assert "shop installed" in logged and "access token refreshed" in logged
    for secret in (
        "shpat_alpha",
        "shprt_alpha",
        "shpat_beta",
        REFRESHED,
        REFRESHED_REFRESH,
        "shpat_code_delta",
        "shprt_code_delta",
        "shpat_exchange_gamma",
        "shprt_exchange_gamma",
        install_token,
        install_token.split(".")[2],
        TEST_API_SECRET,
        TEST_PREVIOUS_SECRET,
        TEST_ENCRYPTION_KEY,
    ):
        assert secret not in logged


def test_reprs_never_show_secrets_or_tokens(settings: Settings) -> None:
    token = access_token(token="shpat_repr_check", refresh="shprt_repr_check")
    claims = decode_session_token(session_token(ALPHA), client_id=TEST_API_KEY, secrets=[TEST_API_SECRET])
    shown = " ".join(
        [repr(settings), str(settings), repr(token), str(token), repr(claims), repr(settings.api_secrets)]
    )
    for secret in (
        TEST_API_SECRET,
        TEST_PREVIOUS_SECRET,
        TEST_ENCRYPTION_KEY,
        settings.session_secret.reveal(),
        "shpat_repr_check",
        "shprt_repr_check",
    ):
        assert secret not in shown
    assert "read_orders" in repr(token)

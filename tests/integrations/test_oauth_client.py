from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from integrations.shopify.errors import InvalidGrant, InvalidShopDomain, OAuthError, ShopifyUnavailable
from integrations.shopify.oauth import (
    ID_TOKEN_TYPE,
    OFFLINE_TOKEN_TYPE,
    TOKEN_EXCHANGE_GRANT,
    OAuthClient,
    authorize_url,
)
from tests.conftest import FakeShopify
from tests.factories import BAD_SHOP_DOMAINS, form_of, token_payload

CLIENT_ID = "client-id-123"
CLIENT_SECRET = "shpss_client_secret_0123456789abcdef"
NOW = 1_800_000_000.0


@pytest.fixture
async def oauth(shopify: FakeShopify) -> AsyncIterator[OAuthClient]:
    async with shopify.client() as http:
        yield OAuthClient(
            http,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            shop_url=lambda shop: f"https://{shop}",
            clock=lambda: NOW,
        )


def _answer(status: int, body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(status, json=body)


async def test_code_exchange_asks_for_an_expiring_token(oauth: OAuthClient, shopify: FakeShopify) -> None:
    shopify.handler = _answer(200, token_payload(access_token="shpat_new", refresh_token="shprt_new"))
    token = await oauth.exchange_code("Alpha.myshopify.com", "the-code")
    [request] = shopify.requests
    assert request.method == "POST"
    assert str(request.url) == "https://alpha.myshopify.com/admin/oauth/access_token"
    assert form_of(request) == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": "the-code",
        "expiring": "1",
    }
    assert token.access_token == "shpat_new"
    assert token.refresh_token == "shprt_new"
    assert token.expires_at == NOW + 3600
    assert token.refresh_token_expires_at == NOW + 90 * 86400
    assert token.scopes == ("read_orders", "read_customers")


async def test_token_exchange_sends_the_session_token_as_an_id_token(
    oauth: OAuthClient, shopify: FakeShopify
) -> None:
    shopify.handler = _answer(200, token_payload(access_token="shpat_x", refresh_token="shprt_x"))
    await oauth.exchange_session_token("alpha.myshopify.com", "header.payload.signature")
    form = form_of(shopify.requests[0])
    assert form["grant_type"] == TOKEN_EXCHANGE_GRANT == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert form["subject_token"] == "header.payload.signature"
    assert form["subject_token_type"] == ID_TOKEN_TYPE == "urn:ietf:params:oauth:token-type:id_token"
    assert form["requested_token_type"] == OFFLINE_TOKEN_TYPE
    assert OFFLINE_TOKEN_TYPE == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert form["expiring"] == "1"
    assert form["client_id"] == CLIENT_ID


async def test_refresh_sends_the_refresh_token(oauth: OAuthClient, shopify: FakeShopify) -> None:
    shopify.handler = _answer(200, token_payload(access_token="shpat_2", refresh_token="shprt_2"))
    token = await oauth.refresh("alpha.myshopify.com", "shprt_1")
    form = form_of(shopify.requests[0])
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "shprt_1"
    assert form["client_secret"] == CLIENT_SECRET
    assert (token.access_token, token.refresh_token) == ("shpat_2", "shprt_2")


async def test_non_expiring_token_migration_uses_offline_token_types(
    oauth: OAuthClient, shopify: FakeShopify
) -> None:
    shopify.handler = _answer(200, token_payload(access_token="shpat_2", refresh_token="shprt_2"))
    await oauth.migrate_non_expiring_token("alpha.myshopify.com", "shpat_legacy")
    form = form_of(shopify.requests[0])
    assert form["grant_type"] == TOKEN_EXCHANGE_GRANT
    assert form["subject_token"] == "shpat_legacy"
    assert form["subject_token_type"] == OFFLINE_TOKEN_TYPE
    assert form["requested_token_type"] == OFFLINE_TOKEN_TYPE
    assert form["expiring"] == "1"


async def test_invalid_grant_raises_invalid_grant(oauth: OAuthClient, shopify: FakeShopify) -> None:
    shopify.handler = _answer(400, {"error": "invalid_grant", "error_description": "revoked"})
    with pytest.raises(InvalidGrant) as caught:
        await oauth.refresh("alpha.myshopify.com", "shprt_revoked")
    assert caught.value.error == "invalid_grant"
    assert "shprt_revoked" not in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)


async def test_other_oauth_refusals_raise_oauth_error(oauth: OAuthClient, shopify: FakeShopify) -> None:
    shopify.handler = _answer(400, {"error": "invalid_subject_token"})
    with pytest.raises(OAuthError) as caught:
        await oauth.exchange_session_token("alpha.myshopify.com", "x.y.z")
    assert not isinstance(caught.value, InvalidGrant)
    assert caught.value.error == "invalid_subject_token"


async def test_a_200_without_an_access_token_is_an_oauth_error(
    oauth: OAuthClient, shopify: FakeShopify
) -> None:
    shopify.handler = _answer(200, {"unexpected": True})
    with pytest.raises(OAuthError):
        await oauth.exchange_code("alpha.myshopify.com", "code")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_raise_shopify_unavailable(
    oauth: OAuthClient, shopify: FakeShopify, status: int
) -> None:
    shopify.handler = _answer(status, {"errors": "down"})
    with pytest.raises(ShopifyUnavailable) as caught:
        await oauth.refresh("alpha.myshopify.com", "shprt_1")
    assert caught.value.status_code == status


async def test_transport_errors_raise_shopify_unavailable(oauth: OAuthClient, shopify: FakeShopify) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    shopify.handler = refuse
    with pytest.raises(ShopifyUnavailable):
        await oauth.exchange_code("alpha.myshopify.com", "code")


CALLS: dict[str, Callable[[OAuthClient, str], Awaitable[object]]] = {
    "exchange_code": lambda client, shop: client.exchange_code(shop, "code"),
    "refresh": lambda client, shop: client.refresh(shop, "shprt"),
    "exchange_session_token": lambda client, shop: client.exchange_session_token(shop, "a.b.c"),
    "migrate_non_expiring_token": lambda client, shop: client.migrate_non_expiring_token(shop, "shpat"),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("shop", BAD_SHOP_DOMAINS)
async def test_a_bad_shop_domain_raises_before_any_request(
    oauth: OAuthClient, shopify: FakeShopify, call: str, shop: str | None
) -> None:
    shopify.handler = _answer(200, token_payload(access_token="shpat_x"))
    with pytest.raises(InvalidShopDomain):
        await CALLS[call](oauth, shop)  # type: ignore[arg-type]
    assert shopify.requests == []


def test_authorize_url_names_client_scopes_redirect_and_state() -> None:
    url = httpx.URL(
        authorize_url(
            shop_url="https://alpha.myshopify.com",
            client_id=CLIENT_ID,
            scopes=["read_orders", "read_customers"],
            redirect_uri="https://app.example.test/auth/callback",
            state="nonce-1",
        )
    )
    assert (url.scheme, url.host, url.path) == ("https", "alpha.myshopify.com", "/admin/oauth/authorize")
    assert dict(url.params) == {
        "client_id": CLIENT_ID,
        "scope": "read_orders,read_customers",
        "redirect_uri": "https://app.example.test/auth/callback",
        "state": "nonce-1",
    }
    assert "grant_options" not in str(url)

from __future__ import annotations

import time
import warnings

import httpx
import jwt
import pytest

from shop_app.models import ShopCredential, ShopStatus
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.app.database_checks import all_rows, row_counts
from tests.conftest import TEST_API_SECRET, FakeShopify
from tests.factories import form_of, installed_shop, session_token, tampered, token_payload, unsigned_token

GAMMA = "gamma.myshopify.com"
EXCHANGED = "shpat_exchanged_gamma_777"


def exchange_endpoint(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/admin/oauth/access_token":
        return httpx.Response(
            200,
            json=token_payload(
                access_token=EXCHANGED, refresh_token="shprt_exchanged_gamma", scope="read_orders"
            ),
        )
    return httpx.Response(404)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_session_token_for_a_shop_without_a_token_installs_it_by_token_exchange(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify, database_url: str
) -> None:
    # given
    shopify.handler = exchange_endpoint
    token = session_token(GAMMA)
    # when
    response = await app.client.get("/api/admin/shop", headers=_bearer(token))
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["shop"], body["status"], body["has_access_token"]) == (GAMMA, "installed", True)
    assert body["scopes"] == ["read_orders"]
    [request] = shopify.requests
    assert str(request.url) == f"https://{GAMMA}/admin/oauth/access_token"
    form = form_of(request)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert form["subject_token"] == token
    assert form["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert form["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert form["expiring"] == "1"
    assert EXCHANGED not in repr(all_rows(database_url))
    assert EXCHANGED not in response.text
    gamma = await app.shop(GAMMA)
    assert gamma is not None
    assert await app.services.access_tokens.for_shop(gamma) == EXCHANGED


async def test_session_token_for_an_installed_shop_needs_no_exchange(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    for domain in (ALPHA, BETA):
        response = await app.client.get("/api/admin/shop", headers=_bearer(session_token(domain)))
        assert response.status_code == 200
        assert response.json()["shop"] == domain
        assert "shpat_" not in response.text
    assert shopify.requests == []


async def test_shop_that_needs_reauthorisation_is_reinstalled_by_token_exchange(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    shopify.handler = exchange_endpoint
    alpha = await app.shop(ALPHA)
    assert alpha is not None
    async with app.services.sessions() as session, session.begin():
        alpha.status = ShopStatus.NEEDS_REAUTH
        session.add(alpha)
    response = await app.client.get("/api/admin/shop", headers=_bearer(session_token(ALPHA)))
    assert response.status_code == 200
    assert response.json()["status"] == "installed"
    assert len(shopify.requests) == 1


def _bad_tokens() -> dict[str, str]:
    now = time.time()
    valid = session_token(GAMMA, now=now)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hs512 = session_token(GAMMA, now=now, algorithm="HS512")
    return {
        "expired": session_token(GAMMA, now=now - 120),
        "not_yet_valid": session_token(GAMMA, now=now + 120),
        "wrong_audience": session_token(GAMMA, now=now, audience="another-apps-client-id"),
        "alg_none": unsigned_token(jwt.decode(valid, options={"verify_signature": False})),
        "hs512": hs512,
        "tampered": tampered(valid, sub="1", dest=f"https://{ALPHA}", iss=f"https://{ALPHA}/admin"),
        "wrong_secret": session_token(GAMMA, now=now, secret="shpss_not_ours_0000000000000000000000"),
        "mismatched_hosts": session_token(GAMMA, now=now, dest=f"https://{ALPHA}"),
        "not_a_shop": session_token(GAMMA, now=now, iss="https://evil.com/admin", dest="https://evil.com"),
        "no_expiry": session_token(GAMMA, now=now, exp=None),
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize("kind", sorted(_bad_tokens()))
async def test_bad_session_token_is_unauthorised_without_any_request(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify, database_url: str, kind: str
) -> None:
    shopify.handler = exchange_endpoint
    before = row_counts(database_url)
    response = await app.client.get("/api/admin/shop", headers=_bearer(_bad_tokens()[kind]))
    assert response.status_code == 401
    assert shopify.requests == []
    assert row_counts(database_url) == before


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", f"Token {'x' * 20}"])
async def test_admin_api_without_a_bearer_token_is_unauthorised(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await app.client.get("/api/admin/shop", headers=headers)
    assert response.status_code == 401
    assert shopify.requests == []


async def test_token_exchange_refused_by_shopify_is_unauthorised_and_installs_nothing(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    shopify.handler = lambda _request: httpx.Response(400, json={"error": "invalid_subject_token"})
    response = await app.client.get("/api/admin/shop", headers=_bearer(session_token(GAMMA)))
    assert response.status_code == 401
    assert await app.shop(GAMMA) is None


async def test_token_exchange_when_shopify_is_down_is_unavailable(
    app: RunningApp, shops: TwoShops, shopify: FakeShopify
) -> None:
    shopify.handler = lambda _request: httpx.Response(503)
    response = await app.client.get("/api/admin/shop", headers=_bearer(session_token(GAMMA)))
    assert response.status_code == 503
    assert await app.shop(GAMMA) is None


async def test_embedded_page_loads_app_bridge_and_may_be_framed_by_its_shop_only(
    app: RunningApp, shops: TwoShops
) -> None:
    hostile = '"><script>alert(document.cookie)</script>'
    response = await app.client.get("/app", params={"shop": ALPHA, "host": hostile})
    assert response.status_code == 200
    html = response.text
    assert '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>' in html
    assert f'<meta name="shopify-api-key" content="{app.services.settings.api_key}">' in html
    policy = response.headers["content-security-policy"]
    assert policy.startswith("frame-ancestors ")
    assert f"https://{ALPHA}" in policy.split()
    assert "https://admin.shopify.com" in policy.split() or "https://admin.shopify.com;" in policy.split()
    assert BETA not in policy
    assert hostile not in html
    assert "<script>alert" not in html


async def test_embedded_page_with_a_forged_id_token_is_unauthorised_and_not_echoed(
    app: RunningApp, shops: TwoShops
) -> None:
    hostile = session_token(ALPHA) + '"><script>alert(1)</script>'
    response = await app.client.get("/app", params={"shop": ALPHA, "id_token": hostile})
    assert response.status_code == 401
    assert "<script>alert(1)</script>" not in response.text


async def test_embedded_page_with_a_session_token_for_another_shop_is_unauthorised(
    app: RunningApp, shops: TwoShops
) -> None:
    response = await app.client.get("/app", params={"shop": ALPHA, "id_token": session_token(BETA)})
    assert response.status_code == 401


async def test_embedded_page_for_an_unknown_shop_starts_the_install(app: RunningApp, shops: TwoShops) -> None:
    response = await app.client.get("/app", params={"shop": GAMMA})
    assert response.status_code == 302
    assert response.headers["location"] == f"/auth/install?shop={GAMMA}"


@pytest.mark.parametrize("shop", ["evil.com", "alpha.myshopify.com.evil.com", ""])
async def test_embedded_page_for_a_bad_shop_is_refused(app: RunningApp, shops: TwoShops, shop: str) -> None:
    response = await app.client.get("/app", params={"shop": shop})
    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_shop_status_never_shows_tokens(app: RunningApp, shops: TwoShops) -> None:
    await installed_shop(app.services.sessions, app.services.cipher, GAMMA)
    response = await app.client.get("/api/admin/shop", headers=_bearer(session_token(GAMMA)))
    assert response.status_code == 200
    assert "shpat_" not in response.text and "shprt_" not in response.text
    assert TEST_API_SECRET not in response.text
    assert len(await app.rows(ShopCredential, shops.alpha)) == 1

# ruff: noqa: F811  (the world fixture imported from the install tests)
"""An access token the simulated store refuses before its expiry (401, as Shopify answers it): the app
refreshes it once and retries; when the store refuses the refresh too, the shop waits for its merchant to
authorise again, and the embedded admin says so in the merchant's language."""

from __future__ import annotations

import asyncio

import pytest

from shop_app.models import ShopCredential, ShopStatus
from shop_app.runtime import admin_client
from shop_app.shops.access_tokens import ReauthorisationNeeded
from tests.conftest import TEST_API_KEY
from tests.factories import session_token
from tests.test_install_against_devstore import (
    APP_URL,
    OTHER_SHOP,
    SHOP,
    STORE_HOST,
    World,
    installed,  # noqa: F401
)

SHOP_QUERY = "{ shop { myshopifyDomain } }"


async def _revoke(world: World, shop: str, *, refresh_tokens: bool) -> None:
    response = await world.browser.post(
        f"http://{STORE_HOST}/_devstore/shops/{shop}/tokens/revoke",
        json={"client_id": TEST_API_KEY, "refresh_tokens": refresh_tokens},
    )
    assert response.status_code == 200
    assert response.json() == {"revoked": 1}


async def _credential_version(world: World, domain: str) -> int:
    shop = await world.shop(domain)
    assert shop is not None
    async with world.services.sessions() as session:
        credential = await session.get(ShopCredential, shop.id, populate_existing=True)
    assert credential is not None
    return credential.version


async def test_the_store_refuses_a_revoked_token_as_shopify_does(installed: World) -> None:
    shop = await installed.shop(SHOP)
    assert shop is not None
    token = await installed.services.access_tokens.for_shop(shop)
    await _revoke(installed, SHOP, refresh_tokens=False)

    response = await installed.browser.post(
        f"http://{STORE_HOST}/s/{SHOP}/admin/api/2026-07/graphql.json",
        json={"query": SHOP_QUERY},
        headers={"X-Shopify-Access-Token": token},
    )

    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


async def test_a_token_refused_before_its_expiry_is_refreshed_once_and_the_calls_retried(
    installed: World,
) -> None:
    # given: the store stops accepting the shop's token long before it expires
    shop = await installed.shop(SHOP)
    assert shop is not None
    services = installed.services
    refused = await services.access_tokens.for_shop(shop)
    version = await _credential_version(installed, SHOP)
    other_version = await _credential_version(installed, OTHER_SHOP)
    await _revoke(installed, SHOP, refresh_tokens=False)

    # when: five calls meet the refusal at once
    results = await asyncio.gather(*(admin_client(services, shop).execute(SHOP_QUERY) for _ in range(5)))

    # then: each is answered, after one refresh between them
    assert {r.data["shop"]["myshopifyDomain"] for r in results} == {SHOP}
    assert await services.access_tokens.for_shop(shop) != refused
    assert await _credential_version(installed, SHOP) == version + 1
    stored = await installed.shop(SHOP)
    assert stored is not None and stored.status == ShopStatus.INSTALLED
    other = await installed.shop(OTHER_SHOP)
    assert other is not None
    assert (await admin_client(services, other).execute(SHOP_QUERY)).data["shop"][
        "myshopifyDomain"
    ] == OTHER_SHOP
    assert await _credential_version(installed, OTHER_SHOP) == other_version


async def test_a_shop_whose_refresh_is_refused_too_needs_reauthorisation_and_the_admin_says_so(
    installed: World,
) -> None:
    # given: the store refuses the token and its refresh token
    shop = await installed.shop(SHOP)
    assert shop is not None
    services = installed.services
    await _revoke(installed, SHOP, refresh_tokens=True)

    # when
    with pytest.raises(ReauthorisationNeeded):
        await admin_client(services, shop).execute(SHOP_QUERY)

    # then: the shop waits for its merchant; the other shop carries on
    stored = await installed.shop(SHOP)
    assert stored is not None and stored.status == ShopStatus.NEEDS_REAUTH
    with pytest.raises(ReauthorisationNeeded):
        await admin_client(services, shop).execute(SHOP_QUERY)
    other = await installed.shop(OTHER_SHOP)
    assert other is not None and other.status == ShopStatus.INSTALLED
    assert (await admin_client(services, other).execute(SHOP_QUERY)).data["shop"][
        "myshopifyDomain"
    ] == OTHER_SHOP

    # and the embedded admin tells the merchant, in the admin's language
    pages = {
        locale: await installed.browser.get(
            f"{APP_URL}/app", params={"shop": SHOP, "id_token": session_token(SHOP), "locale": locale}
        )
        for locale in ("ja", "en")
    }
    assert pages["ja"].status_code == pages["en"].status_code == 200
    assert "Shopify がこのストアへの Order Desk のアクセスを受け付けていません" in pages["ja"].text
    assert "Shopify no longer accepts Order Desk&#39;s access to this store" in pages["en"].text
    unaffected = await installed.browser.get(
        f"{APP_URL}/app", params={"shop": OTHER_SHOP, "id_token": session_token(OTHER_SHOP), "locale": "ja"}
    )
    assert unaffected.status_code == 200
    assert 'data-role="reauthorisation"' not in unaffected.text

# ruff: noqa: F811  (fixtures imported from other test modules)
"""The shop's own settings (name, country, currency, IANA time zone, primary locale): read from Admin
GraphQL at the start of every sync, applied from ``shop/update`` webhooks, and left as they are when
Shopify leaves a value out or refuses the query."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devstore.generator.shops import profile_for
from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.graphql import document
from integrations.shopify.graphql_resources import MalformedNode, id_from_gid
from integrations.shopify.shop_details import ShopDetails, parse_shop_details, parse_shop_update
from integrations.shopify.webhook_payloads import MalformedPayload
from shop_app.database import transaction
from shop_app.mirror.backfill import backfill_shop
from shop_app.mirror.shop_details import refresh_shop_details
from shop_app.models import DeliveryStatus, Shop
from shop_app.runtime import admin_client
from tests.app.conftest import ALPHA, BETA, PAYLOADS, RunningApp, TwoShops, app, shops  # noqa: F401
from tests.sync.test_backfill import OTHER_SHOP, SHOP, World, synced  # noqa: F401

SHOP_DETAILS_COST = 3  # shop 1 + shopAddress 1 + shopLocales (a plain list of objects) 1


def details_of(shop: Shop | None) -> tuple[str | None, ...]:
    assert shop is not None
    return (shop.name, shop.country_code, shop.currency_code, shop.iana_timezone, shop.primary_locale)


async def test_the_first_sync_reads_each_shops_name_country_currency_time_zone_and_locale(
    synced: World,
) -> None:
    hinode, northwind = await synced.shop(SHOP), await synced.shop(OTHER_SHOP)

    assert details_of(hinode) == ("日の出アパレル Hinode Apparel", "JP", "JPY", "Asia/Tokyo", "ja")
    assert details_of(northwind) == ("Northwind Goods", "US", "USD", "America/New_York", "en")
    store_shop = next(iter(synced.store.store.records.iter_type(SHOP, "Shop")))
    assert hinode is not None and hinode.shopify_shop_id == id_from_gid(store_shop["id"])


async def test_the_shop_details_query_costs_what_shopifys_rules_say(synced: World) -> None:
    shop = await synced.shop(SHOP)
    assert shop is not None

    result = await admin_client(synced.services, shop).execute(document("shop_details"))

    assert result.cost is not None
    assert result.cost.requested == SHOP_DETAILS_COST
    assert parse_shop_details(result.data).primary_locale == "ja"


async def test_a_shop_update_webhook_changes_that_shops_details_only(synced: World) -> None:
    # when: the merchant moves the store to Seoul and renames it
    change = await synced.store.activity.update_shop(
        SHOP, name="Hinode Seoul", timezone="Asia/Seoul", currency="KRW", country_code="KR", locale="ko"
    )
    assert change.topics == ["shop/update"]
    await synced.store.store.webhooks.wait_idle()
    await synced.jobs.drain()

    # then
    assert details_of(await synced.shop(SHOP)) == ("Hinode Seoul", "KR", "KRW", "Asia/Seoul", "ko")
    assert details_of(await synced.shop(OTHER_SHOP)) == (
        "Northwind Goods",
        "US",
        "USD",
        "America/New_York",
        "en",
    )


async def test_every_sync_reads_the_details_again(synced: World) -> None:
    # given: the store's settings changed and no webhook told the app
    doc = next(iter(synced.store.store.records.iter_type(SHOP, "Shop")))
    doc.update(name="日の出 Hinode Osaka", ianaTimezone="Asia/Seoul")
    synced.store.store.records.put(SHOP, doc)
    shop = await synced.shop(SHOP)
    assert shop is not None and shop.id is not None

    # when: a sync of an already complete backfill runs
    await backfill_shop(synced.services, shop_id=shop.id)

    # then
    assert details_of(await synced.shop(SHOP)) == ("日の出 Hinode Osaka", "JP", "JPY", "Asia/Seoul", "ja")


def shop_update_body(**changes: Any) -> bytes:
    body = json.loads((PAYLOADS / "AppUninstalled.json").read_text())  # the shop resource
    body.update(changes)
    return json.dumps(body).encode()


async def set_details(app: RunningApp, shop: Shop, details: tuple[str, str, str, str, str]) -> None:
    async with transaction(app.services.sessions) as session:
        row = await session.get(Shop, shop.id)
        assert row is not None
        row.name, row.country_code, row.currency_code, row.iana_timezone, row.primary_locale = details


async def test_a_shop_update_leaving_a_value_out_keeps_the_stored_one(
    app: RunningApp, shops: TwoShops
) -> None:
    # given
    japanese = ("アルファ", "JP", "JPY", "Asia/Tokyo", "ja")
    await set_details(app, shops.alpha, japanese)
    await set_details(app, shops.beta, japanese)

    # when: Shopify's sample body, whose iana_timezone is null
    response = await app.webhook("shop/update", ALPHA, shop_update_body())
    assert response.status_code == 200
    await app.drain()

    # then
    assert details_of(await app.shop(ALPHA)) == ("Super Toys", "US", "USD", "Asia/Tokyo", "en")
    assert details_of(await app.shop(BETA)) == japanese


async def test_a_malformed_shop_update_fails_and_changes_nothing(app: RunningApp, shops: TwoShops) -> None:
    japanese = ("アルファ", "JP", "JPY", "Asia/Tokyo", "ja")
    await set_details(app, shops.alpha, japanese)

    response = await app.webhook("shop/update", ALPHA, shop_update_body(name=["not", "a", "name"]))
    assert response.status_code == 200
    await app.drain()

    assert details_of(await app.shop(ALPHA)) == japanese
    [delivery] = await app.deliveries(shops.alpha)
    assert delivery.status == DeliveryStatus.FAILED


async def test_a_shop_that_refuses_the_locales_query_keeps_its_details_and_syncs_on(
    app: RunningApp, shops: TwoShops
) -> None:
    # given: a shop installed before the app asked for read_locales
    japanese = ("アルファ", "JP", "JPY", "Asia/Tokyo", "ja")
    await set_details(app, shops.alpha, japanese)

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "errors": [
                    {
                        "message": "Access denied for shopLocales field.",
                        "extensions": {"code": "ACCESS_DENIED"},
                    }
                ]
            },
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:

        async def token() -> str:
            return "shpat_alpha"

        client = AdminGraphQLClient(
            http, shop_url=f"https://{ALPHA}", api_version="2026-07", access_token=token
        )
        # when
        read = await refresh_shop_details(app.services, shop=shops.alpha, client=client)

    # then
    assert read is None
    assert details_of(await app.shop(ALPHA)) == japanese


def test_values_out_of_shape_are_unknown_and_wrong_types_are_refused() -> None:
    assert parse_shop_update(
        {
            "id": 5,
            "name": " Shop ",
            "country_code": "usa",
            "currency": "yen",
            "iana_timezone": "Asia",
            "primary_locale": "日本語",
        }
    ) == ShopDetails(shopify_id=5, name="Shop")
    assert parse_shop_details(
        {
            "shop": {
                "id": "gid://shopify/Shop/9",
                "name": "S",
                "currencyCode": "JPY",
                "ianaTimezone": "../etc/passwd",
            },
            "shopLocales": [{"locale": "en", "primary": False}, {"locale": "pt-BR", "primary": True}],
        }
    ) == ShopDetails(shopify_id=9, name="S", currency_code="JPY", primary_locale="pt-BR")
    with pytest.raises(MalformedPayload):
        parse_shop_update({"id": "5"})
    with pytest.raises(MalformedPayload):
        parse_shop_update({"iana_timezone": 9})
    with pytest.raises(MalformedNode):
        parse_shop_details({"shop": None})
    with pytest.raises(MalformedNode):
        parse_shop_details({"shop": {"name": 1}})


def test_the_simulated_stores_default_shop_is_japanese() -> None:
    for domain in ("hinode-apparel.myshopify.com", "any-new-shop.myshopify.com"):
        profile = profile_for(domain)
        assert (profile.country_code, profile.currency, profile.timezone, profile.locale) == (
            "JP",
            "JPY",
            "Asia/Tokyo",
            "ja",
        )

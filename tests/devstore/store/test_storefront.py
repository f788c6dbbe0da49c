"""The demo storefront's customer sign-in: the form a shopper fills in on ``/s/{shop}/``."""

from __future__ import annotations

import re
from typing import Any

import httpx

from devstore.app_proxy import CUSTOMER_COOKIE
from devstore.state import StoreState
from tests.devstore.store.conftest import HINODE, NORTHWIND


def a_customer_with_email(state: StoreState, shop: str) -> dict[str, Any]:
    return next(
        doc
        for doc in state.records.iter_type(shop, "Customer")
        if (doc.get("defaultEmailAddress") or {}).get("emailAddress")
    )


def numeric_id(doc: dict[str, Any]) -> str:
    return str(doc["id"]).rsplit("/", 1)[-1]


async def test_the_sign_in_form_signs_a_customer_in_by_email_written_in_any_case(
    seeded: StoreState, client: httpx.AsyncClient
) -> None:
    # given: a customer whose email the store keeps as Shopify does (defaultEmailAddress)
    customer = a_customer_with_email(seeded, HINODE)
    email = customer["defaultEmailAddress"]["emailAddress"]
    # when: the shopper types it, in capitals, into the storefront's form (a browser's urlencoded POST)
    answer = await client.post(f"/s/{HINODE}/account/login", data={"customer": f"  {email.upper()} "})
    # then: signed in as that customer, and the storefront greets them
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/s/{HINODE}/"
    assert client.cookies.get(CUSTOMER_COOKIE) == numeric_id(customer)
    page = await client.get(f"/s/{HINODE}/")
    assert 'data-role="customer-name"' in page.text
    assert "login=failed" not in str(page.url)


async def test_the_sign_in_form_takes_a_customer_id_too(
    seeded: StoreState, client: httpx.AsyncClient
) -> None:
    customer = a_customer_with_email(seeded, NORTHWIND)
    answer = await client.post(f"/s/{NORTHWIND}/account/login", data={"customer": numeric_id(customer)})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/s/{NORTHWIND}/"
    assert client.cookies.get(CUSTOMER_COOKIE) == numeric_id(customer)


async def test_an_unknown_email_or_another_shops_customer_is_refused_and_says_so(
    seeded: StoreState, client: httpx.AsyncClient
) -> None:
    elsewhere = a_customer_with_email(seeded, NORTHWIND)["defaultEmailAddress"]["emailAddress"]
    for who in ("nobody@example.com", "", elsewhere):
        answer = await client.post(f"/s/{HINODE}/account/login", data={"customer": who})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/s/{HINODE}/?login=failed"
        assert CUSTOMER_COOKIE not in client.cookies
    page = await client.get(f"/s/{HINODE}/?login=failed")
    assert "ログインできませんでした" in page.text


async def test_the_storefront_greets_a_japanese_customer_family_name_first(
    seeded: StoreState, client: httpx.AsyncClient
) -> None:
    customer = next(
        doc
        for doc in seeded.records.iter_type(HINODE, "Customer")
        if doc.get("locale") == "ja" and (doc.get("defaultEmailAddress") or {}).get("emailAddress")
    )
    email = customer["defaultEmailAddress"]["emailAddress"]

    await client.post(f"/s/{HINODE}/account/login", data={"customer": email})
    page = await client.get(f"/s/{HINODE}/")

    greeting = re.search(r'data-role="customer-name">([^<]*)<', page.text)
    assert greeting is not None
    assert greeting[1] == f"{customer['lastName']} {customer['firstName']}"

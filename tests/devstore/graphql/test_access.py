from __future__ import annotations

import pytest

from tests.devstore.graphql.conftest import EXPIRED_TOKEN, Graphql
from tests.devstore.graphql.factories import SHOP_A

pytestmark = pytest.mark.anyio
INVALID = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


async def test_request_without_token_is_refused_with_shopifys_401(graphql: Graphql) -> None:
    response = await graphql.post("{ shop { name } }", token=None)
    assert response.status_code == 401
    assert response.json() == INVALID


@pytest.mark.parametrize("token", ["shpat_unknown", EXPIRED_TOKEN])
async def test_unknown_or_expired_token_is_refused(graphql: Graphql, token: str) -> None:
    response = await graphql.post("{ shop { name } }", token=token)
    assert response.status_code == 401
    assert response.json() == INVALID


async def test_unknown_shop_and_unsupported_version_are_not_found(graphql: Graphql) -> None:
    assert (await graphql.post("{ shop { name } }", shop="nobody.myshopify.com")).status_code == 404
    assert (await graphql.post("{ shop { name } }", version="2025-01")).status_code == 404


async def test_both_supported_versions_answer(graphql: Graphql) -> None:
    for version in ("2026-04", "2026-07"):
        answer = await graphql("{ shop { name myshopifyDomain } }", version=version)
        assert answer["data"]["shop"]["myshopifyDomain"] == SHOP_A


async def test_shop_b_token_cannot_read_shop_a_with_another_shops_token(graphql: Graphql) -> None:
    response = await graphql.post(
        "{ shop { name } }", shop="northwind-test.myshopify.com", token="shpat_token_for_app_b"
    )
    assert response.status_code == 401

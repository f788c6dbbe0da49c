from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import REFERENCE
from tests.factories import installed_shop, webhook_headers


async def test_app_uninstalled_webhook_marks_shop(
    app_client: tuple[httpx.AsyncClient, dict[str, Any]],
) -> None:
    client, state = app_client
    services = state["services"]
    await installed_shop(services.sessions, services.cipher, "alpha.myshopify.com")
    body = (REFERENCE / "webhook-payloads" / "AppUninstalled.json").read_bytes()
    response = await client.post(
        "/webhooks",
        content=body,
        headers=webhook_headers(topic="app/uninstalled", shop="alpha.myshopify.com", body=body),
    )
    assert response.status_code == 200, response.text
    assert json.loads(response.text)["outcome"] == "accepted"
    await state["jobs"].drain()
    from shop_app.shops.installation import get_shop

    async with services.sessions() as session:
        shop = await get_shop(session, "alpha.myshopify.com")
    assert shop is not None and shop.status == "uninstalled"

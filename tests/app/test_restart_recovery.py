"""A delivery stored but never processed (the process stopped first) is processed after a restart."""

from __future__ import annotations

from shop_app.models import DeliveryStatus, ShopStatus
from shop_app.settings import Settings
from tests.app.conftest import ALPHA, PAYLOADS, RunningApp
from tests.conftest import FakeShopify, running_app
from tests.factories import installed_shop


async def test_a_delivery_stored_before_a_restart_is_processed_after_it(
    settings: Settings, shopify: FakeShopify
) -> None:
    body = (PAYLOADS / "AppUninstalled.json").read_bytes()
    async with shopify.client() as http:
        # given: the webhook is stored, then the process stops before its job runs
        async with running_app(settings, http) as (client, state):
            first = RunningApp(client=client, services=state["services"], jobs=state["jobs"])
            await installed_shop(first.services.sessions, first.services.cipher, ALPHA)
            await first.pause_jobs()
            assert (await first.webhook("app/uninstalled", ALPHA, body)).status_code == 200
            shop = await first.shop(ALPHA)
            assert shop is not None
            assert [d.status for d in await first.deliveries(shop)] == [DeliveryStatus.PENDING]

        # when: the app starts again
        async with running_app(settings, http) as (client, state):
            second = RunningApp(client=client, services=state["services"], jobs=state["jobs"])
            await second.drain()

            # then
            shop = await second.shop(ALPHA)
            assert shop is not None
            assert shop.status == ShopStatus.UNINSTALLED
            assert [d.status for d in await second.deliveries(shop)] == [DeliveryStatus.DONE]

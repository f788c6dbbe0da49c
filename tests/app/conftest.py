from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.jobs.queues import InProcessQueue
from shop_app.models import Shop, WebhookDelivery
from shop_app.runtime import Services
from shop_app.shops.installation import get_shop
from tests.conftest import REFERENCE, TEST_API_SECRET
from tests.factories import access_token, installed_shop, webhook_headers

PAYLOADS = REFERENCE / "webhook-payloads"

ALPHA = "alpha.myshopify.com"
BETA = "beta.myshopify.com"


@dataclass
class RunningApp:
    client: httpx.AsyncClient
    services: Services
    jobs: InProcessQueue

    async def drain(self) -> None:
        await self.jobs.drain()

    async def pause_jobs(self) -> None:
        """Stop the job workers, so accepted deliveries stay as they were stored."""
        await self.jobs.stop()

    def uri_for(self, topic: str) -> str:
        config = self.services.app_config
        declared = {s.topic for s in config.subscriptions}
        return config.uri_for(topic) if topic in declared else "/webhooks"

    def subscribes_to(self, topic: str) -> bool:
        return any(s.topic == topic for s in self.services.app_config.subscriptions)

    async def webhook(
        self,
        topic: str,
        shop: str,
        body: bytes,
        *,
        event_id: str | None = None,
        secret: str = TEST_API_SECRET,
        path: str | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            path or self.uri_for(topic),
            content=body,
            headers=webhook_headers(topic=topic, shop=shop, body=body, secret=secret, event_id=event_id),
        )

    async def deliveries(self, shop: Shop) -> list[WebhookDelivery]:
        async with self.services.sessions() as session:
            result = await session.execute(
                select(WebhookDelivery)
                .where(col(WebhookDelivery.shop_id) == shop.id)
                .order_by(col(WebhookDelivery.id))
            )
            return list(result.scalars())

    async def shop(self, domain: str) -> Shop | None:
        async with self.services.sessions() as session:
            return await get_shop(session, domain)

    async def rows(self, model: type[Any], shop: Shop) -> list[Any]:
        async with self.services.sessions() as session:
            result = await session.execute(select(model).where(model.shop_id == shop.id))
            return list(result.scalars())


@dataclass
class TwoShops:
    alpha: Shop
    beta: Shop


@pytest.fixture
def app(app_client: tuple[httpx.AsyncClient, dict[str, Any]]) -> RunningApp:
    client, state = app_client
    jobs = state["jobs"]
    assert isinstance(jobs, InProcessQueue)
    return RunningApp(client=client, services=state["services"], jobs=jobs)


@pytest.fixture
async def shops(app: RunningApp) -> TwoShops:
    services = app.services
    alpha = await installed_shop(
        services.sessions, services.cipher, ALPHA, access_token(token="shpat_alpha", refresh="shprt_alpha")
    )
    beta = await installed_shop(
        services.sessions, services.cipher, BETA, access_token(token="shpat_beta", refresh="shprt_beta")
    )
    return TwoShops(alpha=alpha, beta=beta)


def compliance_body(name: str, shop: str) -> bytes:
    """A compliance sample (``customers-redact``, ...) addressed to ``shop``."""
    text = (PAYLOADS / f"compliance-{name}.json").read_text()
    return text.replace("{shop}.myshopify.com", shop).encode()

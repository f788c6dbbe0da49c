"""Two installed shops with the same sold-out shirt (the same Shopify ids in both, so a query that forgets
the shop would mix them up), and a shopper's email ticket in each."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import transaction
from shop_app.models import (
    Channel,
    Contact,
    InventoryLevel,
    Location,
    Message,
    OutboxMessage,
    Product,
    ProductVariant,
    Shop,
    StockSubscription,
    Ticket,
)
from shop_app.notices.links import NoticeLinks, Offer
from shop_app.runtime import Services
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.app.conftest import app as app
from tests.app.conftest import shops as shops

PRODUCT_ID = 6001
VARIANT_ID = 6101
ITEM_ID = 6201
TOKYO = 24826418
OSAKA = 24826419


@dataclass
class Shelf:
    app: RunningApp
    shops: TwoShops
    tickets: dict[str, int]

    @property
    def services(self) -> Services:
        return self.app.services

    @property
    def links(self) -> NoticeLinks:
        return NoticeLinks.of(self.services)

    def shop_id(self, domain: str) -> int:
        shop = self.shops.alpha if domain == ALPHA else self.shops.beta
        assert shop.id is not None
        return shop.id

    def offer(self, domain: str = ALPHA, locations: tuple[int, ...] = ()) -> Offer:
        return Offer(self.shop_id(domain), self.tickets[domain], VARIANT_ID, locations)

    async def set_stock(self, domain: str, location: int, available: int) -> None:
        async with transaction(self.services.sessions) as session:
            level = (
                await session.execute(
                    select(InventoryLevel).where(
                        col(InventoryLevel.shop_id) == self.shop_id(domain),
                        col(InventoryLevel.location_shopify_id) == location,
                    )
                )
            ).scalar_one()
            level.available = available

    async def messages(self, domain: str) -> list[Message]:
        async with self.services.sessions() as session:
            rows = await session.execute(
                select(Message)
                .where(col(Message.ticket_id) == self.tickets[domain])
                .order_by(col(Message.id))
            )
            return list(rows.scalars())

    async def subscriptions(self, domain: str | None = None) -> list[StockSubscription]:
        async with self.services.sessions() as session:
            statement = select(StockSubscription).order_by(col(StockSubscription.id))
            if domain is not None:
                statement = statement.where(col(StockSubscription.shop_id) == self.shop_id(domain))
            return list((await session.execute(statement)).scalars())

    async def outbox(self) -> list[OutboxMessage]:
        async with self.services.sessions() as session:
            return list(
                (await session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))).scalars()
            )


def level_body(available: int, location: int = TOKYO, updated_at: str = "2026-12-03T10:00:00Z") -> bytes:
    payload: dict[str, Any] = {
        "inventory_item_id": ITEM_ID,
        "location_id": location,
        "available": available,
        "updated_at": updated_at,
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location}?inventory_item_id={ITEM_ID}",
    }
    return json.dumps(payload).encode()


async def stock_shelf(services: Services, shop: Shop, *, email: str, language: str) -> int:
    now = datetime.now(UTC)
    assert shop.id is not None
    async with transaction(services.sessions) as session:
        row = await session.get_one(Shop, shop.id)
        row.primary_locale = language
        row.name = "Alpha 商店" if language == "ja" else "Beta Store"
        product = Product(
            shop_id=shop.id,
            shopify_id=PRODUCT_ID,
            title="リネンシャツ" if language == "ja" else "Linen Shirt",
            handle="linen-shirt",
            updated_at=now,
        )
        session.add(product)
        await session.flush()
        assert product.id is not None
        session.add(
            ProductVariant(
                shop_id=shop.id,
                shopify_id=VARIANT_ID,
                product_id=product.id,
                title="Navy / M",
                selected_options=[["Color", "Navy"], ["Size", "M"]],
                inventory_item_shopify_id=ITEM_ID,
                inventory_policy="DENY",
                updated_at=now,
            )
        )
        for location, name in ((TOKYO, "Tokyo"), (OSAKA, "Osaka")):
            session.add(Location(shop_id=shop.id, shopify_id=location, name=name, updated_at=now))
            session.add(
                InventoryLevel(
                    shop_id=shop.id,
                    inventory_item_shopify_id=ITEM_ID,
                    location_shopify_id=location,
                    available=0,
                    updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )
        contact = Contact(shop_id=shop.id, email=email, name="山田 花子" if language == "ja" else "Ann Lee")
        session.add(contact)
        await session.flush()
        assert contact.id is not None
        ticket = Ticket(shop_id=shop.id, contact_id=contact.id, channel=Channel.EMAIL, subject="在庫")
        session.add(ticket)
        await session.flush()
        assert ticket.id is not None
        return ticket.id


@pytest.fixture
async def shelf(app: RunningApp, shops: TwoShops) -> Shelf:
    tickets = {
        ALPHA: await stock_shelf(app.services, shops.alpha, email="hanako@example.jp", language="ja"),
        BETA: await stock_shelf(app.services, shops.beta, email="ann@example.com", language="en"),
    }
    return Shelf(app, shops, tickets)

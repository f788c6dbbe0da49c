"""A migrated database with two shops and a mirror to answer from, for the answer engine's tests: orders
in each state, products with variants and stock, and a way to ask the bot as a shopper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.answers import Decision, Trust, answer_message, forget_shop_cache
from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket, post_message
from shop_app.models import (
    AuthorType,
    Channel,
    Fulfillment,
    FulfillmentOrder,
    InventoryLevel,
    Location,
    Message,
    Order,
    Product,
    ProductVariant,
    Shop,
    Ticket,
)

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
HANAKO = 501  # a Shopify customer of alpha
VISITOR = Trust(source="ip:203.0.113.7")


@dataclass
class World:
    sessions: SessionFactory
    alpha: Shop
    beta: Shop
    orders: dict[str, Order] = field(default_factory=dict)
    _next_id: int = 1000

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def add_order(
        self,
        number: int,
        *,
        shop: Shop | None = None,
        customer: int | None = HANAKO,
        email: str = "hanako@example.jp",
        phone: str | None = "+819012345678",
        zip_code: str = "150-0001",
        created_at: datetime = NOW - timedelta(days=2),
        prefix: str = "#",
        shipments: list[dict[str, Any]] = (),  # type: ignore[assignment]
        fulfillment_orders: list[dict[str, Any]] = (),  # type: ignore[assignment]
        **fields: Any,
    ) -> Order:
        shop = shop or self.alpha
        assert shop.id is not None
        async with transaction(self.sessions) as session:
            order = Order(
                shop_id=shop.id,
                shopify_id=self.next_id() * 10,
                name=f"{prefix}{number}",
                number=number,
                customer_shopify_id=customer,
                email=email,
                phone=phone,
                created_at=created_at,
                updated_at=created_at,
                currency=shop.currency_code,
                total_price="3300",
                shipping_address={"zip": zip_code, "country_code": "JP", "phone": phone},
                **fields,
            )
            session.add(order)
            await session.flush()
            assert order.id is not None
            for shipment in shipments:
                session.add(
                    Fulfillment(
                        shop_id=shop.id,
                        shopify_id=self.next_id(),
                        order_id=order.id,
                        created_at=created_at + timedelta(days=1),
                        updated_at=created_at + timedelta(days=1),
                        **{"status": "SUCCESS", **shipment},
                    )
                )
            for fulfillment_order in fulfillment_orders:
                session.add(
                    FulfillmentOrder(
                        shop_id=shop.id, shopify_id=self.next_id(), order_id=order.id, **fulfillment_order
                    )
                )
        forget_shop_cache(shop.id)
        self.orders[order.name] = order
        return order

    async def add_product(
        self,
        title: str,
        variants: list[dict[str, Any]],
        *,
        shop: Shop | None = None,
    ) -> Product:
        """Each variant: ``options`` [[name, value]…], ``stock`` {location id: (available, incoming)},
        ``policy``."""
        shop = shop or self.alpha
        assert shop.id is not None
        async with transaction(self.sessions) as session:
            product = Product(
                shop_id=shop.id, shopify_id=self.next_id(), title=title, status="ACTIVE", updated_at=NOW
            )
            session.add(product)
            await session.flush()
            assert product.id is not None
            for spec in variants:
                item_id = self.next_id()
                options = spec.get("options", [])
                session.add(
                    ProductVariant(
                        shop_id=shop.id,
                        shopify_id=self.next_id(),
                        product_id=product.id,
                        title=" / ".join(value for _, value in options) or "Default Title",
                        inventory_policy=spec.get("policy", "DENY"),
                        selected_options=[list(pair) for pair in options],
                        inventory_item_shopify_id=item_id,
                    )
                )
                for location_id, (available, incoming) in spec.get("stock", {}).items():
                    session.add(
                        InventoryLevel(
                            shop_id=shop.id,
                            inventory_item_shopify_id=item_id,
                            location_shopify_id=location_id,
                            available=available,
                            incoming=incoming,
                            updated_at=NOW,
                        )
                    )
        forget_shop_cache(shop.id)
        return product

    async def add_location(self, shopify_id: int, name: str, *, shop: Shop | None = None) -> None:
        shop = shop or self.alpha
        assert shop.id is not None
        async with transaction(self.sessions) as session:
            session.add(Location(shop_id=shop.id, shopify_id=shopify_id, name=name))

    async def open(
        self, text: str, *, shop: Shop | None = None, email: str = "visitor@example.com"
    ) -> Ticket:
        shop = shop or self.alpha
        async with transaction(self.sessions) as session:
            contact = await find_or_create_contact(session, shop=shop, details=ContactDetails(email=email))
            ticket, _message = await open_ticket(
                session, shop=shop, contact=contact, channel=Channel.WEB_CHAT, subject="", first_message=text
            )
        return ticket

    async def ask(
        self,
        text: str,
        *,
        ticket: Ticket | None = None,
        trust: Trust = VISITOR,
        shop: Shop | None = None,
        now: datetime | None = NOW,
        post: bool = True,
        email: str = "visitor@example.com",
    ) -> tuple[Decision, Ticket]:
        """The shopper writes ``text`` (a new ticket, or into ``ticket``) and the bot decides (at ``now``;
        ``None`` is the clock's time, for tests that move the clock)."""
        shop = shop or self.alpha
        message: Message | None = None
        if ticket is None:
            ticket = await self.open(text, shop=shop, email=email)
            async with self.sessions() as session:
                message = (
                    await session.execute(select(Message).where(col(Message.ticket_id) == ticket.id))
                ).scalar_one()
        async with transaction(self.sessions) as session:
            fresh = await session.get_one(Ticket, ticket.id)
            if message is None:
                message = await post_message(
                    session, ticket=fresh, author_type=AuthorType.CUSTOMER, body=text
                )
            decision = await answer_message(
                session, shop=shop, ticket=fresh, message=message, trust=trust, now=now, post=post
            )
        async with self.sessions() as session:
            return decision, await session.get_one(Ticket, ticket.id)

    async def messages(self, ticket: Ticket) -> list[Message]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message).where(col(Message.ticket_id) == ticket.id).order_by(col(Message.id))
            )
            return list(rows.scalars())


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        alpha = Shop(
            domain="alpha.myshopify.com",
            name="Alpha",
            currency_code="JPY",
            iana_timezone="Asia/Tokyo",
            country_code="JP",
            primary_locale="ja",
        )
        beta = Shop(
            domain="beta.myshopify.com",
            name="Beta",
            currency_code="USD",
            iana_timezone="America/New_York",
            country_code="US",
            primary_locale="en",
        )
        session.add_all([alpha, beta])
        await session.flush()
    assert alpha.id is not None
    assert beta.id is not None
    forget_shop_cache(alpha.id)
    forget_shop_cache(beta.id)
    yield World(sessions, alpha, beta)
    await engine.dispose()

"""``shop-app dev`` only: a demo agent for every simulated shop and a few conversations to look at, so the
console has something in it on the first start. Never used in production."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from shop_app.answers.ticket_subjects import new_ticket_subject
from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.dev.history import seed_history
from shop_app.formats.names_and_addresses import person_name
from shop_app.helpdesk.agents import add_agent_to_shop
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket
from shop_app.models import Channel, Customer, Order, Role, Ticket
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop

logger = logging.getLogger(__name__)

DEMO_AGENT_EMAIL = "agent@example.com"
SEED_POLL_SECONDS = 2.0
SEED_WAIT_SECONDS = 600.0


def _demo_password(data_dir: Path) -> str:
    path = data_dir / "dev-agent-password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    return password


async def ensure_demo_agent(settings: Settings, shops: tuple[str, ...]) -> tuple[str, str]:
    """The demo agent, an admin of every simulated shop (an account in each, one password). Returns
    (email, password)."""
    password = _demo_password(settings.data_dir)
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            for domain in shops:
                shop = await get_shop(session, domain)
                if shop is not None:
                    await add_agent_to_shop(
                        session,
                        shop=shop,
                        email=DEMO_AGENT_EMAIL,
                        name="Demo Agent",
                        password=password,
                        role=Role.ADMIN,
                        locale="ja",
                    )
    finally:
        await engine.dispose()
    return DEMO_AGENT_EMAIL, password


async def seed_demo_tickets(settings: Settings, shops: tuple[str, ...]) -> None:
    """Once a shop's first sync has mirrored customers with orders, open three conversations from them
    (matched by email, matched by a domestic phone number, and a guest nobody knows)."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        for domain in shops:
            await _seed_shop(sessions, domain)
            await seed_history(sessions, domain)
    finally:
        await engine.dispose()


async def _seed_shop(sessions: SessionFactory, domain: str) -> None:
    waited = 0.0
    while waited < SEED_WAIT_SECONDS:
        async with sessions() as session:
            shop = await get_shop(session, domain)
            if shop is None:
                return
            if (
                await session.execute(select(func.count()).where(col(Ticket.shop_id) == shop.id))
            ).scalar_one():
                return
            buyers = list(
                (
                    await session.execute(
                        select(Customer)
                        .where(
                            col(Customer.shop_id) == shop.id,
                            col(Customer.email).is_not(None),
                            col(Customer.shopify_id).in_(
                                select(col(Order.customer_shopify_id)).where(col(Order.shop_id) == shop.id)
                            ),
                        )
                        .order_by(col(Customer.id))
                        .limit(2)
                    )
                ).scalars()
            )
        if len(buyers) == 2:
            break
        await asyncio.sleep(SEED_POLL_SECONDS)
        waited += SEED_POLL_SECONDS
    else:
        logger.info("demo tickets not seeded: no customers mirrored yet shop=%s", domain)
        return
    first, second = buyers
    conversations = [
        (
            ContactDetails(name=person_name(first.first_name, first.last_name), email=first.email),
            "注文した商品はいつ届きますか？",
        ),
        (
            ContactDetails(
                name=person_name(second.first_name, second.last_name), email=second.email, phone=second.phone
            ),
            "Hi, my parcel has not arrived yet. Could you check where it is?",
        ),
        (ContactDetails(name="Guest", email="guest@example.net"), "Do you have the navy T-shirt in size M?"),
    ]
    async with transaction(sessions) as session:
        shop = await get_shop(session, domain)
        assert shop is not None
        for details, text in conversations:
            contact = await find_or_create_contact(session, shop=shop, details=details)
            subject = await new_ticket_subject(session, shop=shop, first_message=text)
            await open_ticket(
                session,
                shop=shop,
                contact=contact,
                channel=Channel.WEB_CHAT,
                subject=subject,
                first_message=text,
            )
    logger.info("demo tickets seeded shop=%s", domain)

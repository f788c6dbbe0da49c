"""A running SMTP listener on a free port, over the app's services, with two shops that have support
addresses; mail is sent to it through real SMTP sessions (aiosmtplib)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import select
from sqlmodel import col

from integrations.shopify.app_config import load_app_config
from shop_app.channels.email.addresses import save_mail_settings
from shop_app.channels.email.listener import MailHandler, listening_port, start_listener
from shop_app.database import transaction
from shop_app.lifespan import open_services
from shop_app.models import Message, Shop, Ticket
from shop_app.runtime import Services
from shop_app.settings import MailLimits, Settings
from tests.factories import installed_shop

ALPHA_ADDRESS = "help@alpha.example"
BETA_ADDRESS = "support@beta.example"


@dataclass
class MailWorld:
    services: Services
    handler: MailHandler
    port: int
    alpha: Shop
    beta: Shop
    answered: list[int] = field(default_factory=list)

    async def send(
        self, message: EmailMessage | bytes, *, to: list[str], sender: str = "taro@example.com"
    ) -> tuple[dict[str, Any], str]:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port, start_tls=False) as smtp:
            errors, reply = await smtp.sendmail(sender, to, raw)
        await self.handler.drain()
        return errors, reply

    async def tickets(self, shop: Shop) -> list[Ticket]:
        async with self.services.sessions() as session:
            rows = await session.execute(
                select(Ticket).where(col(Ticket.shop_id) == shop.id).order_by(col(Ticket.id))
            )
            return list(rows.scalars())

    async def messages(self, ticket: Ticket) -> list[Message]:
        async with self.services.sessions() as session:
            rows = await session.execute(
                select(Message).where(col(Message.ticket_id) == ticket.id).order_by(col(Message.id))
            )
            return list(rows.scalars())


@pytest.fixture
def mail_limits() -> MailLimits:
    return MailLimits(max_message_bytes=200_000, max_attachment_bytes=50_000, max_attachments=3)


@pytest.fixture
async def mail_world(settings: Settings, mail_limits: MailLimits) -> AsyncIterator[MailWorld]:
    settings = replace(settings, mail=mail_limits)
    async with open_services(settings, app_config=load_app_config(settings.app_config_path)) as services:
        alpha = await installed_shop(services.sessions, services.cipher, "alpha.myshopify.com")
        beta = await installed_shop(services.sessions, services.cipher, "beta.myshopify.com")
        async with transaction(services.sessions) as session:
            for shop, address in ((alpha, ALPHA_ADDRESS), (beta, BETA_ADDRESS)):
                shop = await session.get_one(Shop, shop.id)
                shop.name = "Alpha 商店" if address == ALPHA_ADDRESS else "Beta Store"
                shop.primary_locale = "ja" if address == ALPHA_ADDRESS else "en"
                await save_mail_settings(
                    session,
                    shop=shop,
                    cipher=services.cipher,
                    support_address=address,
                    relay_host=None,
                    relay_port=587,
                    relay_starttls=True,
                    relay_username=None,
                    relay_password=None,
                )
        world_answered: list[int] = []

        async def after_answer(_: Services, message_ids: list[int]) -> None:
            world_answered.extend(message_ids)

        handler = MailHandler(services, after_answer=after_answer)
        server = await start_listener(services, handler, host="127.0.0.1", port=0)
        try:
            yield MailWorld(services, handler, listening_port(server), alpha, beta, world_answered)
        finally:
            server.close()
            await server.wait_closed()
            await handler.drain()
            await asyncio.sleep(0)

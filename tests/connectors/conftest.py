"""Two shops (ALPHA Japanese, BETA English), each connected to its own account on the simulated Chatwoot
(``devchatwoot``): the app's outgoing calls reach the simulator through the test transport, and the
simulator's bot webhooks reach the app in process. No network."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from devchatwoot.server import create_chatwoot_app
from devchatwoot.state import Account, AgentBot, ChatwootState, Contact, Conversation, Inbox, User
from shop_app.connectors.chatwoot import CHATWOOT, card_url
from shop_app.connectors.storage import inbound_url, save_connector
from shop_app.database import transaction
from shop_app.models import Connector, Shop
from tests.conftest import FakeShopify
from tests.factories import seed_shipped_order
from tests.helpdesk.conftest import ALPHA, BETA, Desk
from tests.helpdesk.conftest import desk as desk

CHATWOOT_URL = "https://chatwoot.example.test"


@dataclass
class Side:
    account: Account
    inbox: Inbox
    bot: AgentBot
    user: User
    connector_id: int


@dataclass
class ChatwootDesk:
    desk: Desk
    chatwoot: ChatwootState
    sides: dict[str, Side] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.desk.client

    def contact(self, shop: str = ALPHA, *, name: str = "山田 花子", email: str | None = None) -> Contact:
        return self.chatwoot.add_contact(self.sides[shop].account, name=name, email=email)

    async def says(
        self, contact: Contact, text: str, *, shop: str = ALPHA, conversation: Conversation | None = None
    ) -> Conversation:
        side = self.sides[shop]
        async with self.chatwoot.lock:
            chat, _ = await self.chatwoot.contact_says(
                side.account, side.inbox, contact, text, conversation=conversation
            )
        await self.settle()
        return chat

    async def agent_says(self, chat: Conversation, text: str, *, shop: str = ALPHA) -> None:
        side = self.sides[shop]
        async with self.chatwoot.lock:
            await self.chatwoot.post_message(
                side.account, chat, content=text, private=False, sender_type="user", sender_id=side.user.id
            )
        await self.settle()

    async def settle(self) -> None:
        for _ in range(5):  # the bot's reply comes back as an event of its own: drain until quiet
            await self.desk.state["jobs"].drain()

    async def count(self, table: type[Any]) -> int:
        async with self.desk.services.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(table))).scalar_one())

    async def connector(self, shop: str = ALPHA) -> Connector:
        async with self.desk.services.sessions() as session:
            return await session.get_one(Connector, self.sides[shop].connector_id)

    async def card_url(self, shop: str = ALPHA) -> str:
        return card_url(self.desk.services.settings, await self.connector(shop))

    async def seed_order(self, shop: str = ALPHA, *, email: str = "hanako@example.jp") -> None:
        await seed_shipped_order(
            self.desk.services.sessions,
            shop_id=self.desk.shop_ids[shop],
            email=email,
            amount_spent="3200.00",
            currency="JPY",
            orders_count=1,
        )


@pytest.fixture
async def chatwoot_desk(desk: Desk, shopify: FakeShopify) -> ChatwootDesk:
    simulator = create_chatwoot_app(base_url=CHATWOOT_URL, http=desk.client)
    state: ChatwootState = simulator.state.chatwoot
    to_chatwoot = httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url=CHATWOOT_URL)

    async def handler(request: httpx.Request) -> httpx.Response:
        if not str(request.url).startswith(CHATWOOT_URL):
            return httpx.Response(404, json={"errors": "Not Found"})
        answer = await to_chatwoot.request(
            request.method, str(request.url), content=request.content, headers=dict(request.headers)
        )
        return httpx.Response(answer.status_code, content=answer.content, headers=dict(answer.headers))

    shopify.handler = handler
    found = ChatwootDesk(desk=desk, chatwoot=state)
    for domain in (ALPHA, BETA):
        account = state.add_account("アルファ" if domain == ALPHA else "Beta")
        inbox = state.add_inbox(account, "Website")
        user = state.add_user(account, name="Agent " + domain[:4], email=f"agent@{domain}")
        async with transaction(desk.services.sessions) as session:
            shop = await session.get_one(Shop, desk.shop_ids[domain])
            shop.name = account.name
            shop.primary_locale = "ja" if domain == ALPHA else "en"
            shop.country_code = "JP"
            shop.iana_timezone = "Asia/Tokyo"
            shop.currency_code = "JPY"
            bot_secret = f"{domain[:4]}-bot-secret-0123456789"
            # the bot is made first in Chatwoot, then its token and secret are saved in the app
            bot = state.add_bot(account, name="Order Desk", outgoing_url="pending", secret=bot_secret)
            connector = await save_connector(
                session,
                shop=shop,
                cipher=desk.services.cipher,
                vendor=CHATWOOT,
                values={
                    "base_url": CHATWOOT_URL,
                    "account": str(account.id),
                    "bot_token": bot.access_token,
                    "bot_secret": bot_secret,
                    "user_token": user.access_token,
                },
            )
            bot.outgoing_url = inbound_url(desk.services.settings, connector)
            assert connector.id is not None
            connector_id = connector.id
        state.set_agent_bot(inbox, bot)
        found.sides[domain] = Side(account, inbox, bot, user, connector_id)
    return found

"""``shop-app dev`` only: the simulated Zendesk (``devzendesk``) beside the simulated store, connected for the
Japanese demo shop as a merchant connects a real account (the connector form's values, the webhook and the
two triggers in Zendesk, the sidebar app's address). The account lives in memory, so each start connects it
again with its fresh credentials; a demo ticket from a shopper shows the bot and the sidebar at once."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from devzendesk.config import ZendeskConfig
from devzendesk.state import Trigger, TriggerEvent, ZendeskState
from integrations.zendesk.payloads import TriggerKind, trigger_body_template
from shop_app.connectors.storage import inbound_url, save_connector
from shop_app.connectors.zendesk import ZENDESK, sidebar_url
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.encryption import Cipher
from shop_app.models import Connector, Shop
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop

ZENDESK_PORT = 8084
DEMO_QUESTION = "注文の配送状況を教えてください。"


def zendesk_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def zendesk_config(port: int) -> ZendeskConfig:
    return ZendeskConfig(host="127.0.0.1", port=port, subdomain="devzendesk")


def demo_triggers() -> list[Trigger]:
    """The two triggers the README has the merchant create, in the simulated account."""
    return [
        Trigger(TriggerEvent.CREATED, trigger_body_template(TriggerKind.TICKET_CREATED)),
        Trigger(TriggerEvent.PUBLIC_COMMENT, trigger_body_template(TriggerKind.PUBLIC_COMMENT)),
    ]


async def connect_account(
    session: AsyncSession, *, settings: Settings, cipher: Cipher, shop: Shop, account: ZendeskState
) -> Connector:
    """The shop connected to the simulated account as a merchant connects a real one: the connector form's
    values, then (in Zendesk) the webhook's endpoint, the triggers and the sidebar app's address."""
    config = account.config
    connector = await save_connector(
        session,
        shop=shop,
        cipher=cipher,
        vendor=ZENDESK,
        values={
            "base_url": config.base_url,
            "account": config.subdomain,
            "email": config.admin_email,
            "api_token": config.api_token,
            "signing_secret": config.signing_secret,
            "handoff_group_id": str(account.returns_group),
            "app_id": str(config.app_id),
            "installation_id": str(config.installation_id),
        },
    )
    account.webhook_url = inbound_url(settings, connector)
    account.sidebar_url = sidebar_url(settings, connector)
    account.triggers = demo_triggers()
    return connector


async def connect_demo_zendesk(settings: Settings, account: ZendeskState, *, shop_domain: str) -> str | None:
    """Connects the shop to the account; the address of a demo ticket's page, or ``None`` when the shop is
    not installed."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = await get_shop(session, shop_domain)
            if shop is None or shop.id is None or not shop.is_active:
                return None
            cipher = Cipher(settings.encryption_keys)
            await connect_account(session, settings=settings, cipher=cipher, shop=shop, account=account)
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(base_url=account.config.base_url, timeout=30) as http:
        opened = await http.post(
            "/_devzendesk/tickets",
            json={
                "requester_email": "hanako@example.jp",
                "requester_name": "山田 花子",
                "body": DEMO_QUESTION,
            },
        )
    return (
        f"{account.config.base_url}/agent/tickets/{opened.json()['id']}"
        if opened.status_code == 201
        else None
    )

"""``shop-app dev`` only: the simulated Chatwoot (``devchatwoot``) beside the simulated store, with an
account connected to the Japanese demo shop as a merchant connects theirs (the agent bot's token and
secret and a user's token saved through the same connector storage, the bot's URL pointed at the app, the
card added as a dashboard app), and one demo conversation whose page frames the card. Chatwoot's records
live in memory: each start makes them again and saves the new tokens (the connector's addresses stay)."""

from __future__ import annotations

import httpx

from devchatwoot.server import create_chatwoot_app
from devchatwoot.state import Account, ChatwootState, Inbox, User
from shop_app.connectors.chatwoot import CHATWOOT, card_url
from shop_app.connectors.storage import inbound_url, save_connector
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.encryption import Cipher
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop
from shop_app.web_server import ServerConfig

CHATWOOT_PORT = 8083
DEMO_QUESTION = "注文はいつ届きますか？"


def chatwoot_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def chatwoot_server_config(settings: Settings, port: int) -> tuple[ServerConfig, ChatwootState]:
    app = create_chatwoot_app(base_url=chatwoot_url(port), http=httpx.AsyncClient(timeout=10))
    server = ServerConfig(app, limits=settings.connections, log_level="WARNING", host="127.0.0.1", port=port)
    return server, app.state.chatwoot


async def connect_account(
    settings: Settings, state: ChatwootState, account: Account, user: User, *, shop_domain: str
) -> Inbox | None:
    """Connect the account to the shop as its merchant would: an agent bot made in Chatwoot, its token and
    secret and the user's token saved in the app, the bot's URL pointed at the app, the card added as a
    dashboard app, the bot attached to a new inbox (returned). ``None`` when the shop is not installed."""
    inbox = state.add_inbox(account, "Website")
    bot = state.add_bot(account, name="Order Desk", outgoing_url="pending")
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = await get_shop(session, shop_domain)
            if shop is None or shop.id is None or not shop.is_active:
                return None
            connector = await save_connector(
                session,
                shop=shop,
                cipher=Cipher(settings.encryption_keys),
                vendor=CHATWOOT,
                values={
                    "base_url": state.base_url,
                    "account": str(account.id),
                    "bot_token": bot.access_token,
                    "bot_secret": bot.secret,
                    "user_token": user.access_token,
                },
            )
            bot.outgoing_url = inbound_url(settings, connector)
            state.add_dashboard_app(account, title="Order Desk", url=card_url(settings, connector))
    finally:
        await engine.dispose()
    state.set_agent_bot(inbox, bot)
    return inbox


async def connect_demo_chatwoot(settings: Settings, state: ChatwootState, *, shop_domain: str) -> str | None:
    """The shop's Chatwoot account, connected; the address of a demo conversation's page (an agent's view
    with the card beside it), or ``None`` when the shop is not installed."""
    account = state.add_account(shop_domain.split(".")[0])
    user = state.add_user(account, name="佐藤 葵", email="agent@example.com")
    inbox = await connect_account(settings, state, account, user, shop_domain=shop_domain)
    if inbox is None:
        return None
    contact = state.add_contact(account, name="山田 花子", email="hanako@example.jp")
    async with state.lock:
        chat, _ = await state.contact_says(account, inbox, contact, DEMO_QUESTION)
    return f"{state.base_url}/app/accounts/{account.id}/conversations/{chat.display_id}?as={user.id}"

"""``shop-app dev`` only: the simulated LINE platform (``devline``) beside the simulated store, with a channel
for the Japanese demo shop connected to the app as a merchant connects theirs (the same credentials table,
its webhook pointed at the app's address for the shop). The app's LINE addresses point at the platform.
The channel's credentials are kept in the app's database, so a restart gives the platform the same channel
(its conversations, held in memory, start empty)."""

from __future__ import annotations

import secrets

from devline.config import ChannelConfig, LineConfig, new_user_id
from devline.state import LineState
from shop_app.channels.line.connections import (
    connect_line,
    connection_for_shop,
    credentials,
    webhook_url,
)
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.encryption import Cipher
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop

LINE_PORT = 8082
DEMO_LINE_SHOP = "hinode-apparel.myshopify.com"  # the Japanese demo brand


def line_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def line_config(port: int) -> LineConfig:
    return LineConfig(host="127.0.0.1", port=port)


async def connect_demo_channel(settings: Settings, state: LineState, *, shop_domain: str) -> str | None:
    """The shop's LINE channel on the platform (made, and connected in the app, on the first run); the
    address of the chat page that plays a new LINE user of it, or ``None`` when the shop is not installed."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    cipher = Cipher(settings.encryption_keys)
    try:
        async with transaction(sessions) as session:
            shop = await get_shop(session, shop_domain)
            if shop is None or shop.id is None or not shop.is_active:
                return None
            connection = await connection_for_shop(session, shop_id=shop.id)
            if connection is None:
                connection = await connect_line(
                    session,
                    shop=shop,
                    cipher=cipher,
                    channel_id=str(2_000_000_000 + secrets.randbelow(99_999_999)),
                    channel_secret=secrets.token_hex(16),
                    access_token=secrets.token_urlsafe(96),
                )
            found = credentials(cipher, connection)
            channel = ChannelConfig(
                channel_id=connection.channel_id,
                channel_secret=found.channel_secret.reveal(),
                access_tokens=(found.access_token.reveal(),),
                bot_user_id=new_user_id(),
                basic_id="@" + secrets.token_hex(4)[:7],
                display_name=shop.name or shop_domain,
                webhook_url=webhook_url(settings, connection),
            )
    finally:
        await engine.dispose()
    if channel.channel_id not in state.channels:
        state.add_channel(channel)
    return f"{state.config.base_url}/chat/{channel.channel_id}"

"""The command-line way to give a shop its first admin and a bot its API key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop_app.agent_commands import add_agent, new_api_key
from shop_app.database import make_engine, make_session_factory
from shop_app.encryption import Cipher
from shop_app.errors import AppError, NotFound
from shop_app.models import Agent, ApiKey, Membership, Role
from shop_app.settings import Settings
from tests.factories import installed_shop

pytestmark = pytest.mark.anyio


async def test_agent_add_creates_the_agent_once_and_joins_shops(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    cipher = Cipher(settings.encryption_keys)
    await installed_shop(sessions, cipher, "alpha.myshopify.com")
    await installed_shop(sessions, cipher, "beta.myshopify.com")
    try:
        first = await add_agent(
            settings,
            shop="alpha.myshopify.com",
            email="Boss@Example.com",
            name="Boss",
            password="a long enough password",
            role=Role.ADMIN,
            locale="ja",
        )
        second = await add_agent(
            settings,
            shop="beta.myshopify.com",
            email="boss@example.com",
            name="",
            password=None,
            role=Role.AGENT,
            locale="en",
        )
        assert first == "boss@example.com created and added to alpha.myshopify.com as admin"
        assert second == "boss@example.com added to beta.myshopify.com as agent"
        async with sessions() as session:
            agents = (await session.execute(select(Agent))).scalars().all()
            roles = sorted(m.role for m in (await session.execute(select(Membership))).scalars())
        assert [a.email for a in agents] == ["boss@example.com"]
        assert agents[0].locale == "ja" and "a long enough password" not in agents[0].password_hash
        assert roles == ["admin", "agent"]
    finally:
        await engine.dispose()


async def test_agent_add_refuses_an_unknown_shop_or_a_missing_password(settings: Settings) -> None:
    with pytest.raises(NotFound):
        await add_agent(
            settings,
            shop="nope.myshopify.com",
            email="a@example.com",
            name="",
            password="long enough pass",
            role=Role.AGENT,
            locale="en",
        )
    engine = make_engine(settings.database_url)
    await installed_shop(
        make_session_factory(engine), Cipher(settings.encryption_keys), "alpha.myshopify.com"
    )
    await engine.dispose()
    with pytest.raises(AppError, match="needs a password"):
        await add_agent(
            settings,
            shop="alpha.myshopify.com",
            email="a@example.com",
            name="",
            password=None,
            role=Role.AGENT,
            locale="en",
        )


async def test_api_key_create_prints_a_key_only_its_digest_is_stored(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    await installed_shop(sessions, Cipher(settings.encryption_keys), "alpha.myshopify.com")
    try:
        key = await new_api_key(settings, shop="alpha.myshopify.com", name="LINE bot", trusted=True)
        async with sessions() as session:
            row = (await session.execute(select(ApiKey))).scalar_one()
        assert key.startswith("shpk_") and row.trusted and row.name == "LINE bot"
        assert key != row.key_digest and key not in row.key_digest and row.prefix == key[:12]
    finally:
        await engine.dispose()

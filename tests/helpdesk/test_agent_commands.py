"""The command-line way to give a shop its first admin and a bot its API key."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.agent_commands import add_agent, new_api_key
from shop_app.database import make_engine, make_session_factory
from shop_app.encryption import Cipher
from shop_app.errors import AppError, NotFound
from shop_app.models import Agent, ApiKey, Membership, Role
from shop_app.settings import Settings
from tests.factories import installed_shop

pytestmark = pytest.mark.anyio


async def test_agent_add_makes_an_account_per_shop_and_leaves_other_shops_accounts_alone(
    settings: Settings,
) -> None:
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
        in_beta = await add_agent(
            settings,
            shop="beta.myshopify.com",
            email="boss@example.com",
            name="",
            password="beta's own password",
            role=None,
            locale="en",
        )
        again = await add_agent(
            settings,
            shop="alpha.myshopify.com",
            email="boss@example.com",
            name="",
            password=None,
            role=None,
            locale="en",
        )
        assert first == "boss@example.com created in alpha.myshopify.com as admin"
        assert in_beta == "boss@example.com created in beta.myshopify.com as agent"
        assert again == "boss@example.com is alpha.myshopify.com's admin"
        async with sessions() as session:
            agents = (await session.execute(select(Agent).order_by(col(Agent.id)))).scalars().all()
            members = (await session.execute(select(Membership.agent_id, Membership.role))).all()
        assert [(a.email, a.name, a.locale) for a in agents] == [
            ("boss@example.com", "Boss", "ja"),
            ("boss@example.com", "", "en"),
        ]
        assert sorted((agent_id, str(role)) for agent_id, role in members) == [
            (agents[0].id, "admin"),
            (agents[1].id, "agent"),
        ]
        assert "a long enough password" not in agents[0].password_hash
        assert agents[0].password_hash != agents[1].password_hash
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

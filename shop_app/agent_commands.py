"""``shop-app agent add`` and ``shop-app api-key create``: the first admin of a shop, and keys for bots,
from the command line (later ones can be added from the console or the API)."""

from __future__ import annotations

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.errors import NotFound
from shop_app.helpdesk.agents import add_agent_to_shop
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.models import Role
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop


async def add_agent(
    settings: Settings,
    *,
    shop: str,
    email: str,
    name: str,
    password: str | None,
    role: Role | None,
    locale: str,
) -> str:
    """Creates the shop's agent with this email (an account of this shop only, whatever other shops
    have), or changes an existing one's role when ``role`` is given. Returns what happened."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            found = await get_shop(session, shop)
            if found is None:
                raise NotFound(f"No shop {shop} is installed", code="shop_not_found")
            added = await add_agent_to_shop(
                session, shop=found, email=email, name=name, password=password, role=role, locale=locale
            )
            if added.created:
                return f"{added.agent.email} created in {shop} as {added.role.value}"
            return f"{added.agent.email} is {shop}'s {added.role.value}"
    finally:
        await engine.dispose()


async def new_api_key(settings: Settings, *, shop: str, name: str, trusted: bool) -> str:
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            found = await get_shop(session, shop)
            if found is None:
                raise NotFound(f"No shop {shop} is installed", code="shop_not_found")
            _row, key = await create_api_key(session, shop=found, name=name, trusted=trusted)
            return key
    finally:
        await engine.dispose()

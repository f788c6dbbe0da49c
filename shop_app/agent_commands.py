"""``shop-app agent add`` and ``shop-app api-key create``: the first admin of a shop, and keys for bots,
from the command line (later ones can be added from the console or the API)."""

from __future__ import annotations

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.errors import AppError, NotFound
from shop_app.helpdesk.agents import add_membership, create_agent, get_agent_by_email, normalise_agent_email
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.models import Role
from shop_app.settings import Settings
from shop_app.shops.installation import get_shop


async def add_agent(
    settings: Settings, *, shop: str, email: str, name: str, password: str | None, role: Role, locale: str
) -> str:
    """Creates the agent (or finds it by email) and makes it a member of the shop. Returns what happened."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            found = await get_shop(session, shop)
            if found is None:
                raise NotFound(f"No shop {shop} is installed", code="shop_not_found")
            agent = await get_agent_by_email(session, normalise_agent_email(email))
            created = agent is None
            if agent is None:
                if password is None:
                    raise AppError("A new agent needs a password", code="password_required")
                agent = await create_agent(session, email=email, name=name, password=password, locale=locale)
            await add_membership(session, shop=found, agent=agent, role=role)
            verb = "created and added" if created else "added"
            return f"{agent.email} {verb} to {shop} as {role.value}"
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

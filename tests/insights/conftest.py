"""The helpdesk's running app with two shops (their admins, agents and API keys) and, for the figures, the
hand-counted history of tests/insights/world.py."""

import pytest

from shop_app.database import transaction
from tests.helpdesk.conftest import ALPHA, BETA, Desk, desk
from tests.insights.world import World, build

__all__ = ["Desk", "desk", "world"]


@pytest.fixture
async def world(desk: Desk) -> World:
    async with transaction(desk.services.sessions) as session:
        return await build(
            session,
            alpha_id=desk.shop_ids[ALPHA],
            beta_id=desk.shop_ids[BETA],
            agent_id=desk.agent_ids["agent@alpha.test"],
            beta_agent_id=desk.agent_ids["agent@beta.test"],
        )

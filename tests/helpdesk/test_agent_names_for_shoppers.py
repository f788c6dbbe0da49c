"""What shoppers are told an agent is called: a display name, or the shop's name; never an email."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlencode

import pytest
from sqlalchemy import update
from sqlmodel import col

from integrations.shopify.app_proxy import sign_app_proxy_query
from shop_app.agent_commands import add_agent
from shop_app.database import transaction
from shop_app.helpdesk.agents import add_membership, create_agent, shopper_facing_name
from shop_app.models import Role, Shop
from tests.conftest import TEST_API_SECRET
from tests.helpdesk.conftest import ALPHA, PASSWORD, Desk

pytestmark = pytest.mark.anyio

PROXY = "/proxy/support"


def proxy_query() -> str:
    """A storefront visitor's request as Shopify's app proxy signs it (each one different)."""
    params = {
        "shop": ALPHA,
        "logged_in_customer_id": "",
        "path_prefix": "/apps/support",
        "timestamp": str(int(time.time())),
        "request": uuid.uuid4().hex,
    }
    params["signature"] = sign_app_proxy_query(params, TEST_API_SECRET)
    return urlencode(params)


async def test_a_shopper_sees_agents_by_display_name_or_as_the_shop_never_by_email(desk: Desk) -> None:
    # given a named shop; an agent added from the command line without a name; one named by their
    # email (as the command line used to name agents); and Akira, who has a name
    settings = desk.services.settings
    async with transaction(desk.services.sessions) as session:
        await session.execute(update(Shop).where(col(Shop.domain) == ALPHA).values(name="Alpha Goods"))
        shop = await session.get_one(Shop, desk.shop_ids[ALPHA])
        legacy = await create_agent(session, email="old@alpha.test", name="old@alpha.test", password=PASSWORD)
        await add_membership(session, shop=shop, agent=legacy, role=Role.AGENT)
    await add_agent(
        settings, shop=ALPHA, email="quiet@alpha.test", name="", password=PASSWORD, role=None, locale="en"
    )

    # when a shopper writes in the widget and each agent replies
    begun = await desk.client.post(f"{PROXY}/conversations?{proxy_query()}", json={"message": "Hello?"})
    assert begun.status_code == 201, begun.text
    ticket_id = (await desk.client.get("/api/v1/tickets", headers=desk.key(ALPHA))).json()["tickets"][0]["id"]
    for email in ("quiet@alpha.test", "old@alpha.test", "agent@alpha.test"):
        csrf = await desk.sign_in(email)
        reply = await desk.client.post(
            f"/api/v1/tickets/{ticket_id}/messages",
            json={"body": "Happy to help.", "kind": "reply"},
            headers=csrf,
        )
        assert reply.status_code == 201, reply.text
    shown = await desk.client.get(
        f"{PROXY}/messages?{proxy_query()}", headers={"X-Widget-Session": begun.json()["session"]}
    )

    # then the shopper sees the shop's name for the first two and Akira's first name, and no address
    assert shown.status_code == 200, shown.text
    agents = [m["author_name"] for m in shown.json()["messages"] if m["author"] == "agent"]
    assert agents == ["Alpha Goods", "Alpha Goods", "Akira"]
    assert "@" not in shown.text


def test_a_display_name_is_a_first_name_or_the_shops_name() -> None:
    assert shopper_facing_name("Aiko Admin", shop_name="Alpha Goods") == "Aiko"
    assert shopper_facing_name("  ", shop_name="Alpha Goods") == "Alpha Goods"
    assert shopper_facing_name("boss@example.com", shop_name="Alpha Goods") == "Alpha Goods"
    assert shopper_facing_name("Boss <boss@example.com>", shop_name="Alpha Goods") == "Alpha Goods"
    assert shopper_facing_name("", shop_name=None) is None
    assert shopper_facing_name("", shop_name=" ") is None

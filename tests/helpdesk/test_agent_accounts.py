"""Agents' accounts: one per shop and email (another shop's admin learns and attaches nothing), and a shop
that always keeps an admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.agent_commands import add_agent
from shop_app.errors import Conflict
from shop_app.models import Agent, Membership, Role
from tests.factories import session_token
from tests.helpdesk.conftest import ALPHA, BETA, PASSWORD, Desk

pytestmark = pytest.mark.anyio


async def memberships(desk: Desk, agent_id: int) -> list[tuple[int, str]]:
    async with desk.services.sessions() as session:
        rows = await session.execute(
            select(Membership.shop_id, Membership.role).where(col(Membership.agent_id) == agent_id)
        )
        return sorted((shop_id, str(role)) for shop_id, role in rows)


async def test_adding_another_shops_agents_email_makes_a_new_account_and_tells_nothing_of_theirs(
    desk: Desk,
) -> None:
    # given beta's agent Ben, and alpha's admin who adds Ben's email to alpha
    ben = desk.agent_ids["agent@beta.test"]
    admin = await desk.sign_in("admin@alpha.test")
    added = await desk.client.post(
        "/api/v1/agents",
        json={"email": "Agent@Beta.test", "name": "Newcomer", "password": "alpha's own password"},
        headers=admin,
    )

    # then the answer is about a new account of alpha, with nothing of Ben's
    assert added.status_code == 201, added.text
    assert added.json()["id"] != ben
    assert added.json() == {
        "id": added.json()["id"],
        "name": "Newcomer",
        "email": "agent@beta.test",
        "role": "agent",
    }
    listed = (await desk.client.get("/api/v1/agents")).json()["agents"]
    assert "Ben Beta" not in str(listed) and ben not in [a["id"] for a in listed]

    # and Ben's account is untouched: still beta's only, signing in with its own password
    assert await memberships(desk, ben) == [(desk.shop_ids[BETA], "agent")]
    assert (
        await desk.client.post(
            "/api/v1/session", json={"shop": ALPHA, "email": "agent@beta.test", "password": PASSWORD}
        )
    ).status_code == 401
    await desk.sign_in("agent@beta.test", shop=BETA)
    await desk.sign_in("agent@beta.test", shop=ALPHA, password="alpha's own password")
    session = (await desk.client.get("/api/v1/session")).json()
    assert session["agent"]["id"] == added.json()["id"] and session["agent"]["name"] == "Newcomer"


async def test_another_shops_email_without_a_password_is_answered_as_an_unknown_one(desk: Desk) -> None:
    admin = await desk.sign_in("admin@alpha.test")
    theirs = await desk.client.post("/api/v1/agents", json={"email": "agent@beta.test"}, headers=admin)
    nobodys = await desk.client.post("/api/v1/agents", json={"email": "nobody@beta.test"}, headers=admin)
    assert theirs.status_code == nobodys.status_code == 422
    assert theirs.json() == nobodys.json()
    assert theirs.json()["error"]["code"] == "password_required"
    assert await memberships(desk, desk.agent_ids["agent@beta.test"]) == [(desk.shop_ids[BETA], "agent")]


async def test_the_only_admin_cannot_make_themselves_an_agent(desk: Desk) -> None:
    admin = await desk.sign_in("admin@alpha.test")
    demoted = await desk.client.post(
        "/api/v1/agents", json={"email": "admin@alpha.test", "role": "agent"}, headers=admin
    )
    in_japanese = await desk.client.post(
        "/api/v1/agents?locale=ja", json={"email": "admin@alpha.test", "role": "agent"}, headers=admin
    )
    assert demoted.status_code == in_japanese.status_code == 409
    assert demoted.json()["error"] == {
        "code": "last_admin",
        "message": "A shop needs an admin: make another agent an admin first.",
    }
    assert in_japanese.json()["error"]["message"] == (
        "ショップには管理者が必要です。先に別のエージェントを管理者にしてください。"
    )
    assert await memberships(desk, desk.agent_ids["admin@alpha.test"]) == [(desk.shop_ids[ALPHA], "admin")]
    assert (await desk.client.get("/api/v1/session")).json()["role"] == "admin"


async def test_the_last_admin_cannot_be_removed_and_a_second_admin_lifts_the_rule(desk: Desk) -> None:
    merchant = {"Authorization": f"Bearer {session_token(ALPHA)}"}
    aiko, akira = desk.agent_ids["admin@alpha.test"], desk.agent_ids["agent@alpha.test"]

    # the embedded admin cannot remove the shop's only admin
    refused = await desk.client.delete(f"/api/v1/agents/{aiko}", headers=merchant)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"
    assert await memberships(desk, aiko) == [(desk.shop_ids[ALPHA], "admin")]

    # with a second admin, the first can be removed; the second is then the last
    promoted = await desk.client.post(
        "/api/v1/agents", json={"email": "agent@alpha.test", "role": "admin"}, headers=merchant
    )
    assert promoted.status_code == 201 and promoted.json()["role"] == "admin"
    assert (await desk.client.delete(f"/api/v1/agents/{aiko}", headers=merchant)).status_code == 204
    last = await desk.client.post(
        "/api/v1/agents", json={"email": "agent@alpha.test", "role": "agent"}, headers=merchant
    )
    assert last.status_code == 409
    assert await memberships(desk, akira) == [(desk.shop_ids[ALPHA], "admin")]


async def test_adding_a_member_without_a_role_keeps_their_role(desk: Desk) -> None:
    merchant = {"Authorization": f"Bearer {session_token(ALPHA)}"}
    again = await desk.client.post("/api/v1/agents", json={"email": "admin@alpha.test"}, headers=merchant)
    assert again.status_code == 201 and again.json()["role"] == "admin"
    assert again.json()["id"] == desk.agent_ids["admin@alpha.test"]


async def test_the_command_line_refuses_to_make_the_last_admin_an_agent(desk: Desk) -> None:
    settings = desk.services.settings
    with pytest.raises(Conflict, match="needs an admin") as refused:
        await add_agent(
            settings,
            shop=ALPHA,
            email="admin@alpha.test",
            name="",
            password=None,
            role=Role.AGENT,
            locale="en",
        )
    assert refused.value.code == "last_admin"
    kept = await add_agent(
        settings, shop=ALPHA, email="admin@alpha.test", name="", password=None, role=None, locale="en"
    )
    assert kept == f"admin@alpha.test is {ALPHA}'s admin"
    async with desk.services.sessions() as session:
        admins = (
            await session.execute(
                select(Agent.email)
                .join(Membership, col(Membership.agent_id) == col(Agent.id))
                .where(col(Membership.shop_id) == desk.shop_ids[ALPHA], col(Membership.role) == Role.ADMIN)
            )
        ).scalars()
        assert list(admins) == ["admin@alpha.test"]

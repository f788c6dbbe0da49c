"""Who may call the API: agents by cookie session (with CSRF on writes), API keys, embedded session tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from shop_app.database import transaction
from shop_app.models import AgentSession, ApiKey, Message, Ticket
from shop_app.models.base import utcnow
from tests.factories import session_token
from tests.helpdesk.conftest import ALPHA, BETA, PASSWORD, Desk

pytestmark = pytest.mark.anyio


async def test_agent_signs_in_and_sees_who_they_are(desk: Desk) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    answer = await desk.client.get("/api/v1/session")
    assert answer.status_code == 200
    body = answer.json()
    assert body["agent"]["email"] == "agent@alpha.test"
    assert body["shop"]["domain"] == ALPHA
    assert body["role"] == "agent"
    assert body["csrf_token"] == csrf["X-CSRF-Token"]
    cookie = next(c for c in desk.client.cookies.jar if c.name == "shop_app_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    async with desk.services.sessions() as session:
        digests = (await session.execute(select(AgentSession.token_digest))).scalars().all()
    assert cookie.value not in digests and len(digests) == 1


@pytest.mark.parametrize(
    ("shop", "email", "password"),
    [
        (ALPHA, "agent@alpha.test", "wrong password!"),
        (ALPHA, "nobody@alpha.test", PASSWORD),
        (BETA, "agent@alpha.test", PASSWORD),  # not a member of beta
        ("evil.com", "agent@alpha.test", PASSWORD),
        ("gamma.myshopify.com", "agent@alpha.test", PASSWORD),
    ],
)
async def test_every_failed_sign_in_gets_the_same_answer_and_no_session(
    desk: Desk, shop: str, email: str, password: str
) -> None:
    answer = await desk.client.post(
        "/api/v1/session", json={"shop": shop, "email": email, "password": password}
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_credentials"
    assert "shop_app_session" not in answer.cookies
    async with desk.services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(AgentSession))).scalar_one() == 0


async def test_writes_with_the_cookie_need_the_csrf_token(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    csrf = await desk.sign_in("agent@alpha.test")
    url = f"/api/v1/tickets/{ticket['id']}/messages"
    refused = await desk.client.post(url, json={"body": "Hello", "kind": "reply"})
    forged = await desk.client.post(
        url, json={"body": "Hello", "kind": "reply"}, headers={"X-CSRF-Token": "0" * 64}
    )
    accepted = await desk.client.post(url, json={"body": "Hello", "kind": "reply"}, headers=csrf)
    assert refused.status_code == forged.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert accepted.status_code == 201
    async with desk.services.sessions() as session:
        count = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    assert count == 2  # the customer's first message and the one accepted reply


async def test_an_expired_session_is_refused_with_a_clear_error(desk: Desk) -> None:
    await desk.sign_in("agent@alpha.test")
    async with transaction(desk.services.sessions) as session:
        await session.execute(update(AgentSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    answer = await desk.client.get("/api/v1/tickets")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "session_expired"


async def test_sign_out_ends_the_session(desk: Desk) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    assert (await desk.client.delete("/api/v1/session", headers=csrf)).status_code == 204
    assert (await desk.client.get("/api/v1/tickets")).status_code == 401
    async with desk.services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(AgentSession))).scalar_one() == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer shpk_not-a-real-key", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer shpk_" + "x" * 200, "Token abc"],
)
async def test_invalid_credentials_are_refused_and_change_nothing(desk: Desk, header: str) -> None:
    answer = await desk.client.post(
        "/api/v1/tickets",
        json={"contact": {"email": "x@example.com"}, "message": "hi"},
        headers={"Authorization": header},
    )
    assert answer.status_code == 401
    async with desk.services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Ticket))).scalar_one() == 0


async def test_api_keys_are_shown_once_stored_hashed_and_revocable(desk: Desk) -> None:
    csrf = await desk.sign_in("admin@alpha.test")
    created = await desk.client.post("/api/v1/api-keys", json={"name": "Helpdesk bridge"}, headers=csrf)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("shpk_") and len(key) > 40
    listed = (await desk.client.get("/api/v1/api-keys")).json()["api_keys"]
    assert all("key" not in row for row in listed)
    assert any(row["prefix"] == key[:12] for row in listed)
    async with desk.services.sessions() as session:
        stored = [(row.key_digest, row.prefix) for row in (await session.execute(select(ApiKey))).scalars()]
    assert all(key not in digest for digest, _ in stored)

    usable = await desk.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {key}"})
    assert usable.status_code == 200
    revoked = await desk.client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=csrf)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = await desk.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {key}"})
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_api_key"


async def test_only_admins_manage_api_keys(desk: Desk) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    answer = await desk.client.post("/api/v1/api-keys", json={"name": "mine"}, headers=csrf)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "admin_only"
    async with desk.services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ApiKey))).scalar_one() == 2


async def test_another_shops_api_key_cannot_be_revoked(desk: Desk) -> None:
    csrf = await desk.sign_in("admin@alpha.test")
    async with desk.services.sessions() as session:
        beta_key = (
            await session.execute(select(ApiKey.id).where(col(ApiKey.shop_id) == desk.shop_ids[BETA]))
        ).scalar_one()
    answer = await desk.client.delete(f"/api/v1/api-keys/{beta_key}", headers=csrf)
    assert answer.status_code == 404
    assert (await desk.client.get("/api/v1/tickets", headers=desk.key(BETA))).status_code == 200


async def test_embedded_admin_session_tokens_reach_the_api_as_the_shops_admin(desk: Desk) -> None:
    await desk.open_ticket(ALPHA)
    await desk.open_ticket(BETA)
    token = session_token(ALPHA)
    answer = await desk.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert len(answer.json()["tickets"]) == 1
    keys = await desk.client.get("/api/v1/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert keys.status_code == 200
    tampered = await desk.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}x"})
    assert tampered.status_code == 401


async def test_admins_add_and_remove_agents_and_removed_agents_lose_access(desk: Desk) -> None:
    # given an admin who adds a new agent, and that agent's session with a ticket assigned
    admin = await desk.sign_in("admin@alpha.test")
    added = await desk.client.post(
        "/api/v1/agents",
        json={"email": "New@Alpha.test", "name": "Nana", "password": "a good long password", "locale": "ja"},
        headers=admin,
    )
    assert added.status_code == 201 and added.json()["email"] == "new@alpha.test"
    ticket = await desk.open_ticket()
    newcomer = await desk.sign_in("new@alpha.test", password="a good long password")
    taken = await desk.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"assignee_id": added.json()["id"]}, headers=newcomer
    )
    assert taken.status_code == 200

    # when an admin removes them
    admin = await desk.sign_in("admin@alpha.test")
    removed = await desk.client.delete(f"/api/v1/agents/{added.json()['id']}", headers=admin)

    # then they are signed out of the shop and their ticket is back in the queue
    assert removed.status_code == 204
    refused = await desk.client.post(
        "/api/v1/session", json={"shop": ALPHA, "email": "new@alpha.test", "password": "a good long password"}
    )
    assert refused.status_code == 401
    async with desk.services.sessions() as session:
        assert (await session.get_one(Ticket, ticket["id"])).assignee_id is None


async def test_agents_cannot_add_agents_and_new_agents_need_a_password(desk: Desk) -> None:
    agent = await desk.sign_in("agent@alpha.test")
    refused = await desk.client.post("/api/v1/agents", json={"email": "x@alpha.test"}, headers=agent)
    assert refused.status_code == 403
    admin = await desk.sign_in("admin@alpha.test")
    no_password = await desk.client.post("/api/v1/agents", json={"email": "x@alpha.test"}, headers=admin)
    assert no_password.status_code == 422 and no_password.json()["error"]["code"] == "password_required"
    other_shop = await desk.client.delete(
        f"/api/v1/agents/{desk.agent_ids['agent@beta.test']}", headers=admin
    )
    assert other_shop.status_code == 404

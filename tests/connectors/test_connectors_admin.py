"""The embedded admin's Connectors page API: set up, test the connection with a clear result, pause,
replace secrets (never shown again), each shop its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.connectors.chatwoot import CHATWOOT
from shop_app.connectors.storage import save_connector
from shop_app.database import transaction
from shop_app.errors import BadRequest
from shop_app.models import Connector, Shop
from tests.connectors.conftest import CHATWOOT_URL, ChatwootDesk
from tests.factories import session_token
from tests.helpdesk.conftest import ALPHA, BETA


def admin(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


def chatwoot_state(body: dict[str, object]) -> dict[str, object]:
    states = body["connectors"]
    assert isinstance(states, list)
    return next(s for s in states if s["vendor"] == "chatwoot")


async def test_the_admin_lists_the_connector_and_its_addresses_never_a_secret(
    chatwoot_desk: ChatwootDesk,
) -> None:
    answer = await chatwoot_desk.client.get("/api/admin/connectors", headers=admin(ALPHA))
    assert answer.status_code == 200
    state = chatwoot_state(answer.json())
    connector = state["connector"]
    assert isinstance(connector, dict)
    assert connector["connected"] and connector["base_url"] == CHATWOOT_URL and not connector["paused"]
    assert connector["urls"]["bot"].startswith("https://app.example.test/connectors/chatwoot/hook/")
    assert "/connectors/chatwoot/card?connector=" in connector["urls"]["dashboard_app"]
    side = chatwoot_desk.sides[ALPHA]
    for secret in (side.bot.access_token, side.bot.secret, side.user.access_token):
        assert secret not in answer.text
    beta = chatwoot_state(
        (await chatwoot_desk.client.get("/api/admin/connectors", headers=admin(BETA))).json()
    )
    assert beta["connector"]["urls"]["bot"] != connector["urls"]["bot"]  # type: ignore[index]
    assert (await chatwoot_desk.client.get("/api/admin/connectors")).status_code == 401


async def test_test_connection_says_what_is_wrong(chatwoot_desk: ChatwootDesk) -> None:
    ok = await chatwoot_desk.client.post("/api/admin/connectors/chatwoot/check", headers=admin(ALPHA))
    assert ok.status_code == 200 and ok.json()["result"] == "ok"
    # a token Chatwoot refuses
    wrong = await chatwoot_desk.client.put(
        "/api/admin/connectors/chatwoot",
        json={
            "base_url": CHATWOOT_URL,
            "account": str(chatwoot_desk.sides[ALPHA].account.id),
            "user_token": "nope",
        },
        headers=admin(ALPHA),
    )
    assert wrong.status_code == 200 and wrong.json()["result"] == "token_refused"
    # an account the user does not belong to (BETA's)
    other = await chatwoot_desk.client.put(
        "/api/admin/connectors/chatwoot",
        json={
            "base_url": CHATWOOT_URL,
            "account": str(chatwoot_desk.sides[BETA].account.id),
            "user_token": chatwoot_desk.sides[ALPHA].user.access_token,
        },
        headers=admin(ALPHA),
    )
    assert other.json()["result"] == "not_found"
    # an address where no Chatwoot answers
    away = await chatwoot_desk.client.put(
        "/api/admin/connectors/chatwoot",
        json={"base_url": "https://nowhere.example.test", "account": "1"},
        headers=admin(ALPHA),
    )
    assert away.json()["result"] in ("not_found", "unreachable", "not_a_helpdesk")
    # a malformed URL or account is refused before anything is saved
    for bad in (
        {"base_url": "javascript:alert(1)", "account": "1"},
        {"base_url": CHATWOOT_URL, "account": "１２"},
    ):
        refused = await chatwoot_desk.client.put(
            "/api/admin/connectors/chatwoot", json=bad, headers=admin(ALPHA)
        )
        assert refused.status_code == 400


async def test_secrets_are_replaced_encrypted_and_an_empty_field_keeps_the_stored_one(
    chatwoot_desk: ChatwootDesk,
) -> None:
    side = chatwoot_desk.sides[ALPHA]
    before = await chatwoot_desk.connector()
    saved = await chatwoot_desk.client.put(
        "/api/admin/connectors/chatwoot",
        json={
            "base_url": CHATWOOT_URL + "/",
            "account": str(side.account.id),
            "bot_token": "",
            "bot_secret": "",
        },
        headers=admin(ALPHA),
    )
    assert saved.status_code == 200 and saved.json()["result"] == "ok"
    after = await chatwoot_desk.connector()
    assert after.inbound_key == before.inbound_key and after.base_url == CHATWOOT_URL
    new_secret = "replaced-bot-secret-0123456789"
    side.bot.secret = new_secret
    saved = await chatwoot_desk.client.put(
        "/api/admin/connectors/chatwoot",
        json={"base_url": CHATWOOT_URL, "account": str(side.account.id), "bot_secret": new_secret},
        headers=admin(ALPHA),
    )
    assert new_secret not in saved.text
    async with chatwoot_desk.desk.services.sessions() as session:
        row = (
            await session.execute(select(Connector).where(col(Connector.id) == side.connector_id))
        ).scalar_one()
    assert new_secret not in row.ciphertext and side.bot.access_token not in row.ciphertext
    # Chatwoot now signs with the new secret, and the app accepts it
    chat = await chatwoot_desk.says(chatwoot_desk.contact(), "こんにちは")
    assert any(m.sender_type == "agent_bot" for m in chat.messages)


async def test_pausing_and_resuming(chatwoot_desk: ChatwootDesk) -> None:
    paused = await chatwoot_desk.client.post(
        "/api/admin/connectors/chatwoot/pause", json={"paused": True}, headers=admin(ALPHA)
    )
    assert paused.status_code == 200 and paused.json()["connector"]["paused"] is True
    chat = await chatwoot_desk.says(chatwoot_desk.contact(), "こんにちは")
    assert not any(m.sender_type == "agent_bot" for m in chat.messages)
    # BETA's connector is untouched
    assert not (await chatwoot_desk.connector(BETA)).paused
    resumed = await chatwoot_desk.client.post(
        "/api/admin/connectors/chatwoot/pause", json={"paused": False}, headers=admin(ALPHA)
    )
    assert resumed.json()["connector"]["paused"] is False
    assert (
        await chatwoot_desk.client.post(
            "/api/admin/connectors/chatwoot/pause", json={"paused": "no"}, headers=admin(ALPHA)
        )
    ).status_code == 400


async def test_in_production_the_helpdesk_address_must_be_https(chatwoot_desk: ChatwootDesk) -> None:
    async with transaction(chatwoot_desk.desk.services.sessions) as session:
        shop = await session.get_one(Shop, chatwoot_desk.desk.shop_ids[ALPHA])
        values = {"base_url": "http://chatwoot.example.test", "account": "1"}
        cipher = chatwoot_desk.desk.services.cipher
        with pytest.raises(BadRequest, match="base_url"):
            await save_connector(
                session, shop=shop, cipher=cipher, vendor=CHATWOOT, values=values, https_only=True
            )
        # nor an address inside the app's own network, which the app would call with the merchant's tokens
        for inside in (
            "https://127.0.0.1:3000",
            "https://10.0.0.5",
            "https://169.254.169.254",
            "https://[::1]",
            "https://localhost",
            "https://metadata.google.internal",
            "https://chatwoot",
        ):
            with pytest.raises(BadRequest, match="public"):
                await save_connector(
                    session,
                    shop=shop,
                    cipher=cipher,
                    vendor=CHATWOOT,
                    values={**values, "base_url": inside},
                    https_only=True,
                )
        public = {**values, "base_url": "https://chatwoot.example.com"}
        saved = await save_connector(
            session, shop=shop, cipher=cipher, vendor=CHATWOOT, values=public, https_only=True
        )
        assert saved.base_url == "https://chatwoot.example.com"
        # outside production (the simulated Chatwoot on 127.0.0.1) http is allowed
        saved = await save_connector(session, shop=shop, cipher=cipher, vendor=CHATWOOT, values=values)
        assert saved.base_url == "http://chatwoot.example.test"

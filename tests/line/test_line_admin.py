"""The embedded admin's LINE connection: credentials saved encrypted and never shown again, replaceable, the
webhook address to paste, and a test against LINE that says what is wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop_app.models import LineConnection
from tests.factories import session_token
from tests.helpdesk.conftest import ALPHA, BETA
from tests.line.conftest import TOKENS, LineDesk

pytestmark = pytest.mark.anyio


def admin(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


async def test_the_admin_shows_the_webhook_address_and_never_the_secret_or_token(line_desk: LineDesk) -> None:
    answer = await line_desk.client.get("/api/admin/line", headers=admin(ALPHA))
    assert answer.status_code == 200
    body = answer.json()
    assert body["connected"] and body["channel_id"] == "1650000000"
    assert body["webhook_url"] == f"https://app.example.test/line/webhook/{line_desk.keys[ALPHA]}"
    assert TOKENS[ALPHA] not in answer.text and "secret" not in answer.text.lower()
    beta = (await line_desk.client.get("/api/admin/line", headers=admin(BETA))).json()
    assert beta["webhook_url"].endswith(line_desk.keys[BETA]) and beta["webhook_url"] != body["webhook_url"]
    assert (await line_desk.client.get("/api/admin/line")).status_code == 401


async def test_replacing_the_credentials_keeps_the_address_encrypts_them_and_tests_them(
    line_desk: LineDesk,
) -> None:
    line_desk.line.tokens.add("brand-new-token")
    saved = await line_desk.client.put(
        "/api/admin/line",
        json={
            "channel_id": "1650000009",
            "channel_secret": "new-secret-abcdef0123456789",
            "access_token": "brand-new-token",
        },
        headers=admin(ALPHA),
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["result"] == "ok" and body["connection"]["bot_name"] == "Shop Bot"
    assert body["connection"]["webhook_url"].endswith(line_desk.keys[ALPHA])
    assert "brand-new-token" not in saved.text and "new-secret" not in saved.text
    async with line_desk.desk.services.sessions() as session:
        row = (
            await session.execute(select(LineConnection).where(LineConnection.channel_id == "1650000009"))
        ).scalar_one()
    assert "brand-new-token" not in row.ciphertext and "new-secret" not in row.ciphertext
    # the new secret signs the webhook now, the old one no longer does
    event = line_desk.event("Unew000000000000000000000000000001")
    assert (await line_desk.post([event])).status_code == 401
    assert (await line_desk.post([event], secret="new-secret-abcdef0123456789")).status_code == 200


async def test_a_refused_token_is_said_in_words(line_desk: LineDesk) -> None:
    saved = await line_desk.client.put(
        "/api/admin/line",
        json={
            "channel_id": "1650000000",
            "channel_secret": "s3cret-0123456789abcdef",
            "access_token": "revoked-token",
        },
        headers=admin(ALPHA),
    )
    assert saved.json()["result"] == "token_refused"
    checked = await line_desk.client.post("/api/admin/line/check", headers=admin(ALPHA))
    assert checked.json()["result"] == "token_refused"
    assert checked.json()["connection"]["last_check"] == "token_refused"


@pytest.mark.parametrize(
    "body",
    [
        {"channel_id": "abc", "channel_secret": "x" * 32, "access_token": "t"},
        {"channel_id": "1", "channel_secret": "", "access_token": "t"},
        {"channel_id": "1", "channel_secret": "x" * 32, "access_token": "has space"},
        {"channel_id": "1", "channel_secret": "x" * 200, "access_token": "t"},
        {"channel_id": 1, "channel_secret": "x", "access_token": "t"},
        {},
    ],
)
async def test_malformed_credentials_are_refused_and_nothing_changes(
    line_desk: LineDesk, body: dict[str, object]
) -> None:
    answer = await line_desk.client.put("/api/admin/line", json=body, headers=admin(ALPHA))
    assert answer.status_code == 400
    async with line_desk.desk.services.sessions() as session:
        row = await session.get(LineConnection, line_desk.desk.shop_ids[ALPHA])
    assert row is not None and row.channel_id == "1650000000"

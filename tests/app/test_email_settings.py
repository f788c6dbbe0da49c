"""The embedded admin's email settings: saved per shop with a session token, the relay password kept
encrypted and never shown again, refusals in words, a relay check that sends nothing, and the page in
Japanese and English."""

from __future__ import annotations

from typing import Any

import pytest

from shop_app.models import MailSettings
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.app.database_checks import all_rows
from tests.factories import session_token
from tests.mail.relay import RELAY_PASSWORD, RELAY_USER, Relay, free_port


def bearer(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


def settings_body(**changes: Any) -> dict[str, Any]:
    return {
        "support_address": "help@alpha.example",
        "relay_host": "127.0.0.1",
        "relay_port": 2587,
        "relay_starttls": False,
        "relay_username": RELAY_USER,
        "relay_password": RELAY_PASSWORD,
        **changes,
    }


async def test_settings_are_saved_and_the_password_is_never_shown_again(
    app: RunningApp, shops: TwoShops, database_url: str
) -> None:
    saved = await app.client.put("/api/admin/email", json=settings_body(), headers=bearer(ALPHA))
    assert saved.status_code == 200, saved.text
    shown = (await app.client.get("/api/admin/email", headers=bearer(ALPHA))).json()
    assert shown["support_address"] == "help@alpha.example"
    assert shown["relay_password_kept"] is True
    assert shown["reply_address_example"].startswith("help+t")
    assert RELAY_PASSWORD not in saved.text + str(shown)
    assert RELAY_PASSWORD not in repr(all_rows(database_url))
    # a save without a password keeps the stored one
    again = await app.client.put(
        "/api/admin/email", json=settings_body(relay_password=None, relay_port=25), headers=bearer(ALPHA)
    )
    assert again.json()["relay_password_kept"] is True
    [row] = await app.rows(MailSettings, shops.alpha)
    assert app.services.cipher.decrypt(row.relay_password_ciphertext) == RELAY_PASSWORD
    assert row.relay_port == 25


async def test_each_shop_sees_only_its_own_settings(app: RunningApp, shops: TwoShops) -> None:
    await app.client.put("/api/admin/email", json=settings_body(), headers=bearer(ALPHA))
    beta = (await app.client.get("/api/admin/email", headers=bearer(BETA))).json()
    assert beta["support_address"] is None
    taken = await app.client.put("/api/admin/email", json=settings_body(), headers=bearer(BETA))
    assert taken.status_code == 400
    assert taken.json()["error"]["code"] == "support_address_taken"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"support_address": "not an address"}, "invalid_support_address"),
        ({"support_address": "help+x@alpha.example"}, "invalid_support_address"),
        ({"relay_host": "smtp.example.com/evil"}, "invalid_relay_host"),
        ({"relay_host": "a b"}, "invalid_relay_host"),
        ({"relay_port": 70000}, "invalid_request"),
        ({"unknown": 1}, "invalid_request"),
    ],
)
async def test_bad_settings_are_refused_with_a_reason(
    app: RunningApp, shops: TwoShops, changes: dict[str, Any], code: str
) -> None:
    response = await app.client.put("/api/admin/email", json=settings_body(**changes), headers=bearer(ALPHA))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_without_a_session_token_nothing_is_shown_or_saved(app: RunningApp, shops: TwoShops) -> None:
    assert (await app.client.get("/api/admin/email")).status_code == 401
    assert (await app.client.put("/api/admin/email", json=settings_body())).status_code == 401
    assert await app.rows(MailSettings, shops.alpha) == []


async def test_the_relay_check_signs_in_and_sends_nothing(app: RunningApp, shops: TwoShops) -> None:
    relay = Relay(free_port())
    relay.start()
    try:
        await app.client.put(
            "/api/admin/email", json=settings_body(relay_port=relay.port), headers=bearer(ALPHA)
        )
        good = (await app.client.post("/api/admin/email/check", headers=bearer(ALPHA))).json()
        await app.client.put(
            "/api/admin/email",
            json=settings_body(relay_port=relay.port, relay_password="wrong"),
            headers=bearer(ALPHA),
        )
        wrong = (await app.client.post("/api/admin/email/check", headers=bearer(ALPHA))).json()
    finally:
        relay.stop()
    down = (await app.client.post("/api/admin/email/check", headers=bearer(ALPHA))).json()
    assert good == {"ok": True, "problem": None}
    assert wrong == {"ok": False, "problem": "smtp_auth"}
    assert down == {"ok": False, "problem": "smtp_unavailable"}
    assert relay.handler.received == []
    assert relay.logins == [RELAY_USER.encode()]


@pytest.mark.parametrize(
    ("locale", "heading"), [("ja", "サポート用メールアドレス"), ("en", "Support email address")]
)
async def test_the_email_page_speaks_the_admins_language(
    app: RunningApp, shops: TwoShops, locale: str, heading: str
) -> None:
    response = await app.client.get("/app/email", params={"shop": ALPHA, "locale": locale})
    assert response.status_code == 200
    assert heading in response.text
    assert "/static/admin/email.js" in response.text

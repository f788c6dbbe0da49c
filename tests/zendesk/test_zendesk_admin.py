"""The Connectors page's Zendesk section: its addresses, never a secret; "test connection" against the
simulated Zendesk says what is wrong."""

from __future__ import annotations

from tests.factories import session_token
from tests.helpdesk.conftest import ALPHA, BETA
from tests.zendesk.zendesk_fixtures import ZendeskDesk, base_url


def admin(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


async def zendesk_state(zd: ZendeskDesk, shop: str) -> dict[str, object]:
    answer = await zd.client.get("/api/admin/connectors", headers=admin(shop))
    assert answer.status_code == 200
    return next(s for s in answer.json()["connectors"] if s["vendor"] == "zendesk")


async def test_the_section_shows_the_webhook_and_sidebar_addresses_never_a_secret(
    zendesk_desk: ZendeskDesk,
) -> None:
    state = await zendesk_state(zendesk_desk, ALPHA)
    connector = state["connector"]
    assert isinstance(connector, dict) and connector["connected"]
    assert connector["urls"]["webhook"] == zendesk_desk.accounts[ALPHA].webhook_url
    assert connector["urls"]["sidebar"] == zendesk_desk.accounts[ALPHA].sidebar_url
    text = str(state)
    account = zendesk_desk.accounts[ALPHA].config
    assert account.api_token not in text and account.signing_secret not in text
    beta = await zendesk_state(zendesk_desk, BETA)
    assert beta["connector"]["urls"]["webhook"] != connector["urls"]["webhook"]  # type: ignore[index]


async def test_test_connection_says_what_is_wrong(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    ok = await zd.client.post("/api/admin/connectors/zendesk/check", headers=admin(ALPHA))
    assert ok.status_code == 200 and ok.json()["result"] == "ok"
    account = zd.accounts[ALPHA].config
    form = {"base_url": base_url(ALPHA), "account": "alpha", "email": account.admin_email}
    wrong = await zd.client.put(
        "/api/admin/connectors/zendesk", json={**form, "api_token": "nope"}, headers=admin(ALPHA)
    )
    assert wrong.status_code == 200 and wrong.json()["result"] == "token_refused"
    away = await zd.client.put(
        "/api/admin/connectors/zendesk",
        json={**form, "base_url": "https://nowhere.zendesk.test", "api_token": account.api_token},
        headers=admin(ALPHA),
    )
    assert away.json()["result"] in ("not_found", "unreachable", "not_a_helpdesk")
    bad = await zd.client.put(
        "/api/admin/connectors/zendesk", json={**form, "app_id": "12a"}, headers=admin(ALPHA)
    )
    assert bad.status_code == 400

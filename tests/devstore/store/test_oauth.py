from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from devstore.oauth import TOKEN_EXCHANGE_GRANT
from devstore.state import StoreState
from devstore.tokens import mint_session_token
from tests.devstore.store.conftest import CLIENT_ID, CLIENT_SECRET, HINODE, NORTHWIND, FakeClock

pytestmark = pytest.mark.anyio

REDIRECT = "http://app.test/auth/callback"
TOKEN_URL = f"/s/{HINODE}/admin/oauth/access_token"


def _verify_callback_hmac(query: list[tuple[str, str]], secret: str) -> bool:
    """Independently of the store: hex HMAC-SHA256 over sorted k=v pairs but hmac, joined by &."""
    received = dict(query)["hmac"]
    message = "&".join(f"{k}={v}" for k, v in sorted(query) if k != "hmac")
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


async def _authorize(
    client: httpx.AsyncClient, shop: str = HINODE, nonce: str = "nonce-123"
) -> dict[str, str]:
    page = await client.get(
        f"/s/{shop}/admin/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "scope": "read_orders,read_customers",
            "redirect_uri": REDIRECT,
            "state": nonce,
        },
    )
    assert page.status_code == 200
    assert "Approve" in page.text
    approved = await client.post(
        f"/s/{shop}/admin/oauth/authorize",
        data={
            "client_id": CLIENT_ID,
            "scope": "read_orders,read_customers",
            "redirect_uri": REDIRECT,
            "state": nonce,
            "decision": "approve",
        },
    )
    assert approved.status_code == 302
    location = urlsplit(approved.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qsl(location.query)
    assert _verify_callback_hmac(query, CLIENT_SECRET)
    return dict(query)


async def _exchange_code(client: httpx.AsyncClient, code: str, **extra: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL,
        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code, "expiring": "1", **extra},
    )


async def test_code_grant_issues_expiring_tokens_behind_a_signed_callback(
    client: httpx.AsyncClient, state: StoreState, clock: FakeClock
) -> None:
    # given an approved authorization
    callback = await _authorize(client)
    assert callback["shop"] == HINODE
    assert callback["state"] == "nonce-123"
    assert callback["timestamp"] == str(int(clock()))
    assert set(callback) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    # when the app exchanges the code (as JSON, like many clients)
    answer = await client.post(
        TOKEN_URL,
        json={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": callback["code"],
            "expiring": 1,
        },
    )
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 7_776_000
    assert body["scope"] == "read_orders,read_customers"
    check = state.tokens.lookup_access_token(HINODE, body["access_token"])
    assert check.client_id == CLIENT_ID and not check.expired
    assert state.tokens.lookup_access_token(NORTHWIND, body["access_token"]).client_id is None
    clock.advance(3601)
    assert state.tokens.lookup_access_token(HINODE, body["access_token"]).expired


async def test_auto_approve_redirects_at_once(client: httpx.AsyncClient, state: StoreState) -> None:
    object.__setattr__(state.config, "auto_approve", True)
    answer = await client.get(
        f"/s/{HINODE}/admin/oauth/authorize",
        params={"client_id": CLIENT_ID, "scope": "read_orders", "redirect_uri": REDIRECT, "state": "n"},
    )
    assert answer.status_code == 302
    assert _verify_callback_hmac(parse_qsl(urlsplit(answer.headers["location"]).query), CLIENT_SECRET)


async def test_reused_code_is_refused(client: httpx.AsyncClient) -> None:
    code = (await _authorize(client))["code"]
    assert (await _exchange_code(client, code)).status_code == 200
    again = await _exchange_code(client, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


async def test_expired_code_is_refused(client: httpx.AsyncClient, clock: FakeClock) -> None:
    code = (await _authorize(client))["code"]
    clock.advance(601)
    answer = await _exchange_code(client, code)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_bad_client_secret_is_refused(client: httpx.AsyncClient) -> None:
    code = (await _authorize(client))["code"]
    answer = await client.post(
        TOKEN_URL, data={"client_id": CLIENT_ID, "client_secret": "wrong", "code": code, "expiring": "1"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"


async def test_non_expiring_token_request_is_refused(client: httpx.AsyncClient) -> None:
    code = (await _authorize(client))["code"]
    answer = await client.post(
        TOKEN_URL, data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["error_description"].startswith("Non-expiring access tokens are no longer accepted")


async def test_refresh_rotates_and_kills_the_old_tokens(client: httpx.AsyncClient, state: StoreState) -> None:
    first = (await _exchange_code(client, (await _authorize(client))["code"])).json()
    refreshed = await client.post(
        TOKEN_URL,
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        },
    )
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert state.tokens.lookup_access_token(HINODE, first["access_token"]).client_id is None
    assert state.tokens.lookup_access_token(HINODE, second["access_token"]).valid
    reused = await client.post(
        TOKEN_URL,
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        },
    )
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


async def test_expired_refresh_token_is_refused(client: httpx.AsyncClient, clock: FakeClock) -> None:
    tokens = (await _exchange_code(client, (await _authorize(client))["code"])).json()
    clock.advance(90 * 86400 + 1)
    answer = await client.post(
        TOKEN_URL,
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_a_new_grant_revokes_the_earlier_token(client: httpx.AsyncClient, state: StoreState) -> None:
    first = (await _exchange_code(client, (await _authorize(client))["code"])).json()
    second = (await _exchange_code(client, (await _authorize(client))["code"])).json()
    assert state.tokens.lookup_access_token(HINODE, first["access_token"]).client_id is None
    assert state.tokens.lookup_access_token(HINODE, second["access_token"]).valid


def _exchange_body(subject_token: str) -> dict[str, str]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": subject_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
        "expiring": "1",
    }


async def test_token_exchange_of_a_session_token_installs_the_app(
    client: httpx.AsyncClient, state: StoreState, clock: FakeClock
) -> None:
    session_token = mint_session_token(HINODE, CLIENT_ID, CLIENT_SECRET, now=clock())
    clock.advance(65)  # past exp, inside the 10 s leeway
    answer = await client.post(TOKEN_URL, data=_exchange_body(session_token))
    assert answer.status_code == 200
    body = answer.json()
    assert body["expires_in"] == 3600 and body["refresh_token"]
    assert state.tokens.lookup_access_token(HINODE, body["access_token"]).valid
    assert state.tokens.install(HINODE, CLIENT_ID) is not None


@pytest.mark.parametrize(
    "token_for",
    ["expired", "other_shop", "wrong_secret", "wrong_audience", "garbage"],
)
async def test_token_exchange_of_a_bad_session_token_is_refused(
    client: httpx.AsyncClient, clock: FakeClock, token_for: str
) -> None:
    now = clock()
    tokens = {
        "expired": mint_session_token(HINODE, CLIENT_ID, CLIENT_SECRET, now=now - 71),
        "other_shop": mint_session_token(NORTHWIND, CLIENT_ID, CLIENT_SECRET, now=now),
        "wrong_secret": mint_session_token(HINODE, CLIENT_ID, "not-the-secret", now=now),
        "wrong_audience": mint_session_token(HINODE, "another-app", CLIENT_SECRET, now=now),
        "garbage": "not.a.jwt",
    }
    answer = await client.post(TOKEN_URL, data=_exchange_body(tokens[token_for]))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_subject_token"


async def test_tokens_survive_a_restart(client: httpx.AsyncClient, state: StoreState) -> None:
    from devstore.tokens import TokenRegistry

    body = (await _exchange_code(client, (await _authorize(client))["code"])).json()
    reopened = TokenRegistry(state.config.data_dir / "tokens.db", clock=state.clock)
    try:
        assert reopened.lookup_access_token(HINODE, body["access_token"]).valid
    finally:
        reopened.close()


async def test_unknown_client_gets_an_error_page(client: httpx.AsyncClient) -> None:
    answer = await client.get(
        f"/s/{HINODE}/admin/oauth/authorize",
        params={"client_id": "<script>", "scope": "read_orders", "redirect_uri": REDIRECT, "state": "n"},
    )
    assert answer.status_code == 400
    assert "<script>" not in answer.text

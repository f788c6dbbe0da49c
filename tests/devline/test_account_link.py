"""Account linking as LINE runs it: a link token for a friend, the dialog opened with the shop's nonce, and
the ``accountLink`` event (ok once; failed when the token expired or was used; nothing for a made-up one)."""

from __future__ import annotations

import httpx
import pytest

from devline.state import LineState
from tests.devline.conftest import (
    USER_ID,
    FakeBot,
    FakeClock,
    bearer,
    delivering,
    friend,
    reference,
)

pytestmark = pytest.mark.anyio

NONCE = "c2hvcC1ub25jZS0xMjg-Yml0cy1vZi1yYW5kb20"


async def link_token(client: httpx.AsyncClient, state: LineState, bot: FakeBot) -> str:
    await friend(client)
    async with delivering(state):
        pass
    bot.received.clear()
    answer = await client.post(f"/v2/bot/user/{USER_ID}/linkToken", headers=bearer())
    token: str = answer.json()["linkToken"]
    return token


async def open_dialog(
    client: httpx.AsyncClient, token: str, nonce: str = NONCE, lang: str = "ja"
) -> httpx.Response:
    return await client.get(
        "/dialog/bot/accountLink", params={"linkToken": token, "nonce": nonce, "lang": lang}
    )


async def test_opening_the_dialog_sends_an_ok_account_link_event_with_the_nonce(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    [expected] = reference("webhook-account-link.json")["events"]
    token = await link_token(client, state, bot)

    page = await open_dialog(client, token)
    async with delivering(state):
        pass

    assert page.status_code == 200
    assert "連携が完了しました" in page.text
    assert f'href="/chat/2000000001/{USER_ID}?lang=ja"' in page.text
    [event] = bot.events()
    assert sorted(event) == sorted(expected)
    assert event["link"] == {"result": "ok", "nonce": NONCE}
    assert event["source"] == {"type": "user", "userId": USER_ID}
    answer = await client.post(
        "/v2/bot/message/reply",
        headers=bearer(),
        json={"replyToken": event["replyToken"], "messages": [{"type": "text", "text": "連携しました"}]},
    )
    assert answer.status_code == 200


async def test_a_used_token_sends_a_failed_event_without_user_or_reply_token(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    token = await link_token(client, state, bot)
    await open_dialog(client, token)

    again = await open_dialog(client, token, lang="en")
    async with delivering(state):
        pass

    assert again.status_code == 400
    assert "Could not link" in again.text
    ok, failed = bot.events()
    assert ok["link"]["result"] == "ok"
    assert failed["link"] == {"result": "failed", "nonce": NONCE}
    assert "replyToken" not in failed and "source" not in failed


async def test_an_expired_token_sends_a_failed_event(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot, clock: FakeClock
) -> None:
    token = await link_token(client, state, bot)
    clock.advance(600)

    page = await open_dialog(client, token)
    async with delivering(state):
        pass

    assert page.status_code == 400
    [event] = bot.events()
    assert event["link"] == {"result": "failed", "nonce": NONCE}


@pytest.mark.parametrize(
    ("token", "nonce"), [("made-up-token", NONCE), (None, "short"), (None, ""), (None, "n" * 256)]
)
async def test_a_made_up_token_or_a_bad_nonce_sends_nothing(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot, token: str | None, nonce: str
) -> None:
    real = await link_token(client, state, bot)

    page = await open_dialog(client, token or real, nonce=nonce, lang="en")
    async with delivering(state):
        pass

    assert page.status_code == 400
    assert "This link is not valid" in page.text
    assert bot.received == []
    # a refused nonce did not spend the real token
    if token is None:
        assert (await open_dialog(client, real)).status_code == 200


async def test_the_nonce_is_escaped_on_its_way_back(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    token = await link_token(client, state, bot)
    nonce = '"><script>alert(1)</script>'

    page = await open_dialog(client, token, nonce=nonce)
    async with delivering(state):
        pass

    assert "<script>alert" not in page.text
    [event] = bot.events()
    assert event["link"]["nonce"] == nonce

"""The chat page over HTTP: its language, its escaping, its feed, and what a stranger may send to it."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devline.state import LineState
from tests.devline.conftest import (
    CHANNEL_ID,
    OTHER_CHANNEL_ID,
    SECOND_USER_ID,
    USER_ID,
    FakeBot,
    bearer,
    delivering,
    friend,
)

CHAT = f"/chat/{CHANNEL_ID}/{USER_ID}"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "query", "language", "words"),
    [
        ({"Accept-Language": "ja-JP,ja;q=0.9"}, "", "ja", ("友だち追加", "メッセージを入力")),
        ({"Accept-Language": "en-US,en;q=0.9"}, "", "en", ("Add friend", "Enter a message")),
        ({"Accept-Language": "ja"}, "?lang=en", "en", ("Add friend", "Send")),
        ({"Accept-Language": "fr-FR"}, "", "en", ("Add friend",)),
    ],
)
async def test_the_chat_page_speaks_the_browsers_language_or_the_asked_one(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, language: str, words: tuple[str, ...]
) -> None:
    page = await client.get(CHAT + query, headers=headers)

    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    for word in words:
        assert word in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


@pytest.mark.anyio
async def test_an_unknown_channel_or_malformed_user_is_a_404_page(client: httpx.AsyncClient) -> None:
    for path in (f"/chat/9999/{USER_ID}", f"/chat/{CHANNEL_ID}/bob"):
        page = await client.get(path, headers={"Accept-Language": "ja"})
        assert page.status_code == 404
        assert "このトークは見つかりません" in page.text


@pytest.mark.anyio
async def test_names_are_escaped_on_the_page(client: httpx.AsyncClient) -> None:
    name = "<img src=x onerror=alert(1)>"
    await client.post(
        f"/_devline/channels/{CHANNEL_ID}/users", json={"userId": SECOND_USER_ID, "displayName": name}
    )
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"displayName": "<b>shop</b>"})

    page = await client.get(f"/chat/{CHANNEL_ID}/{SECOND_USER_ID}")

    assert "<img src=x" not in page.text and "<b>shop" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


@pytest.mark.anyio
async def test_a_new_chat_gets_a_fresh_line_user(client: httpx.AsyncClient, state: LineState) -> None:
    answer = await client.get(f"/chat/{CHANNEL_ID}?name=Hanako&lang=en")

    assert answer.status_code == 303
    user_id = answer.headers["location"].split("/")[3].split("?")[0]
    assert state.channels[CHANNEL_ID].users[user_id].display_name == "Hanako"
    index = await client.get("/", headers={"Accept-Language": "en"})
    assert f'href="/chat/{CHANNEL_ID}?lang=en"' in index.text


@pytest.mark.anyio
async def test_the_page_sends_what_the_person_does_and_the_feed_shows_both_sides(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    json_headers = {"Content-Type": "application/json"}
    before_follow = await client.post(f"{CHAT}/actions", json={"type": "text", "text": "hello"})
    followed = await client.post(f"{CHAT}/actions", json={"type": "follow"})
    sent = await client.post(
        f"{CHAT}/actions", content=json.dumps({"type": "text", "text": "注文は？"}), headers=json_headers
    )
    async with delivering(state):
        pass
    await client.post(
        "/v2/bot/message/push",
        headers=bearer(),
        json={"to": USER_ID, "messages": [{"type": "text", "text": "<script>alert(1)</script>"}]},
    )

    feed = (await client.get(f"{CHAT}/feed", params={"after": 0})).json()
    later = (await client.get(f"{CHAT}/feed", params={"after": feed["entries"][-1]["seq"]})).json()

    assert before_follow.status_code == 409
    assert (followed.status_code, sent.status_code) == (202, 202)
    assert [e["type"] for e in bot.events()] == ["follow", "message"]
    assert [(e["sender"], e["via"]) for e in feed["entries"]] == [
        ("user", "follow"),
        ("user", "message"),
        ("bot", "push"),
    ]
    assert feed["entries"][2]["message"]["text"] == "<script>alert(1)</script>"  # the page shows it as text
    assert feed["following"] is True
    assert later["entries"] == []


@pytest.mark.anyio
async def test_actions_must_be_json_so_a_cross_site_form_cannot_send_them(client: httpx.AsyncClient) -> None:
    await friend(client)

    answer = await client.post(f"{CHAT}/actions", data={"type": "text", "text": "hi"})

    assert answer.status_code == 415


@pytest.mark.anyio
async def test_the_feed_waits_for_news_and_answers_when_it_comes(
    client: httpx.AsyncClient, state: LineState
) -> None:
    await friend(client)
    after = state.channels[CHANNEL_ID].users[USER_ID].last_seq()
    answers: list[dict[str, Any]] = []

    async def wait_for_feed() -> None:
        answers.append((await client.get(f"{CHAT}/feed", params={"after": after, "wait": 5})).json())

    with anyio.fail_after(3):
        async with anyio.create_task_group() as group:
            group.start_soon(wait_for_feed)
            await anyio.sleep(0.05)
            assert answers == []
            await client.post(
                "/v2/bot/message/push",
                headers=bearer(),
                json={"to": USER_ID, "messages": [{"type": "text", "text": "hi"}]},
            )

    [answer] = answers
    assert [e["message"]["text"] for e in answer["entries"]] == ["hi"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
actions = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["text", "sticker", "image", "postback", "follow", "unfollow", "call"])
        | st.text(max_size=8),
        "text": json_values,
        "data": json_values,
        "displayText": json_values,
        "packageId": json_values,
        "userId": st.sampled_from([USER_ID, "U" + "0" * 31, ""]) | st.text(max_size=40),
    },
)


@pytest.mark.anyio
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=actions | json_values)
async def test_a_stranger_cannot_break_the_chat_actions_or_the_control_events(
    client: httpx.AsyncClient, action: Any
) -> None:
    await client.post(f"{CHAT}/actions", json={"type": "follow"})

    headers = {"Content-Type": "application/json"}
    page = await client.post(f"{CHAT}/actions", content=json.dumps(action), headers=headers)
    control = await client.post(f"/_devline/channels/{CHANNEL_ID}/events", json={"events": [action]})

    assert page.status_code in (202, 400, 409)
    assert control.status_code in (202, 400)
    assert isinstance(page.json(), dict) and isinstance(control.json(), dict)


@pytest.mark.anyio
async def test_the_page_unsends_only_its_own_users_message_of_its_channel_and_only_once(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    other_chat = f"/chat/{OTHER_CHANNEL_ID}/{USER_ID}"
    second_chat = f"/chat/{CHANNEL_ID}/{SECOND_USER_ID}"
    for chat in (CHAT, second_chat, other_chat):
        await client.post(f"{chat}/actions", json={"type": "follow"})
    await client.post(f"{CHAT}/actions", json={"type": "image"})
    await client.post(f"{other_chat}/actions", json={"type": "text", "text": "別のチャネル"})
    await client.post(
        "/v2/bot/message/push",
        headers=bearer(),
        json={"to": USER_ID, "messages": [{"type": "text", "text": "x"}]},
    )
    async with delivering(state):
        pass

    def message_ids(chat_feed: dict[str, Any], sender: str) -> list[str]:
        return [e["messageId"] for e in chat_feed["entries"] if e["sender"] == sender and e.get("messageId")]

    feed = (await client.get(f"{CHAT}/feed", params={"after": 0})).json()
    [image_id] = message_ids(feed, "user")
    [bot_message_id] = message_ids(feed, "bot")
    [other_channel_id] = message_ids(
        (await client.get(f"{other_chat}/feed", params={"after": 0})).json(), "user"
    )
    bot.received.clear()

    refused = [
        # another user of the same channel naming this user's message
        await client.post(f"{second_chat}/actions", json={"type": "unsend", "messageId": image_id}),
        # the same LINE user id on another channel naming this channel's message, and the other way round
        await client.post(f"{other_chat}/actions", json={"type": "unsend", "messageId": image_id}),
        await client.post(f"{CHAT}/actions", json={"type": "unsend", "messageId": other_channel_id}),
        # the bot's own message is not the user's to take back
        await client.post(f"{CHAT}/actions", json={"type": "unsend", "messageId": bot_message_id}),
    ]
    async with delivering(state):
        pass

    assert [answer.status_code for answer in refused] == [400, 400, 400, 400]
    assert bot.received == []
    # nothing was taken back: the picture can still be fetched and no feed shows it unsent
    content = await client.get(f"/v2/bot/message/{image_id}/content", headers=bearer())
    assert content.status_code == 200
    for chat in (CHAT, second_chat, other_chat):
        entries = (await client.get(f"{chat}/feed", params={"after": 0})).json()["entries"]
        assert not any(e.get("unsent") or e["via"] == "unsend" for e in entries)

    # the user's own unsend goes once; the replay is refused and sends nothing more
    first = await client.post(f"{CHAT}/actions", json={"type": "unsend", "messageId": image_id})
    replayed = await client.post(f"{CHAT}/actions", json={"type": "unsend", "messageId": image_id})
    async with delivering(state):
        pass

    assert (first.status_code, replayed.status_code) == (202, 400)
    assert [(e["type"], e["unsend"]) for e in bot.events()] == [("unsend", {"messageId": image_id})]
    gone = await client.get(f"/v2/bot/message/{image_id}/content", headers=bearer())
    assert gone.status_code == 404

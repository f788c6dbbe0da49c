"""The Messaging API as a bot meets it: the access token, LINE's error shapes, reply tokens, limits, retry
keys, loading, profiles and link tokens."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from devline.channels import Sender
from devline.state import LineState
from tests.devline.conftest import (
    ACCESS_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    OTHER_BOT_USER_ID,
    OTHER_TOKEN,
    SECOND_USER_ID,
    USER_ID,
    FakeClock,
    bearer,
    delivered_reply_token,
    friend,
    reference,
    user_does,
)

pytestmark = pytest.mark.anyio

TEXT = {"type": "text", "text": "ご注文 #1002 は配送中です。"}
AUTH_FAILED = (
    "Authentication failed due to the following reason: invalid token. "
    "Confirm that the access token in the authorization header is valid."
)


def request_id_of(answer: httpx.Response) -> str:
    value = answer.headers["x-line-request-id"]
    assert str(uuid.UUID(value)) == value
    return value


def bot_messages(state: LineState, user_id: str = USER_ID) -> list[dict[str, Any]]:
    user = state.channels[CHANNEL_ID].users[user_id]
    return [entry.message for entry in user.entries if entry.sender is Sender.BOT]


async def test_bot_info_is_the_channels_bot_with_a_request_id(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v2/bot/info", headers=bearer())

    assert answer.status_code == 200
    assert answer.json() == {
        "userId": BOT_USER_ID,
        "basicId": "@hinode",
        "displayName": "ひので アパレル",
        "chatMode": "bot",
        "markAsReadMode": "auto",
    }
    request_id_of(answer)


async def test_each_channels_token_reaches_only_its_own_channel(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v2/bot/info", headers=bearer(OTHER_TOKEN))

    assert answer.json()["userId"] == OTHER_BOT_USER_ID


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"),
        ({"Authorization": f"Basic {ACCESS_TOKEN}"}, None),
        ({"Authorization": "Bearer "}, None),
        ({"Authorization": "Bearer not-the-token"}, AUTH_FAILED),
        ({"Authorization": f"Bearer {ACCESS_TOKEN}x"}, AUTH_FAILED),
        ({"Authorization": f"Bearer {ACCESS_TOKEN[:-1]}"}, AUTH_FAILED),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/bot/info"),
        ("POST", "/v2/bot/message/reply"),
        ("POST", "/v2/bot/message/push"),
        ("POST", "/v2/bot/chat/loading/start"),
        ("GET", f"/v2/bot/profile/{USER_ID}"),
        ("POST", f"/v2/bot/user/{USER_ID}/linkToken"),
    ],
)
async def test_a_missing_or_wrong_access_token_is_refused_with_lines_401(
    client: httpx.AsyncClient, headers: dict[str, str], message: str | None, method: str, path: str
) -> None:
    answer = await client.request(method, path, headers=headers, json={"messages": [TEXT]})

    assert answer.status_code == 401
    assert set(answer.json()) == {"message"}
    if message is not None:
        assert answer.json()["message"] == message
    request_id_of(answer)


async def test_a_revoked_token_is_refused_and_a_second_token_works(client: httpx.AsyncClient) -> None:
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"addAccessToken": "second-token-abc"})
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"revokeAccessToken": ACCESS_TOKEN})

    assert (await client.get("/v2/bot/info", headers=bearer())).status_code == 401
    assert (await client.get("/v2/bot/info", headers=bearer("second-token-abc"))).status_code == 200


async def test_every_answer_has_its_own_request_id(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("/v2/bot/info", headers=bearer()),
        await client.get("/v2/bot/info"),
        await client.get("/v2/bot/nothing-here", headers=bearer()),
    ]

    assert len({request_id_of(answer) for answer in answers}) == 3
    assert answers[2].status_code == 404
    assert answers[2].json() == {"message": "Not found"}


async def test_a_reply_token_is_answered_once(client: httpx.AsyncClient, state: LineState) -> None:
    token = await delivered_reply_token(client, state)

    first = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": token, "messages": [TEXT]}
    )
    again = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": token, "messages": [TEXT]}
    )

    assert first.status_code == 200
    [sent] = first.json()["sentMessages"]
    assert sent["id"].isdigit() and sent["quoteToken"]
    assert again.status_code == 400
    assert again.json() == {"message": "Invalid reply token"}
    assert bot_messages(state) == [TEXT]
    [entry] = [e for e in state.channels[CHANNEL_ID].users[USER_ID].entries if e.sender is Sender.BOT]
    assert entry.request_id == first.headers["x-line-request-id"]


async def test_a_reply_token_expires_a_minute_after_delivery(
    client: httpx.AsyncClient, state: LineState, clock: FakeClock
) -> None:
    token = await delivered_reply_token(client, state)
    clock.advance(60)

    answer = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": token, "messages": [TEXT]}
    )

    assert answer.status_code == 400
    assert answer.json() == {"message": "Invalid reply token"}
    assert bot_messages(state) == []


async def test_a_reply_token_just_inside_its_minute_works(
    client: httpx.AsyncClient, state: LineState, clock: FakeClock
) -> None:
    token = await delivered_reply_token(client, state)
    clock.advance(59.9)

    answer = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": token, "messages": [TEXT]}
    )

    assert answer.status_code == 200


async def test_an_undelivered_or_unknown_or_other_channels_reply_token_is_refused(
    client: httpx.AsyncClient, state: LineState
) -> None:
    await friend(client)
    [queued] = await user_does(client, {"userId": USER_ID, "type": "text", "text": "hello"})
    token = await delivered_reply_token(client, state, user_id=SECOND_USER_ID)

    for reply_token, access_token in (
        (queued["replyToken"] + "0", ACCESS_TOKEN),
        ("0" * 32, ACCESS_TOKEN),
        (token, OTHER_TOKEN),
    ):
        answer = await client.post(
            "/v2/bot/message/reply",
            headers=bearer(access_token),
            json={"replyToken": reply_token, "messages": [TEXT]},
        )
        assert answer.status_code == 400
        assert answer.json() == {"message": "Invalid reply token"}
    # the other channel's attempt did not spend it
    answer = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": token, "messages": [TEXT]}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("count", [0, 6])
async def test_more_than_five_messages_or_none_is_refused(
    client: httpx.AsyncClient, state: LineState, count: int
) -> None:
    token = await delivered_reply_token(client, state)

    answer = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": token, "messages": [TEXT] * count}
    )

    assert answer.status_code == 400
    assert answer.json() == {
        "message": "The request body has 1 error(s)",
        "details": [{"message": "Size must be between 1 and 5", "property": "messages"}],
    }
    # a refused request does not spend the token
    five = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": token, "messages": [TEXT] * 5}
    )
    assert five.status_code == 200
    assert len(five.json()["sentMessages"]) == 5


async def test_validation_errors_have_the_shape_of_lines_reference(client: httpx.AsyncClient) -> None:
    expected = reference("error-response-400.json")
    await friend(client)

    answer = await client.post(
        "/v2/bot/message/push",
        headers=bearer(),
        json={"to": USER_ID, "messages": [{"type": "text", "text": ""}, {"type": "carrier-pigeon"}]},
    )

    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == set(expected)
    assert body["message"] == expected["message"]
    assert body["details"][0] == expected["details"][0]
    assert body["details"][1]["property"] == expected["details"][1]["property"]
    assert body["details"][1]["message"].startswith("Must be one of the following values: [text, image")


async def test_text_is_limited_to_5000_utf16_code_units(client: httpx.AsyncClient) -> None:
    await friend(client)

    def push(text: str) -> Any:
        return client.post(
            "/v2/bot/message/push",
            headers=bearer(),
            json={"to": USER_ID, "messages": [{"type": "text", "text": text}]},
        )

    assert (await push("あ" * 5000)).status_code == 200
    assert (await push("😀" * 2500)).status_code == 200  # each is two UTF-16 code units
    too_long = await push("😀" * 2500 + "a")
    assert too_long.status_code == 400
    assert too_long.json()["details"] == [
        {"message": "Length must be between 0 and 5000", "property": "messages[0].text"}
    ]


def order_card(**body_changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "box",
        "layout": "vertical",
        "contents": [{"type": "text", "text": "配送中", "weight": "bold"}],
        **body_changes,
    }
    return {
        "type": "flex",
        "altText": "ご注文 #1002: 配送中",
        "contents": {
            "type": "bubble",
            "header": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "#1002"}]},
            "body": body,
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "action": {
                            "type": "uri",
                            "label": "追跡",
                            "uri": "https://track.example/123456789012",
                        },
                    }
                ],
            },
        },
        "quickReply": {
            "items": [
                {"type": "action", "action": {"type": "message", "label": "注文状況", "text": "注文状況"}},
                {
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": "担当者と話す",
                        "data": "handoff",
                        "displayText": "担当者と話す",
                    },
                },
            ]
        },
    }


async def test_a_flex_card_with_quick_replies_is_accepted_and_shown(
    client: httpx.AsyncClient, state: LineState
) -> None:
    await friend(client)

    answer = await client.post(
        "/v2/bot/message/push", headers=bearer(), json={"to": USER_ID, "messages": [order_card()]}
    )

    assert answer.status_code == 200
    assert bot_messages(state) == [order_card()]


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        (
            {**order_card(), "altText": ""},
            {"message": "May not be empty", "property": "messages[0].altText"},
        ),
        (
            {**order_card(), "altText": "あ" * 1501},
            {"message": "Length must be between 0 and 1500", "property": "messages[0].altText"},
        ),
        (
            order_card(layout="diagonal"),
            {
                "message": "Must be one of the following values: [horizontal, vertical, baseline]",
                "property": "messages[0].contents.body.layout",
            },
        ),
        (
            order_card(contents=[{"type": "button"}]),
            {"message": "May not be empty", "property": "messages[0].contents.body.contents[0].action"},
        ),
        (
            order_card(
                contents=[{"type": "button", "action": {"type": "uri", "label": "x", "uri": "javascript:x"}}]
            ),
            {"message": "Invalid URI scheme", "property": "messages[0].contents.body.contents[0].action.uri"},
        ),
        (
            {**order_card(), "contents": {"type": "bubble"}},
            {"message": "At least one block must be specified", "property": "messages[0].contents"},
        ),
        (
            {**order_card(), "contents": {"type": "poster"}},
            {
                "message": "Must be one of the following values: [bubble, carousel]",
                "property": "messages[0].contents.type",
            },
        ),
        (
            {**order_card(), "quickReply": {"items": [order_card()["quickReply"]["items"][0]] * 14}},
            {"message": "Size must be between 1 and 13", "property": "messages[0].quickReply.items"},
        ),
        (
            {
                **order_card(),
                "quickReply": {
                    "items": [
                        {"type": "action", "action": {"type": "message", "label": "あ" * 21, "text": "x"}}
                    ]
                },
            },
            {
                "message": "Length must be between 0 and 20",
                "property": "messages[0].quickReply.items[0].action.label",
            },
        ),
    ],
)
async def test_a_malformed_flex_message_is_refused_with_the_property_named(
    client: httpx.AsyncClient, message: dict[str, Any], detail: dict[str, str]
) -> None:
    await friend(client)

    answer = await client.post(
        "/v2/bot/message/push", headers=bearer(), json={"to": USER_ID, "messages": [message]}
    )

    assert answer.status_code == 400
    assert detail in answer.json()["details"]


async def test_a_bubble_over_30_kb_is_refused(client: httpx.AsyncClient) -> None:
    await friend(client)
    texts = [{"type": "text", "text": "x" * 1000} for _ in range(31)]

    answer = await client.post(
        "/v2/bot/message/push",
        headers=bearer(),
        json={"to": USER_ID, "messages": [order_card(contents=texts)]},
    )

    assert answer.status_code == 400
    assert {"message": "Size must be at most 30 KB", "property": "messages[0].contents"} in answer.json()[
        "details"
    ]


async def test_requests_beyond_the_channels_rate_limit_get_429_until_the_bucket_refills(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"requestsPerSecond": 2})

    answers = [await client.get("/v2/bot/info", headers=bearer()) for _ in range(3)]
    other_channel = await client.get("/v2/bot/info", headers=bearer(OTHER_TOKEN))
    clock.advance(0.5)
    refilled = await client.get("/v2/bot/info", headers=bearer())

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json() == {"message": "The API rate limit has been exceeded. Try again later."}
    request_id_of(answers[2])
    assert other_channel.status_code == 200
    assert refilled.status_code == 200


async def test_loading_has_its_own_lower_limit(client: httpx.AsyncClient, state: LineState) -> None:
    await friend(client)
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"loadingRequestsPerSecond": 1})

    first = await client.post("/v2/bot/chat/loading/start", headers=bearer(), json={"chatId": USER_ID})
    second = await client.post("/v2/bot/chat/loading/start", headers=bearer(), json={"chatId": USER_ID})
    info = await client.get("/v2/bot/info", headers=bearer())

    assert (first.status_code, second.status_code, info.status_code) == (202, 429, 200)


async def test_a_push_repeated_with_its_retry_key_is_409_with_the_accepted_request(
    client: httpx.AsyncClient, state: LineState
) -> None:
    expected = reference("error-response-409-retry-key.json")
    await friend(client)
    key = str(uuid.uuid4())
    request = {"to": USER_ID, "messages": [TEXT]}

    first = await client.post(
        "/v2/bot/message/push", headers={**bearer(), "X-Line-Retry-Key": key}, json=request
    )
    again = await client.post(
        "/v2/bot/message/push", headers={**bearer(), "X-Line-Retry-Key": key}, json=request
    )

    assert first.status_code == 200
    assert again.status_code == expected["status"] == 409
    assert set(expected["headers"]) <= set(again.headers)
    assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert again.headers["x-line-request-id"] != first.headers["x-line-request-id"]
    assert set(again.json()) == set(expected["body"])
    assert again.json()["message"] == expected["body"]["message"]
    assert again.json()["sentMessages"] == first.json()["sentMessages"]
    assert bot_messages(state) == [TEXT]


async def test_retry_keys_are_kept_a_day_and_must_be_uuids_on_push_only(
    client: httpx.AsyncClient, state: LineState, clock: FakeClock
) -> None:
    await friend(client)
    key = str(uuid.uuid4())
    request = {"to": USER_ID, "messages": [TEXT]}
    headers = {**bearer(), "X-Line-Retry-Key": key}
    assert (await client.post("/v2/bot/message/push", headers=headers, json=request)).status_code == 200

    clock.advance(24 * 3600)
    after_a_day = await client.post("/v2/bot/message/push", headers=headers, json=request)
    not_uuid = [
        await client.post("/v2/bot/message/push", headers={**bearer(), "X-Line-Retry-Key": bad}, json=request)
        for bad in ("again-please", key.replace("-", ""), "{" + key + "}", "urn:uuid:" + key)
    ]
    on_reply = await client.post(
        "/v2/bot/message/reply",
        headers=headers,
        json={"replyToken": "0" * 32, "messages": [TEXT]},
    )

    assert after_a_day.status_code == 200
    for refused in not_uuid:
        assert refused.status_code == 400 and set(refused.json()) == {"message"}
    assert on_reply.status_code == 400 and set(on_reply.json()) == {"message"}
    assert bot_messages(state) == [TEXT, TEXT]


async def test_push_to_a_malformed_or_unknown_user_is_refused_and_to_a_blocker_is_silently_accepted(
    client: httpx.AsyncClient, state: LineState
) -> None:
    await friend(client)
    await user_does(client, {"userId": USER_ID, "type": "unfollow"})

    malformed = await client.post(
        "/v2/bot/message/push", headers=bearer(), json={"to": "bob", "messages": [TEXT]}
    )
    unknown = await client.post(
        "/v2/bot/message/push", headers=bearer(), json={"to": SECOND_USER_ID, "messages": [TEXT]}
    )
    blocked = await client.post(
        "/v2/bot/message/push", headers=bearer(), json={"to": USER_ID, "messages": [TEXT]}
    )

    assert malformed.status_code == 400 and unknown.status_code == 400
    assert blocked.status_code == 200
    assert bot_messages(state) == []


async def test_the_monthly_push_limit_answers_429_and_the_quota_says_so(client: httpx.AsyncClient) -> None:
    await friend(client)
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"monthlyPushLimit": 1})
    request = {"to": USER_ID, "messages": [TEXT]}

    first = await client.post("/v2/bot/message/push", headers=bearer(), json=request)
    second = await client.post("/v2/bot/message/push", headers=bearer(), json=request)

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json() == {"message": "You have reached your monthly limit."}
    assert (await client.get("/v2/bot/message/quota", headers=bearer())).json() == {
        "type": "limited",
        "value": 1,
    }
    usage = await client.get("/v2/bot/message/quota/consumption", headers=bearer())
    assert usage.json() == {"totalUsage": 1}


async def test_loading_shows_until_the_bots_next_message(
    client: httpx.AsyncClient, state: LineState, clock: FakeClock
) -> None:
    await friend(client)
    user = state.channels[CHANNEL_ID].users[USER_ID]

    answer = await client.post(
        "/v2/bot/chat/loading/start", headers=bearer(), json={"chatId": USER_ID, "loadingSeconds": 10}
    )
    assert (answer.status_code, answer.json()) == (202, {})
    assert user.loading(clock())
    clock.advance(9)
    assert user.loading(clock())
    await client.post("/v2/bot/message/push", headers=bearer(), json={"to": USER_ID, "messages": [TEXT]})
    assert not user.loading(clock())


@pytest.mark.parametrize("seconds", [0, 3, 65, "20", True])
async def test_loading_seconds_must_be_a_multiple_of_five_up_to_sixty(
    client: httpx.AsyncClient, seconds: object
) -> None:
    answer = await client.post(
        "/v2/bot/chat/loading/start", headers=bearer(), json={"chatId": USER_ID, "loadingSeconds": seconds}
    )

    assert answer.status_code == 400
    [detail] = answer.json()["details"]
    assert detail["property"] == "loadingSeconds"


async def test_the_profile_of_a_friend_and_404_for_others(client: httpx.AsyncClient) -> None:
    created = await client.post(
        f"/_devline/channels/{CHANNEL_ID}/users",
        json={"userId": USER_ID, "displayName": "山田 花子", "language": "ja", "follow": True},
    )
    assert created.status_code == 201

    friend_profile = await client.get(f"/v2/bot/profile/{USER_ID}", headers=bearer())
    stranger = await client.get(f"/v2/bot/profile/{SECOND_USER_ID}", headers=bearer())
    other_channel = await client.get(f"/v2/bot/profile/{USER_ID}", headers=bearer(OTHER_TOKEN))

    assert friend_profile.json() == {"displayName": "山田 花子", "userId": USER_ID, "language": "ja"}
    assert stranger.status_code == 404 and stranger.json() == {"message": "Not found"}
    assert other_channel.status_code == 404


async def test_a_link_token_is_issued_for_a_friend_only(client: httpx.AsyncClient) -> None:
    await friend(client)

    issued = await client.post(f"/v2/bot/user/{USER_ID}/linkToken", headers=bearer())
    stranger = await client.post(f"/v2/bot/user/{SECOND_USER_ID}/linkToken", headers=bearer())

    assert issued.status_code == 200 and len(issued.json()["linkToken"]) >= 32
    assert stranger.status_code == 400 and set(stranger.json()) == {"message"}


async def test_a_body_that_is_not_a_json_object_is_400_in_lines_shape(client: httpx.AsyncClient) -> None:
    for content in (b"{", b"[]", b"\xff\xfe", b'"text"'):
        answer = await client.post("/v2/bot/message/push", headers=bearer(), content=content)
        assert answer.status_code == 400
        assert set(answer.json()) == {"message"}


async def test_old_reply_tokens_are_forgotten_and_live_ones_kept(
    client: httpx.AsyncClient, state: LineState, clock: FakeClock
) -> None:
    token = await delivered_reply_token(client, state)
    clock.advance(20 * 60)
    fresh = await delivered_reply_token(client, state, user_id=SECOND_USER_ID)

    state.reply_tokens.purge()

    assert token not in state.reply_tokens._tokens
    answer = await client.post(
        "/v2/bot/message/reply", headers=bearer(), json={"replyToken": fresh, "messages": [TEXT]}
    )
    assert answer.status_code == 200

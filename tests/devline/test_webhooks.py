"""Webhook delivery: the signature (against LINE's published vector), the events' shapes (against LINE's
reference bodies), several users in one request, and redelivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from devline.events import new_event_id, sign_body
from devline.state import LineState
from tests.devline.conftest import (
    BOT_USER_ID,
    CHANNEL_ID,
    CHANNEL_SECRET,
    OTHER_BOT_USER_ID,
    OTHER_CHANNEL_ID,
    OTHER_SECRET,
    SECOND_USER_ID,
    USER_ID,
    FakeBot,
    bearer,
    delivering,
    friend,
    reference,
    user_does,
)

pytestmark = pytest.mark.anyio


def expected_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_the_signer_reproduces_lines_published_vector() -> None:
    vector = reference("signature-vector.json")

    signature = sign_body(vector["body"].encode(), vector["channel_secret"])

    assert signature == vector["x-line-signature"]
    assert sign_body(vector["body"].encode() + b" ", vector["channel_secret"]) != vector["x-line-signature"]


def test_webhook_event_ids_are_ulids_in_time_order() -> None:
    first, second = new_event_id(1_700_000_000.0), new_event_id(1_700_000_001.0)

    assert len(first) == 26 and set(first) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert first < second


async def test_a_delivery_is_signed_with_the_channels_secret_over_the_exact_body(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    await friend(client)
    await friend(client, channel_id=OTHER_CHANNEL_ID)

    async with delivering(state):
        pass

    assert len(bot.received) == 2
    for received, secret, destination in (
        (bot.received[0], CHANNEL_SECRET, BOT_USER_ID),
        (bot.received[1], OTHER_SECRET, OTHER_BOT_USER_ID),
    ):
        assert hmac.compare_digest(
            received.headers["x-line-signature"], expected_signature(received.body, secret)
        )
        assert received.headers["content-type"] == "application/json; charset=utf-8"
        assert received.headers["user-agent"].startswith("LineBotWebhook/")
        assert json.loads(received.body)["destination"] == destination
    other_secret_signature = expected_signature(bot.received[0].body, OTHER_SECRET)
    assert bot.received[0].headers["x-line-signature"] != other_secret_signature


def keys_of(event: dict[str, Any]) -> dict[str, Any]:
    """The event's keys, and its objects' keys, without values."""
    return {key: sorted(value) if isinstance(value, dict) else None for key, value in event.items()}


@pytest.mark.parametrize(
    ("action", "reference_file"),
    [
        ({"type": "text", "text": "Hello, world"}, "webhook-text-message.json"),
        ({"type": "postback", "data": "storeId=12345"}, "webhook-postback.json"),
        ({"type": "unfollow"}, "webhook-unfollow.json"),
    ],
)
async def test_events_have_the_shape_of_lines_reference_bodies(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot, action: dict[str, Any], reference_file: str
) -> None:
    [expected] = reference(reference_file)["events"]
    await friend(client)
    async with delivering(state):
        pass
    bot.received.clear()

    await user_does(client, {"userId": USER_ID, **action})
    async with delivering(state):
        pass

    [received] = bot.received
    [event] = received.events
    actual_keys, expected_keys = keys_of(event), keys_of(expected)
    if action["type"] == "text":
        assert set(event["message"]) == {"id", "type", "text", "quoteToken"}
        del actual_keys["message"], expected_keys["message"]
    if action["type"] == "postback":
        assert event["postback"] == {"data": "storeId=12345"}  # no date/time picker here
        del actual_keys["postback"], expected_keys["postback"]
    assert actual_keys == expected_keys
    assert event["source"] == {"type": "user", "userId": USER_ID}
    assert event["deliveryContext"] == {"isRedelivery": False}
    assert event["mode"] == "active"


async def test_follow_says_whether_the_user_unblocked(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    [expected] = reference("webhook-follow.json")["events"]

    await friend(client)
    await user_does(client, {"userId": USER_ID, "type": "unfollow"})
    await friend(client)
    async with delivering(state):
        pass

    follows = [e for e in bot.events() if e["type"] == "follow"]
    assert keys_of(follows[0]) == keys_of(expected)
    assert [e["follow"] for e in follows] == [{"isUnblocked": False}, {"isUnblocked": True}]


async def test_stickers_and_images_arrive_as_message_events_and_the_image_can_be_fetched(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    await friend(client)
    async with delivering(state):
        pass
    bot.received.clear()
    await user_does(client, {"userId": USER_ID, "type": "sticker"}, {"userId": USER_ID, "type": "image"})
    async with delivering(state):
        pass

    sticker, image = (event["message"] for event in bot.events())
    assert sticker["type"] == "sticker" and sticker["packageId"] and sticker["stickerId"]
    assert image["type"] == "image" and image["contentProvider"] == {"type": "line"}
    content = await client.get(f"/v2/bot/message/{image['id']}/content", headers=bearer())
    assert content.status_code == 200 and content.headers["content-type"] == "image/png"
    assert (await client.get(f"/v2/bot/message/{sticker['id']}/content", headers=bearer())).status_code == 404


async def test_events_queued_together_arrive_in_one_request_for_several_users(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    await user_does(
        client,
        {"userId": USER_ID, "type": "follow"},
        {"userId": SECOND_USER_ID, "type": "follow"},
        {"userId": USER_ID, "type": "text", "text": "在庫ありますか？"},
        {"userId": SECOND_USER_ID, "type": "text", "text": "Where is my order?"},
    )
    async with delivering(state):
        pass

    [received] = bot.received
    assert [(e["type"], e["source"]["userId"]) for e in received.events] == [
        ("follow", USER_ID),
        ("follow", SECOND_USER_ID),
        ("message", USER_ID),
        ("message", SECOND_USER_ID),
    ]
    assert len({e["webhookEventId"] for e in received.events}) == 4


async def test_a_delivery_not_answered_2xx_is_redelivered_with_the_same_event_and_reply_token(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    bot.statuses = [500, 503, 200]
    await friend(client)
    await user_does(client, {"userId": USER_ID, "type": "text", "text": "hello"})

    async with delivering(state):
        pass

    assert len(bot.received) == 3
    first, *later = (received.events for received in bot.received)
    assert [e["deliveryContext"]["isRedelivery"] for e in first] == [False, False]
    for events in later:
        assert {e["webhookEventId"] for e in events} == {e["webhookEventId"] for e in first}
        by_id = {e["webhookEventId"]: e for e in events}
        for original in first:
            again = by_id[original["webhookEventId"]]
            assert again["deliveryContext"] == {"isRedelivery": True}
            assert again["replyToken"] == original["replyToken"]
            assert again["timestamp"] == original["timestamp"]
    # the redelivered token answers
    token = first[1]["replyToken"]
    answer = await client.post(
        "/v2/bot/message/reply",
        headers=bearer(),
        json={"replyToken": token, "messages": [{"type": "text", "text": "こんにちは"}]},
    )
    assert answer.status_code == 200


async def test_without_redelivery_a_failed_delivery_is_not_repeated(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    bot.statuses = [500]
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"redelivery": False})
    await friend(client)

    async with delivering(state):
        pass

    assert len(bot.received) == 1
    deliveries = (await client.get("/_devline/deliveries", params={"channel": CHANNEL_ID})).json()[
        "deliveries"
    ]
    assert [(d["statusCode"], d["isRedelivery"]) for d in deliveries] == [(500, False)]


async def test_redelivery_gives_up_after_its_schedule(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    bot.statuses = [500]
    await friend(client)

    async with delivering(state):
        pass

    assert len(bot.received) == 1 + len(state.config.redelivery_delays_seconds)


async def test_an_unreachable_webhook_is_redelivered_too(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"webhookUrl": "http://bot.test/nowhere"})
    await friend(client)
    async with delivering(state):
        pass
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"webhookUrl": "http://bot.test/webhook"})
    bot.received.clear()
    # the 404s above were redelivered and given up; a fresh event reaches the fixed URL
    await user_does(client, {"userId": USER_ID, "type": "text", "text": "hello"})
    async with delivering(state):
        pass

    deliveries = state.webhooks.deliveries
    assert [d.status_code for d in deliveries[:2]] == [404, 404]
    assert [e["type"] for e in bot.events()] == ["message"]


async def test_a_disabled_webhook_receives_nothing(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    await client.patch(f"/_devline/channels/{CHANNEL_ID}", json={"webhookActive": False})
    await friend(client)

    async with delivering(state):
        pass

    assert bot.received == []
    assert state.webhooks.deliveries[0].error == "webhook off"


async def test_the_webhook_test_sends_an_empty_signed_body_and_reports_the_answer(
    client: httpx.AsyncClient, bot: FakeBot
) -> None:
    bot.statuses = [200, 500]

    ok = await client.post("/v2/bot/channel/webhook/test", headers=bearer())
    failed = await client.post("/v2/bot/channel/webhook/test", headers=bearer())
    unreachable = await client.post(
        "/v2/bot/channel/webhook/test", headers=bearer(), json={"endpoint": "http://nowhere.invalid/x"}
    )

    assert (ok.json()["success"], ok.json()["statusCode"], ok.json()["reason"]) == (True, 200, "OK")
    assert (failed.json()["success"], failed.json()["reason"]) == (False, "ERROR_STATUS_CODE")
    assert (unreachable.json()["success"], unreachable.json()["reason"]) == (False, "COULD_NOT_CONNECT")
    body = bot.received[0].body
    assert json.loads(body) == {"destination": BOT_USER_ID, "events": []}
    assert bot.received[0].headers["x-line-signature"] == expected_signature(body, CHANNEL_SECRET)


async def test_the_webhook_endpoint_can_be_read_and_set_through_the_api(client: httpx.AsyncClient) -> None:
    changed = await client.put(
        "/v2/bot/channel/webhook/endpoint", headers=bearer(), json={"endpoint": "https://shop.example/line"}
    )
    read = await client.get("/v2/bot/channel/webhook/endpoint", headers=bearer())

    assert changed.status_code == 200
    assert read.json() == {"endpoint": "https://shop.example/line", "active": True}


async def test_an_unsend_has_the_shape_of_lines_reference_and_the_content_is_gone(
    client: httpx.AsyncClient, state: LineState, bot: FakeBot
) -> None:
    [expected] = reference("webhook-unsend.json")["events"]
    await friend(client)
    await user_does(client, {"userId": USER_ID, "type": "image"})
    async with delivering(state):
        pass
    [image] = [e["message"] for e in bot.events() if e["type"] == "message"]
    bot.received.clear()

    await user_does(client, {"userId": USER_ID, "type": "unsend", "messageId": image["id"]})
    async with delivering(state):
        pass

    [event] = bot.events()
    # no reply token, as LINE's reference; the reference comes from a group chat, ours from a user's
    assert {**keys_of(event), "source": None} == {**keys_of(expected), "source": None}
    assert event["unsend"] == {"messageId": image["id"]}
    assert event["source"] == {"type": "user", "userId": USER_ID}
    content = await client.get(f"/v2/bot/message/{image['id']}/content", headers=bearer())
    assert content.status_code == 404
    # the same message twice, or one that is not the user's, is refused and sends nothing
    bot.received.clear()
    for message_id in (image["id"], "999999999"):
        refused = await client.post(
            f"/_devline/channels/{CHANNEL_ID}/events",
            json={"events": [{"userId": USER_ID, "type": "unsend", "messageId": message_id}]},
        )
        assert refused.status_code == 400
    async with delivering(state):
        pass
    assert bot.received == []

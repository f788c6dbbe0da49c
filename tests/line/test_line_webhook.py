"""LINE's webhook: the signature before anything else (forgeries all refused alike, nothing stored), then the
events: text answered by the bot as a job, redelivery applied once, several users in one body, media handed
to a person, follow and unfollow."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from integrations.line.signatures import sign
from shop_app.database import transaction
from shop_app.models import (
    AuthorType,
    Channel,
    Contact,
    LineConnection,
    LineUser,
    LineWebhookEvent,
    Message,
    Shop,
    ShopStatus,
    Ticket,
)
from tests.helpdesk.conftest import ALPHA, BETA
from tests.line.conftest import SECRETS, LineDesk

pytestmark = pytest.mark.anyio


async def nothing_stored(line_desk: LineDesk) -> bool:
    return (
        await line_desk.count(LineWebhookEvent) == 0
        and await line_desk.count(Ticket) == 0
        and await line_desk.count(LineUser) == 0
    )


async def test_forged_signatures_are_all_refused_alike_and_nothing_is_stored(line_desk: LineDesk) -> None:
    event = line_desk.event("Uaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    body = json.dumps({"destination": "U0", "events": [event]}).encode()
    good = sign(body, channel_secret=SECRETS[ALPHA])
    url = f"/line/webhook/{line_desk.keys[ALPHA]}"
    attempts = {
        "wrong secret": (body, {"x-line-signature": sign(body, channel_secret="not-the-secret")}),
        "other body": (body.replace(b"\\u3053", b"\\u3054"), {"x-line-signature": good}),
        "missing header": (body, {}),
        "empty header": (body, {"x-line-signature": ""}),
        "another shop's secret": (body, {"x-line-signature": sign(body, channel_secret=SECRETS[BETA])}),
    }
    answers = {}
    for name, (content, headers) in attempts.items():
        answer = await line_desk.client.post(url, content=content, headers=headers)
        answers[name] = (answer.status_code, answer.text)
    await line_desk.settle()
    assert set(answers.values()) == {
        (401, '{"error":{"code":"invalid_signature","message":"The request signature is not valid"}}')
    }, answers
    assert await nothing_stored(line_desk)
    assert line_desk.line.calls == []


async def test_an_unknown_key_a_disabled_connection_and_an_uninstalled_shop_get_the_same_refusal(
    line_desk: LineDesk,
) -> None:
    event = line_desk.event("Uaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    unknown = await line_desk.post([event], key="no-such-key")
    async with transaction(line_desk.desk.services.sessions) as session:
        connection = await session.get_one(LineConnection, line_desk.desk.shop_ids[ALPHA])
        connection.enabled = False
        beta = await session.get_one(Shop, line_desk.desk.shop_ids[BETA])
        beta.status = ShopStatus.UNINSTALLED
    disabled = await line_desk.post([event])
    uninstalled = await line_desk.post([event], shop=BETA)
    assert {(a.status_code, a.text) for a in (unknown, disabled, uninstalled)} == {
        (401, '{"error":{"code":"invalid_signature","message":"The request signature is not valid"}}')
    }
    assert await nothing_stored(line_desk)


WELL_FORMED = st.builds(
    lambda text, user: json.dumps(
        {
            "destination": "U0",
            "events": [
                {
                    "type": "message",
                    "timestamp": 1,
                    "webhookEventId": "01X",
                    "source": {"type": "user", "userId": user},
                    "message": {"id": "1", "type": "text", "text": text},
                }
            ],
        }
    ).encode(),
    st.text(max_size=40),
    st.text(min_size=1, max_size=40),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(st.binary(max_size=300), WELL_FORMED), header=st.one_of(st.none(), st.text(max_size=60))
)
async def test_generated_bodies_and_headers_never_pass_or_store_anything(
    line_desk: LineDesk, body: bytes, header: str | None
) -> None:
    raw = None if header is None else header.encode().replace(b"\r", b"").replace(b"\n", b"")
    headers = {} if raw is None else {"x-line-signature": raw}
    answer = await line_desk.client.post(
        f"/line/webhook/{line_desk.keys[ALPHA]}", content=body, headers=headers
    )
    assert answer.status_code == 401
    assert await line_desk.count(LineWebhookEvent) == 0


async def test_a_text_message_is_answered_by_the_bot_with_its_reply_token_after_a_fast_200(
    line_desk: LineDesk,
) -> None:
    line_desk.line.profiles["Ualice000000000000000000000000001"] = {"displayName": "アリス", "language": "ja"}
    event = line_desk.event("Ualice000000000000000000000000001", text="担当者と話したいです")
    answer = await line_desk.post([event])
    assert answer.status_code == 200 and answer.json() == {}
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        contact = await session.get_one(Contact, ticket.contact_id)
        messages = (await session.execute(select(Message).order_by(col(Message.id)))).scalars().all()
    assert ticket.channel == Channel.LINE and ticket.shop_id == line_desk.desk.shop_ids[ALPHA]
    assert contact.name == "アリス"
    assert [m.author_type for m in messages][:2] == [AuthorType.CUSTOMER, AuthorType.BOT]
    paths = line_desk.line.paths()
    assert paths.index("/v2/bot/chat/loading/start") < paths.index("/v2/bot/message/reply")
    (reply,) = line_desk.line.sent("reply")
    assert reply["replyToken"] == event["replyToken"]
    assert reply["messages"][-1]["text"] == messages[1].body
    labels = [item["action"]["label"] for item in reply["messages"][-1]["quickReply"]["items"]]
    assert labels == ["注文状況", "在庫確認", "担当者と話す"]
    assert line_desk.line.sent("push") == []


async def test_a_redelivered_event_is_applied_once(line_desk: LineDesk) -> None:
    event = line_desk.event("Ubob00000000000000000000000000001", text="こんにちは")
    first = await line_desk.post([event])
    again = await line_desk.post([{**event, "deliveryContext": {"isRedelivery": True}}])
    await line_desk.settle()
    third = await line_desk.post([{**event, "deliveryContext": {"isRedelivery": True}}])
    await line_desk.settle()
    assert [a.status_code for a in (first, again, third)] == [200, 200, 200]
    async with line_desk.desk.services.sessions() as session:
        customer = (
            (await session.execute(select(Message).where(col(Message.author_type) == AuthorType.CUSTOMER)))
            .scalars()
            .all()
        )
    assert len(customer) == 1
    assert await line_desk.count(LineWebhookEvent) == 1
    assert len(line_desk.line.sent("reply")) + len(line_desk.line.sent("push")) == 1


async def test_several_users_in_one_request_get_their_own_conversations(line_desk: LineDesk) -> None:
    users = [f"Uuser{i:028d}" for i in range(3)]
    await line_desk.post([line_desk.event(user, text="こんにちは") for user in users])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        tickets = (await session.execute(select(Ticket))).scalars().all()
        line_users = (await session.execute(select(LineUser))).scalars().all()
    assert len(tickets) == 3 and sorted(u.line_user_id for u in line_users) == users
    assert len({t.contact_id for t in tickets}) == 3
    assert len({body["replyToken"] for body in line_desk.line.sent("reply")}) == 3


async def test_a_sticker_and_an_image_are_stored_as_labels_and_handed_to_a_person(
    line_desk: LineDesk,
) -> None:
    user = "Ucarol0000000000000000000000000001"
    sticker = line_desk.event(user)
    sticker["message"] = {"id": "111", "type": "sticker", "packageId": "446", "stickerId": "1988"}
    image = line_desk.event(user)
    image["message"] = {"id": "222", "type": "image", "contentProvider": {"type": "line"}}
    await line_desk.post([sticker, image])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        bodies = [
            (m.author_type, m.body)
            for m in (await session.execute(select(Message).order_by(col(Message.id)))).scalars()
        ]
    assert bodies[0] == (AuthorType.CUSTOMER, "[スタンプ]")
    assert (AuthorType.CUSTOMER, "[画像]") in bodies
    assert "bot-handoff" in ticket.tags and ticket.status == "open"
    assert all(kind != AuthorType.BOT for kind, _ in bodies)
    # the picture, for the shop's agents only: listed with its message, opened from LINE
    headers = await line_desk.desk.sign_in("agent@alpha.test")
    listed = (await line_desk.client.get(f"/api/v1/tickets/{ticket.id}/messages")).json()["messages"]
    assert [m["attachments"] for m in listed if m["body"] == "[スタンプ]"] == [[]]
    [picture_message] = [m for m in listed if m["body"] == "[画像]"]
    assert picture_message["attachments"] == [
        {"kind": "image", "name": None, "content_type": None, "size_bytes": None, "url": "/line/content/222"}
    ]
    picture = await line_desk.client.get("/line/content/222", headers=headers)
    assert picture.status_code == 200 and picture.content == b"\x89PNG fake"
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["x-content-type-options"] == "nosniff"
    assert picture.headers["content-security-policy"].startswith("sandbox")
    assert (await line_desk.client.get("/line/content/999", headers=headers)).status_code == 404
    # a sticker is no content of LINE's to fetch
    assert (await line_desk.client.get("/line/content/111", headers=headers)).status_code == 404
    line_desk.client.cookies.clear()
    await line_desk.desk.sign_in("agent@beta.test", shop=BETA)
    assert (await line_desk.client.get("/line/content/222")).status_code == 404


async def test_follow_greets_and_offers_linking_and_unfollow_is_remembered(line_desk: LineDesk) -> None:
    user = "Udave00000000000000000000000000001"
    follow = line_desk.event(user, kind="follow", text=None, follow={"isUnblocked": False})
    await line_desk.post([follow])
    await line_desk.settle()
    (reply,) = line_desk.line.sent("reply")
    assert "アルファ" in reply["messages"][0]["text"]
    link_button = reply["messages"][1]["contents"]["footer"]["contents"][0]["action"]
    assert link_button["uri"].startswith("https://alpha.myshopify.com/apps/support/line-link?linkToken=")
    await line_desk.post([line_desk.event(user, kind="unfollow", text=None)])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        stored = (await session.execute(select(LineUser))).scalar_one()
    assert stored.following is False and await line_desk.count(Ticket) == 0


async def test_an_event_that_fails_stays_for_the_sweep_and_does_not_hold_back_the_others(
    line_desk: LineDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from shop_app.channels.line import conversations

    real = conversations._apply
    failed: list[str] = []

    async def flaky(session, *, event, **others):  # type: ignore[no-untyped-def]
        if not failed:
            failed.append(event.webhook_event_id)
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return await real(session, event=event, **others)

    monkeypatch.setattr(conversations, "_apply", flaky)
    events = [line_desk.event(f"Usweep{i:027d}", text="担当者と話したいです") for i in range(2)]
    await line_desk.post(events)
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        pending = (
            (await session.execute(select(LineWebhookEvent).where(col(LineWebhookEvent.status) == "pending")))
            .scalars()
            .all()
        )
    assert [row.webhook_event_id for row in pending] == failed
    assert await line_desk.count(Ticket) == 1
    # the sweep applies it
    await conversations.sweep_line_events(line_desk.desk.services, older_than_seconds=0)
    assert await line_desk.count(Ticket) == 2

"""LINE's ``unsend``: what a shopper took back is no longer shown anywhere (LINE's own rule for its
partners). The message's text is replaced, a picture's link goes, the console is told; an ``unsend`` that
arrives before the message makes the message arrive already unsent and unanswered; one shop's unsend never
touches another shop's messages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.live_events import LiveEvent
from shop_app.models import AuthorType, Message, Ticket
from tests.helpdesk.conftest import ALPHA, BETA
from tests.line.conftest import LineDesk

pytestmark = pytest.mark.anyio

UNSENT = "（お客様がLINEで送信を取り消したメッセージです）"


def unsend(line_desk: LineDesk, user: str, message_id: str) -> dict[str, Any]:
    event = line_desk.event(user, kind="unsend", text=None, unsend={"messageId": message_id})
    del event["replyToken"]
    return event


async def messages(line_desk: LineDesk, shop: str = ALPHA) -> list[Message]:
    async with line_desk.desk.services.sessions() as session:
        rows = await session.execute(
            select(Message)
            .where(col(Message.shop_id) == line_desk.desk.shop_ids[shop])
            .order_by(col(Message.id))
        )
        return list(rows.scalars())


async def test_an_unsent_message_is_blanked_and_the_console_is_told(line_desk: LineDesk) -> None:
    user = "Uerin00000000000000000000000000001"
    said = line_desk.event(user, text="電話番号は090-1234-5678です、注文 #1001 はどこ？")
    await line_desk.post([said])
    await line_desk.settle()
    shop_id = line_desk.desk.shop_ids[ALPHA]
    async with line_desk.desk.services.events.subscribe(shop_id) as queue:
        await line_desk.post([unsend(line_desk, user, said["message"]["id"])])
        await line_desk.settle()
        seen: list[LiveEvent] = []
        while not queue.empty():
            seen.append(queue.get_nowait())
    customer = [m for m in await messages(line_desk) if m.author_type == AuthorType.CUSTOMER]
    assert [m.body for m in customer] == [UNSENT]
    assert all("090-1234-5678" not in m.body for m in await messages(line_desk))
    async with line_desk.desk.services.sessions() as session:
        ticket = await session.get_one(Ticket, customer[0].ticket_id)
    assert "090" not in ticket.subject and "取り消" in ticket.subject
    assert [e.data for e in seen if e.kind == "message.updated"] == [
        {"ticket_id": customer[0].ticket_id, "message_id": customer[0].id}
    ]
    # applying the same unsend again (LINE redelivers) changes nothing more
    await line_desk.post([unsend(line_desk, user, said["message"]["id"])])
    await line_desk.settle()
    assert [m.body for m in await messages(line_desk) if m.author_type == AuthorType.CUSTOMER] == [UNSENT]


async def test_an_unsent_picture_loses_its_link(line_desk: LineDesk) -> None:
    user = "Ufred00000000000000000000000000001"
    image = line_desk.event(user)
    image["message"] = {"id": "333", "type": "image", "contentProvider": {"type": "line"}}
    await line_desk.post([image])
    await line_desk.settle()
    headers = await line_desk.desk.sign_in("agent@alpha.test")
    assert (await line_desk.client.get("/line/content/333", headers=headers)).status_code == 200
    await line_desk.post([unsend(line_desk, user, "333")])
    await line_desk.settle()
    assert (await line_desk.client.get("/line/content/333", headers=headers)).status_code == 404
    async with line_desk.desk.services.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    listed = (await line_desk.client.get(f"/api/v1/tickets/{ticket.id}/messages")).json()["messages"]
    customer = [m for m in listed if m["author_type"] == "customer"]
    assert [(m["body"], m["attachments"]) for m in customer] == [(UNSENT, [])]


async def test_an_unsend_that_arrives_first_leaves_the_message_unsent_and_unanswered(
    line_desk: LineDesk,
) -> None:
    user = "Ugina00000000000000000000000000001"
    said = line_desk.event(user, text="注文 #1001 はどこですか")
    await line_desk.post([unsend(line_desk, user, said["message"]["id"])])
    await line_desk.settle()
    assert await messages(line_desk) == []
    await line_desk.post([said])
    await line_desk.settle()
    assert [(m.author_type, m.body) for m in await messages(line_desk)] == [(AuthorType.CUSTOMER, UNSENT)]
    assert line_desk.line.sent("reply") == [] and line_desk.line.sent("push") == []


async def test_one_shops_unsend_never_touches_another_shops_message(line_desk: LineDesk) -> None:
    user = "Uhana00000000000000000000000000001"
    said = line_desk.event(user, text="こんにちは、在庫はありますか")
    await line_desk.post([said])
    await line_desk.settle()
    await line_desk.post([unsend(line_desk, user, said["message"]["id"])], shop=BETA)
    await line_desk.settle()
    customer = [m for m in await messages(line_desk) if m.author_type == AuthorType.CUSTOMER]
    assert [m.body for m in customer] == ["こんにちは、在庫はありますか"]

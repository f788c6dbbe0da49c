"""The Chatwoot agent bot against the simulated Chatwoot: signatures and replays, the Japanese WISMO answer,
the refund handoff with its private note, silence after an agent, no loops, contact attributes, redact."""

from __future__ import annotations

import json
import time

from sqlalchemy import select
from sqlmodel import col

from devchatwoot.state import Conversation
from integrations.chatwoot.signatures import sign
from shop_app.connectors.storage import inbound_url
from shop_app.database import transaction
from shop_app.models import (
    BotDecision,
    Channel,
    Connector,
    ConnectorConversation,
    ConnectorEvent,
    Message,
    Shop,
    Ticket,
)
from shop_app.shops.compliance import redact_shop
from tests.conftest import SHARED
from tests.connectors.conftest import ChatwootDesk
from tests.helpdesk.conftest import ALPHA, BETA

REFERENCE = SHARED / "platform-reference" / "chatwoot" / "agent-bot-message-created.json"


def bot_lines(chat: Conversation) -> list[tuple[str, bool]]:
    return [(m.content, m.private) for m in chat.messages if m.sender_type == "agent_bot"]


async def post_signed(
    desk: ChatwootDesk,
    body: bytes,
    *,
    secret: str,
    shop: str = ALPHA,
    timestamp: int | None = None,
    delivery: str = "7d0c2b4e-1f3a-4c8e-9b6d-2a5e8f1c3d47",
    key: str | None = None,
) -> int:
    stamp = int(time.time()) if timestamp is None else timestamp
    connector = await desk.connector(shop)
    url = inbound_url(desk.desk.services.settings, connector)
    if key is not None:
        url = url.rsplit("/", 1)[0] + "/" + key
    answer = await desk.client.post(
        url,
        content=body,
        headers={
            "content-type": "application/json",
            "x-chatwoot-timestamp": str(stamp),
            "x-chatwoot-signature": sign(body, secret=secret, timestamp=stamp),
            "x-chatwoot-delivery": delivery,
        },
    )
    return answer.status_code


def reference_body(account_id: int) -> bytes:
    with open(REFERENCE, encoding="utf-8") as handle:
        data = json.load(handle)
    data["account"]["id"] = account_id
    return json.dumps(data, ensure_ascii=False).encode()


async def test_forged_stale_and_unknown_key_calls_are_refused_and_nothing_is_stored(
    chatwoot_desk: ChatwootDesk,
) -> None:
    body = reference_body(chatwoot_desk.sides[ALPHA].account.id)
    right = chatwoot_desk.sides[ALPHA].bot.secret
    assert await post_signed(chatwoot_desk, body, secret="not-the-secret") == 401
    assert await post_signed(chatwoot_desk, body, secret=right, timestamp=int(time.time()) - 3600) == 401
    assert await post_signed(chatwoot_desk, body, secret=right, key="no-such-key") == 401
    # BETA's secret signs nothing for ALPHA's address
    assert await post_signed(chatwoot_desk, body, secret=chatwoot_desk.sides[BETA].bot.secret) == 401
    tampered = body.replace(b"#1001", b"#1002")
    connector = await chatwoot_desk.connector()
    stamp = int(time.time())
    answer = await chatwoot_desk.client.post(
        inbound_url(chatwoot_desk.desk.services.settings, connector),
        content=tampered,
        headers={
            "x-chatwoot-timestamp": str(stamp),
            "x-chatwoot-signature": sign(body, secret=right, timestamp=stamp),
        },
    )
    assert answer.status_code == 401
    await chatwoot_desk.settle()
    assert await chatwoot_desk.count(ConnectorEvent) == 0
    assert await chatwoot_desk.count(Ticket) == 0


async def test_a_replayed_delivery_is_stored_and_answered_once(chatwoot_desk: ChatwootDesk) -> None:
    side = chatwoot_desk.sides[ALPHA]
    # a conversation whose message Chatwoot has not delivered yet (the bot is attached afterwards)
    chatwoot_desk.chatwoot.set_agent_bot(side.inbox, None)
    chat, message = await chatwoot_desk.chatwoot.contact_says(
        side.account, side.inbox, chatwoot_desk.contact(), "こんにちは"
    )
    chat.status = "pending"
    chatwoot_desk.chatwoot.set_agent_bot(side.inbox, side.bot)
    body = json.dumps(
        chatwoot_desk.chatwoot.message_payload(side.account, chat, message), ensure_ascii=False
    ).encode()
    assert await post_signed(chatwoot_desk, body, secret=side.bot.secret, delivery="same-delivery") == 200
    await chatwoot_desk.settle()
    assert await chatwoot_desk.count(ConnectorEvent) >= 1
    assert await chatwoot_desk.count(BotDecision) == 1
    answered = len(bot_lines(chat))
    assert answered >= 1
    events = await chatwoot_desk.count(ConnectorEvent)
    # the same delivery again (a captured call replayed within the window): nothing stored or answered
    assert await post_signed(chatwoot_desk, body, secret=side.bot.secret, delivery="same-delivery") == 200
    await chatwoot_desk.settle()
    assert await chatwoot_desk.count(ConnectorEvent) == events
    assert await chatwoot_desk.count(BotDecision) == 1
    assert len(bot_lines(chat)) == answered


async def test_a_japanese_where_is_my_order_is_answered_in_chatwoot_after_verification(
    chatwoot_desk: ChatwootDesk,
) -> None:
    # given a customer with a shipped order, writing from a Chatwoot widget
    await chatwoot_desk.seed_order()
    contact = chatwoot_desk.contact(email="hanako@example.jp")
    # when they ask where it is, the bot (not knowing who writes) asks for proof and discloses nothing
    chat = await chatwoot_desk.says(contact, "注文 #1001 はいつ届きますか？")
    first = bot_lines(chat)
    assert first and not first[0][1]
    assert "123456789012" not in str(first) and "リネンシャツ" not in str(first)
    # then with the order's email it answers, in Japanese, in the conversation
    await chatwoot_desk.says(contact, "#1001 hanako@example.jp", conversation=chat)
    answer = bot_lines(chat)[-1][0]
    assert "ご注文#1001は発送済み" in answer and "123456789012" in answer
    assert chat.status == "pending"  # the bot keeps it
    async with chatwoot_desk.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalar_one()
        ticket = await session.get_one(Ticket, mirror.ticket_id)
        decisions = (await session.execute(select(BotDecision).order_by(col(BotDecision.id)))).scalars().all()
    assert mirror.external_id == str(chat.display_id)
    assert mirror.inbox == str(chatwoot_desk.sides[ALPHA].inbox.id)
    assert ticket.channel == Channel.CHATWOOT and ticket.shop_id == chatwoot_desk.desk.shop_ids[ALPHA]
    assert decisions[-1].verification == "order_details"
    # the matched customer's facts are on the Chatwoot contact for its filters and automations
    assert contact.custom_attributes["orderdesk_customer_id"] == "7001"
    assert contact.custom_attributes["orderdesk_orders_count"] == 1
    assert contact.custom_attributes["orderdesk_total_spent"] == 3200.0
    assert contact.custom_attributes["orderdesk_last_order_state"] == "FULFILLED"


async def test_a_refund_request_is_handed_off_with_a_private_note_and_the_conversation_opened(
    chatwoot_desk: ChatwootDesk,
) -> None:
    await chatwoot_desk.seed_order()
    contact = chatwoot_desk.contact(email="hanako@example.jp")
    chat = await chatwoot_desk.says(contact, "注文 #1001 の返金をお願いします")
    notes = [text for text, private in bot_lines(chat) if private]
    assert len(notes) == 1 and notes[0].strip()
    assert chat.status == "open"
    async with chatwoot_desk.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalar_one()
    assert mirror.handed_off_at is not None and mirror.status == "open"
    # the shopper writes again: an agent has it now, the bot stays silent
    lines = len(bot_lines(chat))
    await chatwoot_desk.says(contact, "注文 #1001 はいつ届きますか？", conversation=chat)
    assert len(bot_lines(chat)) == lines


async def test_the_bot_is_silent_once_an_agent_replied_until_handed_back(chatwoot_desk: ChatwootDesk) -> None:
    contact = chatwoot_desk.contact()
    chat = await chatwoot_desk.says(contact, "こんにちは")
    await chatwoot_desk.agent_says(chat, "担当の佐藤です。どうされましたか？")
    lines = len(bot_lines(chat))
    await chatwoot_desk.says(contact, "在庫はありますか？", conversation=chat)
    assert len(bot_lines(chat)) == lines
    async with chatwoot_desk.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalar_one()
        bodies = (
            (
                await session.execute(
                    select(col(Message.body)).where(col(Message.ticket_id) == mirror.ticket_id)
                )
            )
            .scalars()
            .all()
        )
    # the agent's reply is mirrored on our ticket, and was not sent back to Chatwoot
    assert "担当の佐藤です。どうされましたか？" in bodies
    assert sum(m.content == "担当の佐藤です。どうされましたか？" for m in chat.messages) == 1
    assert mirror.agent_replied_at is not None


async def test_our_own_messages_never_trigger_the_bot(chatwoot_desk: ChatwootDesk) -> None:
    contact = chatwoot_desk.contact()
    chat = await chatwoot_desk.says(contact, "こんにちは")
    await chatwoot_desk.settle()
    # Chatwoot sent us our own replies back (message_created, sender agent_bot): each stored, none answered
    bot_events = [d for d in chatwoot_desk.chatwoot.deliveries if d.event == "message_created"]
    assert len(bot_events) == len(chat.messages)
    async with chatwoot_desk.desk.services.sessions() as session:
        decisions = (await session.execute(select(BotDecision))).scalars().all()
    assert len(decisions) == sum(m.message_type == "incoming" for m in chat.messages)
    # and our echoes were answered but never even stored
    events = [d.event for d in chatwoot_desk.chatwoot.deliveries]
    assert await chatwoot_desk.count(ConnectorEvent) == events.count("message_created") - sum(
        m.sender_type == "agent_bot" for m in chat.messages
    ) + events.count("conversation_status_changed")


async def test_a_paused_connector_stores_nothing_and_answers_nothing(chatwoot_desk: ChatwootDesk) -> None:
    async with transaction(chatwoot_desk.desk.services.sessions) as session:
        connector = await session.get_one(Connector, chatwoot_desk.sides[ALPHA].connector_id)
        connector.paused = True
    chat = await chatwoot_desk.says(chatwoot_desk.contact(), "こんにちは")
    assert bot_lines(chat) == []
    assert await chatwoot_desk.count(ConnectorEvent) == 0


async def test_shop_redact_removes_the_connector_and_its_mirrors(chatwoot_desk: ChatwootDesk) -> None:
    await chatwoot_desk.says(chatwoot_desk.contact(), "こんにちは")
    await chatwoot_desk.says(chatwoot_desk.contact(BETA, name="Ben"), "hello", shop=BETA)
    async with transaction(chatwoot_desk.desk.services.sessions) as session:
        shop = await session.get_one(Shop, chatwoot_desk.desk.shop_ids[ALPHA])
        await redact_shop(session, shop=shop)
    async with chatwoot_desk.desk.services.sessions() as session:
        connectors = (await session.execute(select(Connector))).scalars().all()
        mirrors = (await session.execute(select(ConnectorConversation))).scalars().all()
        events = (await session.execute(select(ConnectorEvent))).scalars().all()
    beta = chatwoot_desk.desk.shop_ids[BETA]
    assert [c.shop_id for c in connectors] == [beta]
    assert mirrors and all(m.shop_id == beta for m in mirrors)
    assert all(e.shop_id == beta for e in events)


async def test_a_console_reply_on_a_chatwoot_conversation_silences_the_bot(
    chatwoot_desk: ChatwootDesk,
) -> None:
    """An agent answering from our console: the reply leaves with the bot's token (so Chatwoot's echo is
    never a trigger), yet it is an agent's: the mirror records it and the bot stays silent afterwards."""
    contact = chatwoot_desk.contact()
    chat = await chatwoot_desk.says(contact, "こんにちは")
    async with chatwoot_desk.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalar_one()
    assert mirror.agent_replied_at is None
    csrf = await chatwoot_desk.desk.sign_in("agent@alpha.test")
    answer = await chatwoot_desk.desk.client.post(
        f"/api/v1/tickets/{mirror.ticket_id}/messages",
        json={"body": "担当の佐藤です。確認します。", "kind": "reply"},
        headers=csrf,
    )
    assert answer.status_code == 201, answer.text
    await chatwoot_desk.settle()
    assert chat.messages[-1].content == "担当の佐藤です。確認します。"
    async with chatwoot_desk.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalar_one()
    assert mirror.agent_replied_at is not None
    lines = len(bot_lines(chat))
    await chatwoot_desk.says(contact, "在庫はありますか？", conversation=chat)
    assert len(bot_lines(chat)) == lines

# ruff: noqa: F811  (the log-capturing fixture is imported from tests/app/test_log_context.py)
"""A LINE conversation end to end against the fake LINE: account linking through the storefront, a linked
shopper's order answered with a Flex card, push after the reply token expired, 429 retried, an agent's
console reply pushed, and an unlinked shopper verifying like the widget."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from integrations.shopify.app_proxy import sign_app_proxy_query
from shop_app.database import transaction
from shop_app.models import (
    AuthorType,
    BotDecision,
    LineAccountLink,
    LineUser,
    Message,
    OutboxMessage,
    OutboxStatus,
    Shop,
    Ticket,
)
from shop_app.models.base import utcnow
from shop_app.shops.compliance import redact_customer
from shop_app.shops.customer_subjects import CustomerSubject
from tests.app.test_log_context import Lines, context, lines  # noqa: F401
from tests.helpdesk.conftest import ALPHA, BETA
from tests.line.conftest import LINE_ACCESS, LineDesk

pytestmark = pytest.mark.anyio

HANAKO = "Uhanako00000000000000000000000001"
INTRUDER = "Uintruder000000000000000000000001"


def storefront_query(line_desk: LineDesk, shop: str, customer_id: int | None, **extra: str) -> str:
    params = {
        **extra,
        "shop": shop,
        "logged_in_customer_id": str(customer_id) if customer_id else "",
        "path_prefix": "/apps/support",
        "timestamp": str(int(time.time())),
    }
    params["signature"] = sign_app_proxy_query(params, line_desk.desk.services.settings.api_secret.reveal())
    return urlencode(params)


async def link_token_from_offer(line_desk: LineDesk) -> str:
    offers = [
        message
        for body in line_desk.line.sent("reply") + line_desk.line.sent("push")
        for message in body["messages"]
        if message["type"] == "flex" and "footer" in message["contents"]
    ]
    uri = offers[-1]["contents"]["footer"]["contents"][0]["action"]["uri"]
    assert uri.startswith("https://alpha.myshopify.com/apps/support/line-link?")
    return parse_qs(urlsplit(uri).query)["linkToken"][0]


async def link(line_desk: LineDesk, user: str = HANAKO, customer_id: int = 7001) -> httpx.Response:
    """The whole flow: ask → link token → storefront page signed in → LINE's accountLink event."""
    await line_desk.post([line_desk.event(user, text="アカウント連携")])
    await line_desk.settle()
    token = await link_token_from_offer(line_desk)
    page = await line_desk.client.get(
        f"/proxy/support/line-link?{storefront_query(line_desk, ALPHA, customer_id, linkToken=token)}"
    )
    assert page.status_code == 302, page.text
    target = urlsplit(page.headers["location"])
    assert f"{target.scheme}://{target.netloc}" == LINE_ACCESS and target.path == "/dialog/bot/accountLink"
    query = parse_qs(target.query)
    assert query["linkToken"] == [token] and len(query["nonce"][0]) >= 40
    return page


def account_link_event(line_desk: LineDesk, user: str, nonce: str, *, ok: bool = True) -> dict[str, Any]:
    return line_desk.event(
        user, kind="accountLink", text=None, link={"result": "ok" if ok else "failed", "nonce": nonce}
    )


async def test_account_linking_end_to_end_makes_the_line_user_the_customer(line_desk: LineDesk) -> None:
    # given: Hanako asks to link, signs in on the storefront and is sent on to LINE with a nonce
    await line_desk.seed_order()
    page = await link(line_desk)
    nonce = parse_qs(urlsplit(page.headers["location"]).query)["nonce"][0]
    # when: LINE tells the app the link succeeded
    await line_desk.post([account_link_event(line_desk, HANAKO, nonce)])
    await line_desk.settle()
    # then: she is the customer, and told so
    async with line_desk.desk.services.sessions() as session:
        user = (
            await session.execute(select(LineUser).where(col(LineUser.line_user_id) == HANAKO))
        ).scalar_one()
    assert user.customer_shopify_id == 7001 and user.linked_at is not None
    assert "連携しました" in line_desk.line.sent("reply")[-1]["messages"][0]["text"]
    # and the nonce cannot be used again
    await line_desk.post([account_link_event(line_desk, HANAKO, nonce)])
    await line_desk.settle()
    assert "できませんでした" in line_desk.line.sent("reply")[-1]["messages"][0]["text"]


async def test_a_nonce_links_only_the_line_user_its_token_was_issued_for(line_desk: LineDesk) -> None:
    page = await link(line_desk)
    nonce = parse_qs(urlsplit(page.headers["location"]).query)["nonce"][0]
    await line_desk.post([account_link_event(line_desk, INTRUDER, nonce)])
    await line_desk.post([account_link_event(line_desk, HANAKO, "made-up-nonce-" + secrets.token_hex(16))])
    await line_desk.post([account_link_event(line_desk, HANAKO, nonce, ok=False)])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        linked = (
            await session.execute(select(LineUser).where(col(LineUser.customer_shopify_id).is_not(None)))
        ).all()
    assert linked == []


async def test_the_link_page_asks_a_visitor_to_sign_in_and_refuses_bad_signatures_and_reused_tokens(
    line_desk: LineDesk,
) -> None:
    await line_desk.post([line_desk.event(HANAKO, text="アカウント連携")])
    await line_desk.settle()
    token = await link_token_from_offer(line_desk)
    visitor = await line_desk.client.get(
        f"/proxy/support/line-link?{storefront_query(line_desk, ALPHA, None, linkToken=token)}"
    )
    assert visitor.status_code == 200 and "ログイン" in visitor.text
    assert "/account/login?return_url=%2Fapps%2Fsupport%2Fline-link%3FlinkToken%3D" in visitor.text
    forged = storefront_query(line_desk, ALPHA, 7001, linkToken=token).replace("7001", "7002")
    assert (await line_desk.client.get(f"/proxy/support/line-link?{forged}")).status_code == 401
    other_shop = await line_desk.client.get(
        f"/proxy/support/line-link?{storefront_query(line_desk, BETA, 7001, linkToken=token)}"
    )
    assert (
        other_shop.status_code == 200 and other_shop.text.count("連携") + other_shop.text.count("link") >= 1
    )
    assert "location" not in other_shop.headers
    first = await line_desk.client.get(
        f"/proxy/support/line-link?{storefront_query(line_desk, ALPHA, 7001, linkToken=token)}"
    )
    again = await line_desk.client.get(
        f"/proxy/support/line-link?{storefront_query(line_desk, ALPHA, 7002, linkToken=token)}"
    )
    assert first.status_code == 302 and again.status_code == 200 and "location" not in again.headers
    async with line_desk.desk.services.sessions() as session:
        links = (await session.execute(select(LineAccountLink))).scalars().all()
    assert [link.customer_shopify_id for link in links] == [7001]
    assert all(token not in (link.token_digest, link.nonce_digest) for link in links)


async def test_a_linked_shopper_gets_the_order_as_a_flex_card_with_its_text_alternative(
    line_desk: LineDesk,
) -> None:
    await line_desk.seed_order()
    page = await link(line_desk)
    nonce = parse_qs(urlsplit(page.headers["location"]).query)["nonce"][0]
    await line_desk.post([account_link_event(line_desk, HANAKO, nonce)])
    await line_desk.settle()
    await line_desk.post([line_desk.event(HANAKO, text="注文 #1001 はいつ届きますか？")])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        decision = (
            (await session.execute(select(BotDecision).order_by(col(BotDecision.id).desc())))
            .scalars()
            .first()
        )
    assert decision is not None and decision.action == "reply" and decision.verification == "storefront"
    messages = line_desk.line.sent("reply")[-1]["messages"]
    card = messages[-1]
    assert card["type"] == "flex" and card["altText"] == decision.reply
    text = str(card["contents"])
    assert "ご注文 #1001" in text and "リネンシャツ ネイビー / M" in text and "配送中" in text
    buttons = card["contents"]["footer"]["contents"]
    assert (
        buttons[0]["action"]["uri"].startswith("https://") and "123456789012" in buttons[0]["action"]["uri"]
    )
    assert [i["action"]["text"] for i in card["quickReply"]["items"]] == [
        "注文状況",
        "在庫確認",
        "担当者と話す",
    ]


async def test_an_unlinked_shopper_verifies_like_the_widget_and_hears_nothing_without_proof(
    line_desk: LineDesk,
) -> None:
    await line_desk.seed_order()
    await line_desk.post([line_desk.event(INTRUDER, text="注文 #1001 はいつ届きますか？")])
    await line_desk.settle()
    await line_desk.post([line_desk.event(INTRUDER, text="someone@example.jp")])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        decisions = (await session.execute(select(BotDecision).order_by(col(BotDecision.id)))).scalars().all()
    assert decisions[0].verification == "needed"
    assert all(d.verification != "storefront" for d in decisions)
    sent = str(line_desk.line.sent("reply") + line_desk.line.sent("push"))
    assert "123456789012" not in sent and "リネンシャツ" not in sent
    await line_desk.post([line_desk.event(INTRUDER, text="#1001 hanako@example.jp")])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        last = (
            (await session.execute(select(BotDecision).order_by(col(BotDecision.id).desc())))
            .scalars()
            .first()
        )
    assert last is not None and last.verification == "order_details"


async def test_the_answer_is_pushed_when_the_reply_token_expired(line_desk: LineDesk) -> None:
    event = line_desk.event(HANAKO, text="担当者と話したいです")
    with time_machine.travel(utcnow() - timedelta(minutes=2), tick=True):
        await line_desk.post([event])  # received two minutes ago; its job only runs now
    queue = line_desk.desk.state["jobs"]
    await queue.drain()
    assert line_desk.line.sent("reply") == []
    (push,) = line_desk.line.sent("push")
    assert push["to"] == HANAKO
    pushed = [h for path, _, h in line_desk.line.calls if path == "/v2/bot/message/push"]
    assert len(pushed[0]["x-line-retry-key"]) == 36


async def test_a_reply_token_line_refuses_falls_back_to_push(line_desk: LineDesk) -> None:
    event = line_desk.event(HANAKO, text="担当者と話したいです")
    line_desk.line.reply_tokens.discard(event["replyToken"])  # LINE: "Invalid reply token"
    await line_desk.post([event])
    await line_desk.settle()
    assert [p for p in line_desk.line.paths() if p.startswith("/v2/bot/message/")] == [
        "/v2/bot/message/reply",
        "/v2/bot/message/push",
    ]
    async with line_desk.desk.services.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
    assert row.status == OutboxStatus.SENT and row.external_id


async def test_a_429_is_retried_and_the_answer_still_arrives(line_desk: LineDesk) -> None:
    line_desk.line.fail_next = [
        httpx.Response(202, json={}),  # the loading animation
        httpx.Response(200, json={"displayName": "花子", "language": "ja"}),  # the profile
        httpx.Response(429, json={"message": "Too Many Requests"}, headers={"retry-after": "0"}),
    ]
    await line_desk.post([line_desk.event(HANAKO, text="担当者と話したいです")])
    await line_desk.settle()
    replies = [p for p in line_desk.line.paths() if p == "/v2/bot/message/reply"]
    assert len(replies) == 2 and len(line_desk.line.sent("reply")) == 2
    async with line_desk.desk.services.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
    assert row.status == OutboxStatus.SENT


async def test_an_agents_console_reply_goes_to_line_by_push(line_desk: LineDesk) -> None:
    await line_desk.post([line_desk.event(HANAKO, text="担当者と話したいです")])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    headers = await line_desk.desk.sign_in("agent@alpha.test")
    answer = await line_desk.client.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"body": "山田です。確認いたします。"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    await line_desk.settle()
    (push,) = line_desk.line.sent("push")
    assert push == {"to": HANAKO, "messages": [{"type": "text", "text": "山田です。確認いたします。"}]}
    async with line_desk.desk.services.sessions() as session:
        agent_message = (
            await session.execute(select(Message).where(col(Message.author_type) == AuthorType.AGENT))
        ).scalar_one()
        row = (
            await session.execute(
                select(OutboxMessage).where(col(OutboxMessage.message_id) == agent_message.id)
            )
        ).scalar_one()
    assert row.status == OutboxStatus.SENT


async def test_a_link_postback_offers_linking_and_the_unlink_word_unlinks(line_desk: LineDesk) -> None:
    await line_desk.post(
        [line_desk.event(HANAKO, kind="postback", text=None, postback={"data": "action=link"})]
    )
    await line_desk.settle()
    assert await link_token_from_offer(line_desk)
    page = await link(line_desk)
    nonce = parse_qs(urlsplit(page.headers["location"]).query)["nonce"][0]
    await line_desk.post([account_link_event(line_desk, HANAKO, nonce)])
    await line_desk.post([line_desk.event(HANAKO, text="連携解除")])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        user = (await session.execute(select(LineUser))).scalar_one()
    assert user.customer_shopify_id is None
    assert "解除しました" in line_desk.line.sent("reply")[-1]["messages"][0]["text"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=300), customer=st.integers(min_value=1, max_value=2**53))
async def test_any_link_token_a_stranger_brings_to_the_link_page_links_nothing(
    line_desk: LineDesk, token: str, customer: int
) -> None:
    answer = await line_desk.client.get(
        f"/proxy/support/line-link?{storefront_query(line_desk, ALPHA, customer, linkToken=token)}"
    )
    assert answer.status_code == 200 and "location" not in answer.headers
    assert "<script" not in answer.text
    async with line_desk.desk.services.sessions() as session:
        assert (await session.execute(select(LineAccountLink))).first() is None


async def test_a_customers_redaction_takes_their_line_identity_and_link_with_it(line_desk: LineDesk) -> None:
    await line_desk.seed_order()
    page = await link(line_desk)
    nonce = parse_qs(urlsplit(page.headers["location"]).query)["nonce"][0]
    await line_desk.post([account_link_event(line_desk, HANAKO, nonce)])
    await line_desk.post([line_desk.event(HANAKO, text="注文 #1001 はいつ届きますか？")])
    await line_desk.post([line_desk.event(INTRUDER, text="こんにちは")])
    await line_desk.settle()
    async with transaction(line_desk.desk.services.sessions) as session:
        shop = await session.get_one(Shop, line_desk.desk.shop_ids[ALPHA])
        await redact_customer(
            session,
            shop=shop,
            subject=CustomerSubject(shopify_customer_id=7001, email="hanako@example.jp"),
            digest_key="digest-key",
        )
    async with line_desk.desk.services.sessions() as session:
        left = (await session.execute(select(LineUser.line_user_id))).scalars().all()
    assert left == [INTRUDER]


async def test_a_long_agent_reply_reaches_line_whole_in_several_messages(line_desk: LineDesk) -> None:
    await line_desk.post([line_desk.event(HANAKO, text="担当者と話したいです")])
    await line_desk.settle()
    async with line_desk.desk.services.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    headers = await line_desk.desk.sign_in("agent@alpha.test")
    long_reply = ("ご案内いたします。" * 300 + "\n") * 3  # 8,103 characters
    answer = await line_desk.client.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"body": long_reply}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    await line_desk.settle()
    (push,) = line_desk.line.sent("push")
    texts = [m["text"] for m in push["messages"]]
    assert len(texts) == 3 and all(len(t) <= 5000 for t in texts)  # split at its line breaks
    assert "".join(texts) == long_reply.strip()  # the API keeps the body without its last line break


async def test_the_bots_decision_on_a_line_event_is_logged_with_that_events_id(
    line_desk: LineDesk, lines: Lines
) -> None:
    await line_desk.seed_order()
    event = line_desk.event(INTRUDER, text="注文 #1001 はいつ届きますか？")

    await line_desk.post([event])
    await line_desk.settle()

    (decision,) = lines.with_message("bot decision")
    assert context(decision)["webhook_id"] == event["webhookEventId"]
    assert context(decision)["task"] == "process_line_events"

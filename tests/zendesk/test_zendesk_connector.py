"""The Zendesk connector against the simulated Zendesk: the bot answers a Japanese "where is my order?" with a
public comment, hands a refund request off with an internal note, a tag and a group, is silent after an
agent, never answers its own comments; forged and replayed webhooks are refused and store nothing; the
sidebar's signed URL is checked strictly and never shows another shop's card; redact removes it all."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from devzendesk.page import app_token
from integrations.zendesk.signatures import sign
from shop_app.models import BotDecision, Connector, ConnectorConversation, ConnectorEvent, Shop, Ticket
from shop_app.shops.compliance import redact_shop
from tests.helpdesk.conftest import ALPHA, BETA
from tests.zendesk.zendesk_fixtures import ZendeskDesk, webhook_body

WISMO = "注文 #1001 はいつ届きますか？ メールアドレスは hanako@example.jp です。"
REFUND = "注文 #1001 の返金をお願いします。サイズが合いませんでした。"


def signed_headers(
    body: bytes, secret: str, *, at: datetime | None = None, invocation: str = "inv-1"
) -> dict[str, str]:
    timestamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "content-type": "application/json",
        "x-zendesk-webhook-invocation-id": invocation,
        "x-zendesk-webhook-signature-timestamp": timestamp,
        "x-zendesk-webhook-signature": sign(body, timestamp=timestamp, secret=secret),
    }


async def hook_url(zd: ZendeskDesk, shop: str = ALPHA) -> str:
    return zd.accounts[shop].webhook_url


async def test_a_japanese_where_is_my_order_is_answered_with_a_public_comment(
    zendesk_desk: ZendeskDesk,
) -> None:
    zd = zendesk_desk
    await zd.seed_order()
    ticket_id = await zd.customer_writes(WISMO)
    replies = zd.bot_comments(ticket_id)
    assert len(replies) == 1 and replies[0].public
    assert "#1001" in replies[0].body and "123456789012" in replies[0].body
    async with zd.desk.services.sessions() as session:
        decision = (await session.execute(select(BotDecision))).scalars().one()
        mirror = (await session.execute(select(ConnectorConversation))).scalars().one()
        ours = await session.get_one(Ticket, mirror.ticket_id)
    assert decision.action == "reply" and decision.language == "ja"
    assert mirror.external_id == str(ticket_id) and ours.channel == "zendesk"
    assert ours.shop_id == zd.desk.shop_ids[ALPHA]
    assert zd.ticket(ticket_id).group_id is None and zd.ticket(ticket_id).tags == []


async def test_our_own_comment_coming_back_through_the_trigger_is_not_answered(
    zendesk_desk: ZendeskDesk,
) -> None:
    zd = zendesk_desk
    await zd.seed_order()
    ticket_id = await zd.customer_writes(WISMO)
    deliveries = len(zd.accounts[ALPHA].deliveries)
    # the bot's public comment fired the public-comment trigger: it was delivered, and nothing followed
    assert deliveries == 2 and all(d.ok for d in zd.accounts[ALPHA].deliveries)
    assert len(zd.bot_comments(ticket_id)) == 1
    assert await zd.count(BotDecision) == 1


async def test_a_refund_request_is_handed_off_with_an_internal_note_a_tag_and_a_group(
    zendesk_desk: ZendeskDesk,
) -> None:
    zd = zendesk_desk
    await zd.seed_order()
    ticket_id = await zd.customer_writes(REFUND)
    ticket = zd.ticket(ticket_id)
    notes = [c for c in zd.bot_comments(ticket_id) if not c.public]
    assert len(notes) == 1 and notes[0].body  # the bot's summary for the agents
    assert "order_desk_handoff" in ticket.tags
    assert ticket.group_id == zd.handoff_groups[ALPHA] and ticket.status == "open"
    async with zd.desk.services.sessions() as session:
        decision = (await session.execute(select(BotDecision))).scalars().one()
        mirror = (await session.execute(select(ConnectorConversation))).scalars().one()
    assert decision.action == "handoff" and mirror.handed_off_at is not None
    # handed off: the shopper's next comment is mirrored but not answered
    before = len(zd.bot_comments(ticket_id))
    await zd.comment(ticket_id, "まだですか？")
    assert len(zd.bot_comments(ticket_id)) == before
    assert await zd.count(BotDecision) == 1


async def test_the_bot_is_silent_once_an_agent_has_commented(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    await zd.seed_order()
    ticket_id = await zd.customer_writes("こんにちは、サイズについて相談です。")
    before = len(zd.bot_comments(ticket_id))
    await zd.comment(ticket_id, "担当の山田です。確認いたします。", author="agent")
    await zd.comment(ticket_id, WISMO)
    assert len(zd.bot_comments(ticket_id)) == before
    async with zd.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalars().one()
    assert mirror.agent_replied_at is not None
    assert all(d.action != "reply" or d.intent != "order_status" for d in await decisions(zd))


async def decisions(zd: ZendeskDesk) -> list[BotDecision]:
    async with zd.desk.services.sessions() as session:
        return list((await session.execute(select(BotDecision).order_by(col(BotDecision.id)))).scalars())


async def test_the_same_comment_brought_twice_is_answered_once(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    await zd.seed_order()
    ticket_id = await zd.customer_writes(WISMO)
    account = zd.accounts[ALPHA]
    requester = zd.ticket(ticket_id).requester_id
    # a second trigger (another invocation) about the same comment: nothing new happens
    body = webhook_body(ticket_id, requester, kind="ticket_created")
    answer = await zd.client.post(
        await hook_url(zd),
        content=body,
        headers=signed_headers(body, account.config.signing_secret, invocation="other"),
    )
    assert answer.status_code == 200
    await zd.settle()
    assert len(zd.bot_comments(ticket_id)) == 1


async def test_a_replayed_delivery_stores_nothing(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    account = zd.accounts[ALPHA]
    ticket_id = await zd.customer_writes("こんにちは")
    requester = zd.ticket(ticket_id).requester_id
    body = webhook_body(ticket_id, requester)
    headers = signed_headers(body, account.config.signing_secret, invocation="same")
    first = await zd.client.post(await hook_url(zd), content=body, headers=headers)
    events = await zd.count(ConnectorEvent)
    again = await zd.client.post(await hook_url(zd), content=body, headers=headers)
    assert first.json()["stored"] is True and again.json() == {"ok": True, "stored": False}
    assert await zd.count(ConnectorEvent) == events


@pytest.mark.parametrize(
    "forgery",
    ["wrong_secret", "other_shops_secret", "stale", "future", "tampered", "no_signature", "no_timestamp"],
)
async def test_forged_webhooks_are_refused_and_nothing_is_stored(
    zendesk_desk: ZendeskDesk, forgery: str
) -> None:
    zd = zendesk_desk
    secret = zd.accounts[ALPHA].config.signing_secret
    body = webhook_body(12345, 67890)
    headers = signed_headers(body, secret)
    if forgery == "wrong_secret":
        headers = signed_headers(body, "not-the-secret")
    elif forgery == "other_shops_secret":
        headers = signed_headers(body, zd.accounts[BETA].config.signing_secret)
    elif forgery == "stale":
        headers = signed_headers(body, secret, at=datetime.now(UTC) - timedelta(minutes=10))
    elif forgery == "future":
        headers = signed_headers(body, secret, at=datetime.now(UTC) + timedelta(minutes=10))
    elif forgery == "tampered":
        body = webhook_body(12345, 11111)
    elif forgery == "no_signature":
        del headers["x-zendesk-webhook-signature"]
    elif forgery == "no_timestamp":
        del headers["x-zendesk-webhook-signature-timestamp"]
    answer = await zd.client.post(await hook_url(zd), content=body, headers=headers)
    assert answer.status_code == 401
    assert await zd.count(ConnectorEvent) == 0


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(st.text(max_size=15), st.one_of(st.text(max_size=20), st.integers()), max_size=5).map(
            lambda d: json.dumps(d).encode()
        ),
    ),
    signature=st.text(max_size=80),
    timestamp=st.text(max_size=40),
)
async def test_any_unsigned_shape_is_refused_and_stores_nothing(
    zendesk_desk: ZendeskDesk, body: bytes, signature: str, timestamp: str
) -> None:
    zd = zendesk_desk
    headers = {
        "x-zendesk-webhook-signature": signature.encode("ascii", "ignore").decode() or "x",
        "x-zendesk-webhook-signature-timestamp": timestamp.encode("ascii", "ignore").decode() or "x",
    }
    answer = await zd.client.post(await hook_url(zd), content=body, headers=headers)
    assert answer.status_code == 401
    assert await zd.count(ConnectorEvent) == 0


async def test_a_signed_body_that_is_not_our_triggers_is_refused(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    body = json.dumps({"ticket_id": "1", "event": "ticket_updated"}).encode()
    answer = await zd.client.post(
        await hook_url(zd),
        content=body,
        headers=signed_headers(body, zd.accounts[ALPHA].config.signing_secret),
    )
    assert answer.status_code == 401 and await zd.count(ConnectorEvent) == 0


# ---- the sidebar ------------------------------------------------------------------------------------------


def sidebar_path(zd: ZendeskDesk, shop: str = ALPHA) -> str:
    return zd.accounts[shop].sidebar_url.removeprefix(str(zd.client.base_url).rstrip("/"))


async def open_sidebar(zd: ZendeskDesk, token: str, *, shop: str = ALPHA) -> Any:
    return await zd.client.post(
        sidebar_path(zd, shop) + "&origin=" + zd.accounts[shop].config.base_url + "&app_guid=g1",
        data={"token": token},
    )


async def test_the_sidebar_opens_with_zendesks_signed_url_framed_only_by_that_zendesk(
    zendesk_desk: ZendeskDesk,
) -> None:
    zd = zendesk_desk
    account = zd.accounts[ALPHA]
    account.clock = time.time
    answer = await open_sidebar(zd, app_token(account))
    assert answer.status_code == 200, answer.text
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors https://alpha.zendesk.test" in policy
    assert "script-src 'self' https://zendesk.sdk.test" in policy
    assert 'lang="ja"' in answer.text and "zaf_sdk.min.js" in answer.text


def forged(account: Any, **claims: Any) -> str:
    now = int(time.time())
    sub = account.config.subdomain
    payload = {
        "iss": f"{sub}.zendesk.com",
        "aud": f"https://{sub}.zendesk.com/api/v2/apps/installations/{account.config.installation_id}.json",
        "iat": now,
        "exp": now + 300,
    }
    payload.update(claims)
    return jwt.encode(
        {k: v for k, v in payload.items() if v is not None}, account.private_key_pem, algorithm="RS256"
    )


@pytest.mark.parametrize(
    "case", ["other_key", "alg_none", "expired", "other_audience", "other_issuer", "empty"]
)
async def test_forged_signed_urls_are_refused(zendesk_desk: ZendeskDesk, case: str) -> None:
    zd = zendesk_desk
    alpha, beta = zd.accounts[ALPHA], zd.accounts[BETA]
    token = {
        "other_key": lambda: jwt.encode(
            jwt.decode(forged(alpha), options={"verify_signature": False}),
            beta.private_key_pem,
            algorithm="RS256",
        ),
        "alg_none": lambda: jwt.encode(
            jwt.decode(forged(alpha), options={"verify_signature": False}), None, algorithm="none"
        ),
        "expired": lambda: forged(alpha, iat=int(time.time()) - 3600, exp=int(time.time()) - 1800),
        "other_audience": lambda: forged(
            alpha, aud="https://alpha.zendesk.com/api/v2/apps/installations/999.json"
        ),
        "other_issuer": lambda: forged(alpha, iss="beta.zendesk.com"),
        "empty": lambda: "",
    }[case]()
    answer = await open_sidebar(zd, token)
    assert answer.status_code == 401
    assert "card" not in answer.text.lower() or "invalid" in answer.text.lower()


async def test_another_shops_zendesk_token_never_opens_this_shops_card(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    beta = zd.accounts[BETA]
    beta.clock = time.time
    # Beta's genuine token, presented at Alpha's sidebar address
    answer = await open_sidebar(zd, app_token(beta), shop=ALPHA)
    assert answer.status_code == 401


async def card_token_for(zd: ZendeskDesk) -> str:
    alpha = zd.accounts[ALPHA]
    alpha.clock = time.time
    page = await open_sidebar(zd, app_token(alpha))
    assert page.status_code == 200, page.text
    return page.text.split('data-token="', 1)[1].split('"', 1)[0]


async def card_answer(
    zd: ZendeskDesk, email: str, conversation_id: str = "1", locale: object = None
) -> httpx.Response:
    answer = await zd.client.post(
        "/connectors/card/profile",
        json={"conversation_id": conversation_id, "email": email, "locale": locale},
        headers={"Authorization": f"Card {await card_token_for(zd)}"},
    )
    assert answer.status_code == 200
    return answer


async def card_for(zd: ZendeskDesk, email: str, conversation_id: str = "1") -> str:
    return (await card_answer(zd, email, conversation_id)).text


async def test_the_card_shows_the_connectors_shops_customer(zendesk_desk: ZendeskDesk) -> None:
    await zendesk_desk.seed_order(ALPHA)
    card = await card_for(zendesk_desk, "hanako@example.jp")
    assert "#1001" in card and "リネンシャツ" in card


async def test_the_card_never_shows_another_shops_customer(zendesk_desk: ZendeskDesk) -> None:
    await zendesk_desk.seed_order(BETA)  # Hanako is Beta's customer, not Alpha's
    card = await card_for(zendesk_desk, "hanako@example.jp")
    assert "#1001" not in card and "リネンシャツ" not in card


async def test_redact_removes_the_connector_and_its_conversations(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    await zd.seed_order()
    await zd.customer_writes(WISMO)
    assert await zd.count(ConnectorConversation) == 1
    async with zd.desk.services.sessions() as session, session.begin():
        shop = await session.get_one(Shop, zd.desk.shop_ids[ALPHA])
        await redact_shop(session, shop=shop)
    async with zd.desk.services.sessions() as session:
        left = (await session.execute(select(Connector.shop_id))).scalars().all()
        events = (await session.execute(select(ConnectorEvent))).scalars().all()
    assert left == [zd.desk.shop_ids[BETA]] and events == []
    assert await zd.count(ConnectorConversation) == 0


async def test_a_console_reply_on_a_zendesk_ticket_silences_the_bot(zendesk_desk: ZendeskDesk) -> None:
    """An agent answering from our console: the reply leaves as the API user's public comment (like the
    bot's), yet it is an agent's, so the mirror records it and the bot stays silent afterwards."""
    zd = zendesk_desk
    await zd.seed_order()
    ticket_id = await zd.customer_writes(WISMO)
    async with zd.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalars().one()
    assert mirror.handed_off_at is None and mirror.agent_replied_at is None
    csrf = await zd.desk.sign_in("agent@alpha.test")
    answer = await zd.desk.client.post(
        f"/api/v1/tickets/{mirror.ticket_id}/messages",
        json={"body": "担当の山田です。確認いたします。", "kind": "reply"},
        headers=csrf,
    )
    assert answer.status_code == 201, answer.text
    await zd.settle()
    sent = zd.bot_comments(ticket_id)
    assert sent[-1].public and sent[-1].body == "担当の山田です。確認いたします。"
    async with zd.desk.services.sessions() as session:
        mirror = (await session.execute(select(ConnectorConversation))).scalars().one()
    assert mirror.agent_replied_at is not None
    before = len(await decisions(zd))
    await zd.comment(ticket_id, WISMO)
    assert len(zd.bot_comments(ticket_id)) == len(sent)
    assert all(d.action != "reply" for d in (await decisions(zd))[before:])


@pytest.mark.parametrize(
    ("agent_locale", "expected"),
    [
        ("en-US", "en"),
        ("en", "en"),
        ("ja", "ja"),
        (None, "ja"),
        ("xx-evil", "ja"),
        ("<b>en</b>", "ja"),
        (7, "ja"),
    ],
)
async def test_the_card_speaks_the_agents_language_which_chooses_nothing_else(
    zendesk_desk: ZendeskDesk, agent_locale: object, expected: str
) -> None:
    """The agent's locale from Zendesk's app framework (unsigned): the card's language when it is one we
    speak, the shop's (Japanese) otherwise; the same customer either way."""
    await zendesk_desk.seed_order(ALPHA)
    answer = await card_answer(zendesk_desk, "hanako@example.jp", locale=agent_locale)
    assert answer.headers["content-language"] == expected
    assert "#1001" in answer.text
    heading = {"en": "Orders", "ja": "注文"}[expected]
    assert f"<h2>{heading}</h2>" in answer.text


async def test_the_sidebar_page_opens_in_the_agents_browser_language_with_both_catalogues(
    zendesk_desk: ZendeskDesk,
) -> None:
    zd = zendesk_desk
    zd.accounts[ALPHA].clock = time.time
    answer = await zd.client.post(
        sidebar_path(zd, ALPHA) + "&origin=" + zd.accounts[ALPHA].config.base_url + "&app_guid=g1",
        data={"token": app_token(zd.accounts[ALPHA])},
        headers={"accept-language": "en-US,en;q=0.8"},
    )
    assert answer.status_code == 200
    assert '<html lang="en">' in answer.text
    # the script switches to the agent's Zendesk locale once the app framework says it: both are there
    assert "&#34;ja&#34;:" in answer.text and "&#34;en&#34;:" in answer.text


async def test_the_card_events_need_a_card_token(zendesk_desk: ZendeskDesk) -> None:
    zd = zendesk_desk
    for headers in ({}, {"Authorization": "Card nope"}, {"Authorization": "Bearer x"}):
        answer = await zd.client.post("/connectors/card/events", headers=headers)
        assert answer.status_code == 401

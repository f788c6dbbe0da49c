# ruff: noqa: F811 - tests take the imported `desk` fixture by name
"""The storefront chat widget's endpoints behind Shopify's app proxy: signatures first, then a session token
bound to its shop and signed customer, then a conversation the bot answers."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from devstore.app_proxy import signed_proxy_query
from integrations.shopify.app_proxy import sign_app_proxy_query, verify_app_proxy_query
from shop_app.answers.verification import MAX_FAILED_ATTEMPTS_PER_SOURCE
from shop_app.channels.widget import SlidingWindowLimiter
from shop_app.database import transaction
from shop_app.models import AuthorType, BotDecision, Contact, Customer, Message, Order, Ticket, WidgetSession
from shop_app.routes.widget import POLLS_PER_SESSION_PER_MINUTE
from shop_app.settings import Secret, Settings
from tests.factories import session_token
from tests.helpdesk.conftest import ALPHA, BETA, Desk, desk  # noqa: F401 - registers the fixture

pytestmark = pytest.mark.anyio

PROXY = "/proxy/support"
PREVIOUS_SECRET = "the-secret-before-rotation"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A secret rotation under way in every test here: the previous secret still signs."""
    return replace(settings, previous_api_secret=Secret(PREVIOUS_SECRET))


def signed(
    settings: Settings,
    shop: str = ALPHA,
    *,
    customer_id: int | None = None,
    secret: str | None = None,
    timestamp: float | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    params = {
        # the widget's own random `n`: Shopify signs per second, and each signature is answered once
        "n": secrets.token_hex(12),
        **(extra or {}),
        "shop": shop,
        "logged_in_customer_id": str(customer_id) if customer_id else "",
        "path_prefix": "/apps/support",
        "timestamp": str(int(timestamp if timestamp is not None else time.time())),
    }
    params["signature"] = sign_app_proxy_query(params, secret or settings.api_secret.reveal())
    return urlencode(params)


async def start(
    client: httpx.AsyncClient, query: str, message: str = "こんにちは", **fields: Any
) -> httpx.Response:
    return await client.post(f"{PROXY}/conversations?{query}", json={"message": message, **fields})


async def test_widget_requests_without_or_with_a_bad_signature_are_refused(desk: Desk) -> None:
    settings = desk.services.settings
    good = signed(settings)
    tampered = good.replace("shop=alpha", "shop=beta")
    wrong_key = signed(settings, secret="not-the-app-secret")
    for query in ("", "shop=alpha.myshopify.com&timestamp=1", tampered, wrong_key):
        answer = await start(desk.client, query)
        assert answer.status_code == 401, query
        assert answer.json()["error"]["code"] == "invalid_proxy_signature"
        poll = await desk.client.get(f"{PROXY}/messages?{query}")
        assert poll.status_code == 401
    async with desk.services.sessions() as session:
        assert (await session.execute(select(Ticket))).first() is None


async def test_a_stale_or_future_signed_query_is_refused(desk: Desk) -> None:
    settings = desk.services.settings
    for moment in (time.time() - 3600, time.time() + 3600):
        answer = await desk.client.get(f"{PROXY}/hello?{signed(settings, timestamp=moment)}")
        assert answer.status_code == 401
    fresh = await desk.client.get(f"{PROXY}/hello?{signed(settings)}")
    assert fresh.status_code == 200
    assert fresh.json() == {"signed_in": False}


async def test_the_previous_secret_still_signs_during_a_rotation(desk: Desk) -> None:
    settings = desk.services.settings
    answer = await desk.client.get(
        f"{PROXY}/hello?{signed(settings, customer_id=42, secret=PREVIOUS_SECRET)}"
    )
    assert answer.status_code == 200
    assert answer.json() == {"signed_in": True}


async def test_a_session_token_is_refused_by_another_shop_and_another_customer(desk: Desk) -> None:
    settings = desk.services.settings
    begun = await start(desk.client, signed(settings, customer_id=7001), "Hello there")
    assert begun.status_code == 201, begun.text
    token = begun.json()["session"]
    assert token.startswith("wgt_")
    headers = {"X-Widget-Session": token}

    same = await desk.client.get(f"{PROXY}/messages?{signed(settings, customer_id=7001)}", headers=headers)
    beta = await desk.client.get(
        f"{PROXY}/messages?{signed(settings, BETA, customer_id=7001)}", headers=headers
    )
    other_customer = await desk.client.get(
        f"{PROXY}/messages?{signed(settings, customer_id=7002)}", headers=headers
    )
    visitor = await desk.client.get(f"{PROXY}/messages?{signed(settings)}", headers=headers)
    missing = await desk.client.get(f"{PROXY}/messages?{signed(settings, customer_id=7001)}")

    assert same.status_code == 200
    for refused in (beta, other_customer, visitor, missing):
        assert refused.status_code == 401
    assert beta.json()["error"]["code"] == "invalid_widget_session"
    async with desk.services.sessions() as session:
        stored = (await session.execute(select(WidgetSession))).scalar_one()
    assert stored.token_digest != token and token not in stored.token_digest


async def test_an_expired_session_token_is_refused(desk: Desk) -> None:
    settings = desk.services.settings
    begun = await start(desk.client, signed(settings), "Hello", name="Visitor")
    token = begun.json()["session"]
    async with transaction(desk.services.sessions) as session:
        row = (await session.execute(select(WidgetSession))).scalar_one()
        row.expires_at = row.created_at
    answer = await desk.client.get(
        f"{PROXY}/messages?{signed(settings)}", headers={"X-Widget-Session": token}
    )
    assert answer.status_code == 401


async def test_a_conversation_round_trip_stores_the_customer_and_bot_messages(desk: Desk) -> None:
    # given a visitor who starts a chat
    settings = desk.services.settings
    begun = await start(
        desk.client, signed(settings), "Can I talk to a person please?", name="Mia", email="MIA@example.com"
    )
    assert begun.status_code == 201, begun.text
    token = begun.json()["session"]
    first = begun.json()["messages"]
    assert first[0]["author"] == "customer"
    assert first[0]["body"] == "Can I talk to a person please?"
    assert any(m["author"] == "bot" for m in first[1:]), first

    # when an agent replies in the console and the shopper polls, then writes again
    ticket_id = await _only_ticket_id(desk)
    headers = await desk.sign_in("agent@alpha.test")
    reply = await desk.client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"body": "Hi Mia, Akira here."}, headers=headers
    )
    assert reply.status_code == 201, reply.text
    note = await desk.client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"body": "internal: check her order", "kind": "note"},
        headers=headers,
    )
    assert note.status_code == 201, note.text
    last_id = max(m["id"] for m in first)
    polled = await desk.client.get(
        f"{PROXY}/messages?{signed(settings, extra={'after': str(last_id)})}",
        headers={"X-Widget-Session": token},
    )
    sent = await desk.client.post(
        f"{PROXY}/messages?{signed(settings, extra={'after': str(last_id)})}",
        json={"message": "<b>Thanks</b> & bye"},
        headers={"X-Widget-Session": token},
    )

    # then the shopper sees the agent (by first name) but never the note, and text stays text
    assert polled.status_code == 200
    authors = [(m["author"], m["author_name"], m["body"]) for m in polled.json()["messages"]]
    assert authors == [("agent", "Akira", "Hi Mia, Akira here.")]
    assert sent.status_code == 201
    assert "<b>" not in sent.text and "\\u003cb\\u003e" in sent.text
    assert ("customer", "<b>Thanks</b> & bye") in [(m["author"], m["body"]) for m in sent.json()["messages"]]
    async with desk.services.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        stored = (await session.execute(select(Message).where(col(Message.ticket_id) == ticket_id))).scalars()
        bodies = [(row.author_type, row.body) for row in stored]
    audit = await desk.client.get(f"/api/v1/tickets/{ticket_id}/decisions", headers=headers)
    assert audit.status_code == 200, audit.text
    first_bot = next(m for m in first if m["author"] == "bot")
    assert audit.json()["decisions"][0]["reply_message_id"] == first_bot["id"]
    assert audit.json()["decisions"][0]["intent"] == "human"
    assert ticket.channel == "web_chat"
    assert (AuthorType.CUSTOMER, "<b>Thanks</b> & bye") in bodies
    assert sum(1 for author, _ in bodies if author == AuthorType.BOT) >= 1


async def test_oversized_messages_and_bursts_are_refused(desk: Desk) -> None:
    settings = desk.services.settings
    too_long = await start(desk.client, signed(settings), "x" * 2_001)
    assert too_long.status_code == 400
    empty = await start(desk.client, signed(settings), "   ")
    assert empty.status_code == 400
    huge = await desk.client.post(
        f"{PROXY}/conversations?{signed(settings)}", content=b"{" + b" " * 9_000 + b"}"
    )
    assert huge.status_code == 400


async def test_a_burst_of_polls_is_refused_with_how_long_to_wait(desk: Desk) -> None:
    settings = desk.services.settings
    begun = await start(desk.client, signed(settings), "hello")
    assert begun.status_code == 201, begun.text
    headers = {"X-Widget-Session": begun.json()["session"]}
    statuses = [
        (await desk.client.get(f"{PROXY}/messages?{signed(settings)}", headers=headers)).status_code
        for _ in range(POLLS_PER_SESSION_PER_MINUTE)
    ]
    refused = await desk.client.get(f"{PROXY}/messages?{signed(settings)}", headers=headers)

    assert set(statuses) == {200}
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_sliding_window_allows_the_limit_then_refuses_until_the_window_passes() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(limit=3, window_seconds=60, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    now[0] = 20.0
    assert limiter.wait_seconds("a") == 40
    assert limiter.allow("b")
    assert limiter.wait_seconds("b") == 1
    now[0] = 61.0
    assert limiter.allow("a")


async def _only_ticket_id(desk: Desk) -> int:
    async with desk.services.sessions() as session:
        ids = (await session.execute(select(col(Ticket.id)))).scalars().all()
    assert len(ids) == 1
    assert ids[0] is not None
    return ids[0]


def test_the_stores_proxy_signature_is_one_the_app_accepts_and_drops_a_spoofed_customer() -> None:
    storefront_query = [("after", "3"), ("logged_in_customer_id", "999"), ("signature", "forged")]
    forwarded = signed_proxy_query(
        storefront_query,
        shop=ALPHA,
        customer_id=None,
        path_prefix="/apps/support",
        now=1_700_000_000,
        secret="shared-secret",
    )
    verdict = verify_app_proxy_query(forwarded, secrets=["shared-secret"], now=1_700_000_010)
    assert verdict.identity is not None
    assert verdict.identity.logged_in_customer_id is None
    assert ("after", "3") in forwarded
    assert [value for key, value in forwarded if key == "signature"] != ["forged"]
    assert not verify_app_proxy_query(forwarded, secrets=["another-secret"], now=1_700_000_010).ok


async def _seed_customer_with_order(
    desk: Desk, shop: str = ALPHA, *, first_name: str = "Hanako", last_name: str = "Yamada"
) -> None:
    now = datetime.now(UTC)
    async with transaction(desk.services.sessions) as session:
        session.add(
            Customer(
                shop_id=desk.shop_ids[shop],
                shopify_id=7001,
                first_name=first_name,
                last_name=last_name,
                email="hanako@example.jp",
                updated_at=now,
                created_at=now,
            )
        )
        session.add(
            Order(
                shop_id=desk.shop_ids[shop],
                shopify_id=8001,
                name="#1001",
                customer_shopify_id=7001,
                email="hanako@example.jp",
                created_at=now - timedelta(days=2),
                updated_at=now,
                financial_status="PAID",
                fulfillment_status="UNFULFILLED",
                currency="JPY",
                total_price="3200.00",
                subtotal_price="3200.00",
            )
        )


async def test_a_visitor_typing_a_signed_customers_email_is_not_taken_for_that_customer(desk: Desk) -> None:
    # given: Hanako chatted while signed in, so her contact carries the storefront customer id
    settings = desk.services.settings
    await _seed_customer_with_order(desk)
    signed_in = await start(desk.client, signed(settings, customer_id=7001), "Where is my order #1001?")
    assert signed_in.status_code == 201, signed_in.text
    # when: a visitor types her email and asks about the same order
    visitor = await start(
        desk.client, signed(settings), "Where is my order #1001?", name="Someone", email="HANAKO@example.jp"
    )
    assert visitor.status_code == 201, visitor.text
    # then: the signed-in chat was answered from the storefront signature, the visitor's was not
    async with desk.services.sessions() as session:
        rows = (await session.execute(select(BotDecision).order_by(col(BotDecision.id)))).scalars().all()
        contacts = (await session.execute(select(Contact).order_by(col(Contact.id)))).scalars().all()
    assert [row.verification for row in rows] == ["storefront", "needed"]
    assert rows[1].order_name is None or rows[1].action == "ask"
    assert [(c.name, c.storefront_customer_id) for c in contacts] == [
        ("Hanako Yamada", 7001),
        ("Someone", None),
    ]
    bot_replies = [m["body"] for m in visitor.json()["messages"] if m["author"] == "bot"]
    assert bot_replies and all("発送" not in body and "not shipped" not in body for body in bot_replies)


async def test_a_signed_in_japanese_shoppers_name_is_family_name_first(desk: Desk) -> None:
    await _seed_customer_with_order(desk, first_name="恵", last_name="井上")

    started = await start(
        desk.client, signed(desk.services.settings, customer_id=7001), "注文#1001はいつ届きますか？"
    )

    assert started.status_code == 201, started.text
    async with desk.services.sessions() as session:
        names = (await session.execute(select(col(Contact.name)))).scalars().all()
    assert names == ["井上 恵"]


async def test_the_reply_editor_page_and_its_order_picker_see_only_the_merchants_shop(desk: Desk) -> None:
    await _seed_customer_with_order(desk, ALPHA)
    async with transaction(desk.services.sessions) as session:
        now = datetime.now(UTC)
        session.add(
            Order(shop_id=desk.shop_ids[BETA], shopify_id=9001, name="#B1001", created_at=now, updated_at=now)
        )
    token = session_token(BETA)
    page = await desk.client.get(f"/app/replies?shop={BETA}&id_token={token}")
    assert page.status_code == 200
    assert 'data-role="template-body"' in page.text
    assert f"frame-ancestors https://{BETA}" in page.headers["content-security-policy"]
    beta = await desk.client.get("/api/admin/orders?q=1001", headers={"Authorization": f"Bearer {token}"})
    alpha = await desk.client.get(
        "/api/admin/orders", headers={"Authorization": f"Bearer {session_token(ALPHA)}"}
    )
    unsigned = await desk.client.get("/api/admin/orders")
    assert [o["name"] for o in beta.json()["orders"]] == ["#B1001"]
    assert [(o["id"], o["name"]) for o in alpha.json()["orders"]] == [(8001, "#1001")]
    assert unsigned.status_code == 401


def _forwarded_for(address: str, *, claimed: str | None) -> dict[str, str]:
    """What Shopify's app proxy sends: the shopper's own claim (if their request made one), then the address
    it was connected from."""
    return {"X-Forwarded-For": f"{claimed}, {address}" if claimed else address}


@pytest.mark.parametrize("claims_new_addresses", [False, True])
async def test_new_conversations_from_one_address_do_not_buy_new_guesses(
    desk: Desk, claims_new_addresses: bool
) -> None:
    # given a shopper's order, and someone at one address guessing its email over ten conversations (the
    # bot hands a conversation to a person after two failed proofs, so each gives two guesses), perhaps
    # sending a made-up X-Forwarded-For of their own each time
    settings = desk.services.settings
    await _seed_customer_with_order(desk)
    for conversation in range(10):
        claimed = f"192.0.2.{conversation}" if claims_new_addresses else None
        guesser = _forwarded_for("203.0.113.9", claimed=claimed)
        begun = await desk.client.post(
            f"{PROXY}/conversations?{signed(settings)}",
            json={"message": f"Where is order #1001? my email is guess{conversation}a@example.com"},
            headers=guesser,
        )
        assert begun.status_code == 201, begun.text
        for attempt in range(1, 2):
            sent = await desk.client.post(
                f"{PROXY}/messages?{signed(settings)}",
                json={
                    "message": f"Where is order #1001? my email is guess{conversation}{attempt}@example.com"
                },
                headers={**guesser, "X-Widget-Session": begun.json()["session"]},
            )
            assert sent.status_code in (200, 201), sent.text

    # when the right email comes from that address in a new conversation, and from another address
    for address in ("203.0.113.9", "198.51.100.7"):
        begun = await desk.client.post(
            f"{PROXY}/conversations?{signed(settings)}",
            json={"message": "Where is order #1001? my email is hanako@example.jp"},
            headers=_forwarded_for(address, claimed="192.0.2.200" if claims_new_addresses else None),
        )
        assert begun.status_code == 201, begun.text

    # then the guessing address is cut off (20 failures) and the other is answered
    async with desk.services.sessions() as session:
        rows = (await session.execute(select(BotDecision).order_by(col(BotDecision.id)))).scalars().all()
    assert [row.verification for row in rows[-2:]] == ["limited", "order_details"]
    assert sum(row.verification == "failed" for row in rows) <= MAX_FAILED_ATTEMPTS_PER_SOURCE

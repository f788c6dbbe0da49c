"""The bot over the API: ask for the decision on a ticket's customer message and post it, read the audit,
manage templates (a bad one is a 400 with its error) and settings (admins), preview against a real order;
another shop's tickets and orders are 404; a customer message posted through the API is not answered by
itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shop_app.answers import forget_shop_cache
from shop_app.database import transaction
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.models import Fulfillment, Order, Shop
from tests.helpdesk.conftest import ALPHA, BETA, Desk, desk

__all__ = ["desk"]

CREATED = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


async def add_order(desk: Desk, domain: str, number: int, shopify_id: int) -> None:
    async with transaction(desk.services.sessions) as session:
        order = Order(
            shop_id=desk.shop_ids[domain],
            shopify_id=shopify_id,
            name=f"#{number}",
            email="hanako@example.jp",
            created_at=CREATED,
            updated_at=CREATED,
            shipping_address={"zip": "150-0001"},
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add(
            Fulfillment(
                shop_id=order.shop_id,
                shopify_id=shopify_id + 1,
                order_id=order.id,
                status="SUCCESS",
                display_status="IN_TRANSIT",
                created_at=CREATED,
                updated_at=CREATED,
                tracking=[{"number": "444413758703", "company": "Yamato"}],
            )
        )
    forget_shop_cache(desk.shop_ids[domain])


async def trusted_key(desk: Desk, domain: str) -> dict[str, str]:
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, desk.shop_ids[domain])
        _row, key = await create_api_key(session, shop=shop, name="trusted bot", trusted=True)
    return {"Authorization": f"Bearer {key}"}


async def answer(desk: Desk, ticket_id: int, headers: dict[str, str], **body: Any) -> Any:
    return await desk.client.post(f"/api/v1/tickets/{ticket_id}/answer", json=body, headers=headers)


@pytest.mark.anyio
async def test_answering_with_post_replies_in_the_ticket_and_is_audited(desk: Desk) -> None:
    await add_order(desk, ALPHA, 1001, 9001)
    ticket = await desk.open_ticket(message="Where is my order #1001? My email is hanako@example.jp")

    response = await answer(desk, ticket["id"], desk.key(ALPHA), post=True)
    messages = (
        await desk.client.get(f"/api/v1/tickets/{ticket['id']}/messages", headers=desk.key(ALPHA))
    ).json()
    audit = (
        await desk.client.get(f"/api/v1/tickets/{ticket['id']}/decisions", headers=desk.key(ALPHA))
    ).json()

    assert response.status_code == 200, response.text
    decision = response.json()["decision"]
    assert decision["action"] == "reply"
    assert decision["intent"] == "order_status"
    assert decision["verification"] == "order_details"
    assert decision["order_id"] == 9001
    assert decision["order_name"] == "#1001"
    assert "444413758703" in decision["reply"]
    assert response.json()["message"]["body"] == decision["reply"]
    assert [m["author_type"] for m in messages["messages"]] == ["customer", "bot"]
    assert audit["decisions"] == [decision]


@pytest.mark.anyio
async def test_without_post_nothing_is_posted_and_an_untrusted_key_must_verify(desk: Desk) -> None:
    await add_order(desk, ALPHA, 1001, 9001)
    ticket = await desk.open_ticket(message="Where is my order #1001?")

    plain = await answer(desk, ticket["id"], desk.key(ALPHA))
    trusted = await answer(desk, ticket["id"], await trusted_key(desk, ALPHA))
    messages = (
        await desk.client.get(f"/api/v1/tickets/{ticket['id']}/messages", headers=desk.key(ALPHA))
    ).json()

    assert plain.json()["decision"]["action"] == "ask"
    assert plain.json()["decision"]["verification"] == "needed"
    assert plain.json()["message"] is None
    assert trusted.json()["decision"]["action"] == "reply"
    assert trusted.json()["decision"]["verification"] == "trusted_caller"
    assert len(messages["messages"]) == 1


@pytest.mark.anyio
async def test_another_shops_ticket_or_message_is_not_found(desk: Desk) -> None:
    theirs = await desk.open_ticket(BETA, message="Where is my order #1001?")
    ours = await desk.open_ticket(message="Where is my order #1001?")

    answered = await answer(desk, theirs["id"], desk.key(ALPHA), post=True)
    audit = await desk.client.get(f"/api/v1/tickets/{theirs['id']}/decisions", headers=desk.key(ALPHA))
    their_message = (
        await desk.client.get(f"/api/v1/tickets/{theirs['id']}/messages", headers=desk.key(BETA))
    ).json()["messages"][0]["id"]
    borrowed = await answer(desk, ours["id"], desk.key(ALPHA), message_id=their_message)

    assert answered.status_code == 404
    assert audit.status_code == 404
    assert borrowed.status_code == 404
    assert borrowed.json()["error"]["code"] == "message_not_found"


@pytest.mark.anyio
async def test_a_customer_message_posted_through_the_api_is_not_answered_by_itself(desk: Desk) -> None:
    await add_order(desk, ALPHA, 1001, 9001)
    ticket = await desk.open_ticket(message="hello")

    posted = await desk.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"body": "Where is my order #1001?", "author_type": "customer"},
        headers=desk.key(ALPHA),
    )
    messages = (
        await desk.client.get(f"/api/v1/tickets/{ticket['id']}/messages", headers=desk.key(ALPHA))
    ).json()
    audit = (
        await desk.client.get(f"/api/v1/tickets/{ticket['id']}/decisions", headers=desk.key(ALPHA))
    ).json()

    assert posted.status_code == 201
    assert [m["author_type"] for m in messages["messages"]] == ["customer", "customer"]
    assert audit["decisions"] == []


@pytest.mark.anyio
async def test_templates_are_listed_refused_with_the_error_saved_by_admins_and_previewed(desk: Desk) -> None:
    await add_order(desk, ALPHA, 1001, 9001)
    await add_order(desk, BETA, 1002, 9101)
    csrf = await desk.sign_in("admin@alpha.test")

    listed = (await desk.client.get("/api/v1/reply-templates", headers=desk.key(ALPHA))).json()["templates"]
    bad = await desk.client.put(
        "/api/v1/reply-templates/order_in_transit/ja",
        json={"body": "{{ order_name }} {{ nope }}"},
        headers=csrf,
    )
    by_key = await desk.client.put(
        "/api/v1/reply-templates/order_in_transit/ja",
        json={"body": "{{ order_name }}"},
        headers=desk.key(ALPHA),
    )
    good = await desk.client.put(
        "/api/v1/reply-templates/order_in_transit/ja",
        json={"body": "{{ order_name }}は配送中です。"},
        headers=csrf,
    )
    preview = await desk.client.post(
        "/api/v1/reply-templates/preview",
        json={
            "key": "order_in_transit",
            "language": "ja",
            "body": "{{ order_name }}：{{ tracking_text }}",
            "order_id": 9001,
        },
        headers=desk.key(ALPHA),
    )
    other_shops_order = await desk.client.post(
        "/api/v1/reply-templates/preview",
        json={"key": "order_in_transit", "language": "ja", "body": "{{ order_name }}", "order_id": 9101},
        headers=desk.key(ALPHA),
    )
    relisted = (await desk.client.get("/api/v1/reply-templates", headers=desk.key(ALPHA))).json()["templates"]
    theirs = (await desk.client.get("/api/v1/reply-templates", headers=desk.key(BETA))).json()["templates"]

    assert {(t["key"], t["language"]) for t in listed} >= {("order_in_transit", "ja"), ("stock_low", "en")}
    assert not any(t["customised"] for t in listed)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_template"
    assert "'nope' is undefined" in bad.json()["error"]["message"]
    assert by_key.status_code == 403
    assert good.status_code == 200, good.text
    assert preview.status_code == 200, preview.text
    assert preview.json()["text"].startswith("#1001：ヤマト運輸 追跡番号: 444413758703")
    assert other_shops_order.status_code == 404
    mine = next(t for t in relisted if (t["key"], t["language"]) == ("order_in_transit", "ja"))
    assert mine["customised"] is True
    assert mine["body"] == "{{ order_name }}は配送中です。"
    assert not any(t["customised"] for t in theirs)


@pytest.mark.anyio
async def test_settings_are_read_by_callers_and_changed_by_admins(desk: Desk) -> None:
    csrf = await desk.sign_in("admin@alpha.test")

    before = (await desk.client.get("/api/v1/answer-settings", headers=desk.key(ALPHA))).json()
    by_key = await desk.client.put(
        "/api/v1/answer-settings", json={"exact_stock_counts": True}, headers=desk.key(ALPHA)
    )
    unknown = await desk.client.put(
        "/api/v1/answer-settings", json={"auto_reply": {"cancel": True}}, headers=csrf
    )
    changed = await desk.client.put(
        "/api/v1/answer-settings",
        json={"auto_reply": {"stock": False}, "exact_stock_counts": True},
        headers=csrf,
    )
    beta = (await desk.client.get("/api/v1/answer-settings", headers=desk.key(BETA))).json()

    assert before == {
        "auto_reply": {"order_status": True, "policy": True, "stock": True},
        "exact_stock_counts": False,
    }
    assert by_key.status_code == 403
    assert unknown.status_code == 400
    assert changed.json() == {
        "auto_reply": {"order_status": True, "policy": True, "stock": False},
        "exact_stock_counts": True,
    }
    assert beta == before

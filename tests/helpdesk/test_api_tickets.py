"""Tickets and messages through the API: the life of a conversation, the list, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from shop_app.database import transaction
from shop_app.models import Customer, Message, Order, Shop, Ticket
from tests.helpdesk.conftest import ALPHA, BETA, Desk

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


async def _counts(desk: Desk) -> tuple[int, int]:
    async with desk.services.sessions() as session:
        tickets = (await session.execute(select(func.count()).select_from(Ticket))).scalar_one()
        messages = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    return tickets, messages


async def _customer_with_order(
    desk: Desk, shop: str, *, shopify_id: int, email: str, order_name: str
) -> None:
    async with transaction(desk.services.sessions) as session:
        session.add(
            Customer(
                shop_id=desk.shop_ids[shop],
                shopify_id=shopify_id,
                email=email,
                first_name="Taro",
                last_name="Yamada",
                updated_at=NOW,
            )
        )
        session.add(
            Order(
                shop_id=desk.shop_ids[shop],
                shopify_id=shopify_id * 10,
                name=order_name,
                email=email,
                customer_shopify_id=shopify_id,
                created_at=NOW,
                updated_at=NOW,
            )
        )


async def test_a_conversation_from_first_message_to_resolution(desk: Desk) -> None:
    # given a ticket opened by a bot on the customer's behalf
    ticket = await desk.open_ticket(subject="Parcel", message="Where is my parcel?")
    assert ticket["status"] == "open" and ticket["message_count"] == 1
    assert ticket["contact"]["email"] == "hanako@example.com"
    csrf = await desk.sign_in("agent@alpha.test")
    url = f"/api/v1/tickets/{ticket['id']}"

    # when the agent notes, replies, takes it and resolves it
    note = await desk.client.post(
        url + "/messages", json={"body": "Check the carrier", "kind": "note"}, headers=csrf
    )
    after_note = (await desk.client.get(url)).json()
    reply = await desk.client.post(
        url + "/messages", json={"body": "It ships today", "kind": "reply"}, headers=csrf
    )
    me = desk.agent_ids["agent@alpha.test"]
    taken = await desk.client.patch(
        url, json={"assignee_id": me, "status": "pending", "tags": ["wismo", "wismo"]}, headers=csrf
    )
    resolved = await desk.client.patch(url, json={"status": "resolved"}, headers=csrf)

    # then the record keeps each step
    assert note.status_code == reply.status_code == 201
    assert note.json()["author_type"] == "note" and reply.json()["author_type"] == "agent"
    assert reply.json()["author"] == {"id": me, "name": "Akira Agent"}
    assert after_note["first_response_at"] is None  # a note is not a response
    assert taken.json()["assignee"]["id"] == me and taken.json()["tags"] == ["wismo"]
    final = resolved.json()
    assert final["status"] == "resolved" and final["resolved_at"] is not None
    assert final["first_response_at"] is not None
    messages = (await desk.client.get(url + "/messages")).json()["messages"]
    assert [m["author_type"] for m in messages] == ["customer", "note", "agent"]
    assert final["last_message_preview"] == "It ships today"

    # and the customer writing again reopens it
    again = await desk.client.post(
        url + "/messages", json={"body": "Thanks!", "author_type": "customer"}, headers=desk.key(ALPHA)
    )
    assert again.status_code == 201
    reopened = (await desk.client.get(url, headers=desk.key(ALPHA))).json()
    assert reopened["status"] == "open" and reopened["resolved_at"] is None


async def test_messages_after_an_id_are_only_the_new_ones(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    url = f"/api/v1/tickets/{ticket['id']}/messages"
    first = (await desk.client.get(url, headers=desk.key(ALPHA))).json()["messages"]
    await desk.client.post(url, json={"body": "Bot here", "author_type": "bot"}, headers=desk.key(ALPHA))
    newer = (await desk.client.get(url, params={"after_id": first[-1]["id"]}, headers=desk.key(ALPHA))).json()
    assert [m["body"] for m in newer["messages"]] == ["Bot here"]


async def test_the_list_filters_by_status_and_view_and_pages_with_a_cursor(desk: Desk) -> None:
    ids = [(await desk.open_ticket(message=f"question {n}"))["id"] for n in range(7)]
    csrf = await desk.sign_in("agent@alpha.test")
    me = desk.agent_ids["agent@alpha.test"]
    await desk.client.patch(f"/api/v1/tickets/{ids[0]}", json={"assignee_id": me}, headers=csrf)
    await desk.client.patch(f"/api/v1/tickets/{ids[1]}", json={"status": "resolved"}, headers=csrf)
    await desk.open_ticket(BETA)

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": "open", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await desk.client.get("/api/v1/tickets", params=params)).json()
        seen += [t["id"] for t in page["tickets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(ids) - {ids[1]}, reverse=True)
    mine = (await desk.client.get("/api/v1/tickets", params={"view": "mine"})).json()["tickets"]
    unassigned = (await desk.client.get("/api/v1/tickets", params={"view": "unassigned"})).json()["tickets"]
    resolved = (await desk.client.get("/api/v1/tickets", params={"status": "resolved"})).json()["tickets"]
    assert [t["id"] for t in mine] == [ids[0]]
    assert ids[0] not in {t["id"] for t in unassigned} and len(unassigned) == 6
    assert [t["id"] for t in resolved] == [ids[1]]


async def test_search_finds_tickets_by_order_name_email_and_phone(desk: Desk) -> None:
    await _customer_with_order(desk, ALPHA, shopify_id=501, email="taro@example.com", order_name="#1001")
    await _customer_with_order(desk, BETA, shopify_id=502, email="taro@example.com", order_name="#1001")
    by_mail = await desk.open_ticket(contact={"name": "Taro", "email": "Taro@Example.com"})
    by_phone = await desk.open_ticket(contact={"name": "Jiro", "phone": "+81 90 1234 5678"})
    await desk.open_ticket(contact={"name": "Other", "email": "other@example.com"})
    await desk.open_ticket(BETA, contact={"email": "taro@example.com"})

    async def search(q: str) -> list[int]:
        answer = await desk.client.get("/api/v1/tickets", params={"q": q}, headers=desk.key(ALPHA))
        assert answer.status_code == 200, answer.text
        return [t["id"] for t in answer.json()["tickets"]]

    assert await search("#1001") == [by_mail["id"]]
    assert await search("1001") == [by_mail["id"]]
    assert await search("TARO@example.com") == [by_mail["id"]]
    assert await search("+819012345678") == [by_phone["id"]]
    assert await search("#9999") == []


async def test_another_shops_ticket_is_not_found_for_every_verb(desk: Desk) -> None:
    beta_ticket = await desk.open_ticket(BETA)
    before = await _counts(desk)
    url = f"/api/v1/tickets/{beta_ticket['id']}"
    alpha = desk.key(ALPHA)
    answers = [
        await desk.client.get(url, headers=alpha),
        await desk.client.patch(url, json={"status": "resolved"}, headers=alpha),
        await desk.client.get(url + "/messages", headers=alpha),
        await desk.client.post(url + "/messages", json={"body": "x", "author_type": "bot"}, headers=alpha),
        await desk.client.delete(url + "/link", headers=alpha),
        await desk.client.get(url + "/profile", headers=alpha),
        await desk.client.get(f"/api/v1/contacts/{beta_ticket['contact']['id']}", headers=alpha),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert await _counts(desk) == before
    async with desk.services.sessions() as session:
        assert (await session.get_one(Ticket, beta_ticket["id"])).status == "open"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"body": "", "author_type": "bot"}, "invalid_request"),
        ({"body": "   \n ", "author_type": "bot"}, "invalid_request"),
        ({"body": "x" * 10_001, "author_type": "bot"}, "invalid_request"),
        ({"body": "nul \x00 byte", "author_type": "bot"}, "invalid_request"),
        ({"body": "hi", "author_type": "admin"}, "invalid_request"),
        ({"body": "hi", "author_type": "bot", "extra": 1}, "invalid_request"),
        ({"body": 12}, "invalid_request"),
    ],
)
async def test_bad_messages_get_a_clear_error_and_change_nothing(
    desk: Desk, body: dict[str, Any], code: str
) -> None:
    ticket = await desk.open_ticket()
    before = await _counts(desk)
    answer = await desk.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json=body, headers=desk.key(ALPHA)
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]
    assert await _counts(desk) == before


@pytest.mark.parametrize("raw_id", ["abc", "0", "-1", "1.5", "99999999999999999999", "１２", "1e3"])
async def test_malformed_ids_are_refused_before_the_database(desk: Desk, raw_id: str) -> None:
    answer = await desk.client.get(f"/api/v1/tickets/{raw_id}", headers=desk.key(ALPHA))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_id"


async def test_bad_bodies_and_queries_are_refused(desk: Desk) -> None:
    key = desk.key(ALPHA)
    not_json = await desk.client.post(
        "/api/v1/tickets", content=b"{oops", headers={**key, "Content-Type": "application/json"}
    )
    wrong_type = await desk.client.post(
        "/api/v1/tickets",
        content=b"a=b",
        headers={**key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    huge = await desk.client.post(
        "/api/v1/tickets", json={"contact": {}, "message": "x" * 70_000}, headers=key
    )
    bad_email = await desk.client.post(
        "/api/v1/tickets", json={"contact": {"email": "not an email"}, "message": "hi"}, headers=key
    )
    bad_status = await desk.client.get("/api/v1/tickets", params={"status": "closed"}, headers=key)
    bad_cursor = await desk.client.get("/api/v1/tickets", params={"cursor": "garbage!"}, headers=key)
    bad_limit = await desk.client.get("/api/v1/tickets", params={"limit": "1000"}, headers=key)
    codes = [
        a.json()["error"]["code"]
        for a in (not_json, wrong_type, huge, bad_email, bad_status, bad_cursor, bad_limit)
    ]
    assert codes == [
        "invalid_request",
        "invalid_content_type",
        "body_too_large",
        "invalid_email",
        "invalid_query",
        "invalid_cursor",
        "invalid_query",
    ]
    assert await _counts(desk) == (0, 0)


async def test_assigning_an_agent_of_another_shop_is_refused(desk: Desk) -> None:
    ticket = await desk.open_ticket()
    csrf = await desk.sign_in("agent@alpha.test")
    answer = await desk.client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"assignee_id": desk.agent_ids["agent@beta.test"]},
        headers=csrf,
    )
    assert answer.status_code == 404
    async with desk.services.sessions() as session:
        assert (await session.get_one(Ticket, ticket["id"])).assignee_id is None


async def test_the_list_names_a_linked_customer_family_name_first_from_its_own_shop(desk: Desk) -> None:
    async with transaction(desk.services.sessions) as session:
        for shop, (first, last) in ((ALPHA, ("恵", "井上")), (BETA, ("Other", "Shop"))):
            session.add(
                Customer(
                    shop_id=desk.shop_ids[shop],
                    shopify_id=42,
                    email="megumi@example.jp",
                    first_name=first,
                    last_name=last,
                    updated_at=NOW,
                )
            )

    linked = await desk.open_ticket(contact={"email": "megumi@example.jp"}, message="Hello")
    unlinked = await desk.open_ticket(contact={"name": "Guest", "email": "guest@example.jp"}, message="Hi")
    listed = (await desk.client.get("/api/v1/tickets", headers=desk.key(ALPHA))).json()["tickets"]

    assert linked["customer_shopify_id"] == 42 and linked["customer_name"] == "井上 恵"
    assert unlinked["customer_name"] is None
    assert {t["id"]: t["customer_name"] for t in listed} == {linked["id"]: "井上 恵", unlinked["id"]: None}


async def test_a_ticket_opened_without_a_subject_gets_one_in_the_shops_language(desk: Desk) -> None:
    async with transaction(desk.services.sessions) as session:
        alpha = await session.get_one(Shop, desk.shop_ids[ALPHA])
        alpha.primary_locale = "ja"

    japanese = await desk.open_ticket(message="Where is my order #1004? It was due on Monday.")
    english = await desk.open_ticket(BETA, message="Where is my order #1004? It was due on Monday.")
    other = await desk.open_ticket(BETA, message="Is there a shop in Kyoto I can visit when I travel there?")
    given = await desk.open_ticket(subject="  Parcel  ", message="Where is my order #1004?")

    assert japanese["subject"] == "配送状況の確認 #1004"
    assert english["subject"] == "Order status #1004"
    assert other["subject"] == "Is there a shop in Kyoto I can visit…"
    assert given["subject"] == "Parcel"


async def test_html_in_text_is_stored_and_returned_as_plain_data(desk: Desk) -> None:
    script = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
    ticket = await desk.open_ticket(subject=script, message=script, contact={"name": script})
    messages = (
        await desk.client.get(f"/api/v1/tickets/{ticket['id']}/messages", headers=desk.key(ALPHA))
    ).json()
    assert messages["messages"][0]["body"] == script
    assert ticket["contact"]["name"] == script and ticket["subject"] == script


async def test_the_openapi_document_is_valid_and_names_every_route(desk: Desk) -> None:
    from openapi_spec_validator import validate

    from shop_app.routes.api import ENDPOINTS

    answer = await desk.client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    validate(document)
    for endpoint in ENDPOINTS:
        assert endpoint.method.lower() in document["paths"][endpoint.path]
    ticket_schema = document["components"]["schemas"]["TicketDetail"]
    assert {"link", "contact", "status"} <= set(ticket_schema["properties"])


async def test_phones_in_the_list_the_search_and_the_guest_link_read_as_the_shop_country_writes_them(
    desk: Desk,
) -> None:
    # given: a Japanese shop, a contact who gave a Japanese mobile, a customer with a US number
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, desk.shop_ids[ALPHA])
        shop.country_code = "JP"
        session.add(
            Customer(
                shop_id=shop.id,
                shopify_id=4242,
                first_name="恵",
                last_name="井上",
                phone="+12125551234",
                updated_at=NOW,
            )
        )
    ticket = await desk.open_ticket(contact={"phone": "090-1234-5678"}, message="注文はいつ届きますか")
    csrf = await desk.sign_in("agent@alpha.test")

    # when: the agent reads the list, searches customers and links the ticket to the guest phone
    listed = (await desk.client.get("/api/v1/tickets")).json()["tickets"]
    found = (await desk.client.get("/api/v1/customers", params={"q": "井上"})).json()["customers"]
    async with transaction(desk.services.sessions) as session:
        row = await session.get_one(Ticket, ticket["id"])
        row.guest_phone = "+819012345678"
    detail = (await desk.client.get(f"/api/v1/tickets/{ticket['id']}", headers=csrf)).json()

    # then: national for the shop's country, international for another, E.164 kept beside
    (mine,) = [t for t in listed if t["id"] == ticket["id"]]
    assert mine["contact"]["phone"] == "+819012345678"
    assert mine["contact"]["phone_display"] == "090-1234-5678"
    assert [(c["phone"], c["phone_display"]) for c in found] == [("+12125551234", "+1 212-555-1234")]
    assert detail["link"]["guest_phone_display"] == "090-1234-5678"

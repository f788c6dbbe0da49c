"""What agents expect of an inbox, through the API: the channel on every ticket and a filter by it, tags
written one way and a filter by them, a reply that assigns, saved replies filled in from the profile, the
desk settings, and each ticket's first-response target. Two shops in every test: the other's rows are
never seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from shop_app.database import transaction
from shop_app.models import Channel, Customer, Order
from tests.helpdesk.conftest import ALPHA, BETA, Desk

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


async def _list(desk: Desk, shop: str = ALPHA, **params: Any) -> list[dict[str, Any]]:
    answer = await desk.client.get("/api/v1/tickets", params=params, headers=desk.key(shop))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["tickets"])


async def test_every_ticket_shows_its_channel_and_the_list_filters_by_it(desk: Desk) -> None:
    by_api = await desk.open_ticket(message="by the API")
    by_chat = await desk.open_ticket(message="in the chat", channel="web_chat")
    await desk.open_ticket(BETA, message="beta's chat", channel="web_chat")

    chats = await _list(desk, channel="web_chat")
    apis = await _list(desk, channel="api")
    lines = await _list(desk, channel="line")
    wrong = await desk.client.get("/api/v1/tickets", params={"channel": "fax"}, headers=desk.key(ALPHA))

    assert by_api["channel"] == "api" and by_chat["channel"] == "web_chat"
    assert [t["id"] for t in chats] == [by_chat["id"]]
    assert [t["id"] for t in apis] == [by_api["id"]]
    assert lines == []
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_query"


async def test_tags_are_kept_one_way_and_the_list_filters_by_them(desk: Desk) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    first = await desk.open_ticket(message="one")
    second = await desk.open_ticket(message="two")
    beta = await desk.open_ticket(BETA, message="beta")

    tagged = await desk.client.patch(
        f"/api/v1/tickets/{first['id']}",
        json={"tags": [" VIP ", "ｖｉｐ", "Late  Parcel", "返品"]},
        headers=csrf,
    )
    await desk.client.patch(f"/api/v1/tickets/{second['id']}", json={"tags": ["late parcel"]}, headers=csrf)
    await desk.client.patch(f"/api/v1/tickets/{beta['id']}", json={"tags": ["vip"]}, headers=desk.key(BETA))

    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["tags"] == ["vip", "late parcel", "返品"]
    assert [t["id"] for t in await _list(desk, tag="VIP")] == [first["id"]]
    assert {t["id"] for t in await _list(desk, tag="late parcel")} == {first["id"], second["id"]}
    assert [t["id"] for t in await _list(desk, tag="返品", channel="api")] == [first["id"]]
    assert await _list(desk, tag="nobody") == []
    assert await _list(desk, tag="\u0001") == []  # no tag can be that: nothing, not an error
    tags = (await desk.client.get("/api/v1/tags", headers=desk.key(ALPHA))).json()["tags"]
    assert tags == [
        {"tag": "late parcel", "tickets": 2},
        {"tag": "vip", "tickets": 1},
        {"tag": "返品", "tickets": 1},
    ]

    # when a tag is removed it no longer finds the ticket
    await desk.client.patch(f"/api/v1/tickets/{first['id']}", json={"tags": ["返品"]}, headers=csrf)
    assert await _list(desk, tag="vip") == []
    assert [t["id"] for t in await _list(desk, BETA, tag="vip")] == [beta["id"]]


@pytest.mark.parametrize(
    ("tags", "status", "code"),
    [
        (["ok", "bad\u0007bell"], 422, "invalid_tag"),  # a control character
        (["\u200b"], 422, "invalid_tag"),  # only a zero-width space: nothing is left
        (["\ufdfa" * 3], 422, "invalid_tag"),  # 3 characters that NFKC writes as 54
        ([f"t{n}" for n in range(21)], 400, "invalid_request"),
        (["x" * 41], 400, "invalid_request"),
        (["   "], 400, "invalid_request"),
        ([7], 400, "invalid_request"),
    ],
)
async def test_tags_that_cannot_be_kept_are_refused_and_nothing_changes(
    desk: Desk, tags: list[Any], status: int, code: str
) -> None:
    ticket = await desk.open_ticket()
    url = f"/api/v1/tickets/{ticket['id']}"
    await desk.client.patch(url, json={"tags": ["kept"]}, headers=desk.key(ALPHA))

    answer = await desk.client.patch(url, json={"tags": tags}, headers=desk.key(ALPHA))

    assert answer.status_code == status and answer.json()["error"]["code"] == code
    assert (await desk.client.get(url, headers=desk.key(ALPHA))).json()["tags"] == ["kept"]
    assert [t["id"] for t in await _list(desk, tag="kept")] == [ticket["id"]]


async def test_a_reply_assigns_an_unassigned_ticket_to_its_agent_and_a_note_does_not(desk: Desk) -> None:
    csrf = await desk.sign_in("agent@alpha.test")
    me = desk.agent_ids["agent@alpha.test"]
    noted, replied, taken = [await desk.open_ticket(message=f"q{n}") for n in range(3)]
    admin = desk.agent_ids["admin@alpha.test"]
    await desk.client.patch(f"/api/v1/tickets/{taken['id']}", json={"assignee_id": admin}, headers=csrf)

    for ticket, kind in ((noted, "note"), (replied, "reply"), (taken, "reply")):
        answer = await desk.client.post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "On it", "kind": kind}, headers=csrf
        )
        assert answer.status_code == 201
    by_bot = await desk.open_ticket(message="bot")
    await desk.client.post(
        f"/api/v1/tickets/{by_bot['id']}/messages",
        json={"body": "Hi", "author_type": "bot"},
        headers=desk.key(ALPHA),
    )

    def assignee(ticket: dict[str, Any]) -> Any:
        return ticket["assignee"]["id"] if ticket["assignee"] else None

    got = {t["id"]: assignee(t) for t in await _list(desk)}
    assert got[noted["id"]] is None
    assert got[replied["id"]] == me
    assert got[taken["id"]] == admin  # someone's ticket stays theirs
    assert got[by_bot["id"]] is None
    assert [
        t["id"] for t in (await desk.client.get("/api/v1/tickets", params={"view": "mine"})).json()["tickets"]
    ] == [replied["id"]]


# ---- saved replies


async def _linked_japanese_ticket(desk: Desk) -> dict[str, Any]:
    async with transaction(desk.services.sessions) as session:
        shop_id = desk.shop_ids[ALPHA]
        session.add(
            Customer(
                shop_id=shop_id,
                shopify_id=501,
                email="hanako@example.com",
                first_name="花子",
                last_name="山田",
                updated_at=NOW,
            )
        )
        session.add(
            Order(
                shop_id=shop_id,
                shopify_id=5010,
                name="#1042",
                email="hanako@example.com",
                customer_shopify_id=501,
                fulfillment_status="FULFILLED",
                financial_status="PAID",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return await desk.open_ticket(contact={"name": "hanako", "email": "hanako@example.com"})


async def test_admins_write_saved_replies_and_agents_insert_them_filled_in(desk: Desk) -> None:
    # given an admin's saved replies in both languages
    admin = await desk.sign_in("admin@alpha.test")
    ja = await desk.client.post(
        "/api/v1/saved-replies",
        json={
            "locale": "ja",
            "title": "発送済み",
            "body": "{{ customer_name }}様\nご注文{{order_number}}は「{{ order_status }}」です。{{ shop_name }} {{ agent_name }}",
        },
        headers=admin,
    )
    en = await desk.client.post(
        "/api/v1/saved-replies",
        json={
            "locale": "en",
            "title": "Shipped",
            "body": "Hi {{ customer_name }}, order {{ order_number }} is {{ order_status }}. Tracking: {{ tracking_number }}",
        },
        headers=admin,
    )
    assert ja.status_code == en.status_code == 201, ja.text + en.text
    ticket = await _linked_japanese_ticket(desk)

    # when an agent has them filled in for the ticket
    agent = await desk.sign_in("agent@alpha.test")
    listed = (await desk.client.get("/api/v1/saved-replies")).json()["saved_replies"]
    only_ja = (await desk.client.get("/api/v1/saved-replies", params={"locale": "ja"})).json()[
        "saved_replies"
    ]
    ja_text = await desk.client.get(f"/api/v1/tickets/{ticket['id']}/saved-replies/{ja.json()['id']}")
    en_text = await desk.client.get(f"/api/v1/tickets/{ticket['id']}/saved-replies/{en.json()['id']}")
    refused = await desk.client.post(
        "/api/v1/saved-replies", json={"locale": "en", "title": "Mine", "body": "Hello"}, headers=agent
    )

    # then the customer's name is family name first, the order and its state are in the reply's language
    assert [r["title"] for r in listed] == ["Shipped", "発送済み"]
    assert [r["title"] for r in only_ja] == ["発送済み"]
    # (the shop has no name from Shopify yet: its domain; the agent is known to shoppers by a first name)
    assert ja_text.json() == {
        "body": "山田 花子様\nご注文#1042は「発送済み」です。alpha.myshopify.com Akira",
        "missing_fields": [],
    }
    assert en_text.json() == {
        "body": "Hi 山田 花子, order #1042 is Shipped. Tracking: ",
        "missing_fields": ["tracking_number"],  # no shipment yet: left empty, and said so
    }
    assert refused.status_code == 403


async def test_saved_replies_are_the_shops_own(desk: Desk) -> None:
    admin = await desk.sign_in("admin@alpha.test")
    mine = await desk.client.post(
        "/api/v1/saved-replies", json={"locale": "en", "title": "Hello", "body": "Hello"}, headers=admin
    )
    beta_ticket = await desk.open_ticket(BETA)
    alpha_ticket = await desk.open_ticket()
    saved_id = mine.json()["id"]

    seen_by_beta = await desk.client.get("/api/v1/saved-replies", headers=desk.key(BETA))
    beta_fills = await desk.client.get(
        f"/api/v1/tickets/{beta_ticket['id']}/saved-replies/{saved_id}", headers=desk.key(BETA)
    )
    alpha_on_beta = await desk.client.get(f"/api/v1/tickets/{beta_ticket['id']}/saved-replies/{saved_id}")
    beta_edits = await desk.client.patch(
        f"/api/v1/saved-replies/{saved_id}", json={"body": "Mine now"}, headers=desk.key(BETA)
    )
    twice = await desk.client.post(
        "/api/v1/saved-replies", json={"locale": "en", "title": "Hello", "body": "Again"}, headers=admin
    )
    same_title_ja = await desk.client.post(
        "/api/v1/saved-replies", json={"locale": "ja", "title": "Hello", "body": "こんにちは"}, headers=admin
    )
    renamed_onto = await desk.client.patch(
        f"/api/v1/saved-replies/{same_title_ja.json()['id']}", json={"locale": "en"}, headers=admin
    )
    deleted = await desk.client.delete(f"/api/v1/saved-replies/{saved_id}", headers=admin)
    gone = await desk.client.get(f"/api/v1/tickets/{alpha_ticket['id']}/saved-replies/{saved_id}")

    assert seen_by_beta.json()["saved_replies"] == []
    assert beta_fills.status_code == 404 and beta_fills.json()["error"]["code"] == "saved_reply_not_found"
    assert alpha_on_beta.status_code == 404 and alpha_on_beta.json()["error"]["code"] == "ticket_not_found"
    assert beta_edits.status_code == 403  # an API key is no admin; and the row is not hers anyway
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "saved_reply_exists"
    assert same_title_ja.status_code == 201
    assert renamed_onto.status_code == 409 and renamed_onto.json()["error"]["code"] == "saved_reply_exists"
    assert deleted.status_code == 200 and gone.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        "{{ customer_name.__class__.__mro__ }}",
        "{{ customer_name|upper }}",
        "{{ config }}",
        "{{ 7 * 7 }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
        "{% set x = 1 %}{{ x }}",
        "{{ customer_name() }}",
        "{{ self }}",
        "{% include 'console/app.html' %}",
        "{{ unclosed",
        "{{ request }}",
    ],
)
async def test_a_saved_reply_reaching_beyond_its_fields_is_refused(desk: Desk, body: str) -> None:
    admin = await desk.sign_in("admin@alpha.test")

    answer = await desk.client.post(
        "/api/v1/saved-replies", json={"locale": "en", "title": "Attack", "body": body}, headers=admin
    )

    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_saved_reply"
    assert (await desk.client.get("/api/v1/saved-replies")).json()["saved_replies"] == []


async def test_a_customer_name_that_looks_like_a_field_is_inserted_as_text(desk: Desk) -> None:
    admin = await desk.sign_in("admin@alpha.test")
    saved = await desk.client.post(
        "/api/v1/saved-replies",
        json={"locale": "en", "title": "Hi", "body": "Hi {{ customer_name }} from {{ shop_name }}"},
        headers=admin,
    )
    ticket = await desk.open_ticket(
        contact={"name": "{{ shop_name }}<script>alert(1)</script>", "email": "x@example.com"}
    )

    filled = await desk.client.get(f"/api/v1/tickets/{ticket['id']}/saved-replies/{saved.json()['id']}")

    # plain text for the reply box: not evaluated again, and shown as text by the console (never as HTML)
    assert filled.json()["body"] == "Hi {{ shop_name }}<script>alert(1)</script> from alpha.myshopify.com"


# ---- desk settings and first-response targets


HOURS = {
    "timezone": "Asia/Tokyo",
    "week": {day: {"opens": "09:00", "closes": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-31", "2026-12-31"],
}


async def test_admins_set_business_hours_and_targets_per_shop(desk: Desk) -> None:
    before = (await desk.client.get("/api/v1/desk-settings", headers=desk.key(ALPHA))).json()
    agent = await desk.sign_in("agent@alpha.test")
    by_agent = await desk.client.put("/api/v1/desk-settings", json={"business_hours": HOURS}, headers=agent)
    admin = await desk.sign_in("admin@alpha.test")
    saved = await desk.client.put(
        "/api/v1/desk-settings",
        json={"business_hours": HOURS, "first_response_minutes": {"email": 480, "line": 30.0}},
        headers=admin,
    )
    backwards = await desk.client.put(
        "/api/v1/desk-settings",
        json={"business_hours": {"week": {"mon": {"opens": "18:00", "closes": "09:00"}}}},
        headers=admin,
    )
    unknown_zone = await desk.client.put(
        "/api/v1/desk-settings", json={"business_hours": {**HOURS, "timezone": "Mars/Olympus"}}, headers=admin
    )
    beta = (await desk.client.get("/api/v1/desk-settings", headers=desk.key(BETA))).json()

    assert before["business_hours"] is None
    assert before["first_response_minutes"] == {
        "web_chat": 60,
        "api": 60,
        "email": 1440,
        "line": 60,
        "chatwoot": 60,
        "zendesk": 60,
    }
    assert by_agent.status_code == 403
    assert saved.status_code == 200, saved.text
    assert saved.json()["business_hours"]["holidays"] == ["2026-12-31"]
    assert saved.json()["first_response_minutes"]["email"] == 480
    assert saved.json()["first_response_minutes"]["web_chat"] == 60
    assert saved.json()["first_response_minutes"]["line"] == 30  # a whole 30.0 is the integer 30
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "invalid_business_hours"
    assert unknown_zone.status_code == 400
    assert beta["business_hours"] is None and beta["first_response_minutes"]["email"] == 1440


async def test_each_ticket_shows_its_first_response_due_then_overdue_then_met(desk: Desk) -> None:
    admin = await desk.sign_in("admin@alpha.test")
    await desk.client.put(
        "/api/v1/desk-settings",
        json={"business_hours": HOURS, "first_response_minutes": {"api": 30}},
        headers=admin,
    )
    thursday_10 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo

    with time_machine.travel(thursday_10, tick=False):
        ticket = await desk.open_ticket()
    url = f"/api/v1/tickets/{ticket['id']}"
    with time_machine.travel(thursday_10 + timedelta(minutes=10), tick=False):
        due = (await desk.client.get(url)).json()["first_response"]
    with time_machine.travel(thursday_10 + timedelta(minutes=31), tick=False):
        listed = (await _list(desk))[0]["first_response"]
        await desk.client.post(url + "/messages", json={"body": "Sorry!", "kind": "reply"}, headers=admin)
        answered = (await desk.client.get(url)).json()["first_response"]

    assert due == {"target_minutes": 30, "due_at": "2026-12-03T01:30:00Z", "state": "due"}
    assert listed["state"] == "overdue"
    assert answered["state"] == "missed"
    assert ticket["channel"] == Channel.API

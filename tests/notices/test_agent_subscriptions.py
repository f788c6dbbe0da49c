"""An agent offers 入荷お知らせ from the console: the ticket's shopper is subscribed on their channel and told
once that they will hear (as by the bot's offer), only for a sold-out variant of the agent's own shop."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop_app.database import transaction
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.models import Channel, Shop, StockSubscription, SubscriptionStatus, Ticket
from tests.app.conftest import ALPHA, BETA
from tests.notices.conftest import OSAKA, TOKYO, VARIANT_ID, Shelf, level_body

pytestmark = pytest.mark.anyio


async def key_for(shelf: Shelf, domain: str) -> dict[str, str]:
    async with transaction(shelf.services.sessions) as session:
        shop = await session.get_one(Shop, shelf.shop_id(domain))
        _row, key = await create_api_key(session, shop=shop, name="console")
    return {"Authorization": f"Bearer {key}"}


async def offer(shelf: Shelf, domain: str, body: Any, *, ticket: int | None = None) -> Any:
    return await shelf.app.client.post(
        f"/api/v1/tickets/{ticket or shelf.tickets[domain]}/stock-subscriptions",
        json=body,
        headers=await key_for(shelf, domain),
    )


async def test_an_agent_subscribes_the_email_shopper_who_is_told_once_and_then_once_more_when_it_is_back(
    shelf: Shelf,
) -> None:
    # when: the agent subscribes the shopper twice (a double click)
    first = await offer(shelf, ALPHA, {"variant_id": VARIANT_ID, "location_ids": [TOKYO]})
    second = await offer(shelf, ALPHA, {"variant_id": VARIANT_ID, "location_ids": [TOKYO]})

    # then: one subscription on the ticket's channel, in the shop's language, and one confirmation
    assert first.status_code == 201, first.text
    assert second.status_code == 200 and second.json()["created"] is False
    shown = first.json()
    assert (shown["status"], shown["channel"], shown["language"]) == ("active", "email", "ja")
    assert shown["item"] == "リネンシャツ (Navy / M)"
    [subscription] = await shelf.subscriptions(ALPHA)
    assert subscription.channel == Channel.EMAIL and subscription.location_shopify_ids == [TOKYO]
    [confirmation] = await shelf.messages(ALPHA)
    assert "/notices/stock/cancel/" in confirmation.body
    assert confirmation.id in {item.message_id for item in await shelf.outbox()}

    # and: stock back at Osaka tells nobody; back at Tokyo tells them once
    await shelf.app.webhook("inventory_levels/update", ALPHA, level_body(4, location=OSAKA))
    await shelf.app.drain()
    [waiting] = await shelf.subscriptions(ALPHA)
    assert waiting.status == SubscriptionStatus.ACTIVE
    await shelf.app.webhook("inventory_levels/update", ALPHA, level_body(2, location=TOKYO))
    await shelf.app.drain()
    [told] = await shelf.subscriptions(ALPHA)
    assert told.status == SubscriptionStatus.NOTIFIED
    assert len([m for m in await shelf.messages(ALPHA) if "/products/linen-shirt" in m.body]) == 1


async def test_a_chat_shopper_with_an_address_is_asked_to_confirm_and_one_without_is_refused(
    shelf: Shelf,
) -> None:
    async with transaction(shelf.services.sessions) as session:
        ticket = await session.get_one(Ticket, shelf.tickets[ALPHA])
        ticket.channel = Channel.WEB_CHAT

    pending = await offer(shelf, ALPHA, {"variant_id": VARIANT_ID})

    assert pending.status_code == 201, pending.text
    assert (pending.json()["status"], pending.json()["channel"]) == ("pending", "email")
    [subscription] = await shelf.subscriptions(ALPHA)
    assert subscription.ticket_id != shelf.tickets[ALPHA]  # an email ticket of its own, to confirm by

    async with transaction(shelf.services.sessions) as session:
        ticket = await session.get_one(Ticket, shelf.tickets[BETA])
        ticket.channel = Channel.WEB_CHAT
        from shop_app.models import Contact

        contact = await session.get_one(Contact, ticket.contact_id)
        contact.email = None
    refused = await offer(shelf, BETA, {"variant_id": VARIANT_ID})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "email_required"


async def test_a_variant_in_stock_or_another_shops_ticket_is_refused(shelf: Shelf) -> None:
    await shelf.set_stock(ALPHA, TOKYO, 3)

    in_stock = await offer(shelf, ALPHA, {"variant_id": VARIANT_ID})
    elsewhere = await offer(shelf, ALPHA, {"variant_id": VARIANT_ID, "location_ids": [OSAKA]})
    other_ticket = await offer(shelf, BETA, {"variant_id": VARIANT_ID}, ticket=shelf.tickets[ALPHA])
    unknown = await offer(shelf, ALPHA, {"variant_id": VARIANT_ID + 1})

    assert in_stock.status_code == 409 and in_stock.json()["error"]["code"] == "in_stock"
    assert elsewhere.status_code == 201  # sold out at Osaka: waiting for Osaka is fine
    assert other_ticket.status_code == 404
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "variant_not_found"
    assert [s.location_shopify_ids for s in await shelf.subscriptions()] == [[OSAKA]]


async def test_without_credentials_nothing_is_subscribed(shelf: Shelf) -> None:
    answer = await shelf.app.client.post(
        f"/api/v1/tickets/{shelf.tickets[ALPHA]}/stock-subscriptions", json={"variant_id": VARIANT_ID}
    )

    assert answer.status_code == 401
    assert await shelf.subscriptions() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.dictionaries(st.text(max_size=12), st.none() | st.integers() | st.text(max_size=20), max_size=4),
        st.fixed_dictionaries(
            {
                "variant_id": st.one_of(
                    st.integers(),
                    st.text(max_size=10),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.booleans(),
                ),
                "location_ids": st.one_of(
                    st.lists(st.integers(), max_size=60), st.text(max_size=5), st.none()
                ),
            }
        ),
        st.lists(st.integers(), max_size=3),
    )
)
async def test_any_other_body_is_refused_in_words_and_subscribes_nobody_else(shelf: Shelf, body: Any) -> None:
    answer = await offer(shelf, ALPHA, body)

    assert answer.status_code in (200, 201, 400, 404, 409, 422), answer.text
    if answer.status_code >= 400:
        assert answer.json()["error"]["code"]
    rows: list[StockSubscription] = await shelf.subscriptions()
    assert all(row.variant_shopify_id == VARIANT_ID and row.shop_id == shelf.shop_id(ALPHA) for row in rows)

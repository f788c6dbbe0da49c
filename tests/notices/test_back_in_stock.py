# ruff: noqa: F811  (fixtures imported from other test modules)
"""Back in stock: the signed links (offer, confirm, cancel) and their attacks, one subscription per
shopper and variant, and the shopper told exactly once when the mirror's stock returns, by the webhook
path and the reconciliation path, in their language; another shop's stock never tells anyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from shop_app.database import transaction
from shop_app.live_events import ChangeSet
from shop_app.mirror import reconciliation
from shop_app.models import AuthorType, SubscriptionStatus, SyncState
from shop_app.notices import back_in_stock
from shop_app.notices.links import NoticeLinks, Offer, Purpose, SubscriptionRef
from tests.app.conftest import ALPHA, BETA
from tests.notices.conftest import ITEM_ID, OSAKA, TOKYO, VARIANT_ID, Shelf, app, level_body, shelf, shops  # noqa: F401  # noqa: F401

pytestmark = pytest.mark.anyio


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


async def subscribe_by_page(shelf: Shelf, domain: str = ALPHA, **form: str) -> str:
    url = shelf.links.offer_url(shelf.offer(domain))
    path = url.removeprefix(shelf.services.settings.app_url)
    page = await shelf.app.client.get(path)
    assert page.status_code == 200
    response = await shelf.app.client.post(path, data=form)
    assert response.status_code == 200, response.text
    return response.text


def back_notices(messages: list[Any]) -> list[Any]:
    return [m for m in messages if m.author_type == AuthorType.BOT and "linen-shirt" in m.body]


async def test_an_email_shopper_subscribes_once_and_is_told_once_when_a_webhook_brings_stock_back(
    shelf: Shelf,
) -> None:
    # given: the shopper asks twice from the signed link in the sold-out answer
    page = await subscribe_by_page(shelf)
    again = await subscribe_by_page(shelf)
    assert 'data-state="subscribed"' in page
    assert 'data-state="already"' in again
    [subscription] = await shelf.subscriptions(ALPHA)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.language == "ja"
    [confirmation] = await shelf.messages(ALPHA)
    assert "リネンシャツ (Navy / M)" in confirmation.body and "/notices/stock/cancel/" in confirmation.body

    # when: Shopify says stock came back, twice (a second change must not tell them again)
    await shelf.app.webhook("inventory_levels/update", ALPHA, level_body(3))
    await shelf.app.drain()
    await shelf.app.webhook(
        "inventory_levels/update", ALPHA, level_body(5, updated_at="2026-12-03T11:00:00Z")
    )
    await shelf.app.drain()

    # then: one notice, in Japanese, with the product's link, left by the email channel's outbox
    [told] = back_notices(await shelf.messages(ALPHA))
    assert "入荷しました" in told.body
    assert "https://alpha.myshopify.com/products/linen-shirt" in told.body
    [subscription] = await shelf.subscriptions(ALPHA)
    assert subscription.status == SubscriptionStatus.NOTIFIED
    assert subscription.notice_message_id == told.id
    assert told.id in {item.message_id for item in await shelf.outbox()}


async def test_stock_at_another_location_or_in_another_shop_tells_nobody(shelf: Shelf) -> None:
    async with transaction(shelf.services.sessions) as session:
        await back_in_stock.subscribe(
            session, links=shelf.links, offer=shelf.offer(ALPHA, (OSAKA,)), language="ja"
        )
        await back_in_stock.subscribe(session, links=shelf.links, offer=shelf.offer(BETA), language="en")

    # when: Tokyo gets stock in the first shop (the subscriber waits for Osaka) and nothing in the second
    await shelf.app.webhook("inventory_levels/update", ALPHA, level_body(4, location=TOKYO))
    await shelf.app.drain()

    # then
    assert back_notices(await shelf.messages(ALPHA)) == []
    assert back_notices(await shelf.messages(BETA)) == []
    assert {s.status for s in await shelf.subscriptions()} == {SubscriptionStatus.ACTIVE}

    # when: Osaka gets stock in the first shop
    await shelf.app.webhook("inventory_levels/update", ALPHA, level_body(2, location=OSAKA))
    await shelf.app.drain()
    assert len(back_notices(await shelf.messages(ALPHA))) == 1
    assert back_notices(await shelf.messages(BETA)) == []


async def test_reconciliation_that_repairs_stock_tells_the_subscriber_once(
    shelf: Shelf, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a subscriber, a finished backfill, and a sweep that finds the stock webhook was lost
    async with transaction(shelf.services.sessions) as session:
        await back_in_stock.subscribe(session, links=shelf.links, offer=shelf.offer(BETA), language="en")
        session.add(
            SyncState(shop_id=shelf.shop_id(BETA), checkpoints={"completed_at": "2026-12-01T00:00:00+00:00"})
        )

    async def sweep(run: Any, name: str, since: Any, changes: ChangeSet) -> dict[str, Any]:
        if name == "inventory":
            await shelf.set_stock(BETA, TOKYO, 6)
            changes.stock(run.shop_id, inventory_item_ids=[ITEM_ID])
        return {"changed": 1 if name == "inventory" else 0}

    async def policies_unchanged(*_: Any, **__: Any) -> bool:
        return (
            False  # this test's Shopify serves stock, not the shop's policies, which reconciliation reads too
        )

    monkeypatch.setattr(reconciliation, "_sweep", sweep)
    monkeypatch.setattr(reconciliation, "refresh_shop_policies", policies_unchanged)

    # when: reconciled twice
    await reconciliation.reconcile_shop(shelf.services, shop_id=shelf.shop_id(BETA))
    await reconciliation.reconcile_shop(shelf.services, shop_id=shelf.shop_id(BETA))

    # then: told once, in English
    [told] = back_notices(await shelf.messages(BETA))
    assert "is back in stock" in told.body
    assert back_notices(await shelf.messages(ALPHA)) == []


async def test_a_widget_shopper_leaves_an_email_and_is_subscribed_only_once_they_confirm(
    shelf: Shelf,
) -> None:
    # given: the offer was made in the storefront chat
    async with transaction(shelf.services.sessions) as session:
        from shop_app.models import Channel, Ticket

        ticket = await session.get_one(Ticket, shelf.tickets[ALPHA])
        ticket.channel = Channel.WEB_CHAT
    url = shelf.links.offer_url(shelf.offer(ALPHA)).removeprefix(shelf.services.settings.app_url)
    page = await shelf.app.client.get(url)
    assert 'name="email"' in page.text

    refused = await shelf.app.client.post(url, data={"email": "not an address"})
    assert refused.status_code == 400
    done = await shelf.app.client.post(url, data={"email": "Visitor@Example.com", "lang": "en"})
    assert 'data-state="check_email"' in done.text
    [pending] = await shelf.subscriptions(ALPHA)
    assert pending.status == SubscriptionStatus.PENDING
    assert pending.ticket_id != shelf.tickets[ALPHA]  # a ticket of its own, on the email channel

    # a restock before confirming tells nobody
    await shelf.set_stock(ALPHA, TOKYO, 1)
    async with transaction(shelf.services.sessions) as session:
        assert await back_in_stock.notify_restocked(session, shop_id=shelf.shop_id(ALPHA)) == []

    # when: the address's owner confirms (a GET only shows the button)
    confirm = shelf.links.subscription_url(
        Purpose.CONFIRM, SubscriptionRef(shelf.shop_id(ALPHA), pending.id or 0)
    )
    path = confirm.removeprefix(shelf.services.settings.app_url)
    assert 'data-state="confirm"' in (await shelf.app.client.get(path)).text
    assert (await shelf.subscriptions(ALPHA))[0].status == SubscriptionStatus.PENDING
    assert 'data-state="confirmed"' in (await shelf.app.client.post(path)).text

    # then
    async with transaction(shelf.services.sessions) as session:
        assert len(await back_in_stock.notify_restocked(session, shop_id=shelf.shop_id(ALPHA))) == 1
        assert await back_in_stock.notify_restocked(session, shop_id=shelf.shop_id(ALPHA)) == []


async def test_a_cancelled_or_expired_subscription_is_never_told(shelf: Shelf) -> None:
    async with transaction(shelf.services.sessions) as session:
        first = await back_in_stock.subscribe(
            session, links=shelf.links, offer=shelf.offer(ALPHA), language="ja"
        )
        second = await back_in_stock.subscribe(
            session, links=shelf.links, offer=shelf.offer(BETA), language="en"
        )
    assert first.subscription.id is not None and second.subscription.id is not None
    cancel = shelf.links.subscription_url(
        Purpose.CANCEL, SubscriptionRef(shelf.shop_id(ALPHA), first.subscription.id)
    ).removeprefix(shelf.services.settings.app_url)
    assert 'data-state="cancelled"' in (await shelf.app.client.post(cancel)).text
    assert 'data-state="inactive"' in (await shelf.app.client.get(cancel)).text
    await shelf.set_stock(ALPHA, TOKYO, 3)
    await shelf.set_stock(BETA, TOKYO, 3)
    later = datetime.now(UTC) + timedelta(days=31)  # past the default 30 days
    async with transaction(shelf.services.sessions) as session:
        assert await back_in_stock.notify_restocked(session, shop_id=shelf.shop_id(ALPHA)) == []
        assert await back_in_stock.notify_restocked(session, shop_id=shelf.shop_id(BETA), now=later) == []
    statuses = {s.shop_id: s.status for s in await shelf.subscriptions()}
    assert statuses == {
        shelf.shop_id(ALPHA): SubscriptionStatus.CANCELLED,
        shelf.shop_id(BETA): SubscriptionStatus.EXPIRED,
    }


async def test_a_token_for_another_purpose_shop_or_secret_is_refused_alike(shelf: Shelf) -> None:
    async with transaction(shelf.services.sessions) as session:
        made = await back_in_stock.subscribe(
            session, links=shelf.links, offer=shelf.offer(ALPHA), language="ja"
        )
    assert made.subscription.id is not None
    ref = SubscriptionRef(shelf.shop_id(ALPHA), made.subscription.id)
    cancel_token = token_of(shelf.links.subscription_url(Purpose.CANCEL, ref))
    other_shop = token_of(
        shelf.links.subscription_url(
            Purpose.CANCEL, SubscriptionRef(shelf.shop_id(BETA), made.subscription.id)
        )
    )
    forged = token_of(NoticeLinks("http://x", "not-the-secret").subscription_url(Purpose.CANCEL, ref))
    attempts = [
        f"/notices/stock/confirm/{cancel_token}",  # a cancel link cannot confirm
        f"/notices/stock/offer/{cancel_token}",  # nor make an offer
        f"/notices/stock/cancel/{other_shop}",  # the id in another shop is nobody's
        f"/notices/stock/cancel/{forged}",  # signed with another key
        f"/notices/stock/cancel/{cancel_token[:-2]}",  # cut short
        "/notices/stock/cancel/" + "A" * 700,  # too long to read
    ]
    for path in attempts:
        response = await shelf.app.client.post(path)
        assert response.status_code == 404, path
        assert 'data-state="invalid"' in response.text
    assert (await shelf.subscriptions(ALPHA))[0].status == SubscriptionStatus.ACTIVE


def test_an_expired_offer_is_refused() -> None:
    links = NoticeLinks("http://app", "secret")
    token = token_of(links.offer_url(Offer(1, 2, 3, ())))
    assert links.read_offer(token) == Offer(1, 2, 3, ())
    serializer = URLSafeTimedSerializer("secret", salt="notices.stock.offer")
    old = serializer.dumps([1, 2, 3, []])
    import time_machine

    with time_machine.travel(datetime.now(UTC) + timedelta(days=15)):
        assert links.read_offer(old) is None


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=5),
        max_leaves=12,
    )
)
def test_a_validly_signed_token_of_any_other_shape_reads_as_nothing(payload: Any) -> None:
    links = NoticeLinks("http://app", "secret")
    for purpose in Purpose:
        token = URLSafeTimedSerializer("secret", salt=f"notices.stock.{purpose.value}").dumps(payload)
        offer = links.read_offer(token) if purpose == Purpose.OFFER else None
        ref = links.read_subscription(purpose, token)
        if offer is not None:
            assert (
                isinstance(payload, list) and len(payload) == 4 and all(type(v) is int for v in payload[:3])
            )
        if ref is not None:
            assert (
                isinstance(payload, list)
                and len(payload) == 2
                and all(type(v) is int and v > 0 for v in payload)
            )


@settings(max_examples=40, deadline=None)
@given(token=st.text(max_size=120))
def test_any_unsigned_string_is_refused(token: str) -> None:
    links = NoticeLinks("http://app", "secret")
    assert links.read_offer(token) is None
    assert links.read_subscription(Purpose.CANCEL, token) is None
    assert links.read_subscription(Purpose.CONFIRM, token) is None


async def ask(shelf: Shelf, text: str, *, links: NoticeLinks | None) -> str:
    from shop_app.answers.engine import answer_message
    from shop_app.answers.verification import Trust
    from shop_app.helpdesk.tickets import post_message
    from shop_app.models import Shop, Ticket

    async with transaction(shelf.services.sessions) as session:
        ticket = await session.get_one(Ticket, shelf.tickets[ALPHA])
        shop = await session.get_one(Shop, shelf.shop_id(ALPHA))
        message = await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=text)
        decision = await answer_message(
            session, shop=shop, ticket=ticket, message=message, trust=Trust(), links=links
        )
    assert decision.reply is not None
    return decision.reply


async def test_only_a_sold_out_answer_offers_the_notice_and_its_link_names_what_was_asked(
    shelf: Shelf,
) -> None:
    # sold out everywhere: the offer, for this variant, anywhere
    sold_out = await ask(shelf, "リネンシャツのネイビーのMの在庫はありますか？", links=shelf.links)
    assert "入荷お知らせを受け取る" in sold_out
    offer = shelf.links.read_offer(sold_out.rsplit("/", 1)[-1].strip())
    assert offer == Offer(shelf.shop_id(ALPHA), shelf.tickets[ALPHA], VARIANT_ID, ())

    # in stock: no offer
    await shelf.set_stock(ALPHA, TOKYO, 5)
    in_stock = await ask(shelf, "リネンシャツのネイビーのMの在庫はありますか？", links=shelf.links)
    assert "在庫がございます" in in_stock and "入荷お知らせ" not in in_stock


async def test_the_storefront_form_cannot_mail_more_than_the_hourly_confirmations(
    shelf: Shelf, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shop_app.models import Channel, Ticket

    monkeypatch.setattr(back_in_stock, "MAX_CONFIRMATIONS_PER_HOUR", 3)
    async with transaction(shelf.services.sessions) as session:
        (await session.get_one(Ticket, shelf.tickets[ALPHA])).channel = Channel.WEB_CHAT
    url = shelf.links.offer_url(shelf.offer(ALPHA)).removeprefix(shelf.services.settings.app_url)
    answers = [
        (await shelf.app.client.post(url, data={"email": f"someone{i}@example.com"})).status_code
        for i in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]
    assert len(await shelf.subscriptions(ALPHA)) == 3

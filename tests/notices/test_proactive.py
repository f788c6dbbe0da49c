# ruff: noqa: F811  (fixtures imported from other test modules)
"""Proactive notices: each rule fires once for its situation, not in quiet hours (the customer's time
zone), not past the daily cap, only to a customer who wrote to the shop, on that ticket's channel and in
its language, reopening the ticket tagged proactive with a note; another shop's orders never count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import transaction
from shop_app.helpdesk.outbox import for_messages
from shop_app.models import (
    AuthorType,
    Channel,
    Contact,
    Fulfillment,
    FulfillmentOrder,
    Message,
    NoticeRule,
    NoticeSettings,
    Order,
    ProactiveNotice,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.notices.notice_settings import save_notice_settings
from shop_app.notices.proactive import in_quiet_hours, preview, run_rules
from tests.app.conftest import ALPHA, BETA, RunningApp, TwoShops
from tests.notices.conftest import app, shops  # noqa: F401

pytestmark = pytest.mark.anyio

# 12:00 in Tokyo (03:00 UTC): outside the default quiet hours
NOON_TOKYO = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


async def seed(
    app: RunningApp, shop: Shop, *, number: int, email: str, wrote: bool, country: str = "JP"
) -> int:
    """An order shipped 10 days ago: estimated 5 days ago, last tracking event 8 days ago, one fulfillment
    order on hold. With ``wrote`` the customer has an email ticket with the shop."""
    assert shop.id is not None
    now = NOON_TOKYO
    async with transaction(app.services.sessions) as session:
        row = await session.get_one(Shop, shop.id)
        row.iana_timezone = "Asia/Tokyo"
        order = Order(
            shop_id=shop.id,
            shopify_id=90000 + number,
            name=f"#{number}",
            customer_shopify_id=70000 + number,
            email=email,
            created_at=now - timedelta(days=12),
            updated_at=now,
            shipping_address={"country_code": country},
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add(
            Fulfillment(
                shop_id=shop.id,
                shopify_id=91000 + number,
                order_id=order.id,
                status="SUCCESS",
                display_status="IN_TRANSIT",
                created_at=now - timedelta(days=10),
                updated_at=now - timedelta(days=8),
                in_transit_at=now - timedelta(days=9),
                estimated_delivery_at=now - timedelta(days=5),
                tracking=[{"company": "ヤマト運輸", "number": "1234-5678", "url": None}],
                events=[
                    {"id": 1, "status": "IN_TRANSIT", "happened_at": (now - timedelta(days=8)).isoformat()}
                ],
            )
        )
        session.add(
            FulfillmentOrder(shop_id=shop.id, shopify_id=92000 + number, order_id=order.id, status="ON_HOLD")
        )
        if not wrote:
            return 0
        contact = Contact(shop_id=shop.id, email=email)
        session.add(contact)
        await session.flush()
        assert contact.id is not None
        ticket = Ticket(
            shop_id=shop.id,
            contact_id=contact.id,
            channel=Channel.EMAIL,
            status=TicketStatus.RESOLVED,
            customer_shopify_id=70000 + number,
        )
        session.add(ticket)
        await session.flush()
        assert ticket.id is not None
        return ticket.id


async def turn_on(app: RunningApp, shop: Shop, rules: set[NoticeRule], *, cap: int = 50) -> None:
    assert shop.id is not None
    async with transaction(app.services.sessions) as session:
        await save_notice_settings(
            session,
            shop_id=shop.id,
            enabled=rules,
            days={NoticeRule.STALE_TRACKING: 7, NoticeRule.LATE_DELIVERY: 1},
            quiet_start_minutes=21 * 60,
            quiet_end_minutes=9 * 60,
            daily_cap=cap,
            subscription_days=30,
        )


async def run(app: RunningApp, shop: Shop, now: datetime = NOON_TOKYO) -> list[int]:
    async with transaction(app.services.sessions) as session:
        fresh = await session.get_one(Shop, shop.id)
        return (await run_rules(session, shop=fresh, now=now)).sent


async def notices(app: RunningApp) -> list[ProactiveNotice]:
    async with app.services.sessions() as session:
        return list(
            (await session.execute(select(ProactiveNotice).order_by(col(ProactiveNotice.id)))).scalars()
        )


async def ticket_messages(app: RunningApp, ticket_id: int) -> list[Message]:
    async with app.services.sessions() as session:
        rows = await session.execute(
            select(Message).where(col(Message.ticket_id) == ticket_id).order_by(col(Message.id))
        )
        return list(rows.scalars())


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (NoticeRule.LATE_DELIVERY, "お届けの予定でしたが"),
        (NoticeRule.STALE_TRACKING, "更新されていません"),
        (NoticeRule.ON_HOLD, "保留中"),
        (NoticeRule.FAILED_DELIVERY, "お届けできませんでした"),
    ],
)
async def test_each_rule_tells_the_customer_once_on_their_channel(
    app: RunningApp, shops: TwoShops, rule: NoticeRule, words: str
) -> None:
    # given
    ticket_id = await seed(app, shops.alpha, number=1001, email="hanako@example.jp", wrote=True)
    await seed(app, shops.beta, number=1001, email="hanako@example.jp", wrote=False)
    if rule == NoticeRule.FAILED_DELIVERY:
        async with transaction(app.services.sessions) as session:
            shipment = (
                await session.execute(select(Fulfillment).where(col(Fulfillment.shop_id) == shops.alpha.id))
            ).scalar_one()
            shipment.events = [
                *shipment.events,
                {"id": 2, "status": "ATTEMPTED_DELIVERY", "happened_at": NOON_TOKYO.isoformat()},
            ]
    async with transaction(app.services.sessions) as session:
        (await session.get_one(Shop, shops.alpha.id)).primary_locale = "ja"
    await turn_on(app, shops.alpha, {rule})
    await turn_on(app, shops.beta, {rule})

    # when: the job runs three times
    first = await run(app, shops.alpha)
    again = await run(app, shops.alpha, NOON_TOKYO + timedelta(hours=1))
    beta = await run(app, shops.beta)

    # then: one notice, in Japanese, in the outbox of the email ticket, which is reopened and tagged
    assert len(first) == 1 and again == [] and beta == []
    [notice] = await notices(app)
    assert notice.rule == rule and notice.ticket_id == ticket_id and notice.channel == Channel.EMAIL
    messages = await ticket_messages(app, ticket_id)
    [told] = [m for m in messages if m.author_type == AuthorType.BOT]
    [note] = [m for m in messages if m.author_type == AuthorType.NOTE]
    assert words in told.body and "#1001" in told.body and "担当者が確認" in told.body
    assert "#1001" in note.body
    async with app.services.sessions() as session:
        assert [o.message_id for o in await for_messages(session, [told.id or 0])] == [told.id]
        ticket = await session.get_one(Ticket, ticket_id)
    assert ticket.status == TicketStatus.OPEN and "proactive" in ticket.tags


async def test_quiet_hours_follow_the_customers_time_zone(app: RunningApp, shops: TwoShops) -> None:
    await seed(app, shops.alpha, number=1002, email="a@example.com", wrote=True, country="JP")
    await turn_on(app, shops.alpha, {NoticeRule.ON_HOLD})
    late_evening_tokyo = datetime(2026, 12, 3, 13, 30, tzinfo=UTC)  # 22:30 in Tokyo
    assert await run(app, shops.alpha, late_evening_tokyo) == []
    assert await run(app, shops.alpha, datetime(2026, 12, 3, 23, 30, tzinfo=UTC)) == []  # 08:30 next day
    assert len(await run(app, shops.alpha, datetime(2026, 12, 4, 0, 30, tzinfo=UTC))) == 1  # 09:30


def test_quiet_hours_wrap_midnight_and_can_be_off() -> None:
    settings = NoticeSettings(shop_id=1, quiet_start_minutes=21 * 60, quiet_end_minutes=9 * 60)
    utc = UTC
    assert in_quiet_hours(settings, datetime(2026, 1, 1, 21, 0, tzinfo=utc), utc)
    assert in_quiet_hours(settings, datetime(2026, 1, 1, 8, 59, tzinfo=utc), utc)
    assert not in_quiet_hours(settings, datetime(2026, 1, 1, 9, 0, tzinfo=utc), utc)
    assert not in_quiet_hours(
        NoticeSettings(shop_id=1, quiet_start_minutes=0, quiet_end_minutes=0),
        datetime(2026, 1, 1, 3, tzinfo=utc),
        utc,
    )


async def test_the_daily_cap_holds_the_rest_until_tomorrow(app: RunningApp, shops: TwoShops) -> None:
    for number in (1003, 1004, 1005):
        await seed(app, shops.alpha, number=number, email=f"c{number}@example.com", wrote=True)
    await turn_on(app, shops.alpha, {NoticeRule.ON_HOLD}, cap=2)
    assert len(await run(app, shops.alpha)) == 2
    assert await run(app, shops.alpha, NOON_TOKYO + timedelta(hours=2)) == []
    assert len(await run(app, shops.alpha, NOON_TOKYO + timedelta(days=1))) == 1


async def test_a_customer_who_never_wrote_is_not_told(app: RunningApp, shops: TwoShops) -> None:
    await seed(app, shops.alpha, number=1006, email="quiet@example.com", wrote=False)
    # a ticket in the other shop with the same email and customer id gives no consent here
    await seed(app, shops.beta, number=1006, email="quiet@example.com", wrote=True)
    await turn_on(app, shops.alpha, set(NoticeRule))
    assert await run(app, shops.alpha) == []
    assert await notices(app) == []


async def test_rules_that_are_off_send_nothing(app: RunningApp, shops: TwoShops) -> None:
    await seed(app, shops.alpha, number=1007, email="d@example.com", wrote=True)
    assert await run(app, shops.alpha) == []


def test_previews_exist_in_both_languages() -> None:
    shop = Shop(domain=ALPHA, iana_timezone="Asia/Tokyo")
    for rule in NoticeRule:
        ja, en = preview(rule, "ja", shop=shop), preview(rule, "en", shop=shop)
        assert "#1001" in ja and "#1001" in en
        assert "担当者" in ja and "A person" in en
        assert "notices." not in ja + en  # no missing key
    assert BETA

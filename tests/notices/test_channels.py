# ruff: noqa: F811  (fixtures imported from other test modules)
"""The notices on the shopper's own channel, end to end: on LINE (the simulated platform, devline), a sold-out
answer offers 入荷お知らせ, the shopper's tap subscribes them, and the restock is pushed to them once; by
email, through a real SMTP relay, the proactive notice and the restock reach the shopper's mailbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.channels import outbound
from shop_app.database import transaction
from shop_app.models import (
    Channel,
    Contact,
    Fulfillment,
    FulfillmentOrder,
    InventoryLevel,
    NoticeRule,
    Order,
    Shop,
    StockSubscription,
    SubscriptionStatus,
    Ticket,
    TicketStatus,
)
from shop_app.notices import back_in_stock
from shop_app.notices.links import NoticeLinks, Offer
from shop_app.notices.notice_settings import save_notice_settings
from shop_app.notices.proactive import run_rules
from tests.app.conftest import RunningApp
from tests.helpdesk.conftest import (
    ALPHA,
    BETA,
    desk,  # noqa: F401
)
from tests.line.conftest import settings  # noqa: F401
from tests.mail.conftest import ALPHA_ADDRESS, MailWorld, mail_limits, mail_world  # noqa: F401
from tests.mail.relay import Relay, free_port
from tests.mail.test_outbound import use_relay
from tests.notices.conftest import ITEM_ID, TOKYO, VARIANT_ID, level_body, stock_shelf
from tests.notices.devline_desk import CHANNEL_IDS, DevLineDesk, devline_desk  # noqa: F401

pytestmark = pytest.mark.anyio

HANAKO = "U" + "a1" * 16
OFFER = re.compile(r"(/notices/stock/offer/[A-Za-z0-9_.\-]+)")


async def test_on_line_a_sold_out_answer_offers_the_notice_and_the_restock_is_pushed_once(
    devline_desk: DevLineDesk,
) -> None:
    desk = devline_desk.desk
    shops = {}
    async with desk.services.sessions() as session:
        for domain in (ALPHA, BETA):
            shops[domain] = await session.get_one(Shop, desk.shop_ids[domain])
    await stock_shelf(desk.services, shops[ALPHA], email="unused@example.jp", language="ja")
    await stock_shelf(desk.services, shops[BETA], email="unused@example.com", language="en")

    # given: the shopper befriends the shop on LINE and asks about a sold-out shirt
    await devline_desk.says(HANAKO, "リネンシャツのネイビーのMの在庫はありますか？")
    answer = "\n".join(await devline_desk.bot_texts(HANAKO))
    assert "入荷お知らせを受け取る" in answer, answer
    found = OFFER.search(answer)
    assert found is not None
    # and its first quick reply button opens the same page
    buttons = [
        item["action"]
        for message in await devline_desk.bot_messages(HANAKO)
        for item in message.get("quickReply", {}).get("items", [])
    ]
    assert buttons[0]["type"] == "uri" and buttons[0]["label"] == "入荷お知らせ"
    assert buttons[0]["uri"].endswith(found.group(1))

    # when: they open the link and tap the button
    assert (await desk.client.get(found.group(1))).status_code == 200
    done = await desk.client.post(found.group(1), data={})
    assert 'data-state="subscribed"' in done.text
    await devline_desk.settle()
    async with desk.services.sessions() as session:
        [subscription] = (await session.execute(select(StockSubscription))).scalars().all()
    assert subscription.channel == Channel.LINE and subscription.status == SubscriptionStatus.ACTIVE
    assert any("一度だけお知らせします" in text for text in await devline_desk.bot_texts(HANAKO))

    # when: the stock webhook comes, twice, to the shop; and the other shop restocks too
    app = RunningApp(client=desk.client, services=desk.services, jobs=desk.state["jobs"])
    await app.webhook("inventory_levels/update", BETA, level_body(9))
    await app.webhook("inventory_levels/update", ALPHA, level_body(2))
    await app.webhook("inventory_levels/update", ALPHA, level_body(3, updated_at="2026-12-03T12:00:00Z"))
    await devline_desk.settle()
    await outbound.deliver(desk.services)

    # then: it reaches the shopper's LINE chat once, from the shop's own account (devline took the push
    # on the alpha channel's token: the beta channel never heard of this user)
    back = [text for text in await devline_desk.bot_texts(HANAKO) if "お待たせしました" in text]
    assert len(back) == 1
    assert "https://alpha.myshopify.com/products/linen-shirt" in back[0]
    assert HANAKO not in devline_desk.state.channels[CHANNEL_IDS[BETA]].users


@pytest.fixture
def relay() -> Iterator[Relay]:
    relay = Relay(free_port())
    relay.start()
    yield relay
    relay.stop()


async def test_by_email_the_proactive_notice_and_the_restock_reach_the_mailbox(
    mail_world: MailWorld, relay: Relay
) -> None:
    services = mail_world.services
    await use_relay(mail_world, relay.port)
    now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # noon in Tokyo
    shop = mail_world.alpha
    assert shop.id is not None
    ticket_id = await stock_shelf(services, shop, email="hanako@example.jp", language="ja")
    async with transaction(services.sessions) as session:
        row = await session.get_one(Shop, shop.id)
        row.iana_timezone = "Asia/Tokyo"
        ticket = await session.get_one(Ticket, ticket_id)
        ticket.customer_shopify_id = 7001
        ticket.status = TicketStatus.RESOLVED
        order = Order(
            shop_id=shop.id,
            shopify_id=8001,
            name="#1001",
            customer_shopify_id=7001,
            email="hanako@example.jp",
            created_at=now - timedelta(days=6),
            updated_at=now,
            shipping_address={"country_code": "JP"},
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add(FulfillmentOrder(shop_id=shop.id, shopify_id=8101, order_id=order.id, status="ON_HOLD"))
        session.add(
            Fulfillment(
                shop_id=shop.id,
                shopify_id=8201,
                order_id=order.id,
                status="SUCCESS",
                created_at=now - timedelta(days=5),
                updated_at=now,
                events=[{"id": 1, "status": "FAILURE", "happened_at": now.isoformat()}],
                tracking=[{"company": "ヤマト運輸", "number": "4455-6677", "url": None}],
            )
        )
        await save_notice_settings(
            session,
            shop_id=shop.id,
            enabled={NoticeRule.FAILED_DELIVERY},
            days={},
            quiet_start_minutes=21 * 60,
            quiet_end_minutes=9 * 60,
            daily_cap=10,
            subscription_days=30,
        )
        await back_in_stock.subscribe(
            session,
            links=NoticeLinks.of(services),
            offer=Offer(shop.id, ticket_id, VARIANT_ID, ()),
            language="ja",
        )

    # when: the rules run, stock comes back, and the outbox is sent
    async with transaction(services.sessions) as session:
        fresh = await session.get_one(Shop, shop.id)
        assert len((await run_rules(session, shop=fresh, now=now)).sent) == 1
    async with transaction(services.sessions) as session:
        level = (
            await session.execute(
                select(InventoryLevel).where(
                    col(InventoryLevel.shop_id) == shop.id,
                    col(InventoryLevel.location_shopify_id) == TOKYO,
                )
            )
        ).scalar_one()
        level.available = 4
        assert (
            len(await back_in_stock.notify_restocked(session, shop_id=shop.id, inventory_item_ids=[ITEM_ID]))
            == 1
        )
    report = await outbound.deliver(services)

    # then: three mails (the subscription's confirmation, the failed delivery, the restock) to the shopper
    assert len(report.sent) == 3 and report.failed == []
    bodies = [mail.get_body(preferencelist=("plain",)).get_content() for _, mail in relay.handler.received]
    assert all(envelope.rcpt_tos == ["hanako@example.jp"] for envelope, _ in relay.handler.received)
    assert any(
        "配送業者がご注文#1001をお届けできませんでした" in body and "4455-6677" in body for body in bodies
    )
    assert any("入荷しました" in body and "/products/linen-shirt" in body for body in bodies)
    assert all(mail["From"].addresses[0].addr_spec == ALPHA_ADDRESS for _, mail in relay.handler.received)
    async with services.sessions() as session:
        contact = (
            (await session.execute(select(Contact).where(col(Contact.shop_id) == shop.id))).scalars().first()
        )
    assert contact is not None


async def test_on_line_a_proactive_notice_is_pushed_to_a_friend_and_never_to_one_who_blocked_us(
    devline_desk: DevLineDesk,
) -> None:
    desk = devline_desk.desk
    shop_id = desk.shop_ids[ALPHA]
    await devline_desk.seed_order(ALPHA)
    # given: the customer of order #1001 befriended the shop and wrote on LINE (linked to the customer)
    await devline_desk.says(HANAKO, "こんにちは")
    noon_tokyo = datetime.now(UTC).replace(hour=3, minute=0) + timedelta(days=1)
    async with transaction(desk.services.sessions) as session:
        [ticket] = (
            (await session.execute(select(Ticket).where(col(Ticket.shop_id) == shop_id))).scalars().all()
        )
        ticket.customer_shopify_id = 7001
        order = (
            await session.execute(
                select(Order).where(col(Order.shop_id) == shop_id, col(Order.shopify_id) == 8001)
            )
        ).scalar_one()
        assert order.id is not None
        session.add(FulfillmentOrder(shop_id=shop_id, shopify_id=8301, order_id=order.id, status="ON_HOLD"))
        await save_notice_settings(
            session,
            shop_id=shop_id,
            enabled={NoticeRule.ON_HOLD},
            days={},
            quiet_start_minutes=21 * 60,
            quiet_end_minutes=9 * 60,
            daily_cap=10,
            subscription_days=30,
        )
    before = len(await devline_desk.bot_texts(HANAKO))

    # when: the rules run and the outbox is sent
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, shop_id)
        assert len((await run_rules(session, shop=shop, now=noon_tokyo)).sent) == 1
    await outbound.deliver(desk.services)

    # then: it reaches the shopper's LINE chat, in Japanese
    pushed = (await devline_desk.bot_texts(HANAKO))[before:]
    assert len(pushed) == 1
    assert "ご注文#1001は現在保留中" in pushed[0]

    # and: once they block the account, a new situation reaches nobody
    await devline_desk.blocks(HANAKO)
    async with transaction(desk.services.sessions) as session:
        session.add(FulfillmentOrder(shop_id=shop_id, shopify_id=8302, order_id=order.id, status="ON_HOLD"))
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, shop_id)
        report = await run_rules(session, shop=shop, now=noon_tokyo)
    assert report.sent == [] and report.no_consent == 1
    await outbound.deliver(desk.services)
    assert len(await devline_desk.bot_texts(HANAKO)) == before + 1

"""The embedded admin's notices page in headless Chromium, in Japanese and English: the demand for a sold-out
product, the proactive rules with their previews, and saving a rule, quiet hours and the cap. Screenshots go
to ``tests/browser/artifacts/admin-notices-*.png``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.helpdesk.ticket_tags import set_ticket_tags
from shop_app.models import (
    Channel,
    Contact,
    NoticeSettings,
    Product,
    Shop,
    StockSubscription,
    SubscriptionStatus,
    Ticket,
    TicketStatus,
)
from tests.browser.conftest import SHOP, BrowserSession, LiveApp, screenshot, sign_in
from tests.browser.test_embedded_admin import merchant, open_app  # noqa: F401

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)


async def seed_demand(app: LiveApp) -> int:
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = (await session.execute(select(Shop).where(col(Shop.domain) == SHOP))).scalar_one()
            assert shop.id is not None
            now = datetime.now(UTC)
            session.add(
                Product(shop_id=shop.id, shopify_id=987654321, title="限定リネンシャツ", updated_at=now)
            )
            for index in range(3):
                contact = Contact(shop_id=shop.id, email=f"waiting{index}@example.jp")
                session.add(contact)
                await session.flush()
                assert contact.id is not None
                ticket = Ticket(shop_id=shop.id, contact_id=contact.id, channel=Channel.EMAIL)
                session.add(ticket)
                await session.flush()
                assert ticket.id is not None
                session.add(
                    StockSubscription(
                        shop_id=shop.id,
                        ticket_id=ticket.id,
                        contact_id=contact.id,
                        channel=Channel.EMAIL,
                        product_shopify_id=987654321,
                        variant_shopify_id=6101,
                        inventory_item_shopify_id=6201,
                        item_name="リネンシャツ (M)",
                        language="ja",
                        status=SubscriptionStatus.ACTIVE if index else SubscriptionStatus.PENDING,
                        expires_at=now + timedelta(days=30),
                    )
                )
            return shop.id
    finally:
        await engine.dispose()


async def stored_settings(app: LiveApp, shop_id: int) -> NoticeSettings | None:
    engine = make_engine(app.settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            return await session.get(NoticeSettings, shop_id)
    finally:
        await engine.dispose()


def test_the_notices_page_in_japanese_and_english(live_app: LiveApp, merchant: BrowserSession) -> None:  # noqa: F811
    shop_id = live_app.run(seed_demand(live_app))
    page = merchant.page

    # Japanese: the demand and the rules with their previews
    open_app(page, live_app, "/app/notices", locale="ja")
    row = page.locator('[data-role="demand-table"] tbody tr[data-product="987654321"]')
    expect(row).to_contain_text("限定リネンシャツ")
    expect(row.locator("td").nth(1)).to_have_text("2")
    expect(row.locator("td").nth(2)).to_have_text("1")
    late = page.locator('fieldset[data-rule="late_delivery"]')
    expect(late).to_contain_text("お届け予定日を過ぎた注文")
    expect(late.locator('[data-role="preview"]')).to_contain_text("担当者が確認")
    screenshot(page, "admin-notices-ja")

    # turn a rule on, move the quiet hours and the cap, save
    late.locator('input[name="enabled"]').check()
    page.locator('fieldset[data-rule="stale_tracking"] input[name="days"]').fill("5")
    page.locator('input[name="quiet_start"]').fill("22:00")
    page.locator('input[name="daily_cap"]').fill("20")
    page.locator('[data-action="save-notices"]').click()
    expect(page.locator('[data-role="save-message"]')).to_contain_text("保存しました")
    screenshot(page, "admin-notices-ja-saved")
    stored = live_app.run(stored_settings(live_app, shop_id))
    assert stored is not None
    assert stored.rules["late_delivery"]["enabled"] is True
    assert stored.rules["stale_tracking"] == {"enabled": False, "days": 5}
    assert (stored.quiet_start_minutes, stored.quiet_end_minutes, stored.daily_cap) == (22 * 60, 9 * 60, 20)

    # English
    open_app(page, live_app, "/app/notices", locale="en")
    expect(page.locator('fieldset[data-rule="late_delivery"]')).to_contain_text(
        "Order past its estimated delivery date"
    )
    expect(page.locator('fieldset[data-rule="late_delivery"] input[name="enabled"]')).to_be_checked()
    expect(page.locator('fieldset[data-rule="on_hold"] [data-role="preview"]')).to_contain_text(
        "A person on our team"
    )
    screenshot(page, "admin-notices-en")


async def mark_proactive(app: LiveApp, ticket_id: int) -> None:
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            ticket = await session.get_one(Ticket, ticket_id)
            await set_ticket_tags(session, ticket=ticket, tags=["proactive"])
            ticket.status = TicketStatus.OPEN
    finally:
        await engine.dispose()


def test_the_console_lists_a_proactive_ticket_first(live_app: LiveApp, wide: BrowserSession) -> None:
    # given: a proactive ticket, then a newer ordinary one
    first = live_app.open_ticket(
        name="山田 花子", email="hanako@example.jp", subject="配送の遅れ", message="#1001"
    )
    live_app.run(mark_proactive(live_app, int(first["id"])))
    live_app.open_ticket(name="Ken Sato", email="ken@example.com", subject="Newer question", message="Hello")

    # when
    page = wide.page
    sign_in(page, live_app)
    page.click('[data-lang="ja"]')

    # then: the proactive one is on top, marked 先回り
    top = page.locator(".ticket-row").first
    expect(top).to_contain_text("配送の遅れ")
    expect(top).to_have_attribute("data-proactive", "true")
    expect(top.locator(".row-tags .tag")).to_have_text(["先回り"])
    screenshot(page, "console-proactive-first-ja")

"""The console's order card offers 入荷お知らせ on a sold-out item, in Japanese, in headless Chromium: the agent
clicks it, the ticket's shopper is subscribed on their channel and told once, and the card says so."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update
from sqlmodel import col

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.models import Channel, InventoryLevel, Message, StockSubscription, Ticket
from tests.browser.conftest import BrowserSession, LiveApp, screenshot, sign_in
from tests.browser.test_console import hanako_ticket, open_ticket

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)


async def _sold_out_email_ticket(app: LiveApp, ticket_id: int) -> None:
    """Every location's stock of the shop's variants at zero; the ticket came in by email."""
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            await session.execute(update(InventoryLevel).values(available=0))
            await session.execute(
                update(Ticket).where(col(Ticket.id) == ticket_id).values(channel=Channel.EMAIL)
            )
    finally:
        await engine.dispose()


async def _subscriptions(app: LiveApp) -> tuple[list[StockSubscription], list[str]]:
    engine = make_engine(app.settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            rows = list((await session.execute(select(StockSubscription))).scalars())
            bodies = list((await session.execute(select(col(Message.body)))).scalars())
            return rows, bodies
    finally:
        await engine.dispose()


def test_an_agent_offers_the_back_in_stock_notice_from_a_sold_out_item_in_japanese(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    ticket_id = hanako_ticket(live_app)
    live_app.run(_sold_out_email_ticket(live_app, ticket_id))
    page = wide.page
    sign_in(page, live_app)
    page.click('[data-lang="ja"]')
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    open_ticket(page, "Where is my tea?")

    # given: the order card shows the item sold out, with the button
    offer = page.locator('[data-action="back-in-stock"]').first
    expect(offer).to_have_text("入荷お知らせを登録")
    expect(page.locator('.stock[data-level="sold_out"]').first).to_contain_text("在庫切れ")

    # when: the agent clicks it
    offer.click()

    # then: the card says the shopper will be told once by email; one subscription, one confirmation
    status = page.locator(".back-in-stock-status").first
    expect(status).to_have_text("登録しました。入荷時にメールで一度だけお知らせします。")
    screenshot(page, "console-back-in-stock-ja")
    rows, bodies = live_app.run(_subscriptions(live_app))
    assert [(row.ticket_id, row.channel) for row in rows] == [(ticket_id, Channel.EMAIL)]
    assert sum("/notices/stock/cancel/" in body for body in bodies) == 1

    # and: clicking again (after a reload) changes nothing
    page.reload()
    open_ticket(page, "Where is my tea?")
    page.locator('[data-action="back-in-stock"]').first.click()
    expect(page.locator(".back-in-stock-status").first).to_contain_text("すでに")
    rows, bodies = live_app.run(_subscriptions(live_app))
    assert len(rows) == 1 and sum("/notices/stock/cancel/" in body for body in bodies) == 1
    assert wide.errors == []

# ruff: noqa: F811 - tests take the imported `merchant` fixture by name
"""The embedded admin's Insights page in headless Chromium, in Japanese and English, with Shopify's CDN out
of reach, over the month of history ``shop-app dev`` makes: the headline numbers, the charts drawn as SVG,
their numbers a click away, a filter, and the CSV. Screenshots go to
``tests/browser/artifacts/admin-insights-*.png``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.dev.history import seed_history
from shop_app.models import Customer, Fulfillment, Order, Shop
from tests.browser.conftest import SHOP, BrowserSession, LiveApp, screenshot
from tests.browser.test_embedded_admin import merchant, open_app, problems  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)

WORDS = {
    "ja": ("注文100件あたりの問い合わせ", "数値を表示", "配送状況の問い合わせ（配送業者別）", "ヤマト運輸"),
    "en": (
        "Inquiries per 100 orders",
        "Show the numbers",
        "Where-is-my-order questions, by carrier",
        "ヤマト運輸",
    ),
}
DONE = {"ja": "CSVをダウンロードしました。", "en": "The CSV was downloaded."}


async def _month_of_history(app: LiveApp) -> int:
    engine = make_engine(app.settings.database_url)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    try:
        async with transaction(sessions) as session:
            shop = (await session.execute(select(Shop).where(col(Shop.domain) == SHOP))).scalar_one()
            assert shop.id is not None
            for n in range(30):
                session.add(
                    Customer(
                        shop_id=shop.id,
                        shopify_id=70_100 + n,
                        email=f"buyer{n}@example.jp",
                        first_name="花子",
                        last_name=f"山田{n}",
                        updated_at=now,
                    )
                )
                order = Order(
                    shop_id=shop.id,
                    shopify_id=80_100 + n,
                    name=f"#{2100 + n}",
                    customer_shopify_id=70_100 + n,
                    created_at=now - timedelta(days=n + 3),
                    updated_at=now,
                )
                session.add(order)
                await session.flush()
                assert order.id is not None
                if n % 3:
                    session.add(
                        Fulfillment(
                            shop_id=shop.id,
                            shopify_id=90_100 + n,
                            order_id=order.id,
                            status="SUCCESS",
                            created_at=now - timedelta(days=n + 2),
                            updated_at=now,
                            delivered_at=now - timedelta(days=n) if n % 2 else None,
                            tracking=[
                                {
                                    "company": "ヤマト運輸" if n % 4 else "佐川急便",
                                    "number": str(n),
                                    "url": None,
                                }
                            ],
                        )
                    )
        return await seed_history(sessions, SHOP)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_merchant_sees_the_month_in_pictures(
    live_app: LiveApp, merchant: BrowserSession, locale: str
) -> None:
    assert live_app.run(_month_of_history(live_app)) > 60
    page = merchant.page
    open_app(page, live_app, "/app/insights", locale=locale)

    headline = page.locator('[data-role="headline"]')
    expect(headline).to_be_visible(timeout=20_000)
    for word in WORDS[locale][:1]:
        expect(headline).to_contain_text(word)
    expect(page.locator('[data-chart] svg[role="img"]')).to_have_count(5)
    drivers = page.locator('[data-role="drivers"]')
    expect(drivers).to_contain_text(WORDS[locale][2])
    expect(drivers).to_contain_text(WORDS[locale][3])
    # the days' numbers, one click away
    numbers = page.locator('[data-role="numbers-days"]')
    numbers.locator("summary").click()
    expect(numbers.locator("tbody tr")).to_have_count(30)
    numbers.locator("summary").click()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"admin-insights-{locale}")

    # a filter: LINE only
    page.select_option('[data-role="filters"] [name="channel"]', "line")
    page.click('[data-action="apply"]')
    expect(page.locator('[data-role="headline"]')).to_be_visible()
    with page.expect_download() as download:
        page.click('[data-action="csv"]')
    assert download.value.suggested_filename.startswith("insights-")
    expect(page.locator('[data-role="insights-message"]')).to_have_text(DONE[locale])
    assert problems(merchant) == []

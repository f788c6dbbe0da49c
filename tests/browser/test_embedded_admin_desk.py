# ruff: noqa: F811 - tests take the imported `merchant` fixture by name
"""The embedded admin's help desk page in headless Chromium, in Japanese and English, with Shopify's CDN out
of reach: the merchant sets business hours (a holiday included) and a first-response target, and writes a
saved reply; a saved reply reaching beyond its fields is refused in words. What is saved is what the API
then answers. Screenshots go to ``tests/browser/artifacts/admin-desk-*.png``."""

from __future__ import annotations

import os

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOP, BrowserSession, LiveApp, screenshot
from tests.browser.test_embedded_admin import merchant, open_app, problems  # noqa: F401 - the fixture
from tests.factories import session_token

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)

REFUSED = {"en": "Only text and the fields below", "ja": "二重中括弧の中には"}
SAVED = {"en": "Saved.", "ja": "保存しました。"}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_merchant_sets_hours_targets_and_saved_replies(
    live_app: LiveApp,
    merchant: BrowserSession,
    locale: str,
) -> None:
    page = merchant.page
    open_app(page, live_app, "/app/desk", locale=locale)

    # the store's time zone is offered; weekdays 10:00 to 19:00, the 31st closed, email answered in 8 hours
    page.check('[data-role="hours-on"]')
    expect(page.locator('[data-role="timezone"]')).to_have_value("Asia/Tokyo")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        row = page.locator(f'[data-day="{day}"]')
        row.locator('[name="open"]').check()
        row.locator('[name="opens"]').fill("10:00")
        row.locator('[name="closes"]').fill("19:00")
    page.fill('[data-role="holidays"]', "2026-12-31")
    page.fill('[data-role="targets"] [name="email"]', "480")
    page.click('[data-action="save-desk"]')
    expect(page.locator('[data-role="desk-message"]')).to_have_text(SAVED[locale])

    # a saved reply that reaches beyond its fields is refused in words; a good one is listed
    page.fill('[data-role="saved-form"] [name="title"]', "Hello")
    page.fill('[data-role="saved-form"] [name="body"]', "{{ customer_name.__class__ }}")
    page.click('[data-action="save-saved"]')
    expect(page.locator('[data-role="saved-message"]')).to_contain_text(REFUSED[locale])
    page.fill(
        '[data-role="saved-form"] [name="body"]', "{{ customer_name }}様、{{ order_number }}を確認しました。"
    )
    page.click('[data-action="save-saved"]')
    expect(page.locator('[data-role="saved-replies"] tr[data-saved-reply-id]')).to_have_count(1)
    expect(page.locator('[data-role="saved-replies"]')).to_contain_text("{{ customer_name }}様")
    screenshot(page, f"admin-desk-{locale}")
    assert problems(merchant) == []

    # then the API answers what the page saved
    token = session_token(SHOP)
    settings = httpx.get(
        f"{live_app.base_url}/api/v1/desk-settings", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert settings["business_hours"] == {
        "timezone": "Asia/Tokyo",
        "week": {day: {"opens": "10:00", "closes": "19:00"} for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-12-31"],
    }
    assert settings["first_response_minutes"]["email"] == 480

# ruff: noqa: F811 - tests take the imported `merchant` fixture by name
"""The embedded admin's FAQ page in headless Chromium, in Japanese, with Shopify's CDN out of reach: the
merchant writes an entry (its text shown as text, never as HTML), tries a question and sees the bot's
answer and the entry it came from, sees the store's policies read from Shopify, and switches the entry off.
Screenshot: ``tests/browser/artifacts/admin-faq-ja.png``."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.knowledge.policies import store_policies
from shop_app.models import FaqEntry, Shop
from tests.browser.conftest import SHOP, BrowserSession, LiveApp, screenshot
from tests.browser.test_embedded_admin import merchant, open_app, problems  # noqa: F401 - the fixture
from tests.knowledge.policy_texts import records

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)

HOSTILE = '<img src=x onerror="document.body.dataset.owned=1">'


async def _with_policies(app: LiveApp) -> None:
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = (await session.execute(select(Shop).where(col(Shop.domain) == SHOP))).scalar_one()
            assert shop.id is not None
            await store_policies(session, shop_id=shop.id, policies=records("ja"))
    finally:
        await engine.dispose()


async def _entries(app: LiveApp) -> list[FaqEntry]:
    engine = make_engine(app.settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            return list((await session.execute(select(FaqEntry))).scalars())
    finally:
        await engine.dispose()


def test_a_merchant_writes_an_faq_entry_and_tries_it_in_japanese(
    live_app: LiveApp, merchant: BrowserSession
) -> None:
    live_app.run(_with_policies(live_app))
    page = merchant.page
    open_app(page, live_app, "/app/faq", locale="ja")
    expect(page.locator('[data-role="policies"]')).to_contain_text("配送ポリシー")
    expect(page.locator('[data-role="faq-entries"]')).to_contain_text("よくある質問はまだありません。")

    # the merchant writes an entry, one of whose questions is hostile HTML
    form = page.locator('[data-role="faq-form"]')
    form.locator('[name="questions_ja"]').fill(
        f"ギフトラッピングはできますか\nプレゼント用の包装は？\n{HOSTILE}"
    )
    form.locator('[name="answer_ja"]').fill("ギフトラッピングは1点につき300円で承ります。")
    form.locator('[name="questions_en"]').fill("Do you offer gift wrapping?")
    form.locator('[name="answer_en"]').fill("Gift wrapping is 300 yen per item.")
    page.click('[data-action="save-faq"]')
    expect(page.locator('[data-role="faq-message"]')).to_have_text("保存しました。")
    rows = page.locator('[data-role="faq-entries"] tr[data-faq-entry-id]')
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(HOSTILE)  # shown as text
    assert page.locator('[data-role="faq-entries"] img').count() == 0
    assert page.evaluate("document.body.dataset.owned") is None

    # the try box: the bot would answer from the entry, and says which one and how well it matched
    page.fill('[data-role="try-text"]', "ラッピングはできますか")
    page.click('[data-action="try"]')
    result = page.locator('[data-role="try-result"]')
    expect(result.locator('[data-field="action"]')).to_have_text("回答する")
    expect(result.locator('[data-field="reply"]')).to_contain_text("1点につき300円")
    expect(result.locator('[data-field="reason"]')).to_contain_text(
        "十分に一致したため、ボットが回答します。"
    )
    expect(result.locator('[data-field="reason"]')).to_contain_text("faq:")
    expect(page.locator('[data-role="try-matches"] tr').first).to_contain_text("ギフトラッピングはできますか")
    screenshot(page, "admin-faq-ja")

    # a policy question is answered from the shipping policy; one about an own order goes to a person
    page.fill('[data-role="try-text"]', "送料はいくらですか")
    page.click('[data-action="try"]')
    expect(result.locator('[data-field="reply"]')).to_contain_text("全国一律800円")
    expect(result.locator('[data-field="reason"]')).to_contain_text("policy:SHIPPING_POLICY")
    page.fill('[data-role="try-text"]', "注文#1043を返品できますか")
    page.click('[data-action="try"]')
    expect(result.locator('[data-field="action"]')).to_have_text("担当者に引き継ぐ")

    # switched off, it no longer answers
    with page.expect_response(lambda response: response.url.endswith("/enabled")) as switched:
        rows.first.locator('input[type="checkbox"]').uncheck()
    assert switched.value.status == 200
    assert [entry.enabled for entry in live_app.run(_entries(live_app))] == [False]
    page.fill('[data-role="try-text"]', "ラッピングはできますか")
    page.click('[data-action="try"]')
    expect(result.locator('[data-field="action"]')).to_have_text("担当者に引き継ぐ")
    assert problems(merchant) == []


async def _return_window(app: LiveApp) -> int | None:
    from shop_app.models import AnswerSettings

    engine = make_engine(app.settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            row = (await session.execute(select(AnswerSettings))).scalars().first()
            return row.return_window_days if row is not None else None
    finally:
        await engine.dispose()


def test_the_return_window_is_prefilled_from_the_refund_policy_and_saved_in_japanese(
    live_app: LiveApp, merchant: BrowserSession
) -> None:
    live_app.run(_with_policies(live_app))
    page = merchant.page
    open_app(page, live_app, "/app/faq", locale="ja")

    # the refund policy's 「30日以内」 is shown with the passage it was read from, and prefills the field,
    # but nothing is set until the merchant saves it
    section = page.locator('[data-role="return-window-section"]')
    expect(section.locator('[data-role="return-window-detected"]')).to_contain_text(
        "返金ポリシーに30日と書かれています（policy:REFUND_POLICY#1）"
    )
    expect(section.locator('[data-role="return-window-days"]')).to_have_value("30")
    expect(section.locator('[data-role="return-window-message"]')).to_contain_text("まだ保存されていません")
    assert live_app.run(_return_window(live_app)) is None

    # the merchant sets 14 days instead
    section.locator('[data-role="return-window-days"]').fill("14")
    section.locator('[data-action="save-return-window"]').click()
    expect(section.locator('[data-role="return-window-message"]')).to_have_text("保存しました。")
    screenshot(page, "admin-return-window-ja")
    assert live_app.run(_return_window(live_app)) == 14
    open_app(page, live_app, "/app/faq", locale="ja")
    expect(page.locator('[data-role="return-window-days"]')).to_have_value("14")
    assert problems(merchant) == []

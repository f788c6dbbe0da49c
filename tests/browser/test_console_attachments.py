"""An email's attachments in the console, in headless Chromium, in Japanese: the agent sees the files under
the shopper's message, opens the picture (shown) and gets the page a stranger sent as a download, never as
a page of ours. Screenshot in ``tests/browser/artifacts/``."""

from __future__ import annotations

import os
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from integrations.mail.parsing import parse_mail
from shop_app.channels.email.addresses import Route
from shop_app.channels.email.inbound import receive_mail
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.models import Shop
from shop_app.shops.installation import get_shop
from tests.browser.conftest import SHOP, BrowserSession, LiveApp, screenshot, sign_in

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)

SUBJECT = "割れた湯呑み"


async def _mail_with_files(app: LiveApp) -> None:
    message = EmailMessage()
    message["From"] = "山田 花子 <hanako@example.jp>"
    message["To"] = "help@tokyo-tea.example"
    message["Subject"] = SUBJECT
    message["Message-ID"] = "<broken-cup@example.jp>"
    message.set_content("届いた湯呑みが割れていました。写真を添付します。")
    message.add_attachment(
        b"\x89PNG\r\n\x1a\n" + bytes(64), maintype="image", subtype="png", filename="湯呑み.png"
    )
    message.add_attachment(
        b"<script>alert(1)</script>", maintype="text", subtype="html", filename="注文.html"
    )
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = await get_shop(session, SHOP)
            assert isinstance(shop, Shop) and shop.id is not None
            route = Route(shop_id=shop.id, ticket_id=None, support_address="help@tokyo-tea.example")
            await receive_mail(
                session, route=route, mail=parse_mail(message.as_bytes()), data_dir=app.settings.data_dir
            )
    finally:
        await engine.dispose()


def test_an_agent_sees_and_opens_an_emails_attachments_in_japanese(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    live_app.run(_mail_with_files(live_app))
    page = wide.page
    sign_in(page, live_app)
    page.click('[data-lang="ja"]')
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.locator(".ticket-row", has_text="湯呑み").first.click()

    files = page.locator('.message-customer [data-field="attachments"] a')
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_have_text("湯呑み.png (72 B)")
    expect(files.nth(0)).to_have_attribute("title", "画像を開く")
    expect(files.nth(1)).to_have_text("注文.html (25 B)")
    screenshot(page, "console-attachments-ja")

    picture_url = files.nth(0).get_attribute("href")
    page_url = files.nth(1).get_attribute("href")
    assert picture_url and page_url
    picture = page.request.get(live_app.base_url + picture_url)
    assert picture.status == 200 and picture.headers["content-type"] == "image/png"
    stranger_page = page.request.get(live_app.base_url + page_url)
    assert stranger_page.headers["content-type"] == "application/octet-stream"
    assert stranger_page.headers["content-disposition"].startswith("attachment")
    assert wide.errors == []

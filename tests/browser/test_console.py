"""The agent console in headless Chromium against the running app: sign in, a ticket beside its customer's
orders and tracking links, a shipment webhook reaching the open sidebar live, the Japanese interface, markup
in messages shown as text and never run, and the narrow-window layout."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select, update
from sqlmodel import col

from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.helpdesk.sign_in_limits import sign_in_keys
from shop_app.models import Agent, Customer, Fulfillment, LimitScope, Order, Shop, SignInFailure, SyncState
from tests.browser.conftest import (
    AGENT_EMAIL,
    AGENT_NAME,
    NOW,
    PASSWORD,
    SHOP,
    YAMATO_NUMBER,
    BrowserSession,
    LiveApp,
    fulfillment_update,
    screenshot,
    sign_in,
)

# The browser tests are part of the suite: ./scripts/test installs chromium. Skipped only when asked.
pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)


HOSTILE_MESSAGE = (
    "<script>window.__pwned = 1; document.title = 'pwned'</script>"
    '<img src="x" onerror="window.__pwned = 2; document.title = \'pwned\'">'
    "Where is my order?"
)


def hanako_ticket(app: LiveApp) -> int:
    ticket = app.open_ticket(
        name="Hanako Yamada",
        email="Hanako@Example.jp",
        subject="Where is my tea?",
        message="Hello, my order #1002 has not arrived yet.",
    )
    return int(ticket["id"])


def open_ticket(page: Page, subject: str) -> None:
    page.locator(".ticket-row", has_text=subject).click()
    expect(page.locator('.conversation-title [data-field="subject"]')).to_have_text(subject)


def test_agent_signs_in_and_sees_the_orders_and_tracking_link_beside_the_chat(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: a ticket from the customer, matched by her email (written in other case)
    hanako_ticket(live_app)
    page = wide.page
    # when: the agent signs in and opens it
    sign_in(page, live_app, screenshot_as="console-login")
    expect(page.locator('[data-role="agent-name"]')).to_have_text(AGENT_NAME)
    expect(page.locator(".ticket-row")).to_have_count(1)
    row = page.locator(".ticket-row").first
    expect(row.locator('[data-field="contact"]')).to_have_text("Hanako Yamada")
    expect(row.locator('[data-field="badge"]')).to_have_attribute("data-kind", "linked")
    open_ticket(page, "Where is my tea?")
    # then: the chat, and beside it why the customer was matched, her orders newest first, the shipment
    expect(page.locator(".message-customer .message-body")).to_have_text(
        "Hello, my order #1002 has not arrived yet."
    )
    expect(page.locator('[data-field="link-reason"]')).to_have_text(re.compile("email", re.I))
    expect(page.locator(".order .order-name")).to_have_text(["#1002", "#1001"])
    newest = page.locator(".order").first
    expect(newest.locator(".item")).to_contain_text("Sencha Gift Box — Large")
    expect(newest.locator(".stock")).to_contain_text("3")
    link = newest.locator(".tracking-number a")
    expect(link).to_have_text(YAMATO_NUMBER)
    expect(link).to_have_attribute(
        "href", re.compile(rf"^https://[^/]*kuronekoyamato\.co\.jp/.*{YAMATO_NUMBER}")
    )
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(page.locator('[data-field="customer-name"]')).to_have_text("Hanako Yamada")
    expect(page.locator('[data-role="as-of"]')).not_to_be_empty()
    # three columns side by side at 1280 px
    boxes = [
        page.locator(selector).bounding_box()
        for selector in (".pane-list", ".pane-conversation", ".pane-profile")
    ]
    assert all(box is not None for box in boxes)
    lefts = [box["x"] for box in boxes if box is not None]
    assert lefts == sorted(lefts) and len(set(lefts)) == 3
    # a reply and an internal note go out and are shown differently
    page.fill('[data-role="reply-body"]', "It left our depot yesterday.")
    page.click('[data-role="reply-send"]')
    expect(page.locator(".message-agent .message-body")).to_have_text("It left our depot yesterday.")
    page.check('[data-role="reply-note"]')
    page.fill('[data-role="reply-body"]', "Customer is VIP, offer a coupon if late.")
    page.click('[data-role="reply-send"]')
    expect(page.locator(".message-note .message-body")).to_have_text(
        "Customer is VIP, offer a coupon if late."
    )
    screenshot(page, "console-1280-ticket-with-profile")
    assert wide.errors == []


def test_a_fulfillment_webhook_updates_the_open_sidebar_without_a_reload(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: the agent has the ticket open, with the shipment in transit
    hanako_ticket(live_app)
    page = wide.page
    sign_in(page, live_app)
    open_ticket(page, "Where is my tea?")
    shipment = page.locator(".order").first.locator(".shipment")
    expect(shipment.locator(".tracking-number")).to_have_count(1)
    status_before = shipment.locator('[data-field="status"]').inner_text()
    page.evaluate("window.__stillTheSamePage = true")
    # when: Shopify says the parcel was delivered and got a second tracking number
    second = "987654321098"
    live_app.webhook(
        "fulfillments/update",
        fulfillment_update(shipment_status="delivered", tracking_numbers=[YAMATO_NUMBER, second]),
    )
    # then: the sidebar shows it, and the page was never reloaded
    expect(shipment.locator(".tracking-number")).to_have_count(2, timeout=10_000)
    expect(shipment.locator(".tracking-number a").nth(1)).to_have_text(second)
    expect(shipment.locator('[data-field="status"]')).not_to_have_text(status_before)
    assert page.evaluate("window.__stillTheSamePage") is True
    # and a new customer message arrives in the open conversation the same way
    ticket_id = int(page.locator(".ticket-row").first.get_attribute("data-ticket-id") or 0)
    with live_app.api() as client:
        answer = client.post(
            f"/api/v1/tickets/{ticket_id}/messages",
            json={"body": "Got it, thank you!", "author_type": "customer"},
        )
        assert answer.status_code == 201, answer.text
    expect(page.locator(".message-customer .message-body").last).to_have_text("Got it, thank you!")
    expect(page.locator('.ticket-row [data-field="preview"]').first).to_contain_text("Got it")
    assert page.evaluate("window.__stillTheSamePage") is True
    shipment.scroll_into_view_if_needed()
    screenshot(page, "console-live-shipment-update")
    assert wide.errors == []


def test_the_console_speaks_japanese(live_app: LiveApp, wide: BrowserSession) -> None:
    hanako_ticket(live_app)
    page = wide.page
    sign_in(page, live_app)
    # when: the agent switches to Japanese with the ticket open
    open_ticket(page, "Where is my tea?")
    page.click('[data-lang="ja"]')
    # then: the same ticket, in Japanese words, money in yen and dates as the shop's locale writes them
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator('[data-status="open"]')).to_have_text("未対応")
    expect(page.locator('.conversation-title [data-field="subject"]')).to_have_text("Where is my tea?")
    expect(page.locator('[data-role="reply-send"]')).to_have_text("送信")
    expect(page.locator('[data-role="as-of"]')).to_contain_text("時点")
    newest = page.locator(".order").first
    expect(newest.locator('[data-field="total"]')).to_contain_text("6,400")
    expect(newest.locator('[data-field="placed"]')).to_contain_text("2026/11/18")
    expect(newest.locator('[data-field="delivery"]')).to_contain_text("時間帯")
    expect(page.locator('[data-field="link-reason"]')).to_have_text(re.compile("メール"))
    expect(page.locator('[data-role="live"]')).to_have_text("リアルタイム")
    screenshot(page, "console-japanese")
    # the choice stays on the next visit
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    # signing out ends the session: the console sends the browser to sign in, in Japanese
    page.click('[data-action="sign-out"]')
    page.wait_for_url("**/console/login")
    page.goto(f"{live_app.base_url}/console")
    page.wait_for_url("**/console/login")
    expect(page.locator("h2")).to_have_text("ログイン")
    assert wide.errors == []


def test_a_held_back_sign_in_says_how_long_to_wait_in_the_agents_language(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: this browser's address has failed to sign in so often that it waits the longest
    keys = sign_in_keys(
        shop=SHOP, email=AGENT_EMAIL, address="127.0.0.1", key=live_app.settings.session_secret.reveal()
    )
    live_app.run(hold_back(live_app, keys.address, failures=30))
    page = wide.page
    page.goto(f"{live_app.base_url}/console/login?lang=ja")
    # when: the agent signs in with the right password
    page.fill('input[name="shop"]', SHOP)
    page.fill('input[name="email"]', AGENT_EMAIL)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    # then: the page says, in Japanese, for how long; and in English after switching
    error = page.locator('[data-role="error"]')
    expect(error).to_have_text("ログインの失敗が続いたため、60分後にもう一度お試しください。")
    page.click('[data-lang="en"]')
    page.fill('input[name="email"]', AGENT_EMAIL)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(error).to_have_text("Too many failed sign-ins. Please wait 60 minutes and try again.")
    assert page.url.endswith("/console/login?lang=en")


async def first_import_running(app: LiveApp) -> None:
    """The shop's first import a tenth of the way, and its rows last written by Shopify at 03:00 UTC."""
    engine = make_engine(app.settings.database_url)
    synced = NOW.replace(hour=3, minute=0)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop_id = (
                await session.execute(select(col(Shop.id)).where(col(Shop.domain) == SHOP))
            ).scalar_one()
            for table in (Customer, Order, Fulfillment):
                await session.execute(
                    update(table).where(col(table.shop_id) == shop_id).values(synced_at=synced)
                )
            session.add(
                SyncState(
                    shop_id=shop_id,
                    phase="backfilling",
                    progress={
                        "resources": {"orders": {"done": 232, "total": 2000, "mode": "pages"}},
                        "eta_seconds": 830.0,
                    },
                    lease_owner="worker",
                    lease_until=datetime.now(UTC) + timedelta(minutes=10),
                )
            )
    finally:
        await engine.dispose()


def test_the_profile_says_how_fresh_its_data_is_and_that_the_first_import_is_running(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: the shop's first import is running, and Hanako's records were last written at 12:00 Tokyo
    hanako_ticket(live_app)
    live_app.run(first_import_running(live_app))
    page = wide.page
    sign_in(page, live_app)
    # when: the agent opens her ticket
    open_ticket(page, "Where is my tea?")
    # then: the profile is as of the data, not of the reading, and warns that it may be partial
    expect(page.locator('[data-role="as-of"]')).to_have_text("Shopify data as of Nov 20, 2026, 12:00 PM")
    importing = page.locator('[data-role="importing"]')
    expect(importing).to_be_visible()
    expect(importing).to_have_text("Still importing: 232 of 2,000 orders · about 14 min left")
    page.locator(".pane-profile").scroll_into_view_if_needed()
    screenshot(page, "console-profile-importing-en")
    # and in Japanese
    page.click('[data-lang="ja"]')
    expect(page.locator('[data-role="as-of"]')).to_have_text("Shopify のデータ：2026/11/20 12:00 時点")
    expect(importing).to_have_text("取り込み中：注文 2,000件中 232件 · 残り約14分")
    screenshot(page, "console-profile-importing-ja")
    assert wide.errors == []


async def hold_back(app: LiveApp, address_digest: str, *, failures: int) -> None:
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            session.add_all(
                SignInFailure(scope=LimitScope.ADDRESS, key_digest=address_digest) for _ in range(failures)
            )
    finally:
        await engine.dispose()


async def _agent_speaks(app: LiveApp, locale: str) -> None:
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            await session.execute(update(Agent).where(col(Agent.email) == AGENT_EMAIL).values(locale=locale))
    finally:
        await engine.dispose()


def test_the_language_chosen_at_sign_in_is_the_consoles(live_app: LiveApp, wide: BrowserSession) -> None:
    # given: an agent stored as Japanese-speaking, and a browser that asks for English
    live_app.run(_agent_speaks(live_app, "ja"))
    page = wide.page
    # when: they sign in on the English sign-in page
    sign_in(page, live_app)
    # then: the console stays in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('[data-status="open"]')).to_have_text("Open")
    expect(page.locator('[data-action="sign-out"]')).to_have_text("Sign out")

    # when: they sign out, pick 日本語 on the sign-in page, and sign in again
    page.click('[data-action="sign-out"]')
    page.wait_for_url("**/console/login")
    page.click('[data-lang="ja"]')
    expect(page.locator("h2")).to_have_text("ログイン")
    page.fill('input[name="shop"]', SHOP)
    page.fill('input[name="email"]', AGENT_EMAIL)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{live_app.base_url}/console")
    # then: the console is in Japanese, and stays so on the next visit
    expect(page.locator('[data-status="open"]')).to_have_text("未対応")
    expect(page.locator('[data-action="sign-out"]')).to_have_text("ログアウト")
    screenshot(page, "console-language-from-sign-in")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert wide.errors == []


def test_signing_out_as_the_console_opens_ends_the_session(live_app: LiveApp, wide: BrowserSession) -> None:
    # given: a signed-in agent's console, opened again, still waiting for its session (which brings the
    # token every write needs)
    page = wide.page
    sign_in(page, live_app)
    held: list[Route] = []

    def hold_the_session_load(route: Route) -> None:
        if route.request.method == "GET":
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v1/session", hold_the_session_load)
    page.goto(f"{live_app.base_url}/console", wait_until="domcontentloaded")
    while not held:
        page.wait_for_timeout(10)

    # when: the agent signs out at once, and only then the session arrives
    page.click('[data-action="sign-out"]')
    page.wait_for_timeout(300)
    held[0].continue_()

    # then: the session really ended: the console sends the browser to sign in again
    page.wait_for_url("**/console/login")
    page.unroute("**/api/v1/session")
    page.goto(f"{live_app.base_url}/console")
    page.wait_for_url("**/console/login")
    assert wide.errors == []


def test_markup_in_messages_is_shown_as_text_and_never_runs(live_app: LiveApp, wide: BrowserSession) -> None:
    # given: a ticket whose contact, subject and message are markup
    live_app.open_ticket(
        name="<b>Mallory</b>",
        email="mallory@example.com",
        subject="<img src=x onerror=\"document.title='pwned'\">Help",
        message=HOSTILE_MESSAGE,
    )
    page = wide.page
    sign_in(page, live_app)
    title = page.title()
    # when: the agent opens it and replies with markup too
    page.locator(".ticket-row").first.click()
    body = page.locator(".message-customer .message-body")
    expect(body).to_have_text(HOSTILE_MESSAGE)
    page.fill('[data-role="reply-body"]', '<img src="y" onerror="window.__pwned = 3">')
    page.click('[data-role="reply-send"]')
    expect(page.locator(".message-agent .message-body")).to_have_text(
        '<img src="y" onerror="window.__pwned = 3">'
    )
    # then: every piece is text; nothing ran and no element was made from it
    expect(page.locator('.conversation-title [data-field="subject"]')).to_have_text(
        "<img src=x onerror=\"document.title='pwned'\">Help"
    )
    expect(page.locator('.ticket-row [data-field="contact"]')).to_have_text("<b>Mallory</b>")
    page.wait_for_timeout(300)  # give an injected handler the time it would need
    assert page.evaluate("window.__pwned") is None
    assert page.title() == title != "pwned"
    assert page.locator(".messages img, .messages script, .tickets img, .tickets b").count() == 0
    screenshot(page, "console-markup-as-text")
    assert wide.errors == []


def test_a_narrow_window_shows_list_then_conversation_then_profile_with_back_navigation(
    live_app: LiveApp, narrow: BrowserSession
) -> None:
    hanako_ticket(live_app)
    page = narrow.page
    sign_in(page, live_app)
    list_pane, conversation, profile = (
        page.locator(s) for s in (".pane-list", ".pane-conversation", ".pane-profile")
    )
    # the list alone
    expect(list_pane).to_be_visible()
    expect(conversation).to_be_hidden()
    expect(profile).to_be_hidden()
    screenshot(page, "console-400-list")
    # a ticket: the conversation alone, with a way back and a way to the customer
    page.locator(".ticket-row").first.click()
    expect(conversation).to_be_visible()
    expect(list_pane).to_be_hidden()
    expect(page.locator(".message-customer")).to_have_count(1)
    box = conversation.bounding_box()
    assert box is not None and box["width"] <= 400
    screenshot(page, "console-400-conversation")
    page.click('[data-action="show-profile"]')
    expect(profile).to_be_visible()
    expect(conversation).to_be_hidden()
    expect(page.locator(".tracking-number a").first).to_have_text(YAMATO_NUMBER)
    screenshot(page, "console-400-profile")
    # back, and back again (the browser's own back button too)
    page.click('[data-action="back-to-conversation"]')
    expect(conversation).to_be_visible()
    page.go_back()
    expect(profile).to_be_visible()
    page.click('[data-action="back-to-conversation"]')
    page.click('[data-action="back-to-list"]')
    expect(list_pane).to_be_visible()
    expect(conversation).to_be_hidden()
    # nothing wider than the window
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert narrow.errors == []


def test_the_ticket_list_filters_by_tab_view_and_search_and_loads_more_pages(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: Hanako's ticket and 26 newer ones from other people (more than one page of 25)
    hanako_ticket(live_app)
    for number in range(26):
        live_app.open_ticket(
            name=f"Shopper {number}",
            email=f"shopper{number}@example.com",
            subject=f"Question {number}",
            message="Hi",
        )
    page = wide.page
    sign_in(page, live_app)
    rows = page.locator(".ticket-row")
    # when: the list is scrolled to its end, the next page comes
    expect(rows).to_have_count(25)
    page.locator('[data-role="more"]').scroll_into_view_if_needed()
    expect(rows).to_have_count(27)
    expect(page.locator('[data-role="more"]')).to_be_hidden()
    # a search by order name finds the customer's ticket only
    page.fill('[data-role="search"]', "#1002")
    expect(rows).to_have_count(1)
    expect(rows.first.locator('[data-field="contact"]')).to_have_text("Hanako Yamada")
    page.fill('[data-role="search"]', "")
    expect(rows).to_have_count(25)
    # "mine" is empty until the agent takes the ticket
    page.click('[data-view="mine"]')
    expect(page.locator('[data-role="list-status"]')).to_have_text("No tickets here.")
    page.click('[data-view="all"]')
    open_ticket(page, "Question 25")
    page.select_option('[data-role="assignee"]', label=f"{AGENT_NAME} (me)")
    expect(rows.first.locator('[data-field="assignee"]')).to_have_text(AGENT_NAME)
    page.click('[data-view="mine"]')
    expect(rows).to_have_count(1)
    # setting it pending moves it from the open tab to the pending one
    page.select_option('[data-role="status"]', "pending")
    expect(rows).to_have_count(0)
    page.click('[data-status="pending"]')
    expect(rows).to_have_count(1)
    expect(rows.first.locator('[data-field="subject"]')).to_have_text("Question 25")
    screenshot(page, "console-list-pending-mine")
    assert wide.errors == []


def test_an_agent_unlinks_and_relinks_the_customer_from_the_sidebar(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    hanako_ticket(live_app)
    page = wide.page
    sign_in(page, live_app)
    open_ticket(page, "Where is my tea?")
    expect(page.locator(".order")).to_have_count(2)
    # when: the agent says this is not the right customer
    page.click('[data-action="unlink"]')
    # then: the ticket stays, without a customer or orders
    expect(page.locator('[data-field="link-badge"]')).to_have_attribute("data-kind", "unlinked")
    expect(page.locator(".order")).to_have_count(0)
    expect(page.locator(".message-customer")).to_have_count(1)
    expect(page.locator('.ticket-row [data-field="badge"]')).to_have_attribute("data-kind", "unlinked")
    # when: the agent finds the customer by phone and links her
    page.fill('[data-role="customer-search"] input', "090-1234-5678")
    page.click('[data-role="customer-search"] button')
    choice = page.locator('[data-role="customer-results"] .choice')
    expect(choice).to_have_count(1)
    expect(choice.locator('[data-field="name"]')).to_have_text("Hanako Yamada")
    choice.locator("button").click()
    # then: linked by the agent, the orders are back, and nothing of the other shop's same-id customer shows
    expect(page.locator('[data-field="link-badge"]')).to_have_attribute("data-kind", "linked")
    expect(page.locator('[data-field="link-detail"]')).to_contain_text(AGENT_NAME)
    expect(page.locator(".order .order-name")).to_have_text(["#1002", "#1001"])
    expect(page.locator('[data-field="customer-name"]')).to_have_text("Hanako Yamada")
    screenshot(page, "console-relinked-by-agent")
    assert wide.errors == []


def test_a_conversation_the_bot_settled_waits_under_resolved_by_the_bot(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: a shopper's question the bot answers by itself (the order proved by its email)
    ticket = live_app.open_ticket(
        name="Hanako Yamada",
        email="Hanako@Example.jp",
        subject="Order 1001",
        message="Where is my order #1001? My email is hanako@example.jp",
    )
    with live_app.api() as client:
        answered = client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"post": True})
    assert answered.status_code == 200, answered.text
    assert answered.json()["decision"]["action"] == "reply", answered.json()["decision"]["reason"]
    page = wide.page
    sign_in(page, live_app)
    rows = page.locator(".ticket-row")
    # then: the open queue does not hold it; the resolved tab does, marked as the bot's
    expect(page.locator('[data-role="list-status"]')).to_have_text("No tickets here.")
    page.click('[data-status="resolved"]')
    expect(rows).to_have_count(1)
    expect(rows.first.locator('[data-field="assignee"]')).to_have_text("Resolved by the bot")
    open_ticket(page, "Order 1001")
    expect(page.locator('.conversation-title [data-field="resolved-by"]')).to_be_visible()
    expect(page.locator('[data-field="link-reason"]')).to_have_text("verified order #1001")
    screenshot(page, "console-resolved-by-the-bot")
    assert wide.errors == []


async def _megumi(app: LiveApp) -> None:
    """A Japanese customer with an order to a postcode written without its hyphen, as shoppers type it."""
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop_id = (
                await session.execute(select(col(Shop.id)).where(col(Shop.domain) == SHOP))
            ).scalar_one()
            session.add(
                Customer(
                    shop_id=shop_id,
                    shopify_id=7_002,
                    first_name="恵",
                    last_name="井上",
                    email="megumi@example.jp",
                    phone="+819011112222",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            session.add(
                Order(
                    shop_id=shop_id,
                    shopify_id=8_003,
                    name="#1003",
                    customer_shopify_id=7_002,
                    email="megumi@example.jp",
                    created_at=NOW,
                    updated_at=NOW,
                    financial_status="PAID",
                    fulfillment_status="UNFULFILLED",
                    currency="JPY",
                    total_price="3200.00",
                    subtotal_price="3200.00",
                    shipping_address={
                        "name": "井上 恵",
                        "zip": "1600023",
                        "province": "東京都",
                        "city": "新宿区",
                        "address1": "西新宿2-8-1",
                        "country": "Japan",
                        "country_code": "JP",
                    },
                )
            )
    finally:
        await engine.dispose()


def test_a_japanese_customer_is_named_family_name_first_with_a_marked_postcode(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: 井上 恵 (given name 恵) writes in without typing her name; her email links her
    live_app.run(_megumi(live_app))
    with live_app.api() as client:
        opened = client.post(
            "/api/v1/tickets",
            json={
                "contact": {"email": "megumi@example.jp"},
                "channel": "web_chat",
                "message": "注文#1003はいつ届きますか？",
            },
        )
    assert opened.status_code == 201, opened.text
    page = wide.page
    # when: the agent opens the console in Japanese
    sign_in(page, live_app)
    page.click('[data-lang="ja"]')
    row = page.locator(".ticket-row").first
    # then: the list names her family name first, under a subject that is not her message repeated
    expect(row.locator('[data-field="contact"]')).to_have_text("井上 恵")
    expect(row.locator('[data-field="subject"]')).to_have_text("配送状況の確認 #1003")
    open_ticket(page, "配送状況の確認 #1003")
    # and the profile: her name in the same order, her phone as a Japanese number, the postcode marked
    expect(page.locator('[data-field="customer-name"]')).to_have_text("井上 恵")
    expect(page.locator('[data-role="facts"]')).to_contain_text("090-1111-2222")
    address = page.locator(".order").first.locator('[data-field="address"]')
    expect(address).to_contain_text("〒160-0023")
    expect(address).to_contain_text("井上 恵")
    screenshot(page, "console-japanese-name-and-postcode")
    assert wide.errors == []

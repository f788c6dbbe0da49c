"""An agent refunds one line of an order from the console's order card, in Japanese, in headless Chromium:
the app (on a socket) installed into the simulated store (on another socket) through the authorization code
grant, its mirror imported, the optional write scopes granted; the refund is previewed with Shopify's
figures, confirmed, applied once in the store and shown on the card."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from devstore.config import StoreConfig
from devstore.generator.shops import HINODE_SHOP
from devstore.server import create_store_app
from shop_app.actions.policy import load_policy, save_policy
from shop_app.database import make_engine, make_session_factory, transaction
from shop_app.helpdesk.agents import add_membership, create_agent
from shop_app.helpdesk.api_keys import create_api_key
from shop_app.main import create_app
from shop_app.models import Customer, Order, OrderLineItem, Role, Shop
from shop_app.settings import Settings
from tests.browser.conftest import (
    NEW_ORDER_ID,
    SHOP,
    STARTUP_TIMEOUT_SECONDS,
    BrowserSession,
    LiveApp,
    _free_socket,
    open_browser,
    screenshot,
    sign_in,
)
from tests.conftest import TEST_API_KEY, TEST_API_SECRET

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)

WRITE_SCOPES = ",write_orders,write_merchant_managed_fulfillment_orders"
AGENT_EMAIL = "kenji@hinode.test"
PASSWORD = "refunds need care 0123"
MIRROR_WAIT_SECONDS = 60.0
PROFILE_ORDERS = 10  # the profile's newest orders
HOSTILE = '<img src=x onerror="window.__owned=1">抹茶'


class Served:
    """An ASGI app under uvicorn on its own socket and event loop thread."""

    def __init__(self, name: str) -> None:
        self.sock = _free_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()
        self.server: uvicorn.Server | None = None
        self.serving: Any = None

    def start(self, app: Any) -> None:
        config = uvicorn.Config(app, log_level="warning", ws="none", http="h11", lifespan="on")
        config.timeout_graceful_shutdown = 2
        self.server = uvicorn.Server(config)
        self.serving = asyncio.run_coroutine_threadsafe(self.server.serve(sockets=[self.sock]), self.loop)
        deadline = self.loop.time() + STARTUP_TIMEOUT_SECONDS * 2
        while not self.server.started:
            assert not self.serving.done(), self.serving.exception()
            assert self.loop.time() < deadline, "the server did not start"
            threading.Event().wait(0.05)

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.serving.result(timeout=15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        self.sock.close()


@dataclass
class Installed:
    app: Served
    store: Served
    settings: Settings
    api_key: str


async def _mirrored_orders(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            return len((await session.execute(select(Order.id))).all())
    finally:
        await engine.dispose()


async def _grant_and_staff(settings: Settings) -> str:
    """The merchant granted the optional write scopes; an admin agent and an API key for the shop."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = (await session.execute(select(Shop).where(Shop.domain == HINODE_SHOP))).scalars().one()
            shop.scopes += WRITE_SCOPES
            shop.primary_locale = "ja"
            agent = await create_agent(session, email=AGENT_EMAIL, name="佐藤 健二", password=PASSWORD)
            await add_membership(session, shop=shop, agent=agent, role=Role.ADMIN)
            _row, key = await create_api_key(session, shop=shop, name="storefront chat")
            return key
    finally:
        await engine.dispose()


async def _refundable(settings: Settings) -> tuple[Order, OrderLineItem, str, Order]:
    """A paid order with a line and another, shipped order of the same customer, both among the orders the
    profile shows."""
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            by_customer: dict[int, list[Order]] = {}
            for order in (await session.execute(select(Order))).scalars():
                if order.customer_shopify_id is not None:
                    by_customer.setdefault(order.customer_shopify_id, []).append(order)
            for customer_id, orders in by_customer.items():
                shown = sorted(orders, key=lambda found: found.created_at, reverse=True)[:PROFILE_ORDERS]
                paid = [
                    found
                    for found in shown
                    if found.financial_status == "PAID" and found.cancelled_at is None
                ]
                shipped = [
                    found
                    for found in shown
                    if found.fulfillment_status in {"FULFILLED", "PARTIALLY_FULFILLED"}
                    and found.cancelled_at is None
                ]
                customer = (
                    (await session.execute(select(Customer).where(Customer.shopify_id == customer_id)))
                    .scalars()
                    .first()
                )
                others = [found for found in shipped if paid and found.id != paid[0].id]
                if not (paid and others and customer is not None and customer.email):
                    continue
                lines = list(
                    (await session.execute(select(OrderLineItem).where(OrderLineItem.order_id == paid[0].id)))
                    .scalars()
                    .all()
                )
                if lines:
                    return paid[0], lines[0], customer.email, others[0]
    finally:
        await engine.dispose()
    raise AssertionError("no customer with a paid order and another shipped one")


@pytest.fixture
def installed(settings: Settings, tmp_path: Path) -> Iterator[Installed]:
    store = Served("order-actions-store")
    app = Served("order-actions-app")
    try:
        store_config = StoreConfig(
            data_dir=tmp_path / "store",
            public_url=store.url,
            apps={TEST_API_KEY: TEST_API_SECRET},
            compliance_urls={TEST_API_KEY: f"{app.url}/webhooks/compliance"},
            app_urls={TEST_API_KEY: f"{app.url}/app"},
            auto_approve=True,
            orders=30,
            customers=10,
            products=5,
            webhook_time_scale=0.0001,
        )
        store.start(create_store_app(store_config))
        app_settings = replace(
            settings,
            app_url=app.url,
            host="127.0.0.1",
            port=int(app.url.rsplit(":", 1)[1]),
            shop_url_template=f"{store.url}/s/{{shop}}",
            register_webhooks=True,
        )
        app.start(create_app(app_settings))
        with httpx.Client(follow_redirects=True, timeout=30) as client:
            limits = client.post(f"{store.url}/_devstore/throttle", json={"restoreRate": 1000})
            assert limits.status_code == 200
            page = client.get(f"{app.url}/auth/install", params={"shop": HINODE_SHOP})
            assert page.status_code == 200, page.text[:500]
        deadline = app.loop.time() + MIRROR_WAIT_SECONDS
        while app.run(_mirrored_orders(app_settings)) < store_config.orders:
            assert app.loop.time() < deadline, "the mirror never imported the store's orders"
            threading.Event().wait(0.2)
        key = app.run(_grant_and_staff(app_settings))
        yield Installed(app=app, store=store, settings=app_settings, api_key=key)
    finally:
        app.stop()
        store.stop()


def test_an_agent_refunds_one_line_from_the_order_card_in_japanese(
    installed: Installed, browser: Browser
) -> None:
    # given: a shopper's ticket about their newest order, paid and not shipped
    order, line, email, shipped = installed.app.run(_refundable(installed.settings))
    with httpx.Client(
        base_url=installed.app.url, headers={"Authorization": f"Bearer {installed.api_key}"}, timeout=10
    ) as client:
        opened = client.post(
            "/api/v1/tickets",
            json={
                "contact": {"name": "山田 花子", "email": email},
                "channel": "web_chat",
                "subject": "返金のお願い",
                "message": "一点だけ返金してください",
            },
        )
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["id"]
    agent = open_browser(browser, width=1440, height=900, locale="ja-JP")
    try:
        page = agent.page
        page.goto(f"{installed.app.url}/console/login?locale=ja")
        page.fill('input[name="shop"]', HINODE_SHOP)
        page.fill('input[name="email"]', AGENT_EMAIL)
        page.fill('input[name="password"]', PASSWORD)
        page.click('button[type="submit"]')
        page.wait_for_url(f"{installed.app.url}/console")
        page.goto(f"{installed.app.url}/console#/tickets/{ticket_id}")
        card = page.locator(f'.order[data-order-id="{order.shopify_id}"]')
        # when: the agent opens the refund dialog on the order's card and asks for one item
        refund = card.locator('[data-field="action-buttons"] button[data-kind="refund"]')
        expect(refund).to_have_text("返金")
        refund.click()
        dialog = page.locator('[data-role="action-dialog"]')
        expect(dialog.locator('[data-field="title"]')).to_contain_text(order.name)
        dialog.locator(f'input[data-line-item-id="{line.shopify_id}"]').fill("1")
        dialog.locator('[data-role="action-preview"]').click()
        # then: Shopify's figures in Japanese and yen, and the confirmation is a separate, explicit step
        preview = dialog.locator('[data-field="preview"]')
        expect(preview).to_contain_text("Shopifyの試算")
        expect(preview).to_contain_text("税額")
        expect(preview).to_contain_text("返金額の合計")
        unit = Decimal(line.unit_price or "0")
        expect(preview).to_contain_text(f"￥{unit:,.0f}")
        assert _applied(installed.store.url) == {}, "nothing is sent before the confirmation"
        screenshot(page, "console-refund-preview-ja")
        dialog.locator('[data-role="action-confirm"]').click()
        outcome = dialog.locator('[data-field="outcome"]')
        expect(outcome).to_contain_text("Shopifyで実行しました。")
        expect(outcome).to_have_attribute("data-status", "applied")
        dialog.locator('[data-role="action-close"]').click()
        # and the card shows the refund, applied once in the store
        history = page.locator(f'.order[data-order-id="{order.shopify_id}"] [data-field="action-history"]')
        expect(history.locator('[data-kind="refund"][data-status="applied"]')).to_contain_text("実行済み")
        expect(history).to_contain_text(order.name)
        # Shopify's answer read back into the mirror: the order is refunded now
        card = page.locator(f'.order[data-order-id="{order.shopify_id}"]')
        refunded = re.compile(r"^(partially_)?refunded$")  # all of the order when it was its only item
        expect(card.locator('[data-field="financial"]')).to_have_attribute("data-code", refunded)
        # the card may be drawn again as the store's webhooks arrive: found afresh on each call
        page.evaluate(
            "id => document.querySelector(`.order[data-order-id='${id}']`)?.scrollIntoView()",
            str(order.shopify_id),
        )
        screenshot(page, "console-refund-done-ja")
        assert _applied(installed.store.url) == {"refundCreate": 1}
        # and cancelling a shipped order: previewed with a warning, then Shopify's refusal in words
        page.locator(
            f'.order[data-order-id="{shipped.shopify_id}"] [data-field="action-buttons"] button[data-kind="cancel"]'
        ).click()
        dialog.locator('[data-role="action-preview"]').click()
        expect(dialog.locator('[data-field="preview"]')).to_contain_text("この注文は発送済みです。")
        dialog.locator('[data-role="action-confirm"]').click()
        expect(dialog.locator('[data-field="outcome"]')).to_have_attribute("data-status", "rejected")
        expect(dialog.locator('[data-field="outcome"]')).to_contain_text("Shopifyが受け付けませんでした。")
        expect(dialog.locator('[data-field="outcome"]')).to_contain_text("Shopifyの回答：")
        screenshot(page, "console-cancel-refused-ja")
        dialog.locator('[data-role="action-close"]').click()
        # and above the shop's approval amount, a cancellation waits for another admin: nothing is sent
        installed.app.run(_approval_above(installed.settings, "1"))
        page.locator(
            f'.order[data-order-id="{shipped.shopify_id}"] [data-field="action-buttons"] button[data-kind="cancel"]'
        ).click()
        dialog.locator('[data-role="action-preview"]').click()
        expect(dialog.locator('[data-field="preview"]')).to_contain_text("管理者の承認待ちになります")
        dialog.locator('[data-role="action-confirm"]').click()
        expect(dialog.locator('[data-field="outcome"]')).to_have_attribute("data-status", "awaiting_approval")
        expect(dialog.locator('[data-field="outcome"]')).to_contain_text("管理者の承認待ちです")
        screenshot(page, "console-cancel-awaiting-approval-ja")
        dialog.locator('[data-role="action-close"]').click()
        expect(
            page.locator(f'.order[data-order-id="{shipped.shopify_id}"] [data-status="awaiting_approval"]')
        ).to_contain_text("承認待ち")
        assert _applied(installed.store.url) == {"refundCreate": 1}
        assert [error for error in agent.errors if "Failed to load resource" not in error] == []
    finally:
        agent.context.close()


async def _approval_above(settings: Settings, amount: str) -> None:
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = (await session.execute(select(Shop).where(Shop.domain == HINODE_SHOP))).scalars().one()
            policy = await load_policy(session, shop_id=shop.id or 0)
            policy.approval_amount = amount
            await save_policy(session, policy=policy)
    finally:
        await engine.dispose()


def _applied(store_url: str) -> dict[str, int]:
    """The mutations the store applied for the shop, counted on its side."""
    answer = httpx.get(f"{store_url}/_devstore/mutations/{HINODE_SHOP}", timeout=10)
    counts: dict[str, int] = answer.json()
    return counts


def test_without_the_write_scopes_the_card_says_why_the_actions_are_hidden(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: a shop that has not granted the optional write scopes, and a ticket linked to its customer
    live_app.open_ticket(
        name="Hanako Yamada", email="hanako@example.jp", subject="返金について", message="返金できますか"
    )
    page = wide.page
    sign_in(page, live_app)
    page.click('[data-lang="ja"]')
    # when: the agent opens the ticket
    page.locator(".ticket-row", has_text="返金について").click()
    # then: the order's card offers no action, and says which are hidden and why, in Japanese
    card = page.locator(f'.order[data-order-id="{NEW_ORDER_ID}"]')
    hidden = card.locator('[data-field="actions-hidden"]')
    expect(hidden).to_contain_text("アプリに注文の書き込み権限がありません")
    expect(hidden).to_contain_text("返金")
    expect(card.locator('[data-field="action-buttons"] button')).to_have_count(0)
    assert [error for error in wide.errors if "Failed to load resource" not in error] == []


async def _grant_with_a_hostile_title(app: LiveApp) -> None:
    engine = make_engine(app.settings.database_url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            shop = (await session.execute(select(Shop).where(Shop.domain == SHOP))).scalars().one()
            shop.scopes += WRITE_SCOPES
            for line in (await session.execute(select(OrderLineItem))).scalars():
                line.title = HOSTILE
    finally:
        await engine.dispose()


def test_a_line_title_with_markup_stays_text_in_the_refund_dialog(
    live_app: LiveApp, wide: BrowserSession
) -> None:
    # given: the write scopes granted, and a line whose title (the merchant's, or a synced one) is markup
    live_app.run(_grant_with_a_hostile_title(live_app))
    live_app.open_ticket(name="Hanako Yamada", email="hanako@example.jp", subject="返金", message="返金して")
    page = wide.page
    sign_in(page, live_app)
    page.locator(".ticket-row", has_text="返金").click()
    # when: the agent opens the refund dialog
    card = page.locator(f'.order[data-order-id="{NEW_ORDER_ID}"]')
    card.locator('[data-field="action-buttons"] button[data-kind="refund"]').click()
    dialog = page.locator('[data-role="action-dialog"]')
    # then: the title is shown as text, and no element came from it
    expect(dialog.locator(".refund-lines")).to_contain_text(HOSTILE)
    assert dialog.locator("img").count() == 0
    assert page.evaluate("window.__owned === undefined")
    assert [error for error in wide.errors if "Failed to load resource" not in error] == []


async def _unshipped(settings: Settings) -> tuple[Order, str]:
    """A paid order not shipped yet (its fulfillment order open), among its customer's newest."""
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            rows = await session.execute(
                select(Order, Customer)
                .join(Customer, Customer.shopify_id == Order.customer_shopify_id)  # type: ignore[arg-type]
                .where(Order.financial_status == "PAID", Order.fulfillment_status == "UNFULFILLED")
                .order_by(Order.created_at.desc())  # type: ignore[attr-defined]
            )
            for order, customer in rows:
                newest = (
                    await session.execute(
                        select(Order.id)
                        .where(Order.customer_shopify_id == customer.shopify_id)
                        .order_by(Order.created_at.desc())  # type: ignore[attr-defined]
                        .limit(PROFILE_ORDERS)
                    )
                ).scalars()
                if customer.email and order.cancelled_at is None and order.id in set(newest):
                    return order, customer.email
    finally:
        await engine.dispose()
    raise AssertionError("no paid, unshipped order among a customer's newest")


def _open_card(installed: Installed, page: Any, email: str, subject: str) -> None:
    with httpx.Client(
        base_url=installed.app.url, headers={"Authorization": f"Bearer {installed.api_key}"}, timeout=10
    ) as client:
        opened = client.post(
            "/api/v1/tickets",
            json={"contact": {"name": "山田 花子", "email": email}, "channel": "web_chat", "subject": subject,
                  "message": subject},
        )  # fmt: skip
    assert opened.status_code == 201, opened.text
    page.goto(f"{installed.app.url}/console/login?locale=ja")
    page.fill('input[name="shop"]', HINODE_SHOP)
    page.fill('input[name="email"]', AGENT_EMAIL)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{installed.app.url}/console")
    page.goto(f"{installed.app.url}/console#/tickets/{opened.json()['id']}")


def _act(page: Any, order: Order, kind: str) -> Any:
    """Open the card's dialog for this action; the dialog."""
    page.locator(
        f'.order[data-order-id="{order.shopify_id}"] [data-field="action-buttons"] button[data-kind="{kind}"]'
    ).click()
    return page.locator('[data-role="action-dialog"]')


def _confirmed(page: Any, dialog: Any, order: Order, kind: str, shot: str) -> None:
    dialog.locator('[data-role="action-confirm"]').click()
    outcome = dialog.locator('[data-field="outcome"]')
    expect(outcome).to_have_attribute("data-status", "applied")
    expect(outcome).to_contain_text("Shopifyで実行しました。")
    screenshot(page, shot)
    dialog.locator('[data-role="action-close"]').click()
    history = page.locator(f'.order[data-order-id="{order.shopify_id}"] [data-field="action-history"]')
    expect(history.locator(f'[data-kind="{kind}"][data-status="applied"]')).to_contain_text("実行済み")


def test_an_agent_changes_the_address_with_the_postcode_checked_then_holds_and_releases(
    installed: Installed, browser: Browser
) -> None:
    # given: a shopper's ticket about their newest order, paid and not shipped
    order, email = installed.app.run(_unshipped(installed.settings))
    agent = open_browser(browser, width=1440, height=900, locale="ja-JP")
    try:
        page = agent.page
        _open_card(installed, page, email, "住所を変更したい")
        # when: a Tokyo prefecture with an Osaka postcode
        dialog = _act(page, order, "address")
        expect(dialog.locator('[data-field="title"]')).to_contain_text("配送先住所の変更")
        for name, value in (("zip", "530-0001"), ("province_code", "JP-13"), ("city", "大阪市北区"),
                            ("address1", "梅田1-1-1")):  # fmt: skip
            dialog.locator(f'[name="{name}"]').fill(value)
        dialog.locator('[data-role="action-preview"]').click()
        # then: refused before Shopify, in Japanese, and no confirmation offered
        expect(dialog.locator('[data-field="error"]')).to_contain_text("郵便番号と都道府県が一致しません。")
        expect(dialog.locator('[data-role="action-confirm"]')).to_be_hidden()
        screenshot(page, "console-address-postcode-refused-ja")
        # when: the prefecture left to the postcode
        dialog.locator('[name="province_code"]').fill("")
        dialog.locator('[data-role="action-preview"]').click()
        # then: read back as on a Japanese parcel, postcode first, the prefecture from Japan Post
        preview = dialog.locator('[data-field="preview"]')
        expect(preview.locator(".address-line").first).to_have_text("〒530-0001")
        expect(preview).to_contain_text("大阪府大阪市北区梅田1-1-1")
        assert _applied(installed.store.url) == {}, "nothing is sent before the confirmation"
        screenshot(page, "console-address-preview-ja")
        _confirmed(page, dialog, order, "address", "console-address-done-ja")
        # and the order's fulfillment held, then released, from the same card
        dialog = _act(page, order, "hold")
        dialog.locator('[data-role="action-preview"]').click()
        expect(dialog.locator('[data-field="preview"]')).to_contain_text("発送を保留")
        _confirmed(page, dialog, order, "hold", "console-hold-done-ja")
        dialog = _act(page, order, "release_hold")
        dialog.locator('[data-role="action-preview"]').click()
        expect(dialog.locator('[data-field="preview"]')).to_contain_text("保留を解除")
        _confirmed(page, dialog, order, "release_hold", "console-release-hold-done-ja")
        assert _applied(installed.store.url) == {
            "orderUpdate": 1,
            "fulfillmentOrderHold": 1,
            "fulfillmentOrderReleaseHold": 1,
        }
        assert [error for error in agent.errors if "Failed to load resource" not in error] == []
    finally:
        agent.context.close()

"""The simulated store's demo storefront in headless Chromium: a shopper signs in with their email through
the storefront's own form, as the demo's README tells them to."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from devstore.config import StoreConfig
from devstore.generator.shops import HINODE_SHOP as HINODE
from devstore.server import create_store_app
from devstore.state import StoreState
from tests.browser.conftest import STARTUP_TIMEOUT_SECONDS, _free_socket, open_browser, screenshot

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOP_APP_SKIP_BROWSER_TESTS") == "1", reason="SHOP_APP_SKIP_BROWSER_TESTS=1"
)


@dataclass
class DemoStore:
    base_url: str
    state: StoreState


@pytest.fixture
def demo_store(tmp_path: Path) -> Iterator[DemoStore]:
    """The simulated store on a free port, its data generated small at startup."""
    config = StoreConfig(data_dir=tmp_path / "store", seed=7, orders=20, customers=12, products=6)
    app = create_store_app(config)
    sock = _free_socket()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="demo-store", daemon=True)
    thread.start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", http="h11", lifespan="on"))
    serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), loop)
    try:
        deadline = loop.time() + STARTUP_TIMEOUT_SECONDS * 2
        while not server.started:
            assert not serving.done(), serving.exception()
            assert loop.time() < deadline, "the store did not start"
            threading.Event().wait(0.05)
        yield DemoStore(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", state=app.state.store)
    finally:
        server.should_exit = True
        serving.result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        sock.close()


def a_customer(state: StoreState) -> dict[str, Any]:
    return next(
        doc
        for doc in state.records.iter_type(HINODE, "Customer")
        if (doc.get("defaultEmailAddress") or {}).get("emailAddress") and doc.get("lastName")
    )


def test_a_shopper_signs_in_on_the_storefront_with_their_email(
    demo_store: DemoStore, browser: Browser
) -> None:
    customer = a_customer(demo_store.state)
    shopper = open_browser(browser, width=1100, height=760, locale="ja-JP")
    try:
        page = shopper.page
        page.goto(f"{demo_store.base_url}/s/{HINODE}/")
        # when: they type their email, in capitals, and sign in
        field = page.locator('input[name="customer"]')
        field.fill(customer["defaultEmailAddress"]["emailAddress"].upper())
        page.locator('form[action$="/account/login"] button[type="submit"]').click()
        # then: the storefront greets them by name
        expect(page.locator('[data-role="customer-name"]')).to_contain_text(customer["lastName"])
        screenshot(page, "storefront-signed-in")
        # and an unknown address says it could not sign in
        page.locator('form[action$="/account/logout"] button').click()
        page.locator('input[name="customer"]').fill("nobody@example.com")
        page.locator('form[action$="/account/login"] button[type="submit"]').click()
        expect(page.locator(".account")).to_contain_text("ログインできませんでした。")
        assert [error for error in shopper.errors if "Failed to load resource" not in error] == []
    finally:
        shopper.context.close()

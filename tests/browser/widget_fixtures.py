"""A demo storefront for the widget's browser test: one Japanese page carrying the widget's script tag, and
Shopify's app proxy (``/apps/support/…`` forwarded to the app, signed with the store's own code from
``devstore.app_proxy``) for a shopper signed in as the seeded customer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from devstore.app_proxy import FORWARDED_REQUEST_HEADERS, FORWARDED_RESPONSE_HEADERS, signed_proxy_query
from tests.browser.conftest import CUSTOMER_ID, SHOP, STARTUP_TIMEOUT_SECONDS, LiveApp, _free_socket

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>Tokyo Tea</title><link rel="icon" href="data:,">
<style>/* a theme that styles every button and list: the widget must not inherit it */
button, li, p {{ font-family: serif !important; color: #f0f !important; background: #ff0 !important; }}</style>
</head><body><h1>Tokyo Tea 公式オンラインストア</h1><p>煎茶ギフトボックス</p>
<script src="{script}" data-proxy="/apps/support" data-poll-ms="1000" defer></script>
</body></html>"""


@dataclass
class Storefront:
    base_url: str


def storefront_app(app: LiveApp) -> Starlette:
    secret = app.settings.api_secret.reveal()

    async def page(_request: Request) -> Response:
        return HTMLResponse(PAGE.format(script=f"{app.base_url}/static/widget/widget.js"))

    async def proxy(request: Request) -> Response:
        query = signed_proxy_query(
            request.query_params.multi_items(),
            shop=SHOP,
            customer_id=CUSTOMER_ID,
            path_prefix="/apps/support",
            now=time.time(),
            secret=secret,
        )
        headers = {
            name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers
        }
        async with httpx.AsyncClient(timeout=20) as client:
            answer = await client.request(
                request.method,
                f"{app.base_url}/proxy/support/{request.path_params['rest']}",
                params=tuple(query),
                content=await request.body(),
                headers=headers,
            )
        kept = {name: answer.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in answer.headers}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    return Starlette(
        routes=[Route("/", page), Route("/apps/support/{rest:path}", proxy, methods=["GET", "POST"])]
    )


@pytest.fixture
def storefront(live_app: LiveApp) -> Iterator[Storefront]:
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        storefront_app(live_app), log_level="warning", ws="none", http="h11", lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), live_app.loop)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            assert not serving.done(), serving.exception()
            assert time.monotonic() < deadline, "the storefront did not start"
            threading.Event().wait(0.05)
        yield Storefront(base_url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        serving.result(timeout=15)
        sock.close()

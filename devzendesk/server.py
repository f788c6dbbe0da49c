"""The account's ASGI app: the Support API, the agent's ticket page with the app sidebar, the simulated
framework SDK and the ``/_devzendesk`` control endpoints; queued webhooks are delivered in the background
while the app's lifespan runs (or by ``POST /_devzendesk/deliver`` / ``deliver_pending`` in tests)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from starlette.applications import Starlette

from devzendesk import api, control, page
from devzendesk.config import ZendeskConfig
from devzendesk.state import Clock, ZendeskState
from devzendesk.webhooks import deliver_pending

logger = logging.getLogger(__name__)
DELIVERY_POLL_SECONDS = 0.05


def create_zendesk_app(
    config: ZendeskConfig, *, http: httpx.AsyncClient | None = None, clock: Clock | None = None
) -> Starlette:
    client = http or httpx.AsyncClient()
    state = ZendeskState(config, clock=clock) if clock else ZendeskState(config)

    async def deliver_forever() -> None:
        while True:
            if state.pending:
                await deliver_pending(state, client)
            await anyio.sleep(DELIVERY_POLL_SECONDS)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(deliver_forever)
                logger.info("devzendesk serving url=%s", config.base_url)
                yield
                group.cancel_scope.cancel()
        finally:
            if http is None:
                await client.aclose()

    app = Starlette(
        routes=[*api.routes(state), *page.routes(state), *control.routes(state, client)], lifespan=lifespan
    )
    app.state.zendesk = state
    return app

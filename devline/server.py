"""The platform's ASGI app: the Messaging API, webhook delivery, the chat and account-link pages and the
``/_devline`` control endpoints, for many channels on one port."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from devline import api, control
from devline.clock import Clock
from devline.config import LineConfig
from devline.page import STATIC_DIR, chat
from devline.state import LineState

logger = logging.getLogger(__name__)


def create_line_app(
    config: LineConfig, *, http: httpx.AsyncClient | None = None, clock: Clock | None = None
) -> Starlette:
    """The platform, its state in memory. ``app.state.line`` is the ``LineState``; webhooks are delivered
    while the app's lifespan runs (or by ``state.webhooks.run()`` / ``deliver_due()`` in tests)."""
    client = http or httpx.AsyncClient()
    state = LineState.open(config, http=client, clock=clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(state.webhooks.run)
                logger.info("devline serving url=%s channels=%d", config.base_url, len(state.channels))
                yield
                group.cancel_scope.cancel()
        finally:
            if http is None:
                await client.aclose()

    app = Starlette(
        routes=[
            *api.routes(state),
            *control.routes(state),
            *chat.routes(state),
            Mount("/_devline/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[Middleware(api.RequestIds)],
        lifespan=lifespan,
    )
    app.state.line = state
    return app

"""The simulated Chatwoot's ASGI app: the Application API, the control endpoints and the agent's pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from devchatwoot import api, page
from devchatwoot.state import ChatwootState


def create_chatwoot_app(*, base_url: str, http: httpx.AsyncClient | None = None) -> Starlette:
    """``app.state.chatwoot`` is the ``ChatwootState``; bot webhooks go out through ``http``."""
    client = http or httpx.AsyncClient()
    state = ChatwootState(http=client, base_url=base_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if http is None:
                await client.aclose()

    app = Starlette(
        routes=[
            *api.routes(state),
            *page.routes(state),
            Mount("/_devchatwoot/static", app=StaticFiles(directory=page.STATIC_DIR), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.chatwoot = state
    return app

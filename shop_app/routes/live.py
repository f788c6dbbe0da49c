"""``GET /api/v1/events``: the caller's shop's live events as server-sent events.

Each event is ``event: <kind>`` / ``data: <json>`` (ids only). The stream opens with a ``retry:`` hint so
browsers reconnect, sends a keep-alive comment while quiet, and ends when the client goes, when the server
shuts down, or after ``STREAM_LIFETIME_SECONDS``, so a reconnecting browser authenticates again (a revoked
key or an ended session stops receiving).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from shop_app.live_events import EventBus, LiveEvent
from shop_app.routes.api.auth import authenticate
from shop_app.routes.request_state import services

KEEPALIVE_SECONDS = 15.0
RECONNECT_MILLISECONDS = 3000
STREAM_LIFETIME_SECONDS = 15 * 60.0
SHUTDOWN_GRACE_SECONDS = 2.0


async def events(request: Request) -> Response:
    caller = await authenticate(request)
    return event_stream_response(services(request).events, shop_id=caller.shop_id)


def event_stream_response(
    bus: EventBus, *, shop_id: int, kinds: frozenset[str] | None = None
) -> EventSourceResponse:
    """The shop's live events as server-sent events (the console's stream; a connector's card asks for
    the kinds it shows)."""
    # set by sse-starlette when the server shuts down: the stream then ends on its own, completing the
    # response, instead of being cancelled mid-way
    stopping = anyio.Event()
    return EventSourceResponse(
        stream(
            bus, shop_id=shop_id, lifetime_seconds=STREAM_LIFETIME_SECONDS, stopping=stopping, kinds=kinds
        ),
        ping=KEEPALIVE_SECONDS,
        headers={"Cache-Control": "no-store"},
        shutdown_event=stopping,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )


async def stream(
    bus: EventBus,
    *,
    shop_id: int,
    lifetime_seconds: float,
    stopping: anyio.Event,
    kinds: frozenset[str] | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """The shop's events (those of ``kinds``, when given) as they are published, from the moment the
    first (comment) event is sent, until ``lifetime_seconds`` have passed or ``stopping`` is set."""
    ends_at = time.monotonic() + lifetime_seconds
    async with bus.subscribe(shop_id) as queue:
        yield ServerSentEvent(comment="live", retry=RECONNECT_MILLISECONDS)
        stop = asyncio.ensure_future(stopping.wait())
        getter: asyncio.Future[LiveEvent] | None = None
        try:
            while (left := ends_at - time.monotonic()) > 0:
                getter = getter or asyncio.ensure_future(queue.get())
                either: set[asyncio.Future[Any]] = {getter, stop}
                await asyncio.wait(either, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    return
                event, getter = getter.result(), None
                if kinds is not None and event.kind not in kinds:
                    continue
                yield ServerSentEvent(data=json.dumps(event.data, separators=(",", ":")), event=event.kind)
        finally:
            for waiting in (getter, stop):
                if waiting is not None:
                    waiting.cancel()


routes: list[BaseRoute] = [Route("/api/v1/events", events, methods=["GET"])]

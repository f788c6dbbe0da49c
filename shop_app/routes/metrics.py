"""``/metrics`` for Prometheus: on the app behind the bearer token (``SHOP_APP_METRICS_TOKEN``), on a
port of its own (``metrics_app``, ``SHOP_APP_METRICS_PORT``) and on a worker's health port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shop_app.jobs.queues import InProcessQueue, JobQueue
from shop_app.operations.metrics import CONTENT_TYPE, bearer_accepted, scrape
from shop_app.routes.request_state import services
from shop_app.runtime import Services


def _waiting_jobs(request: Request) -> Mapping[str, int] | None:
    queue = getattr(request.state, "jobs", None)
    return queue.waiting() if isinstance(queue, InProcessQueue) else None


async def metrics(request: Request) -> Response:
    running = services(request)
    if not bearer_accepted(running.settings, request.headers.get("authorization")):
        return JSONResponse(
            {"error": {"code": "unauthorized", "message": "A valid metrics bearer token is required"}},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = await scrape(running, waiting_jobs=_waiting_jobs(request))
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics)]


def metrics_app(running: Services, queue: JobQueue | None = None) -> Starlette:
    """``/metrics`` alone, for the port of its own."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"services": running, "jobs": queue}

    return Starlette(routes=routes, lifespan=lifespan)

"""Liveness and readiness, for load balancers and supervisors: the web process serves them beside the
app; ``shop-app worker --health-port`` serves them alone (``health_app``), with ``/metrics`` when metrics
are on (a port or a token is set; the token, when set, is required there too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shop_app.operations.readiness import readiness
from shop_app.routes.request_state import services
from shop_app.runtime import Services


async def health(_request: Request) -> Response:
    """Alive: the process answers."""
    return JSONResponse({"ok": True})


async def ready(request: Request) -> Response:
    """503 until the database answers, is migrated to this version and (PostgreSQL) the job queue answers."""
    state = await readiness(services(request))
    return JSONResponse(
        {"ready": state.ready, "checks": state.checks}, status_code=200 if state.ready else 503
    )


routes = [Route("/healthz", health), Route("/readyz", ready)]


def health_app(running: Services) -> Starlette:
    """The two checks alone, for a process that serves nothing else (a job worker)."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"services": running}

    from shop_app.routes import metrics

    served = [*routes, *(metrics.routes if running.settings.metrics_enabled else ())]
    return Starlette(routes=served, lifespan=lifespan)

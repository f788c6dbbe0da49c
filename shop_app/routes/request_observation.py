"""What every HTTP request leaves behind: its id on every log line it causes (and in the answer's
``X-Request-Id``), and its latency by route template.

A caller's ``X-Request-Id`` is kept when it is sane (``ACCEPTED_REQUEST_ID``: a proxy's or a load
balancer's id, so lines can be joined across them); anything else is replaced by a fresh one. The route
label is the matched route's template (``/api/v1/tickets/{ticket_id}``), never the path a client sent:
``"unmatched"`` when no route matched.
"""

from __future__ import annotations

import re
import secrets
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shop_app.logging_config import bound_log_context
from shop_app.observability.metrics import UNMATCHED_ROUTE, record_http_request

REQUEST_ID_HEADER = "x-request-id"
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")


def request_id_of(headers: Headers) -> str:
    offered = headers.get(REQUEST_ID_HEADER, "")
    return offered if ACCEPTED_REQUEST_ID.fullmatch(offered) else secrets.token_hex(12)


def route_template(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class ObservedRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), request_id.encode()))
            await send(message)

        with bound_log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                record_http_request(
                    method=str(scope.get("method", "")),
                    route=route_template(scope),
                    status=status,
                    seconds=time.perf_counter() - started,
                )

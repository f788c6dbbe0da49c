"""The web server of ``shop-app serve`` and ``shop-app dev``: uvicorn, with connections nobody can hold.

uvicorn closes a keep-alive connection left idle after an answer, but not one that never finishes a
request: a client that connects and sends nothing, or half a request line, or headers without their end,
or a body that stops, is waited for forever. ``BoundedHttpToolsProtocol`` adds what uvicorn's httptools
protocol lacks: a request's line and headers must arrive in full within ``header_timeout_seconds`` of the
connection opening or of the request's first byte, and be at most ``MAX_REQUEST_HEAD_BYTES``; a body may
not pause longer than that while the app waits for it. A connection that misses a deadline is closed (the
app, if it was reading, sees a disconnect). ``ServerConfig`` carries these with uvicorn's own limits:
keep-alive, concurrent connections and requests, and the graceful-shutdown timeout.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from shop_app.logging_config import server_log_level, uvicorn_log_config
from shop_app.settings import ConnectionLimits

logger = logging.getLogger(__name__)

MAX_REQUEST_HEAD_BYTES = 64 * 1024
STARTUP_FAILURE = 3
_TIMEOUT_ANSWER = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_TOO_LARGE_ANSWER = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
)


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration with the connection limits applied, the bounded protocol, no WebSockets
    (the app has none) and the access log that redacts query values."""

    def __init__(
        self, app: Any, *, limits: ConnectionLimits, log_level: str, log_format: str = "text", **options: Any
    ) -> None:
        self.limits = limits
        super().__init__(
            app,
            http=BoundedHttpToolsProtocol,
            ws="none",
            log_config=uvicorn_log_config(log_format),
            log_level=server_log_level(log_level),
            timeout_keep_alive=limits.keep_alive_seconds,
            limit_concurrency=limits.max_connections,
            timeout_graceful_shutdown=limits.shutdown_timeout_seconds,
            # the same bound for uvicorn's h11 protocol, should it ever be chosen instead
            h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
            **options,
        )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = config.limits if isinstance(config, ServerConfig) else ConnectionLimits()
        self.read_timeout_seconds = limits.header_timeout_seconds
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._head_bytes: int | None = None  # bytes of a request head under way

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.read_timeout_seconds, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop(self._head_timer)
        self._stop(self._body_timer)
        self._head_timer = self._body_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_bytes is None or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
            logger.debug("connection closed: request head larger than %d bytes", MAX_REQUEST_HEAD_BYTES)
            self.transport.write(_TOO_LARGE_ANSWER)
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.read_timeout_seconds, self._head_too_slow)

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._stop(self._head_timer)
        self._head_timer = None
        super().on_headers_complete()
        # also after an upgrade request: with no WebSockets served, its body is never read and the app,
        # if it asks for one, would wait forever
        self._body_timer = self.loop.call_later(self.read_timeout_seconds, self._body_too_slow)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._stop(self._body_timer)
        self._body_timer = self.loop.call_later(self.read_timeout_seconds, self._body_too_slow)

    def on_message_complete(self) -> None:
        self._stop(self._body_timer)
        self._body_timer = None
        super().on_message_complete()

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        logger.debug("connection closed: no complete request head in %ss", self.read_timeout_seconds)
        if self._head_bytes is not None:
            self.transport.write(_TIMEOUT_ANSWER)
        self.transport.close()

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
            # the app has not asked for more yet: the client is not the one waiting
            self._body_timer = self.loop.call_later(self.read_timeout_seconds, self._body_too_slow)
            return
        logger.debug("connection closed: the request body paused longer than %ss", self.read_timeout_seconds)
        self.transport.close()

    @staticmethod
    def _stop(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()


def run_server(config: ServerConfig) -> int:
    """What ``uvicorn.run`` does with a ready configuration: one server, or ``workers`` processes sharing
    one socket. Each worker process applies the same configuration (it is pickled to it)."""
    from uvicorn.supervisors import Multiprocess

    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
            return 0
        server.run()
    except KeyboardInterrupt:
        pass
    if not server.started:
        print("shop-app: the server did not start", file=sys.stderr)
        return STARTUP_FAILURE
    return 0

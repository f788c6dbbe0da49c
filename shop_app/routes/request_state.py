from __future__ import annotations

from typing import cast

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from shop_app.database import SessionFactory
from shop_app.errors import PayloadTooLarge
from shop_app.jobs.dispatch import Dispatcher
from shop_app.jobs.queues import JobQueue
from shop_app.mirror.webhooks.inbox_writer import InboxWriter
from shop_app.runtime import Services


def inbox(request: Request) -> InboxWriter:
    return cast(InboxWriter, request.state.inbox)


def services(request: Request) -> Services:
    return cast(Services, request.state.services)


def writer_sessions(request: Request) -> SessionFactory:
    """Sessions for the webhooks' inserts: on SQLite a connection of their own (the processing never holds
    it), elsewhere the app's."""
    return cast(SessionFactory, getattr(request.state, "writer_sessions", None) or services(request).sessions)


def jobs(request: Request) -> JobQueue:
    return cast(JobQueue, request.state.jobs)


def dispatch(request: Request) -> Dispatcher:
    return cast(Dispatcher, request.state.dispatch)


def templates(request: Request) -> Jinja2Templates:
    return cast(Jinja2Templates, request.state.templates)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) as soon as it is declared or read beyond ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("The body is too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge("The body is too large")
    return body

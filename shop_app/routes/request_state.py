from __future__ import annotations

from typing import cast

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from shop_app.jobs.queues import JobQueue
from shop_app.jobs.services import Services
from shop_app.lifespan import State


def state(request: Request) -> State:
    return cast(State, request.scope["state"])


def services(request: Request) -> Services:
    return cast(Services, request.state.services)


def jobs(request: Request) -> JobQueue:
    return cast(JobQueue, request.state.jobs)


def templates(request: Request) -> Jinja2Templates:
    return cast(Jinja2Templates, request.state.templates)

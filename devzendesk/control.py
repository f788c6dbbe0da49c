"""``/_devzendesk``: what a person or a test does in the account by hand: read the credentials, point the
webhook and the app at an address and add triggers, open tickets as a customer, comment as the customer or
an agent, read a ticket back, deliver queued webhooks now."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devzendesk.state import Trigger, TriggerEvent, ZendeskState
from devzendesk.webhooks import deliver_pending


def account(state: ZendeskState) -> dict[str, Any]:
    config = state.config
    return {
        "subdomain": config.subdomain,
        "url": config.base_url,
        "admin_email": config.admin_email,
        "api_token": config.api_token,
        "signing_secret": config.signing_secret,
        "app_id": config.app_id,
        "installation_id": config.installation_id,
        "agent_id": state.agent.id,
        "groups": [{"id": group_id, "name": name} for group_id, name in state.groups.items()],
        "webhook_url": state.webhook_url,
        "sidebar_url": state.sidebar_url,
    }


def ticket_json(state: ZendeskState, ticket_id: int) -> dict[str, Any] | None:
    ticket = state.tickets.get(ticket_id)
    if ticket is None:
        return None
    return {**ticket.as_json(), "comments": [comment.as_json() for comment in ticket.comments]}


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def routes(state: ZendeskState, http: httpx.AsyncClient) -> list[Route]:
    async def show(request: Request) -> Response:
        return JSONResponse(account(state))

    async def setup(request: Request) -> Response:
        data = await _body(request)
        state.webhook_url = str(data.get("webhook_url", state.webhook_url))
        state.sidebar_url = str(data.get("sidebar_url", state.sidebar_url))
        if "triggers" in data:
            state.triggers = [
                Trigger(TriggerEvent(item["event"]), str(item["body"])) for item in data["triggers"]
            ]
        return JSONResponse(account(state))

    async def open_ticket(request: Request) -> Response:
        data = await _body(request)
        email = str(data.get("requester_email") or "").lower()
        if not email or not data.get("body"):
            return JSONResponse({"error": "requester_email and body are required"}, status_code=400)
        requester = state.user_by_email(email) or state.add_user(
            str(data.get("requester_name") or email), email, locale=str(data.get("locale") or "ja")
        )
        ticket = state.open_ticket(
            requester=requester,
            subject=str(data.get("subject") or data["body"])[:100],
            body=str(data["body"]),
        )
        if data.get("deliver", True):
            await deliver_pending(state, http)
        return JSONResponse(ticket_json(state, ticket.id), status_code=201)

    async def comment(request: Request) -> Response:
        ticket = state.tickets.get(int(request.path_params["ticket_id"]))
        data = await _body(request)
        if ticket is None or not data.get("body"):
            return JSONResponse({"error": "no such ticket, or no body"}, status_code=404)
        author = state.agent if data.get("author") == "agent" else state.users[ticket.requester_id]
        state.add_comment(
            ticket, author=author, body=str(data["body"]), public=data.get("public", True) is not False
        )
        if data.get("deliver", True):
            await deliver_pending(state, http)
        return JSONResponse(ticket_json(state, ticket.id), status_code=201)

    async def read(request: Request) -> Response:
        found = ticket_json(state, int(request.path_params["ticket_id"]))
        return JSONResponse(found) if found else JSONResponse({"error": "not found"}, status_code=404)

    async def deliver(request: Request) -> Response:
        sent = await deliver_pending(state, http)
        return JSONResponse([{"id": d.id, "status_code": d.status_code, "error": d.error} for d in sent])

    return [
        Route("/_devzendesk/account", show),
        Route("/_devzendesk/setup", setup, methods=["PUT"]),
        Route("/_devzendesk/tickets", open_ticket, methods=["POST"]),
        Route("/_devzendesk/tickets/{ticket_id:int}", read),
        Route("/_devzendesk/tickets/{ticket_id:int}/comments", comment, methods=["POST"]),
        Route("/_devzendesk/deliver", deliver, methods=["POST"]),
    ]

"""The Support API the app calls: API-token authentication, Zendesk's rate limits and error shapes, and the
ticket, comment, tag, user, group and app public-key endpoints."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from devzendesk.state import Ticket, ZendeskState

Handler = Callable[[Request], Awaitable[Response]]
STATUSES = {"new", "open", "pending", "hold", "solved", "closed"}


def error(status: int, code: str, description: str | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"error": code}
    if description is not None:
        body["description"] = description
    return JSONResponse(
        body, status_code=status, headers={"x-zendesk-request-id": uuid.uuid4().hex, **headers}
    )


def _authorised(state: ZendeskState, request: Request) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected = f"{state.config.admin_email}/token"
    return secrets.compare_digest(user.encode(), expected.encode()) and secrets.compare_digest(
        password.encode(), state.config.api_token.encode()
    )


def guarded(state: ZendeskState, handler: Callable[[Request], Awaitable[Response]]) -> Handler:
    async def endpoint(request: Request) -> Response:
        if not _authorised(state, request):
            return error(401, "Couldn't authenticate you")
        wait = state.allow_request()
        if wait is not None:
            return error(429, "TooManyRequests", "Rate limit exceeded", **{"retry-after": str(int(wait))})
        answer = await handler(request)
        answer.headers["x-rate-limit"] = str(state.config.requests_per_minute)
        answer.headers["x-rate-limit-remaining"] = str(state.remaining_requests())
        answer.headers.setdefault("x-zendesk-request-id", uuid.uuid4().hex)
        return answer

    return endpoint


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _field(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _ticket(state: ZendeskState, request: Request) -> Ticket | None:
    return state.tickets.get(int(request.path_params["ticket_id"]))


def routes(state: ZendeskState) -> list[Route]:
    not_found = error(404, "RecordNotFound", "Not found")

    async def me(request: Request) -> Response:
        return JSONResponse({"user": state.admin.as_json()})

    async def user(request: Request) -> Response:
        found = state.users.get(int(request.path_params["user_id"]))
        return JSONResponse({"user": found.as_json()}) if found else not_found

    async def groups(request: Request) -> Response:
        items = [{"id": group_id, "name": name} for group_id, name in state.groups.items()]
        return JSONResponse({"groups": items, "next_page": None, "count": len(items)})

    async def ticket(request: Request) -> Response:
        found = _ticket(state, request)
        return JSONResponse({"ticket": found.as_json()}) if found else not_found

    async def comments(request: Request) -> Response:
        found = _ticket(state, request)
        if found is None:
            return not_found
        items = [comment.as_json() for comment in found.comments]
        return JSONResponse({"comments": items, "next_page": None, "count": len(items)})

    async def update_ticket(request: Request) -> Response:
        found = _ticket(state, request)
        if found is None:
            return not_found
        wait = state.allow_ticket_update(found.id)
        if wait is not None:
            return error(
                429,
                "TooManyRequests",
                "Ticket updates rate limit exceeded",
                **{"retry-after": str(int(wait))},
            )
        update = _field(await _json(request), "ticket")
        if not isinstance(update, dict):
            return error(400, "InvalidJSON", "Request body is not a ticket")
        group_id = update.get("group_id")
        if group_id is not None and group_id not in state.groups:
            return error(422, "RecordInvalid", "Record validation errors")
        status = update.get("status")
        if status is not None and status not in STATUSES:
            return error(422, "RecordInvalid", "Record validation errors")
        comment = update.get("comment")
        if comment is not None and (not isinstance(comment, dict) or not str(comment.get("body") or "")):
            return error(422, "RecordInvalid", "Record validation errors")
        if "tags" in update:
            found.tags = sorted({str(tag) for tag in update["tags"]})
        if group_id is not None:
            found.group_id = group_id
        if status is not None:
            found.status = status
        if comment is not None:
            state.add_comment(
                found,
                author=state.admin,
                body=str(comment["body"]),
                public=comment.get("public", True) is not False,
            )
        return JSONResponse(
            {"ticket": found.as_json(), "audit": {"ticket_id": found.id, "author_id": state.admin.id}}
        )

    async def add_tags(request: Request) -> Response:
        found = _ticket(state, request)
        if found is None:
            return not_found
        tags = _field(await _json(request), "tags")
        if not isinstance(tags, list) or not all(isinstance(tag, str) and tag for tag in tags):
            return error(400, "InvalidJSON", "Request body is not a list of tags")
        found.tags = sorted(set(found.tags) | {tag.lower() for tag in tags})
        return JSONResponse({"tags": found.tags})

    async def public_key(request: Request) -> Response:
        if int(request.path_params["app_id"]) != state.config.app_id:
            return not_found
        return PlainTextResponse(state.public_key_pem, media_type="application/x-pem-file")

    plain = [
        ("/api/v2/users/me.json", me, ["GET"]),
        ("/api/v2/users/{user_id:int}.json", user, ["GET"]),
        ("/api/v2/groups.json", groups, ["GET"]),
        ("/api/v2/tickets/{ticket_id:int}.json", ticket, ["GET"]),
        ("/api/v2/tickets/{ticket_id:int}.json", update_ticket, ["PUT"]),
        ("/api/v2/tickets/{ticket_id:int}/comments.json", comments, ["GET"]),
        ("/api/v2/tickets/{ticket_id:int}/tags.json", add_tags, ["PUT"]),
        ("/api/v2/apps/{app_id:int}/public_key.pem", public_key, ["GET"]),
    ]
    return [Route(path, guarded(state, handler), methods=methods) for path, handler, methods in plain]

"""A Tickets API client on a shared ``httpx.AsyncClient`` (tests give it a transport or devzendesk).

Authentication is an API token (``{email}/token:{api_token}``, HTTP Basic). 429 answers are retried after
Zendesk's ``Retry-After``; 5xx and unreachable are retried only for calls that are safe to repeat (reads and
the tag union, which adds the same tags twice as once). A comment is not: Zendesk could have stored it before
failing, so it is tried again only after a 429, which Zendesk answers before doing anything. A wait longer
than ``max_wait_seconds`` is not slept through but raised (``ZendeskUnavailable.retry_after_seconds``) for
the caller's queue. Failures are logged with the endpoint, status and ``x-zendesk-request-id``; never the
token or a comment.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.zendesk.errors import (
    ZendeskApiError,
    ZendeskInvalid,
    ZendeskNotFound,
    ZendeskUnauthorized,
    ZendeskUnavailable,
)

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-zendesk-request-id"
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_WAIT_SECONDS = 10.0
BACKOFF_BASE_SECONDS = 0.5
TIMEOUT_SECONDS = 10.0
MAX_COMMENT_CHARS = 65_000
MAX_TAG_CHARS = 80

Sleep = Callable[[float], Awaitable[None]]


def account_url(subdomain: str) -> str:
    return f"https://{subdomain}.zendesk.com"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str | None
    role: str
    locale: str | None


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    status: str
    requester_id: int
    group_id: int | None
    tags: tuple[str, ...]
    subject: str


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    author_id: int
    public: bool
    body: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str


class ZendeskClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        email: str,
        api_token: str,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(f"{email}/token", api_token)
        self._max_attempts = max(1, max_attempts)
        self._max_wait_seconds = max_wait_seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"ZendeskClient(base_url={self._base_url!r}, api_token=<hidden>)"

    async def me(self) -> User:
        return _user((await self._call("GET", "/api/v2/users/me.json", endpoint="me"))["user"])

    async def user(self, user_id: int) -> User:
        data = await self._call("GET", f"/api/v2/users/{int(user_id)}.json", endpoint="user")
        return _user(data["user"])

    async def ticket(self, ticket_id: int) -> Ticket:
        data = await self._call("GET", f"/api/v2/tickets/{int(ticket_id)}.json", endpoint="ticket")
        return _ticket(data["ticket"])

    async def comments(self, ticket_id: int) -> list[Comment]:
        """The ticket's comments, oldest first (the first page: a ticket the bot still answers is short)."""
        data = await self._call("GET", f"/api/v2/tickets/{int(ticket_id)}/comments.json", endpoint="comments")
        return [_comment(item) for item in _list(data, "comments")]

    async def groups(self) -> list[Group]:
        data = await self._call("GET", "/api/v2/groups.json", endpoint="groups")
        return [Group(id=_int(item, "id"), name=str(item.get("name", ""))) for item in _list(data, "groups")]

    async def app_public_key(self, app_id: int) -> str:
        """The PEM public key that checks the app's signed URLs."""
        answer = await self._call(
            "GET", f"/api/v2/apps/{int(app_id)}/public_key.pem", endpoint="app_public_key", raw=True
        )
        text = str(answer.get("text", ""))
        if "BEGIN PUBLIC KEY" not in text:
            raise ZendeskApiError("no public key in the answer", status_code=200)
        return text

    async def add_comment(
        self,
        ticket_id: int,
        body: str,
        *,
        public: bool,
        group_id: int | None = None,
        status: str | None = None,
    ) -> Ticket:
        """A public reply or (``public=False``) an internal note, with the group and status in the same
        update."""
        if not body or len(body) > MAX_COMMENT_CHARS:
            raise ValueError("a comment is 1 to 65,000 characters")
        ticket: dict[str, Any] = {"comment": {"body": body, "public": public}}
        if group_id is not None:
            ticket["group_id"] = int(group_id)
        if status is not None:
            ticket["status"] = status
        data = await self._call(
            "PUT",
            f"/api/v2/tickets/{int(ticket_id)}.json",
            endpoint="update_ticket",
            json={"ticket": ticket},
            repeatable=False,
        )
        return _ticket(data["ticket"])

    async def add_tags(self, ticket_id: int, tags: Sequence[str]) -> tuple[str, ...]:
        """Adds ``tags`` to the ticket's own (``PUT /tags`` is a union; the ticket's ``tags`` field would
        replace them)."""
        clean = [tag for tag in tags if tag and len(tag) <= MAX_TAG_CHARS and " " not in tag]
        if len(clean) != len(tags):
            raise ValueError("a tag is 1 to 80 characters without spaces")
        data = await self._call(
            "PUT", f"/api/v2/tickets/{int(ticket_id)}/tags.json", endpoint="tags", json={"tags": clean}
        )
        return tuple(str(tag) for tag in data.get("tags", []))

    async def _call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        json: Any = None,
        repeatable: bool = True,
        raw: bool = False,
    ) -> dict[str, Any]:
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            try:
                answer = await self._http.request(
                    method, self._base_url + path, json=json, auth=self._auth, timeout=TIMEOUT_SECONDS
                )
            except httpx.TransportError as error:
                logger.warning(
                    "zendesk api unreachable endpoint=%s attempt=%s error=%s",
                    endpoint,
                    attempt,
                    type(error).__name__,
                )
                # a request that never connected was not received: safe to send again
                if last or not (repeatable or isinstance(error, httpx.ConnectError)):
                    raise ZendeskUnavailable("unreachable", status_code=0) from None
                await self._sleep(_backoff(attempt))
                continue
            status = answer.status_code
            if status < 300 and raw:
                return {"text": answer.text[:10_000]}
            if status < 300:
                data = answer.json()
                if not isinstance(data, dict):
                    raise ZendeskApiError("unexpected answer", status_code=status)
                return data
            request_id = answer.headers.get(REQUEST_ID_HEADER)
            code = _error_code(answer)
            logger.warning(
                "zendesk api call failed endpoint=%s status=%s code=%s request_id=%s attempt=%s",
                endpoint,
                status,
                code,
                request_id,
                attempt,
            )
            if status == 429 or (status >= 500 and repeatable):
                wait = _retry_after(answer)
                if wait is None:
                    wait = _backoff(attempt)
                if last or wait > self._max_wait_seconds:
                    raise ZendeskUnavailable(
                        code, status_code=status, request_id=request_id, retry_after_seconds=wait
                    )
                await self._sleep(wait)
                continue
            if status >= 500:
                raise ZendeskUnavailable(code, status_code=status, request_id=request_id)
            if status in (401, 403):
                raise ZendeskUnauthorized(code, status_code=status, request_id=request_id)
            if status == 404:
                raise ZendeskNotFound(code, status_code=status, request_id=request_id)
            if status == 422:
                raise ZendeskInvalid(code, status_code=status, request_id=request_id)
            raise ZendeskApiError(code, status_code=status, request_id=request_id)
        raise AssertionError("unreachable")  # pragma: no cover


def _backoff(attempt: int) -> float:
    return float(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 4))


def _retry_after(answer: httpx.Response) -> float | None:
    raw = answer.headers.get("retry-after", "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None


def _error_code(answer: httpx.Response) -> str:
    """Zendesk's ``error`` code (``RecordNotFound``, ``RecordInvalid``, "Couldn't authenticate you"); never
    the body's details."""
    try:
        data = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        error = error.get("title")
    return error[:120] if isinstance(error, str) else f"HTTP {answer.status_code}"


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ZendeskApiError(f"no {key} in the answer", status_code=200)
    return items


def _int(item: dict[str, Any], key: str) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ZendeskApiError(f"{key} is not a number", status_code=200)
    return value


def _optional_int(item: dict[str, Any], key: str) -> int | None:
    return None if item.get(key) is None else _int(item, key)


def _user(item: Any) -> User:
    if not isinstance(item, dict):
        raise ZendeskApiError("no user in the answer", status_code=200)
    email, locale = item.get("email"), item.get("locale")
    return User(
        id=_int(item, "id"),
        name=str(item.get("name") or "")[:255],
        email=email if isinstance(email, str) else None,
        role=str(item.get("role") or "end-user"),
        locale=locale if isinstance(locale, str) else None,
    )


def _ticket(item: Any) -> Ticket:
    if not isinstance(item, dict):
        raise ZendeskApiError("no ticket in the answer", status_code=200)
    tags = item.get("tags") or []
    return Ticket(
        id=_int(item, "id"),
        status=str(item.get("status") or ""),
        requester_id=_int(item, "requester_id"),
        group_id=_optional_int(item, "group_id"),
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        subject=str(item.get("subject") or "")[:255],
    )


def _comment(item: dict[str, Any]) -> Comment:
    public = item.get("public")
    if not isinstance(public, bool):
        raise ZendeskApiError("comment has no public flag", status_code=200)
    body = item.get("plain_body") or item.get("body") or ""
    return Comment(
        id=_int(item, "id"),
        author_id=_int(item, "author_id"),
        public=public,
        body=str(body),
        created_at=str(item.get("created_at") or ""),
    )

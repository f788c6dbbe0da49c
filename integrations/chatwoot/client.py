"""A Chatwoot Application API client on a shared ``httpx.AsyncClient`` (tests give it a transport).

Authenticated by the ``api_access_token`` header: the agent bot's token for messages and status, a user's
token for contacts (a bot token may not touch contacts) and for the profile check. 429 and 5xx answers (and
no answer at all) are retried up to ``max_attempts`` times, waiting Chatwoot's ``Retry-After`` (else a short
backoff); a longer wait is raised (``ChatwootUnavailable.retry_after_seconds``) for the caller's queue. A
``RateLimiter`` (one per connector, held by the caller) spaces calls to stay under the instance's limits.
Failures are logged with the endpoint and status, never a token or a message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.chatwoot.errors import (
    ChatwootApiError,
    ChatwootNotChatwoot,
    ChatwootNotFound,
    ChatwootUnauthorized,
    ChatwootUnavailable,
)

logger = logging.getLogger(__name__)

TOKEN_HEADER = "api_access_token"  # noqa: S105 - a header name
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_WAIT_SECONDS = 10.0
BACKOFF_BASE_SECONDS = 0.5
TIMEOUT_SECONDS = 10.0
DEFAULT_RATE_PER_SECOND = 20.0
DEFAULT_BURST = 40

Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """A token bucket: ``rate`` calls a second on average, ``burst`` at once."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE_PER_SECOND,
        burst: int = DEFAULT_BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self._rate
                await self._sleep(wait)
                self._last = self._clock()
                self._tokens = 1.0
            self._tokens -= 1


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: int
    name: str | None
    account_ids: tuple[int, ...]


class ChatwootClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        account_id: int,
        token: str,
        limiter: RateLimiter | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._account = account_id
        self._token = token
        self._limiter = limiter
        self._max_attempts = max(1, max_attempts)
        self._max_wait_seconds = max_wait_seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"ChatwootClient(base_url={self._base!r}, account_id={self._account}, token=<hidden>)"

    def _account_path(self, rest: str) -> str:
        return f"/api/v1/accounts/{self._account}{rest}"

    async def create_message(self, conversation_id: int, content: str, *, private: bool = False) -> int:
        """Post an outgoing message (``private``: a note only agents see); Chatwoot's id of it."""
        data = await self._call(
            "POST",
            self._account_path(f"/conversations/{conversation_id}/messages"),
            endpoint="create_message",
            json={"content": content, "message_type": "outgoing", "private": private},
        )
        return int(data.get("id", 0)) if isinstance(data.get("id"), int) else 0

    async def toggle_status(self, conversation_id: int, status: str) -> str | None:
        data = await self._call(
            "POST",
            self._account_path(f"/conversations/{conversation_id}/toggle_status"),
            endpoint="toggle_status",
            json={"status": status},
        )
        payload = data.get("payload")
        current = payload.get("current_status") if isinstance(payload, dict) else None
        return current if isinstance(current, str) else None

    async def update_contact_attributes(self, contact_id: int, attributes: dict[str, Any]) -> None:
        """Merge ``custom_attributes`` into the contact (a user's token: bots may not touch contacts)."""
        await self._call(
            "PUT",
            self._account_path(f"/contacts/{contact_id}"),
            endpoint="update_contact",
            json={"custom_attributes": attributes},
        )

    async def profile(self) -> Profile:
        """The token's user and the accounts it belongs to (the connection check)."""
        data = await self._call("GET", "/api/v1/profile", endpoint="profile")
        accounts = data.get("accounts")
        ids = tuple(
            account["id"]
            for account in (accounts if isinstance(accounts, list) else [])
            if isinstance(account, dict) and isinstance(account.get("id"), int)
        )
        user_id = data.get("id")
        if not isinstance(user_id, int):
            raise ChatwootNotChatwoot("the profile has no id", status_code=200)
        name = data.get("name")
        return Profile(user_id=user_id, name=name if isinstance(name, str) else None, account_ids=ids)

    async def _call(self, method: str, path: str, *, endpoint: str, json: Any = None) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            if self._limiter is not None:
                await self._limiter.acquire()
            try:
                answer = await self._http.request(
                    method,
                    self._base + path,
                    json=json,
                    headers={TOKEN_HEADER: self._token, "Accept": "application/json"},
                    timeout=TIMEOUT_SECONDS,
                )
            except httpx.HTTPError as error:
                logger.info(
                    "chatwoot %s no answer attempt=%s error=%s", endpoint, attempt, type(error).__name__
                )
                if attempt >= self._max_attempts:
                    raise ChatwootUnavailable("no answer", status_code=0) from None
                await self._sleep(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
                continue
            status = answer.status_code
            if status == 429 or status >= 500:
                wait = _retry_after(answer) or BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
                logger.info("chatwoot %s status=%s attempt=%s", endpoint, status, attempt)
                if attempt >= self._max_attempts or wait > self._max_wait_seconds:
                    raise ChatwootUnavailable("busy or down", status_code=status, retry_after_seconds=wait)
                await self._sleep(wait)
                continue
            if status in (401, 403):
                raise ChatwootUnauthorized("token refused", status_code=status)
            if status == 404:
                raise ChatwootNotFound("not found", status_code=status)
            if status >= 400:
                logger.info("chatwoot %s refused status=%s", endpoint, status)
                raise ChatwootApiError("refused", status_code=status)
            try:
                data = answer.json()
            except ValueError:
                raise ChatwootNotChatwoot("not JSON", status_code=status) from None
            if not isinstance(data, dict):
                raise ChatwootNotChatwoot("not a JSON object", status_code=status)
            return data


def _retry_after(answer: httpx.Response) -> float | None:
    raw = answer.headers.get("retry-after", "")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None

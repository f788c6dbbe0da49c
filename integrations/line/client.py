"""A Messaging API client on a shared ``httpx.AsyncClient`` (one per process; tests give it a transport).

429 and 5xx answers (and no answer at all) are retried up to ``max_attempts`` times, waiting what LINE's
``Retry-After`` says (else a short backoff); a wait longer than ``max_wait_seconds`` is not slept through
but raised (``LineUnavailable.retry_after_seconds``) for the caller's queue to schedule. A push carries an
``X-Line-Retry-Key`` kept across its retries, so LINE sends it once however often it is tried; LINE's 409
"already accepted" for that key counts as sent. Failures are logged with the endpoint, the status and
LINE's ``x-line-request-id``; never the token or a message.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from integrations.line.errors import (
    InvalidReplyToken,
    LineApiError,
    LineNotFound,
    LineUnauthorized,
    LineUnavailable,
)
from integrations.line.messages import MAX_MESSAGES_PER_CALL, LineMessage

logger = logging.getLogger(__name__)

LINE_API_URL = "https://api.line.me"
LINE_DATA_API_URL = "https://api-data.line.me"
MAX_CONTENT_BYTES = 20 * 1024 * 1024
REQUEST_ID_HEADER = "x-line-request-id"
ACCEPTED_REQUEST_ID_HEADER = "x-line-accepted-request-id"
RETRY_KEY_HEADER = "X-Line-Retry-Key"
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_WAIT_SECONDS = 10.0
BACKOFF_BASE_SECONDS = 0.5
MONTHLY_LIMIT_RETRY_SECONDS = 3600.0
LOADING_SECONDS_STEP = 5
MAX_LOADING_SECONDS = 60
TIMEOUT_SECONDS = 10.0

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class BotInfo:
    user_id: str
    basic_id: str | None
    display_name: str


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    display_name: str
    language: str | None


@dataclass(frozen=True, slots=True)
class Sent:
    request_id: str | None


class LineClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        access_token: str,
        api_url: str = LINE_API_URL,
        data_api_url: str = LINE_DATA_API_URL,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self._token = access_token
        self._api_url = api_url.rstrip("/")
        self._data_api_url = data_api_url.rstrip("/")
        self._max_attempts = max(1, max_attempts)
        self._max_wait_seconds = max_wait_seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"LineClient(api_url={self._api_url!r}, access_token=<hidden>)"

    async def bot_info(self) -> BotInfo:
        data = (await self._call("GET", "/v2/bot/info", endpoint="bot_info")).json()
        return BotInfo(
            user_id=str(data.get("userId", "")),
            basic_id=data.get("basicId") if isinstance(data.get("basicId"), str) else None,
            display_name=str(data.get("displayName", "")),
        )

    async def reply(self, reply_token: str, messages: Sequence[LineMessage]) -> Sent:
        """One call; a reply token is single-use, so more than five messages are refused here."""
        _check_count(messages)
        answer = await self._call(
            "POST",
            "/v2/bot/message/reply",
            endpoint="reply",
            json={"replyToken": reply_token, "messages": list(messages)},
        )
        return Sent(answer.headers.get(REQUEST_ID_HEADER))

    async def push(self, to: str, messages: Sequence[LineMessage], *, retry_key: str) -> Sent:
        _check_count(messages)
        answer = await self._call(
            "POST",
            "/v2/bot/message/push",
            endpoint="push",
            json={"to": to, "messages": list(messages)},
            headers={RETRY_KEY_HEADER: retry_key},
            accept_409=True,
        )
        if answer.status_code == 409:
            return Sent(
                answer.headers.get(ACCEPTED_REQUEST_ID_HEADER) or answer.headers.get(REQUEST_ID_HEADER)
            )
        return Sent(answer.headers.get(REQUEST_ID_HEADER))

    async def show_loading(self, chat_id: str, *, seconds: int = 20) -> None:
        step = LOADING_SECONDS_STEP
        seconds = min(MAX_LOADING_SECONDS, max(step, (seconds + step - 1) // step * step))
        await self._call(
            "POST",
            "/v2/bot/chat/loading/start",
            endpoint="loading",
            json={"chatId": chat_id, "loadingSeconds": seconds},
            attempts=1,  # a courtesy: never worth delaying the answer it announces
        )

    async def profile(self, user_id: str) -> Profile:
        data = (
            await self._call("GET", f"/v2/bot/profile/{quote(user_id, safe='')}", endpoint="profile")
        ).json()
        language = data.get("language")
        return Profile(
            user_id=str(data.get("userId", user_id)),
            display_name=str(data.get("displayName", ""))[:255],
            language=language if isinstance(language, str) else None,
        )

    async def issue_link_token(self, user_id: str) -> str:
        data = (
            await self._call(
                "POST", f"/v2/bot/user/{quote(user_id, safe='')}/linkToken", endpoint="link_token"
            )
        ).json()
        token = data.get("linkToken")
        if not isinstance(token, str) or not token:
            raise LineApiError("no linkToken in the answer", status_code=200)
        return token

    async def content(self, message_id: str) -> tuple[bytes, str]:
        """The bytes of an image, video, audio or file a user sent, and their content type."""
        answer = await self._call(
            "GET",
            f"/v2/bot/message/{quote(message_id, safe='')}/content",
            endpoint="content",
            base_url=self._data_api_url,
        )
        if len(answer.content) > MAX_CONTENT_BYTES:
            raise LineApiError("the content is larger than the app passes on", status_code=413)
        return answer.content, answer.headers.get("content-type", "application/octet-stream")

    async def _call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        base_url: str | None = None,
        attempts: int | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        accept_409: bool = False,
    ) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        max_attempts = attempts or self._max_attempts
        for attempt in range(1, max_attempts + 1):
            try:
                answer = await self._http.request(
                    method,
                    (base_url or self._api_url) + path,
                    json=json,
                    headers=all_headers,
                    timeout=TIMEOUT_SECONDS,
                )
            except httpx.TransportError as error:
                logger.warning(
                    "line api unreachable endpoint=%s attempt=%s error=%s",
                    endpoint,
                    attempt,
                    type(error).__name__,
                )
                if attempt == max_attempts:
                    raise LineUnavailable("LINE could not be reached", status_code=0) from None
                await self._sleep(_backoff(attempt))
                continue
            status = answer.status_code
            if status < 300 or (accept_409 and status == 409):
                return answer
            request_id = answer.headers.get(REQUEST_ID_HEADER)
            message = _line_message(answer)
            logger.warning(
                "line api call failed endpoint=%s status=%s request_id=%s attempt=%s",
                endpoint,
                status,
                request_id,
                attempt,
            )
            if status == 429 or status >= 500:
                wait = _retry_after(answer)
                if status == 429 and "monthly limit" in message:
                    wait = MONTHLY_LIMIT_RETRY_SECONDS
                if wait is None:
                    wait = _backoff(attempt)
                if attempt == max_attempts or wait > self._max_wait_seconds:
                    raise LineUnavailable(
                        message, status_code=status, request_id=request_id, retry_after_seconds=wait
                    )
                await self._sleep(wait)
                continue
            if status in (401, 403):
                raise LineUnauthorized(message, status_code=status, request_id=request_id)
            if status == 404:
                raise LineNotFound(message, status_code=status, request_id=request_id)
            if status == 400 and "reply token" in message.lower():
                raise InvalidReplyToken(message, status_code=status, request_id=request_id)
            raise LineApiError(message, status_code=status, request_id=request_id)
        raise AssertionError("unreachable")  # pragma: no cover


def _check_count(messages: Sequence[LineMessage]) -> None:
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_CALL:
        raise ValueError(f"a call sends 1 to {MAX_MESSAGES_PER_CALL} messages, not {len(messages)}")


def _backoff(attempt: int) -> float:
    return float(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 4))


def _retry_after(answer: httpx.Response) -> float | None:
    raw = answer.headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None


def _line_message(answer: httpx.Response) -> str:
    """LINE's own ``message`` (its words about the request, e.g. "Invalid reply token"); never our body."""
    try:
        data = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    message = data.get("message") if isinstance(data, dict) else None
    return message[:200] if isinstance(message, str) else f"HTTP {answer.status_code}"

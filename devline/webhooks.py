"""Webhook delivery as LINE does it: the events queued together for a channel go in one signed POST to its
webhook URL (several users' events may share a request); a request not answered 2xx is redelivered, when the
channel has redelivery on, with the same ``webhookEventId`` and reply token and ``isRedelivery: true``."""

from __future__ import annotations

import copy
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from devline.channels import Channel
from devline.config import LineConfig
from devline.events import encode_body, sign_body
from devline.tokens import ReplyTokens

logger = logging.getLogger(__name__)

MAX_EVENTS_PER_REQUEST = 100
USER_AGENT = "LineBotWebhook/2.0"


@dataclass
class _Pending:
    channel_id: str
    event: dict[str, Any]
    attempts: int
    due_at: float
    order: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request: what was sent, where, and how it was answered."""

    id: int
    channel_id: str
    url: str
    body: bytes
    event_ids: tuple[str, ...]
    redelivery: bool
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def __repr__(self) -> str:
        return f"Delivery(id={self.id}, channel_id={self.channel_id!r}, status_code={self.status_code!r})"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channelId": self.channel_id,
            "url": self.url,
            "webhookEventIds": list(self.event_ids),
            "isRedelivery": self.redelivery,
            "statusCode": self.status_code,
            "error": self.error,
        }


class WebhookDispatcher:
    def __init__(
        self,
        *,
        channels: Mapping[str, Channel],
        reply_tokens: ReplyTokens,
        http: httpx.AsyncClient,
        config: LineConfig,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channels = channels
        self._reply_tokens = reply_tokens
        self._http = http
        self._config = config
        self._timer = timer
        self._pending: list[_Pending] = []
        self._order = itertools.count()
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._wakeup = anyio.Event()
        self.deliveries: list[Delivery] = []

    def enqueue(self, channel_id: str, events: list[dict[str, Any]]) -> None:
        now = self._timer()
        for event in events:
            self._pending.append(_Pending(channel_id, event, 0, now, next(self._order)))
        self._wakeup.set()

    def outstanding(self) -> int:
        return len(self._pending) + self._in_flight

    async def run(self) -> None:
        """Deliver due events until cancelled."""
        async with anyio.create_task_group() as group:
            while True:
                self._wakeup = anyio.Event()
                for channel_id, batch in self._claim_due():
                    self._in_flight += 1
                    group.start_soon(self._deliver_counted, channel_id, batch)
                with anyio.move_on_after(self._seconds_until_next_due()):
                    await self._wakeup.wait()

    async def deliver_due(self) -> None:
        """One round, without ``run`` (for scripts and tests)."""
        for channel_id, batch in self._claim_due():
            self._in_flight += 1
            await self._deliver_counted(channel_id, batch)

    async def wait_idle(self, timeout_seconds: float = 5.0, poll_seconds: float = 0.002) -> None:
        with anyio.fail_after(timeout_seconds):
            while self.outstanding():  # noqa: ASYNC110 (a plain counter, polled by tests)
                await anyio.sleep(poll_seconds)

    def _claim_due(self) -> list[tuple[str, list[_Pending]]]:
        now = self._timer()
        due = sorted((p for p in self._pending if p.due_at <= now), key=lambda p: p.order)
        if not due:
            return []
        claimed = {id(p) for p in due}
        self._pending = [p for p in self._pending if id(p) not in claimed]
        batches: dict[str, list[_Pending]] = {}
        for pending in due:
            batches.setdefault(pending.channel_id, []).append(pending)
        result: list[tuple[str, list[_Pending]]] = []
        for channel_id, items in batches.items():
            for start in range(0, len(items), MAX_EVENTS_PER_REQUEST):
                result.append((channel_id, items[start : start + MAX_EVENTS_PER_REQUEST]))
        return result

    def _seconds_until_next_due(self) -> float:
        if not self._pending:
            return 3600.0
        return max(0.0, min(p.due_at for p in self._pending) - self._timer())

    async def _deliver_counted(self, channel_id: str, batch: list[_Pending]) -> None:
        try:
            await self._deliver(channel_id, batch)
        finally:
            self._in_flight -= 1
            self._wakeup.set()

    async def _deliver(self, channel_id: str, batch: list[_Pending]) -> None:
        channel = self._channels.get(channel_id)
        event_ids = tuple(str(p.event["webhookEventId"]) for p in batch)
        if channel is None or not channel.webhook_url or not channel.webhook_active:
            reason = "no channel" if channel is None else "webhook off"
            self._record(channel_id, "", b"", event_ids, False, None, reason)
            return
        events = []
        for pending in batch:
            event = copy.deepcopy(pending.event)
            event["deliveryContext"] = {"isRedelivery": pending.attempts > 0}
            events.append(event)
            token = event.get("replyToken")
            if isinstance(token, str):
                self._reply_tokens.delivered(token)
        body = encode_body(channel.bot_user_id, events)
        status_code, error = await self.post(channel, channel.webhook_url, body)
        redelivery = any(p.attempts > 0 for p in batch)
        delivery = self._record(
            channel_id, channel.webhook_url, body, event_ids, redelivery, status_code, error
        )
        if delivery.ok:
            return
        delays = self._config.redelivery_delays_seconds
        for pending in batch:
            if not channel.redelivery or pending.attempts >= len(delays):
                continue
            pending.due_at = self._timer() + delays[pending.attempts] * self._config.webhook_time_scale
            pending.attempts += 1
            self._pending.append(pending)

    async def post(self, channel: Channel, url: str, body: bytes) -> tuple[int | None, str | None]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-line-signature": sign_body(body, channel.channel_secret),
            "User-Agent": USER_AGENT,
        }
        timeout = self._config.webhook_timeout_seconds
        try:
            with anyio.fail_after(timeout):
                response = await self._http.post(
                    url, content=body, headers=headers, timeout=timeout, follow_redirects=False
                )
        except TimeoutError:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        return response.status_code, None

    def _record(
        self,
        channel_id: str,
        url: str,
        body: bytes,
        event_ids: tuple[str, ...],
        redelivery: bool,
        status_code: int | None,
        error: str | None,
    ) -> Delivery:
        delivery = Delivery(next(self._ids), channel_id, url, body, event_ids, redelivery, status_code, error)
        self.deliveries.append(delivery)
        logger.info(
            "webhook channel=%s events=%d redelivery=%s status_code=%s error=%s",
            channel_id,
            len(event_ids),
            redelivery,
            status_code,
            error,
        )
        return delivery

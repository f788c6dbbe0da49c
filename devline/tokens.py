"""Tokens LINE hands out and remembers: reply tokens (once, for a minute after delivery), link tokens
(once, for ten minutes) and accepted retry keys (a day)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from devline.clock import Clock

PURGE_AT_TOKENS = 10_000


@dataclass
class ReplyToken:
    channel_id: str
    user_id: str
    event_at: float
    expires_at: float | None = None  # set when the event is delivered
    used: bool = False


class ReplyTokens:
    def __init__(self, *, clock: Clock, lifetime_seconds: float, max_age_seconds: float) -> None:
        self._clock = clock
        self._lifetime = lifetime_seconds
        self._max_age = max_age_seconds
        self._tokens: dict[str, ReplyToken] = {}

    def issue(self, *, channel_id: str, user_id: str, event_at: float) -> str:
        if len(self._tokens) >= PURGE_AT_TOKENS:
            self.purge()
        token = secrets.token_hex(16)
        self._tokens[token] = ReplyToken(channel_id=channel_id, user_id=user_id, event_at=event_at)
        return token

    def delivered(self, token: str) -> None:
        """Each delivery (the first or a redelivery) gives the bot a minute, never past the event's 20."""
        found = self._tokens.get(token)
        if found is None:
            return
        now = self._clock()
        found.expires_at = min(now + self._lifetime, found.event_at + self._max_age)

    def use(self, token: str, *, channel_id: str) -> ReplyToken | None:
        """The token's target, spending it; ``None`` when unknown, another channel's, used or expired."""
        found = self._tokens.get(token)
        if found is None or found.channel_id != channel_id or found.used:
            return None
        if found.expires_at is None or self._clock() >= found.expires_at:
            return None
        found.used = True
        return found

    def purge(self) -> None:
        now = self._clock()
        stale = [t for t, v in self._tokens.items() if v.used or now >= v.event_at + self._max_age]
        for token in stale:
            del self._tokens[token]


class LinkOutcome(StrEnum):
    OK = "ok"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


@dataclass
class LinkToken:
    channel_id: str
    user_id: str
    expires_at: float
    used: bool = False


class LinkTokens:
    def __init__(self, *, clock: Clock, lifetime_seconds: float) -> None:
        self._clock = clock
        self._lifetime = lifetime_seconds
        self._tokens: dict[str, LinkToken] = {}

    def issue(self, *, channel_id: str, user_id: str) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = LinkToken(
            channel_id=channel_id, user_id=user_id, expires_at=self._clock() + self._lifetime
        )
        return token

    def redeem(self, token: str) -> tuple[LinkOutcome, LinkToken | None]:
        found = self._tokens.get(token)
        if found is None:
            return LinkOutcome.UNKNOWN, None
        if found.used:
            return LinkOutcome.USED, found
        found.used = True
        if self._clock() >= found.expires_at:
            return LinkOutcome.EXPIRED, found
        return LinkOutcome.OK, found


@dataclass(frozen=True)
class AcceptedRequest:
    request_id: str
    sent_messages: list[dict[str, Any]]
    accepted_at: float


class RetryKeys:
    """``X-Line-Retry-Key``: a push accepted with a key is not sent again for a day."""

    def __init__(self, *, clock: Clock, lifetime_seconds: float) -> None:
        self._clock = clock
        self._lifetime = lifetime_seconds
        self._accepted: dict[tuple[str, str], AcceptedRequest] = {}

    def accepted(self, *, channel_id: str, key: str) -> AcceptedRequest | None:
        if len(self._accepted) >= PURGE_AT_TOKENS:
            now = self._clock()
            self._accepted = {k: v for k, v in self._accepted.items() if now < v.accepted_at + self._lifetime}
        found = self._accepted.get((channel_id, key))
        if found is None or self._clock() >= found.accepted_at + self._lifetime:
            return None
        return found

    def accept(
        self, *, channel_id: str, key: str, request_id: str, sent_messages: list[dict[str, Any]]
    ) -> None:
        self._accepted[(channel_id, key)] = AcceptedRequest(request_id, sent_messages, self._clock())

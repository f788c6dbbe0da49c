"""The account's data in memory: users, groups, tickets with their comments and tags, the triggers that
notify our webhook, the app's signing key, and the rate limits."""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devzendesk.config import ZendeskConfig

Clock = Callable[[], float]
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")


class TriggerEvent(StrEnum):
    CREATED = "created"
    PUBLIC_COMMENT = "public_comment"


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    id: int
    name: str
    email: str
    role: str  # end-user | agent | admin
    locale: str = "ja"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": "",
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "locale": self.locale,
            "active": True,
        }


@dataclass
class Comment:
    id: int
    author_id: int
    body: str
    public: bool
    created_at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "plain_body": self.body,
            "public": self.public,
            "attachments": [],
            "created_at": iso(self.created_at),
        }


@dataclass
class Ticket:
    id: int
    subject: str
    requester_id: int
    status: str = "new"
    group_id: int | None = None
    tags: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.comments[0].body if self.comments else "",
            "status": self.status,
            "requester_id": self.requester_id,
            "submitter_id": self.requester_id,
            "assignee_id": None,
            "group_id": self.group_id,
            "tags": list(self.tags),
            "is_public": True,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class Trigger:
    event: TriggerEvent
    body_template: str


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    url: str
    body: bytes
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class ZendeskState:
    def __init__(self, config: ZendeskConfig, *, clock: Clock = time.time) -> None:
        self.config = config
        self.clock = clock
        self._ids = itertools.count(10_001)
        self.users: dict[int, User] = {}
        self.groups: dict[int, str] = {}
        self.tickets: dict[int, Ticket] = {}
        self.triggers: list[Trigger] = []
        self.webhook_url = config.webhook_url
        self.sidebar_url = config.sidebar_url
        self.pending: deque[tuple[str, bytes]] = deque()
        self.deliveries: list[Delivery] = []
        self._requests: deque[float] = deque()
        self._ticket_updates: dict[int, deque[float]] = {}
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.admin = self.add_user("Zendesk Admin", config.admin_email, role="admin")
        self.agent = self.add_user("山田 花子", "agent@devzendesk.example.com", role="agent")
        self.support_group = self.add_group("Support")
        self.returns_group = self.add_group("返品・返金")

    def next_id(self) -> int:
        return next(self._ids)

    def add_user(self, name: str, email: str, *, role: str = "end-user", locale: str = "ja") -> User:
        user = User(id=self.next_id(), name=name, email=email, role=role, locale=locale)
        self.users[user.id] = user
        return user

    def user_by_email(self, email: str) -> User | None:
        return next((user for user in self.users.values() if user.email == email.lower()), None)

    def add_group(self, name: str) -> int:
        group_id = self.next_id()
        self.groups[group_id] = name
        return group_id

    @property
    def public_key_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @property
    def private_key_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    # --- tickets, as people and the API change them ---------------------------------------------------

    def open_ticket(self, *, requester: User, subject: str, body: str) -> Ticket:
        now = self.clock()
        ticket = Ticket(
            id=self.next_id(), subject=subject, requester_id=requester.id, created_at=now, updated_at=now
        )
        ticket.comments.append(
            Comment(id=self.next_id(), author_id=requester.id, body=body, public=True, created_at=now)
        )
        self.tickets[ticket.id] = ticket
        self._fire(TriggerEvent.CREATED, ticket)
        return ticket

    def add_comment(self, ticket: Ticket, *, author: User, body: str, public: bool) -> Comment:
        now = self.clock()
        comment = Comment(id=self.next_id(), author_id=author.id, body=body, public=public, created_at=now)
        ticket.comments.append(comment)
        ticket.updated_at = now
        if author.role != "end-user" and ticket.status == "new":
            ticket.status = "open"
        if public:
            self._fire(TriggerEvent.PUBLIC_COMMENT, ticket)
        return comment

    # --- triggers ------------------------------------------------------------------------------------

    def _fire(self, event: TriggerEvent, ticket: Ticket) -> None:
        if not self.webhook_url:
            return
        for trigger in self.triggers:
            if trigger.event is event:
                self.pending.append((self.webhook_url, self.render(trigger.body_template, ticket).encode()))

    def render(self, template: str, ticket: Ticket) -> str:
        """Placeholders as plain text, without JSON escaping (as Zendesk renders them)."""
        requester = self.users[ticket.requester_id]
        values = {
            "ticket.id": str(ticket.id),
            "ticket.title": ticket.subject,
            "ticket.status": ticket.status.capitalize(),
            "ticket.requester.id": str(requester.id),
            "ticket.requester.email": requester.email,
            "ticket.requester.name": requester.name,
            "ticket.latest_comment": ticket.comments[-1].body if ticket.comments else "",
            "ticket.tags": " ".join(ticket.tags),
            "ticket.link": f"{self.config.base_url}/agent/tickets/{ticket.id}",
        }
        return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)

    # --- rate limits ---------------------------------------------------------------------------------

    def allow_request(self) -> float | None:
        """``None`` when the request may go on, else the seconds to wait (``Retry-After``)."""
        return _window(self._requests, self.clock(), 60.0, self.config.requests_per_minute)

    def allow_ticket_update(self, ticket_id: int) -> float | None:
        updates = self._ticket_updates.setdefault(ticket_id, deque())
        return _window(updates, self.clock(), 600.0, self.config.ticket_updates_per_ten_minutes)

    def remaining_requests(self) -> int:
        return max(0, self.config.requests_per_minute - len(self._requests))


def _window(stamps: deque[float], now: float, seconds: float, limit: int) -> float | None:
    while stamps and stamps[0] <= now - seconds:
        stamps.popleft()
    if len(stamps) >= limit:
        return max(1.0, float(math.ceil(stamps[0] + seconds - now)))
    stamps.append(now)
    return None

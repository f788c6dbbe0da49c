"""Chatwoot's records, in memory, and what happens when they change (the webhooks an agent bot gets)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5.0
MESSAGE_TYPES = ("incoming", "outgoing", "activity", "template")


@dataclass
class User:
    id: int
    name: str
    email: str
    access_token: str
    account_ids: list[int]


@dataclass
class AgentBot:
    id: int
    account_id: int
    name: str
    outgoing_url: str
    access_token: str
    secret: str


@dataclass
class Inbox:
    id: int
    account_id: int
    name: str
    channel: str = "Channel::WebWidget"
    agent_bot_id: int | None = None


@dataclass
class Contact:
    id: int
    account_id: int
    name: str
    email: str | None = None
    phone_number: str | None = None
    custom_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Message:
    id: int
    conversation_id: int  # the display id
    content: str
    message_type: str
    private: bool
    sender_type: str  # "contact", "user", "agent_bot"
    sender_id: int
    created_at: float


@dataclass
class Conversation:
    display_id: int
    account_id: int
    inbox_id: int
    contact_id: int
    status: str
    messages: list[Message] = field(default_factory=list)
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)


@dataclass
class Account:
    id: int
    name: str
    inboxes: dict[int, Inbox] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    dashboard_apps: list[dict[str, Any]] = field(default_factory=list)
    next_display_id: int = 1


@dataclass
class Delivery:
    url: str
    event: str
    status: int  # 0: no answer


class ChatwootState:
    def __init__(
        self, *, http: httpx.AsyncClient | None = None, base_url: str = "http://127.0.0.1:8083"
    ) -> None:
        self.http = http or httpx.AsyncClient()
        self.base_url = base_url
        self.accounts: dict[int, Account] = {}
        self.users: dict[int, User] = {}
        self.bots: dict[int, AgentBot] = {}
        self.deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self.lock = asyncio.Lock()

    # ---- records

    def add_account(self, name: str) -> Account:
        account = Account(id=next(self._ids), name=name)
        self.accounts[account.id] = account
        return account

    def add_user(self, account: Account, *, name: str, email: str) -> User:
        user = User(next(self._ids), name, email, secrets.token_urlsafe(18), [account.id])
        self.users[user.id] = user
        return user

    def add_inbox(self, account: Account, name: str) -> Inbox:
        inbox = Inbox(id=next(self._ids), account_id=account.id, name=name)
        account.inboxes[inbox.id] = inbox
        return inbox

    def add_bot(
        self, account: Account, *, name: str, outgoing_url: str, secret: str | None = None
    ) -> AgentBot:
        bot = AgentBot(
            id=next(self._ids),
            account_id=account.id,
            name=name,
            outgoing_url=outgoing_url,
            access_token=secrets.token_urlsafe(18),
            secret=secret or secrets.token_hex(24),
        )
        self.bots[bot.id] = bot
        return bot

    def set_agent_bot(self, inbox: Inbox, bot: AgentBot | None) -> None:
        inbox.agent_bot_id = bot.id if bot is not None else None

    def add_contact(
        self, account: Account, *, name: str, email: str | None = None, phone: str | None = None
    ) -> Contact:
        contact = Contact(
            id=next(self._ids), account_id=account.id, name=name, email=email, phone_number=phone
        )
        account.contacts[contact.id] = contact
        return contact

    def add_dashboard_app(self, account: Account, *, title: str, url: str) -> dict[str, Any]:
        app = {"id": next(self._ids), "title": title, "content": [{"type": "frame", "url": url}]}
        account.dashboard_apps.append(app)
        return app

    def bot_for(self, inbox: Inbox) -> AgentBot | None:
        return self.bots.get(inbox.agent_bot_id) if inbox.agent_bot_id is not None else None

    def user_by_token(self, token: str) -> User | None:
        return next((u for u in self.users.values() if hmac.compare_digest(u.access_token, token)), None)

    def bot_by_token(self, token: str) -> AgentBot | None:
        return next((b for b in self.bots.values() if hmac.compare_digest(b.access_token, token)), None)

    # ---- what happens

    async def contact_says(
        self,
        account: Account,
        inbox: Inbox,
        contact: Contact,
        content: str,
        *,
        conversation: Conversation | None = None,
    ) -> tuple[Conversation, Message]:
        """A contact writes (a new conversation when none is given): pending when the inbox has a bot."""
        if conversation is None:
            conversation = Conversation(
                display_id=account.next_display_id,
                account_id=account.id,
                inbox_id=inbox.id,
                contact_id=contact.id,
                status="pending" if inbox.agent_bot_id else "open",
            )
            account.next_display_id += 1
            account.conversations[conversation.display_id] = conversation
        message = self._message(conversation, content, "incoming", False, "contact", contact.id)
        await self.notify_message(account, conversation, message)
        return conversation, message

    async def post_message(
        self,
        account: Account,
        conversation: Conversation,
        *,
        content: str,
        private: bool,
        sender_type: str,
        sender_id: int,
    ) -> Message:
        message = self._message(conversation, content, "outgoing", private, sender_type, sender_id)
        await self.notify_message(account, conversation, message)
        return message

    async def set_status(self, account: Account, conversation: Conversation, status: str) -> None:
        previous = conversation.status
        if previous == status:
            return
        conversation.status = status
        await self._deliver(
            account,
            conversation,
            self.conversation_payload(
                account,
                conversation,
                "conversation_status_changed",
                changed={"status": {"previous_value": previous, "current_value": status}},
            ),
        )

    def _message(
        self,
        conversation: Conversation,
        content: str,
        message_type: str,
        private: bool,
        sender_type: str,
        sender_id: int,
    ) -> Message:
        message = Message(
            id=next(self._message_ids),
            conversation_id=conversation.display_id,
            content=content,
            message_type=message_type,
            private=private,
            sender_type=sender_type,
            sender_id=sender_id,
            created_at=time.time(),
        )
        conversation.messages.append(message)
        return message

    async def notify_message(self, account: Account, conversation: Conversation, message: Message) -> None:
        """The bot gets every message of its inbox's conversations, its own and private notes included."""
        payload = self.message_payload(account, conversation, message)
        status = await self._deliver(account, conversation, payload)
        if (
            status is not None
            and not 200 <= status < 300
            and conversation.status == "pending"
            and message.message_type == "incoming"
        ):
            conversation.status = "open"  # Chatwoot opens a pending conversation whose bot call failed

    async def _deliver(
        self, account: Account, conversation: Conversation, payload: dict[str, Any]
    ) -> int | None:
        inbox = account.inboxes[conversation.inbox_id]
        bot = self.bot_for(inbox)
        if bot is None:
            return None
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = int(time.time())
        signature = (
            "sha256="
            + hmac.new(bot.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        )
        headers = {
            "Content-Type": "application/json",
            "X-Chatwoot-Delivery": str(uuid.uuid4()),
            "X-Chatwoot-Timestamp": str(timestamp),
            "X-Chatwoot-Signature": signature,
        }
        try:
            answer = await self.http.post(
                bot.outgoing_url, content=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS
            )
            status = answer.status_code
        except httpx.HTTPError as error:
            logger.info("devchatwoot bot call failed: %s", type(error).__name__)
            status = 0
        self.deliveries.append(Delivery(bot.outgoing_url, str(payload.get("event")), status))
        return status

    # ---- payloads, as Chatwoot's serializers build them

    def contact_data(self, contact: Contact, *, with_type: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "additional_attributes": {},
            "custom_attributes": dict(contact.custom_attributes),
            "email": contact.email,
            "id": contact.id,
            "identifier": None,
            "name": contact.name,
            "phone_number": contact.phone_number,
            "thumbnail": "",
            "blocked": False,
        }
        if with_type:
            data["type"] = "contact"
        return data

    def sender_data(self, account: Account, message: Message) -> dict[str, Any]:
        if message.sender_type == "contact":
            contact = account.contacts[message.sender_id]
            return {
                "account": {"id": account.id, "name": account.name},
                **self.contact_data(contact, with_type=False),
            }
        if message.sender_type == "agent_bot":
            bot = self.bots[message.sender_id]
            return {"id": bot.id, "name": bot.name, "avatar_url": "", "type": "agent_bot"}
        user = self.users[message.sender_id]
        return {"id": user.id, "name": user.name, "email": user.email, "type": "user"}

    def message_row(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.id,
            "content": message.content,
            "conversation_id": message.conversation_id,
            "message_type": MESSAGE_TYPES.index(message.message_type),
            "created_at": int(message.created_at),
            "private": message.private,
            "content_type": "text",
            "content_attributes": {},
            "sender_type": {"contact": "Contact", "user": "User", "agent_bot": "AgentBot"}[
                message.sender_type
            ],
            "sender_id": message.sender_id,
        }

    def conversation_data(self, account: Account, conversation: Conversation) -> dict[str, Any]:
        contact = account.contacts[conversation.contact_id]
        return {
            "additional_attributes": {},
            "can_reply": True,
            "channel": account.inboxes[conversation.inbox_id].channel,
            "id": conversation.display_id,
            "inbox_id": conversation.inbox_id,
            "messages": [self.message_row(conversation.messages[-1])] if conversation.messages else [],
            "labels": [],
            "meta": {
                "sender": self.contact_data(contact, with_type=True),
                "assignee": None,
                "team": None,
                "hmac_verified": False,
            },
            "status": conversation.status,
            "custom_attributes": dict(conversation.custom_attributes),
            "snoozed_until": None,
            "unread_count": 0,
            "timestamp": int(conversation.created_at),
            "created_at": int(conversation.created_at),
        }

    def message_payload(
        self, account: Account, conversation: Conversation, message: Message
    ) -> dict[str, Any]:
        inbox = account.inboxes[conversation.inbox_id]
        return {
            "account": {"id": account.id, "name": account.name},
            "additional_attributes": {},
            "content_attributes": {},
            "content_type": "text",
            "content": message.content,
            "conversation": self.conversation_data(account, conversation),
            "created_at": datetime.fromtimestamp(message.created_at, UTC).isoformat().replace("+00:00", "Z"),
            "id": message.id,
            "inbox": {"id": inbox.id, "name": inbox.name},
            "message_type": message.message_type,
            "private": message.private,
            "sender": self.sender_data(account, message),
            "source_id": None,
            "event": "message_created",
        }

    def conversation_payload(
        self,
        account: Account,
        conversation: Conversation,
        event: str,
        *,
        changed: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload = {**self.conversation_data(account, conversation), "event": event}
        if changed:
            payload["changed_attributes"] = [changed]
        return payload

    def app_context(self, account: Account, conversation: Conversation, user: User) -> dict[str, Any]:
        """What Chatwoot posts (as a JSON string) to a dashboard app's frame."""
        contact = account.contacts[conversation.contact_id]
        return {
            "event": "appContext",
            "data": {
                "conversation": {**self.conversation_data(account, conversation), "account_id": account.id},
                "contact": self.contact_data(contact, with_type=False),
                "currentAgent": {"id": user.id, "name": user.name, "email": user.email},
            },
        }

"""Everything the platform holds (in memory, like a phone's chat history until the process stops), and what
its two sides do: the LINE user (follow, write, tap, link an account) and the bot (messages, loading)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from devline import events
from devline.channels import Channel, ChatEntry, Sender, User, Via
from devline.clock import Clock, system_clock
from devline.config import ChannelConfig, LineConfig
from devline.rate_limits import RateLimiter
from devline.tokens import LinkOutcome, LinkTokens, ReplyTokens, RetryKeys
from devline.webhooks import WebhookDispatcher

USER_ID_PATTERN = re.compile(r"U[0-9a-f]{32}")
QUOTABLE_TYPES = frozenset({"text", "sticker", "image", "video"})
# LINE keeps a chat's loading animation until a message arrives or its seconds pass.
DEFAULT_LOADING_SECONDS = 20
FIRST_MESSAGE_ID = 600_000_000_000_000_001  # LINE's message ids are 18-digit numbers


def is_user_id(value: object) -> bool:
    return isinstance(value, str) and USER_ID_PATTERN.fullmatch(value) is not None


@dataclass
class LineState:
    config: LineConfig
    http: httpx.AsyncClient
    clock: Clock
    channels: dict[str, Channel]
    reply_tokens: ReplyTokens
    link_tokens: LinkTokens
    retry_keys: RetryKeys
    limits: RateLimiter
    webhooks: WebhookDispatcher
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(FIRST_MESSAGE_ID))
    _changed: anyio.Event = field(default_factory=anyio.Event)

    @classmethod
    def open(cls, config: LineConfig, *, http: httpx.AsyncClient, clock: Clock | None = None) -> LineState:
        clock = clock or system_clock
        channels = {channel.channel_id: Channel.from_config(channel) for channel in config.channels}
        reply_tokens = ReplyTokens(
            clock=clock,
            lifetime_seconds=config.reply_token_lifetime_seconds,
            max_age_seconds=config.reply_token_max_age_seconds,
        )
        return cls(
            config=config,
            http=http,
            clock=clock,
            channels=channels,
            reply_tokens=reply_tokens,
            link_tokens=LinkTokens(clock=clock, lifetime_seconds=config.link_token_lifetime_seconds),
            retry_keys=RetryKeys(clock=clock, lifetime_seconds=config.retry_key_lifetime_seconds),
            limits=RateLimiter(clock=clock),
            webhooks=WebhookDispatcher(
                channels=channels, reply_tokens=reply_tokens, http=http, config=config
            ),
        )

    # channels and users

    def add_channel(self, config: ChannelConfig) -> Channel:
        channel = self.channels[config.channel_id] = Channel.from_config(config)
        return channel

    def channel_for_token(self, token: str) -> Channel | None:
        found = None
        for channel in self.channels.values():  # every channel checked: no early exit on a match
            if channel.accepts_token(token):
                found = channel
        return found

    def user(
        self, channel: Channel, user_id: str, *, display_name: str | None = None, language: str | None = None
    ) -> User:
        """The channel's user, made on first sight (as a LINE account that has never talked to the bot)."""
        user = channel.users.get(user_id)
        if user is None:
            user = channel.users[user_id] = User(
                user_id=user_id,
                display_name=display_name or ("LINEユーザー" if language != "en" else "LINE user"),
                language=language or "ja",
            )
        return user

    def next_message_id(self) -> str:
        return str(next(self._message_ids))

    def now(self) -> float:
        return self.clock()

    # what the user does: each returns the webhook event, which ``emit`` queues

    def _record(self, user: User, sender: Sender, via: Via, message: dict[str, Any], **ids: str) -> ChatEntry:
        entry = ChatEntry(next(self._seq), sender, via, self.now(), message, **ids)
        user.entries.append(entry)
        if sender is Sender.BOT:
            user.loading_until = 0.0
        self.notify()
        return entry

    def _reply_token(self, channel: Channel, user: User) -> str:
        return self.reply_tokens.issue(
            channel_id=channel.channel_id, user_id=user.user_id, event_at=self.now()
        )

    def follow(self, channel: Channel, user: User) -> dict[str, Any]:
        unblocked = user.ever_followed
        user.following = user.ever_followed = True
        self._record(user, Sender.USER, Via.FOLLOW, {"type": "follow"})
        return events.follow_event(
            user_id=user.user_id,
            now_seconds=self.now(),
            reply_token=self._reply_token(channel, user),
            is_unblocked=unblocked,
        )

    def unfollow(self, channel: Channel, user: User) -> dict[str, Any]:
        user.following = False
        self._record(user, Sender.USER, Via.UNFOLLOW, {"type": "unfollow"})
        return events.unfollow_event(user_id=user.user_id, now_seconds=self.now())

    def send_message(self, channel: Channel, user: User, content: dict[str, Any]) -> dict[str, Any]:
        """``content`` is a webhook message object without its id: text, sticker or image."""
        message_id = self.next_message_id()
        message = {"id": message_id, **content}
        if content.get("type") in QUOTABLE_TYPES:
            message["quoteToken"] = events.new_event_id(self.now())
        if content.get("type") == "image":
            message["contentProvider"] = {"type": "line"}
        self._record(user, Sender.USER, Via.MESSAGE, message, message_id=message_id)
        return events.message_event(
            user_id=user.user_id,
            now_seconds=self.now(),
            reply_token=self._reply_token(channel, user),
            message=message,
        )

    def unsend(self, user: User, message_id: str) -> dict[str, Any]:
        """The user takes back one of their messages (LINE lets them within 24 hours): it leaves their
        phone and its content can no longer be fetched."""
        sent = next(
            (
                entry
                for entry in user.entries
                if entry.sender is Sender.USER and entry.via is Via.MESSAGE and entry.message_id == message_id
            ),
            None,
        )
        if sent is None or message_id in user.unsent:
            raise ActionError("no such message of this user to unsend")
        if self.now() - sent.at > UNSEND_WINDOW_SECONDS:
            raise ActionError("a message can be unsent within 24 hours")
        user.unsent.add(message_id)
        self._record(user, Sender.USER, Via.UNSEND, {"type": "unsend", "messageId": message_id})
        return events.unsend_event(user_id=user.user_id, now_seconds=self.now(), message_id=message_id)

    def send_postback(
        self, channel: Channel, user: User, *, data: str, display_text: str | None = None
    ) -> dict[str, Any]:
        shown: dict[str, Any] = {"type": "postback", "data": data}
        if display_text:
            shown["displayText"] = display_text
        self._record(user, Sender.USER, Via.POSTBACK, shown)
        return events.postback_event(
            user_id=user.user_id,
            now_seconds=self.now(),
            reply_token=self._reply_token(channel, user),
            data=data,
        )

    def link_account(self, link_token: str, nonce: str) -> tuple[LinkOutcome, Channel | None, User | None]:
        """The user opened the account-link URL: an ``accountLink`` event for a token LINE knows (``ok``
        once, within its ten minutes; ``failed`` when it expired or was used); nothing for a token it does
        not know, as it cannot tell whose it is."""
        outcome, token = self.link_tokens.redeem(link_token)
        channel = self.channels.get(token.channel_id) if token else None
        if token is None or channel is None:
            return LinkOutcome.UNKNOWN, None, None
        user = self.user(channel, token.user_id)
        ok = outcome is LinkOutcome.OK
        shown = {"type": "accountLink", "result": "ok" if ok else "failed"}
        self._record(user, Sender.USER, Via.ACCOUNT_LINK, shown)
        event = events.account_link_event(
            user_id=user.user_id,
            now_seconds=self.now(),
            reply_token=self._reply_token(channel, user) if ok else None,
            nonce=nonce,
            ok=ok,
        )
        self.emit(channel, [event])
        return outcome, channel, user

    def emit(self, channel: Channel, queued: list[dict[str, Any]]) -> None:
        """Queue events for the channel's webhook; events queued together are sent in one request."""
        self.webhooks.enqueue(channel.channel_id, queued)

    # what the bot does

    def deliver(
        self, channel: Channel, user: User, messages: list[dict[str, Any]], *, via: Via, request_id: str
    ) -> list[dict[str, Any]]:
        """Show the bot's messages on the user's phone; LINE's ``sentMessages``."""
        sent: list[dict[str, Any]] = []
        for message in messages:
            message_id = self.next_message_id()
            item = {"id": message_id}
            if message.get("type") in QUOTABLE_TYPES:
                item["quoteToken"] = events.new_event_id(self.now())
            sent.append(item)
            if user.following:  # a push to a user who blocked the bot is accepted but never shown
                self._record(user, Sender.BOT, via, message, message_id=message_id, request_id=request_id)
        return sent

    def start_loading(self, user: User, seconds: int) -> None:
        user.loading_until = self.now() + seconds
        self.notify()

    # changes, for the chat page

    def notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for_change(self, timeout_seconds: float) -> None:
        changed = self._changed
        with anyio.move_on_after(timeout_seconds):
            await changed.wait()


MAX_USER_TEXT_LENGTH = 5000
UNSEND_WINDOW_SECONDS = 24 * 3600
MAX_POSTBACK_DATA_LENGTH = 300


class ActionError(ValueError):
    """A user action the platform refuses (the control endpoint and the chat page answer 400)."""


def _string(spec: dict[str, Any], key: str, *, max_length: int, required: bool = True) -> str | None:
    value = spec.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ActionError(f"{key} must be a non-empty string")
    if len(value) > max_length:
        raise ActionError(f"{key} is longer than {max_length} characters")
    return value


def check_action(spec: object) -> None:
    """Refuse a malformed user action before anything is done (see ``user_action``)."""
    if not isinstance(spec, dict):
        raise ActionError("an action must be a JSON object")
    kind = spec.get("type")
    if kind == "text":
        _string(spec, "text", max_length=MAX_USER_TEXT_LENGTH)
    elif kind == "sticker":
        _string(spec, "packageId", max_length=32, required=False)
        _string(spec, "stickerId", max_length=32, required=False)
    elif kind == "postback":
        _string(spec, "data", max_length=MAX_POSTBACK_DATA_LENGTH)
        _string(spec, "displayText", max_length=300, required=False)
    elif kind == "unsend":
        _string(spec, "messageId", max_length=32)
    elif kind not in ("image", "follow", "unfollow"):
        raise ActionError("type must be one of text, sticker, image, postback, unsend, follow, unfollow")


def user_action(state: LineState, channel: Channel, user: User, spec: dict[str, Any]) -> dict[str, Any]:
    """What a LINE user does, as ``{"type": "text", "text": …}``, ``{"type": "sticker", "packageId"?: …,
    "stickerId"?: …}``, ``{"type": "image"}``, ``{"type": "postback", "data": …, "displayText"?: …}``,
    ``{"type": "unsend", "messageId": …}``, ``{"type": "follow"}`` or ``{"type": "unfollow"}``: the webhook
    event it makes."""
    check_action(spec)
    kind = spec["type"]
    if kind == "follow":
        return state.follow(channel, user)
    if kind == "unfollow":
        return state.unfollow(channel, user)
    if kind == "text":
        return state.send_message(channel, user, {"type": "text", "text": spec["text"]})
    if kind == "sticker":
        content = {
            "type": "sticker",
            "packageId": spec.get("packageId") or "446",
            "stickerId": spec.get("stickerId") or "1988",
            "stickerResourceType": "STATIC",
            "keywords": ["Happy"],
        }
        return state.send_message(channel, user, content)
    if kind == "image":
        return state.send_message(channel, user, {"type": "image"})
    if kind == "unsend":
        return state.unsend(user, spec["messageId"])
    return state.send_postback(channel, user, data=spec["data"], display_text=spec.get("displayText"))

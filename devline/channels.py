"""Channels, their users and each user's conversation (the "phone" of the simulated user)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from devline.config import ChannelConfig


class Sender(StrEnum):
    USER = "user"
    BOT = "bot"


class Via(StrEnum):
    """How an entry reached the conversation."""

    REPLY = "reply"
    PUSH = "push"
    MESSAGE = "message"
    POSTBACK = "postback"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    ACCOUNT_LINK = "accountLink"
    UNSEND = "unsend"


@dataclass(frozen=True, slots=True)
class ChatEntry:
    seq: int
    sender: Sender
    via: Via
    at: float
    # A LINE message object for the bot's messages; for the user's, the webhook event's content
    message: dict[str, Any]
    message_id: str = ""
    request_id: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "sender": self.sender.value,
            "via": self.via.value,
            "at": self.at,
            "message": self.message,
            "messageId": self.message_id,
            "requestId": self.request_id,
        }


@dataclass
class User:
    user_id: str
    display_name: str
    language: str = "ja"
    picture_url: str = ""
    status_message: str = ""
    following: bool = False
    ever_followed: bool = False
    entries: list[ChatEntry] = field(default_factory=list)
    loading_until: float = 0.0
    unsent: set[str] = field(default_factory=set)  # ids of the messages the user unsent

    def profile(self) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "displayName": self.display_name,
            "userId": self.user_id,
            "language": self.language,
        }
        if self.picture_url:
            profile["pictureUrl"] = self.picture_url
        if self.status_message:
            profile["statusMessage"] = self.status_message
        return profile

    def last_seq(self) -> int:
        return self.entries[-1].seq if self.entries else 0

    def loading(self, now: float) -> bool:
        return now < self.loading_until


@dataclass
class Channel:
    channel_id: str
    channel_secret: str = field(repr=False)
    access_tokens: list[str] = field(repr=False)
    bot_user_id: str
    basic_id: str
    display_name: str
    webhook_url: str = ""
    webhook_active: bool = True
    redelivery: bool = True
    picture_url: str = ""
    monthly_push_limit: int | None = None
    pushes_this_month: int = 0
    requests_per_second: float | None = None
    loading_requests_per_second: float | None = None
    users: dict[str, User] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: ChannelConfig) -> Channel:
        return cls(
            channel_id=config.channel_id,
            channel_secret=config.channel_secret,
            access_tokens=list(config.access_tokens),
            bot_user_id=config.bot_user_id,
            basic_id=config.basic_id,
            display_name=config.display_name,
            webhook_url=config.webhook_url,
            webhook_active=config.webhook_active,
            redelivery=config.redelivery,
            picture_url=config.picture_url,
            monthly_push_limit=config.monthly_push_limit,
        )

    def accepts_token(self, token: str) -> bool:
        # every token compared, so the time taken does not say which one (or whether any) came close
        matched = False
        for known in self.access_tokens:
            matched |= hmac.compare_digest(known.encode(), token.encode())
        return matched

    def bot_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "userId": self.bot_user_id,
            "basicId": self.basic_id,
            "displayName": self.display_name,
            "chatMode": "bot",
            "markAsReadMode": "auto",
        }
        if self.picture_url:
            info["pictureUrl"] = self.picture_url
        return info

    def as_json(self) -> dict[str, Any]:
        """What the control endpoints show: like LINE Developers' console, the credentials included."""
        return {
            "channelId": self.channel_id,
            "channelSecret": self.channel_secret,
            "accessTokens": list(self.access_tokens),
            "botUserId": self.bot_user_id,
            "basicId": self.basic_id,
            "displayName": self.display_name,
            "webhookUrl": self.webhook_url,
            "webhookActive": self.webhook_active,
            "redelivery": self.redelivery,
            "monthlyPushLimit": self.monthly_push_limit,
            "pushesThisMonth": self.pushes_this_month,
            "requestsPerSecond": self.requests_per_second,
            "loadingRequestsPerSecond": self.loading_requests_per_second,
            "users": sorted(self.users),
        }

"""What the platform is started with: its address, LINE's limits, and the channels that exist at start.
Channels made later through ``POST /_devline/channels`` live in the state only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

DEFAULT_PORT = 8082
# LINE's published limits (developers.line.biz/en/reference/messaging-api).
REPLY_TOKEN_LIFETIME_SECONDS = 60.0
REPLY_TOKEN_MAX_AGE_SECONDS = 20 * 60.0  # after a redelivery, never more than 20 min after the event
LINK_TOKEN_LIFETIME_SECONDS = 10 * 60.0
RETRY_KEY_LIFETIME_SECONDS = 24 * 3600.0
REQUESTS_PER_SECOND = 2000.0
LOADING_REQUESTS_PER_SECOND = 100.0
# LINE does not publish its redelivery schedule; these grow like its observed retries and stop after a day.
REDELIVERY_DELAYS_SECONDS = (10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
WEBHOOK_TIMEOUT_SECONDS = 5.0


def new_user_id() -> str:
    """LINE's user ids: ``U`` and 32 hex digits."""
    return "U" + secrets.token_hex(16)


@dataclass(frozen=True, kw_only=True)
class ChannelConfig:
    """A Messaging API channel as LINE Developers shows it (repr hides the secret and the tokens)."""

    channel_id: str
    channel_secret: str = field(repr=False)
    access_tokens: tuple[str, ...] = field(repr=False)
    bot_user_id: str
    basic_id: str
    display_name: str
    webhook_url: str = ""
    webhook_active: bool = True
    redelivery: bool = True
    picture_url: str = ""
    monthly_push_limit: int | None = None

    @classmethod
    def generate(
        cls,
        *,
        display_name: str,
        webhook_url: str = "",
        channel_id: str | None = None,
        channel_secret: str | None = None,
        access_token: str | None = None,
        redelivery: bool = True,
    ) -> ChannelConfig:
        """A new channel with LINE-shaped ids and fresh credentials where none are given."""
        return cls(
            channel_id=channel_id or str(2_000_000_000 + secrets.randbelow(99_999_999)),
            channel_secret=channel_secret or secrets.token_hex(16),
            access_tokens=(access_token or secrets.token_urlsafe(128),),
            bot_user_id=new_user_id(),
            basic_id="@" + secrets.token_hex(4)[:7],
            display_name=display_name,
            webhook_url=webhook_url,
            redelivery=redelivery,
        )


@dataclass(frozen=True, kw_only=True)
class LineConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: str = ""
    channels: tuple[ChannelConfig, ...] = ()
    reply_token_lifetime_seconds: float = REPLY_TOKEN_LIFETIME_SECONDS
    reply_token_max_age_seconds: float = REPLY_TOKEN_MAX_AGE_SECONDS
    link_token_lifetime_seconds: float = LINK_TOKEN_LIFETIME_SECONDS
    retry_key_lifetime_seconds: float = RETRY_KEY_LIFETIME_SECONDS
    requests_per_second: float = REQUESTS_PER_SECOND
    loading_requests_per_second: float = LOADING_REQUESTS_PER_SECOND
    redelivery_delays_seconds: tuple[float, ...] = REDELIVERY_DELAYS_SECONDS
    # Multiplies the redelivery delays; 0.001 makes them milliseconds for tests and demos
    webhook_time_scale: float = 1.0
    webhook_timeout_seconds: float = WEBHOOK_TIMEOUT_SECONDS
    # How long the chat page's polling waits for something new before answering "nothing"
    chat_poll_seconds: float = 10.0

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    def chat_url(self, channel_id: str, user_id: str) -> str:
        return f"{self.base_url}/chat/{channel_id}/{user_id}"

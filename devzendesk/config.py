"""What the simulated account is started with: its address, its API credentials, the webhook our trigger
notifies, and the Support app installed in it (whose signed URLs the ticket page sends)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

DEFAULT_PORT = 8083
# Zendesk's published limits: Support API requests per minute (Team plan: 200), and updates of one ticket
# by one user per 10 minutes (30).
REQUESTS_PER_MINUTE = 200
TICKET_UPDATES_PER_TEN_MINUTES = 30
SIGNED_URL_LIFETIME_SECONDS = 300
WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, kw_only=True)
class ZendeskConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: str = ""
    subdomain: str = "devzendesk"
    # the API token of the admin the app uses (``{email}/token:{api_token}``)
    admin_email: str = "admin@devzendesk.example.com"
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(30), repr=False)
    # the webhook our triggers notify, and its signing secret
    webhook_url: str = ""
    signing_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # the Support app installed in the account: its server-side sidebar page (``signedUrls`` on)
    app_id: int = 880001
    installation_id: int = 360001
    sidebar_url: str = ""
    requests_per_minute: int = REQUESTS_PER_MINUTE
    ticket_updates_per_ten_minutes: int = TICKET_UPDATES_PER_TEN_MINUTES
    signed_url_lifetime_seconds: int = SIGNED_URL_LIFETIME_SECONDS
    webhook_timeout_seconds: float = WEBHOOK_TIMEOUT_SECONDS

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

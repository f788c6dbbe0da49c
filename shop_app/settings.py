"""Settings, read once from the environment into a frozen object.

The embedded default needs no settings at all: a SQLite file and development secrets generated on first
run live in the data directory. Outside development mode missing or placeholder secrets are refused.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from cryptography.fernet import Fernet

from shop_app.errors import SettingsError

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "password", "dev", "development", "test", "xxx", "todo"}
)
MIN_SECRET_LENGTH = 16
DEV_SECRETS_FILE = "dev-secrets.json"
DEFAULT_API_VERSION = "2026-07"
ZAF_SDK_URL = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class JobEngine(StrEnum):
    IN_PROCESS = "in-process"
    PROCRASTINATE = "procrastinate"


class Secret:
    """A string whose repr never shows its value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    """How long ``serve`` waits for a client, and for how many: a slow or half-open connection is closed,
    never held."""

    # an idle connection between requests is closed after this long
    keep_alive_seconds: int = 5
    # a request's line and headers must arrive in full this soon after the connection opens (or the last
    # answer ends), and its body may not pause longer than this
    header_timeout_seconds: float = 10.0
    # connections and requests in flight per process; beyond, requests are answered 503
    max_connections: int = 1000
    # on shutdown, requests in flight get this long before their connections are closed
    shutdown_timeout_seconds: int = 20


@dataclass(frozen=True, kw_only=True)
class MailLimits:
    """The SMTP listener (``shop-app mail``): where it listens and what it takes."""

    host: str = "127.0.0.1"
    port: int = 2525
    max_message_bytes: int = 25 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 10
    # a certificate and its key (PEM files) offer STARTTLS to sending servers; without them, plain SMTP
    tls_cert: Path | None = None
    tls_key: Path | None = None


@dataclass(frozen=True, kw_only=True)
class Settings:
    mode: Mode = Mode.DEVELOPMENT
    data_dir: Path = Path(".data")
    database_url: str = ""
    app_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str = "dev-client-id"
    api_secret: Secret = field(default_factory=lambda: Secret(""))
    previous_api_secret: Secret = field(default_factory=lambda: Secret(""))
    encryption_keys: tuple[Secret, ...] = ()
    session_secret: Secret = field(default_factory=lambda: Secret(""))
    shop_url_template: str = "https://{shop}"
    app_config_path: Path = Path("shopify.app.toml")
    log_level: str = "INFO"
    oauth_state_ttl_seconds: int = 600
    token_refresh_margin_seconds: int = 300
    webhook_workers: int = 2
    webhook_lease_seconds: float = 30.0
    register_webhooks: bool = True
    job_engine: JobEngine = JobEngine.IN_PROCESS
    reconcile_interval_seconds: float = 900.0
    sync_bulk_threshold: int = 1_000
    sync_recent_days: int = 7
    # the most query-cost points the recent-first pass spends; the bulk import brings the rest (0: no cap)
    sync_recent_points: int = 4_000
    # insights: a customer back about the same order (or question) within this many days undoes a resolution
    recontact_window_days: int = 7
    # a resolved ticket is asked for its satisfaction score this long after it was resolved, if still resolved
    csat_delay_minutes: int = 60
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    mail: MailLimits = field(default_factory=lambda: MailLimits())
    # LINE's Messaging API and its account-link page (the simulated LINE platform sets its own)
    line_api_url: str = "https://api.line.me"
    line_data_api_url: str = "https://api-data.line.me"
    line_access_url: str = "https://access.line.me"
    # the Zendesk app framework SDK the sidebar page loads (the simulated Zendesk serves its own)
    zendesk_zaf_sdk_url: str = ZAF_SDK_URL
    log_format: str = "text"
    # metrics are off unless one of these is set: a port of their own (on metrics_host), or a bearer token
    # that /metrics of the app (and of a worker's health port) requires
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    metrics_token: Secret = field(default_factory=lambda: Secret(""))

    @property
    def metrics_enabled(self) -> bool:
        return self.metrics_port is not None or bool(self.metrics_token)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def api_secrets(self) -> tuple[Secret, ...]:
        """Current secret first, then the previous one while a rotation is under way."""
        return tuple(s for s in (self.api_secret, self.previous_api_secret) if s)

    def shop_url(self, shop: str) -> str:
        return self.shop_url_template.format(shop=shop).rstrip("/")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    mode = Mode(env.get("SHOP_APP_ENV", Mode.DEVELOPMENT.value).lower())
    data_dir = Path(env.get("SHOP_APP_DATA_DIR", ".data")).resolve()
    database_url = normalise_database_url(
        env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'shop_app.db'}"
    )
    port = int(env.get("PORT", env.get("SHOP_APP_PORT", "8000")))
    host = env.get("SHOP_APP_HOST", "127.0.0.1")
    generated = _development_secrets(data_dir) if mode is Mode.DEVELOPMENT else {}

    def secret(name: str, dev_key: str | None = None) -> Secret:
        value = env.get(name) or (generated.get(dev_key, "") if dev_key else "")
        return Secret(value)

    shop_url_template = env.get("SHOPIFY_SHOP_URL_TEMPLATE", "https://{shop}")
    keys_raw = env.get("SHOP_APP_ENCRYPTION_KEYS") or generated.get("encryption_keys", "")
    settings = Settings(
        mode=mode,
        data_dir=data_dir,
        database_url=database_url,
        app_url=env.get("SHOP_APP_URL", f"http://{host}:{port}").rstrip("/"),
        host=host,
        port=port,
        api_key=env.get("SHOPIFY_API_KEY", "dev-client-id" if mode is Mode.DEVELOPMENT else ""),
        api_secret=secret("SHOPIFY_API_SECRET", "api_secret"),
        previous_api_secret=secret("SHOPIFY_API_SECRET_PREVIOUS"),
        encryption_keys=tuple(Secret(k.strip()) for k in keys_raw.split(",") if k.strip()),
        session_secret=secret("SHOP_APP_SESSION_SECRET", "session_secret"),
        shop_url_template=shop_url_template,
        app_config_path=_find_app_config(env.get("SHOPIFY_APP_TOML")),
        log_level=env.get("SHOP_APP_LOG_LEVEL", "INFO").upper(),
        log_format=_log_format(env.get("SHOP_APP_LOG_FORMAT")),
        metrics_port=_metrics_port(env.get("SHOP_APP_METRICS_PORT")),
        metrics_host=env.get("SHOP_APP_METRICS_HOST", "127.0.0.1"),
        metrics_token=Secret(env.get("SHOP_APP_METRICS_TOKEN", "").strip()),
        webhook_workers=int(env.get("SHOP_APP_WEBHOOK_WORKERS", "2")),
        webhook_lease_seconds=float(env.get("SHOP_APP_WEBHOOK_LEASE_SECONDS", "30")),
        register_webhooks=_flag(
            env.get("SHOP_APP_REGISTER_WEBHOOKS"), default=shop_url_template != "https://{shop}"
        ),
        reconcile_interval_seconds=float(env.get("SHOP_APP_RECONCILE_INTERVAL_SECONDS", "900")),
        sync_bulk_threshold=int(env.get("SHOP_APP_SYNC_BULK_THRESHOLD", "1000")),
        sync_recent_days=int(env.get("SHOP_APP_SYNC_RECENT_DAYS", "7")),
        sync_recent_points=int(env.get("SHOP_APP_SYNC_RECENT_POINTS", "4000")),
        recontact_window_days=int(env.get("SHOP_APP_RECONTACT_WINDOW_DAYS", "7")),
        csat_delay_minutes=int(env.get("SHOP_APP_CSAT_DELAY_MINUTES", "60")),
        connections=connection_limits(env),
        mail=MailLimits(
            host=env.get("SHOP_APP_MAIL_HOST", "127.0.0.1"),
            port=int(env.get("SHOP_APP_MAIL_PORT", "2525")),
            max_message_bytes=int(env.get("SHOP_APP_MAIL_MAX_BYTES", str(25 * 1024 * 1024))),
            max_attachment_bytes=int(env.get("SHOP_APP_MAIL_MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024))),
            tls_cert=Path(env["SHOP_APP_MAIL_TLS_CERT"]) if env.get("SHOP_APP_MAIL_TLS_CERT") else None,
            tls_key=Path(env["SHOP_APP_MAIL_TLS_KEY"]) if env.get("SHOP_APP_MAIL_TLS_KEY") else None,
        ),
        line_api_url=env.get("LINE_API_URL", "https://api.line.me").rstrip("/"),
        line_data_api_url=env.get("LINE_DATA_API_URL", "https://api-data.line.me").rstrip("/"),
        line_access_url=env.get("LINE_ACCESS_URL", "https://access.line.me").rstrip("/"),
        zendesk_zaf_sdk_url=env.get("ZENDESK_ZAF_SDK_URL", ZAF_SDK_URL),
        job_engine=JobEngine(
            env.get("SHOP_APP_JOB_ENGINE")
            or (JobEngine.IN_PROCESS if database_url.startswith("sqlite") else JobEngine.PROCRASTINATE)
        ),
    )
    if mode is Mode.PRODUCTION:
        check_production_secrets(settings)
    return settings


def _log_format(raw: str | None) -> str:
    value = (raw or "text").strip().lower()
    if value not in ("text", "json"):
        raise SettingsError("SHOP_APP_LOG_FORMAT must be text or json")
    return value


def _metrics_port(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    if not raw.strip().isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError("SHOP_APP_METRICS_PORT must be a port number (1 to 65535)")
    return int(raw)


def connection_limits(env: Mapping[str, str]) -> ConnectionLimits:
    defaults = ConnectionLimits()

    def positive(name: str, default: float) -> float:
        raw = env.get(name, "")
        try:
            value = float(raw) if raw.strip() else default
        except ValueError:
            raise SettingsError(f"{name} must be a number of seconds or connections") from None
        if not (math.isfinite(value) and value > 0):
            raise SettingsError(f"{name} must be more than 0")
        return value

    def whole(name: str, default: int) -> int:
        return max(1, int(positive(name, default)))

    return ConnectionLimits(
        keep_alive_seconds=whole("SHOP_APP_KEEP_ALIVE_SECONDS", defaults.keep_alive_seconds),
        header_timeout_seconds=positive("SHOP_APP_HEADER_TIMEOUT_SECONDS", defaults.header_timeout_seconds),
        max_connections=whole("SHOP_APP_MAX_CONNECTIONS", defaults.max_connections),
        shutdown_timeout_seconds=whole(
            "SHOP_APP_SHUTDOWN_TIMEOUT_SECONDS", defaults.shutdown_timeout_seconds
        ),
    )


def _flag(raw: str | None, *, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def check_production_secrets(settings: Settings) -> None:
    problems = []
    if not settings.api_key:
        problems.append("SHOPIFY_API_KEY is missing")
    for name, value in (
        ("SHOPIFY_API_SECRET", settings.api_secret),
        ("SHOP_APP_SESSION_SECRET", settings.session_secret),
    ):
        if _is_placeholder(value.reveal()):
            problems.append(f"{name} is missing or a placeholder")
    if not settings.encryption_keys:
        problems.append("SHOP_APP_ENCRYPTION_KEYS is missing")
    if settings.metrics_token and _is_placeholder(settings.metrics_token.reveal()):
        problems.append("SHOP_APP_METRICS_TOKEN is a placeholder or too short")
    for index, key in enumerate(settings.encryption_keys):
        try:
            Fernet(key.reveal())
        except ValueError:
            problems.append(f"SHOP_APP_ENCRYPTION_KEYS entry {index + 1} is not a Fernet key")
    if problems:
        raise SettingsError("Refusing to start in production mode: " + "; ".join(problems))


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return (
        lowered in PLACEHOLDER_SECRETS
        or len(lowered) < MIN_SECRET_LENGTH
        or len(set(lowered)) <= 2
        or "placeholder" in lowered
        or "changeme" in lowered
    )


def _development_secrets(data_dir: Path) -> dict[str, str]:
    """Development secrets, generated once and kept in the data directory (mode 0600)."""
    path = data_dir / DEV_SECRETS_FILE
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    generated = {
        "api_secret": "shpss_dev_" + secrets.token_hex(16),
        "session_secret": secrets.token_urlsafe(32),
        "encryption_keys": Fernet.generate_key().decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(generated, handle, indent=2)
    return generated


def add_development_encryption_key(data_dir: Path) -> None:
    """Put a fresh key in front of the development key list (used by ``rotate-keys --new-key``)."""
    path = data_dir / DEV_SECRETS_FILE
    stored = _development_secrets(data_dir)
    stored["encryption_keys"] = ",".join([Fernet.generate_key().decode(), stored["encryption_keys"]])
    path.write_text(json.dumps(stored, indent=2))


def _find_app_config(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).resolve()
    for candidate in (
        Path.cwd() / "shopify.app.toml",
        Path(__file__).resolve().parents[1] / "shopify.app.toml",
    ):
        if candidate.exists():
            return candidate
    return Path(__file__).resolve().parent / "shopify.app.toml"

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

HINODE_SHOP = "hinode-apparel.myshopify.com"
NORTHWIND_SHOP = "northwind-goods.myshopify.com"
DEFAULT_SHOPS = (HINODE_SHOP, NORTHWIND_SHOP)
DEFAULT_API_VERSION = "2026-07"
SUPPORTED_API_VERSIONS = ("2026-04", "2026-07")

ACCESS_TOKEN_LIFETIME_SECONDS = 3600
REFRESH_TOKEN_LIFETIME_SECONDS = 90 * 24 * 3600
AUTHORIZATION_CODE_LIFETIME_SECONDS = 600


def _empty_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AppProxy:
    """One app's proxy as its configuration declares it (``[app_proxy]`` in ``shopify.app.toml``):
    ``/{prefix}/{subpath}/…`` on the storefront is forwarded to ``url``."""

    url: str
    subpath: str = "support"
    prefix: str = "apps"


def _no_proxies() -> Mapping[str, AppProxy]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class StoreConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8081
    public_url: str = ""
    # client_id -> client secret, as the Partner dashboard holds them; repr=False keeps secrets out of logs
    apps: Mapping[str, str] = field(default_factory=_empty_mapping, repr=False)
    # client_id -> the app's compliance webhook URL (shopify.app.toml `compliance_topics` uri)
    compliance_urls: Mapping[str, str] = field(default_factory=_empty_mapping)
    # client_id -> the app's application_url, opened (embedded, with a session token) from the admin page
    app_urls: Mapping[str, str] = field(default_factory=_empty_mapping)
    # client_id -> the app's proxy (storefront /apps/{subpath}/… forwarded, signed, to its URL)
    app_proxies: Mapping[str, AppProxy] = field(default_factory=_no_proxies)
    shops: tuple[str, ...] = DEFAULT_SHOPS
    api_version: str = DEFAULT_API_VERSION
    api_versions: tuple[str, ...] = SUPPORTED_API_VERSIONS
    access_token_lifetime_seconds: int = ACCESS_TOKEN_LIFETIME_SECONDS
    refresh_token_lifetime_seconds: int = REFRESH_TOKEN_LIFETIME_SECONDS
    authorization_code_lifetime_seconds: int = AUTHORIZATION_CODE_LIFETIME_SECONDS
    # Multiplies Shopify's webhook retry delays (minutes to hours); 0.0001 makes them milliseconds
    webhook_time_scale: float = 1.0
    webhook_connect_timeout_seconds: float = 1.0
    webhook_total_timeout_seconds: float = 5.0
    auto_approve: bool = False
    activity: bool = False
    activity_interval_seconds: float = 5.0
    seed: int = 1
    orders: int = 2000
    customers: int = 400
    products: int = 40
    widget_script_url: str = ""

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    def shop_url(self, shop: str) -> str:
        return f"{self.base_url}/s/{shop}"

    def secret_for(self, client_id: str) -> str | None:
        return self.apps.get(client_id)

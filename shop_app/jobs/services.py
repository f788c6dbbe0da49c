from __future__ import annotations

from dataclasses import dataclass

import httpx

from integrations.shopify.app_config import AppConfig
from integrations.shopify.oauth import OAuthClient
from shop_app.database import SessionFactory
from shop_app.encryption import Cipher
from shop_app.services.access_tokens import AccessTokens
from shop_app.services.live_events import EventBus
from shop_app.services.shop_directory import ShopDirectory
from shop_app.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    """What tasks and routes share: built once per process by the lifespan (or the worker command)."""

    settings: Settings
    app_config: AppConfig
    sessions: SessionFactory
    cipher: Cipher
    http: httpx.AsyncClient
    oauth: OAuthClient
    access_tokens: AccessTokens
    shop_directory: ShopDirectory
    events: EventBus

    @property
    def digest_key(self) -> str:
        return self.settings.session_secret.reveal()

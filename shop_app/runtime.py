"""The resources a process shares (built once by the lifespan or the worker command) and what they make."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.app_config import AppConfig
from integrations.shopify.oauth import OAuthClient
from shop_app.database import SessionFactory
from shop_app.encryption import Cipher
from shop_app.live_events import EventBus
from shop_app.models import Shop
from shop_app.settings import Settings
from shop_app.shops.access_tokens import AccessTokens
from shop_app.shops.directory import ShopDirectory


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
    # calls to an address a merchant typed (their helpdesk): public addresses only, checked at connection
    # time, in production (``integrations.public_http``); dev and tests reach the simulators through ``http``
    helpdesk_http: httpx.AsyncClient | None = None

    @property
    def helpdesk(self) -> httpx.AsyncClient:
        return self.helpdesk_http or self.http

    @property
    def digest_key(self) -> str:
        return self.settings.session_secret.reveal()


def admin_client(
    services: Services,
    shop: Shop,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AdminGraphQLClient:
    async def current_token() -> str:
        return await services.access_tokens.for_shop(shop)

    async def token_refused(token: str, *, again: bool) -> None:
        await services.access_tokens.refused(shop, token, again=again)

    return AdminGraphQLClient(
        services.http,
        shop_url=services.settings.shop_url(shop.domain),
        api_version=services.app_config.api_version,
        access_token=current_token,
        token_refused=token_refused,
        clock=clock,
        sleep=sleep,
    )

"""Hands out a shop's current access token, refreshing it a few minutes before it expires, or at once
when Shopify refuses it early (a 401 from the Admin API); a refreshed token refused again means the shop
must authorise the app again.

One refresh at a time per shop across every process: a process takes a short lease on the credential row
with a compare-and-set UPDATE (portable to SQLite and PostgreSQL, and no lock is held during the HTTP
call); the others wait for the row's ``version`` to move. The rotated access and refresh tokens are saved
together in one ciphertext, in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify.errors import InvalidGrant
from integrations.shopify.oauth import AccessToken, OAuthClient
from shop_app.database import SessionFactory, affected_rows, transaction
from shop_app.encryption import Cipher
from shop_app.errors import NotFound, Unauthorized
from shop_app.models import Shop, ShopCredential, ShopStatus
from shop_app.observability.metrics import record_token_refresh_failure
from shop_app.shops.installation import mark_needs_reauth, open_token, seal_token

logger = logging.getLogger(__name__)

REFRESH_LEASE_SECONDS = 30
LEASE_POLL_SECONDS = 0.05


class ReauthorisationNeeded(Unauthorized):
    default_code = "shop_needs_reauthorisation"


class AccessTokens:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        cipher: Cipher,
        oauth: OAuthClient,
        margin_seconds: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._oauth = oauth
        self._margin = margin_seconds
        self._clock = clock
        self._owner = secrets.token_hex(8)
        self._local_locks: dict[int, asyncio.Lock] = {}

    async def for_shop(self, shop: Shop) -> str:
        """A valid access token for the shop, refreshed (or migrated to an expiring one) if needed."""
        assert shop.id is not None
        shop_id, domain = shop.id, shop.domain
        token, _version = await self._load(shop_id)
        if not self._needs_refresh(token):
            return token.access_token
        lock = self._local_locks.setdefault(shop_id, asyncio.Lock())
        async with lock:
            return await self._refresh_once(shop_id, domain, self._needs_refresh)

    async def refused(self, shop: Shop, token: str, *, again: bool) -> None:
        """Shopify answered 401 to ``token`` (see ``TokenRefused``). The first time it is refreshed, once
        however many callers and processes were refused together (a caller whose token was already
        replaced simply retries with the new one). When the token that replaced it is refused too, the
        shop is marked as needing re-authorisation and ``ReauthorisationNeeded`` raised."""
        assert shop.id is not None
        shop_id, domain = shop.id, shop.domain
        if again:
            await self._mark_refused(shop_id, domain, token)
            return
        logger.warning("access token refused by shopify shop=%s; refreshing", domain)
        lock = self._local_locks.setdefault(shop_id, asyncio.Lock())
        async with lock:
            await self._refresh_once(shop_id, domain, lambda stored: stored.access_token == token)

    async def _mark_refused(self, shop_id: int, domain: str, token: str) -> None:
        async with transaction(self._sessions) as session:
            credential = await session.get(
                ShopCredential, shop_id, with_for_update=True, populate_existing=True
            )
            if credential is None or open_token(credential.ciphertext, self._cipher).access_token != token:
                return  # replaced meanwhile: the caller may try the new one
            await mark_needs_reauth(session, shop_id=shop_id)
        logger.warning("refreshed access token refused too shop=%s", domain)
        record_token_refresh_failure("refused_again")
        raise ReauthorisationNeeded("Shopify refused the shop's access token; the shop must authorise again")

    def _needs_refresh(self, token: AccessToken) -> bool:
        return token.expires_at is None or token.expires_at - self._margin <= self._clock()

    async def _load(self, shop_id: int) -> tuple[AccessToken, int]:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(col(ShopCredential.ciphertext), col(ShopCredential.version), col(Shop.status))
                    .join(Shop, col(Shop.id) == col(ShopCredential.shop_id))
                    .where(col(ShopCredential.shop_id) == shop_id)
                )
            ).one_or_none()
        if row is None:
            raise NotFound("The shop has no access token", code="shop_not_installed")
        if row.status == ShopStatus.NEEDS_REAUTH:
            raise ReauthorisationNeeded("The shop must be authorised again")
        return open_token(row.ciphertext, self._cipher), row.version

    async def _refresh_once(
        self, shop_id: int, domain: str, needs_refresh: Callable[[AccessToken], bool]
    ) -> str:
        deadline = self._clock() + REFRESH_LEASE_SECONDS + 5
        while True:
            token, version = await self._load(shop_id)
            if not needs_refresh(token):
                return token.access_token
            if await self._take_lease(shop_id, version):
                return await self._refresh_under_lease(shop_id, domain, token)
            if self._clock() > deadline:
                raise Unauthorized("Timed out waiting for another process to refresh the token")
            await asyncio.sleep(LEASE_POLL_SECONDS)

    async def _take_lease(self, shop_id: int, version: int) -> bool:
        now = datetime.fromtimestamp(self._clock(), UTC)
        async with transaction(self._sessions) as session:
            result = await session.execute(
                update(ShopCredential)
                .where(
                    col(ShopCredential.shop_id) == shop_id,
                    col(ShopCredential.version) == version,
                    (col(ShopCredential.refresh_lease_until).is_(None))
                    | (col(ShopCredential.refresh_lease_until) < now),
                )
                .values(
                    refresh_lease_owner=self._owner,
                    refresh_lease_until=now + timedelta(seconds=REFRESH_LEASE_SECONDS),
                )
            )
        return affected_rows(result) == 1

    async def _refresh_under_lease(self, shop_id: int, domain: str, token: AccessToken) -> str:
        try:
            if token.refresh_token is None:
                fresh = await self._oauth.migrate_non_expiring_token(domain, token.access_token)
            else:
                fresh = await self._oauth.refresh(domain, token.refresh_token)
        except InvalidGrant:
            record_token_refresh_failure("invalid_grant")
            async with transaction(self._sessions) as session:
                await mark_needs_reauth(session, shop_id=shop_id)
                await self._release(session, shop_id)
            raise ReauthorisationNeeded(
                "Shopify refused the refresh token; the shop must authorise again"
            ) from None
        except BaseException as error:
            if isinstance(error, Exception):
                record_token_refresh_failure("error")
            async with transaction(self._sessions) as session:
                await self._release(session, shop_id)
            raise
        async with transaction(self._sessions) as session:
            await session.execute(
                update(ShopCredential)
                .where(col(ShopCredential.shop_id) == shop_id)
                .values(
                    ciphertext=seal_token(fresh, self._cipher),
                    version=col(ShopCredential.version) + 1,
                    refresh_lease_owner=None,
                    refresh_lease_until=None,
                    updated_at=datetime.fromtimestamp(self._clock(), UTC),
                )
            )
        logger.info("access token refreshed shop=%s", domain)
        return fresh.access_token

    async def _release(self, session: AsyncSession, shop_id: int) -> None:
        await session.execute(
            update(ShopCredential)
            .where(
                col(ShopCredential.shop_id) == shop_id,
                col(ShopCredential.refresh_lease_owner) == self._owner,
            )
            .values(refresh_lease_owner=None, refresh_lease_until=None)
        )

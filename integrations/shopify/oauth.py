"""OAuth for offline, expiring access tokens: the authorization code grant, refresh, and token exchange."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

import httpx

from integrations.shopify.errors import (
    InvalidGrant,
    InvalidShopDomain,
    OAuthError,
    ShopifyUnavailable,
)
from integrations.shopify.hmac_signatures import verify_query_hmac
from integrations.shopify.shop_domains import normalise_shop_domain

CALLBACK_MAX_AGE_SECONDS = 90
TOKEN_REQUEST_TIMEOUT_SECONDS = 10.0
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN, not a secret)
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105


class CallbackRejection(StrEnum):
    BAD_HMAC = "bad_hmac"
    BAD_SHOP = "bad_shop"
    STALE_TIMESTAMP = "stale_timestamp"
    MISSING_CODE = "missing_code"


@dataclass(frozen=True, slots=True)
class CallbackResult:
    shop: str = ""
    code: str = ""
    state: str = ""
    rejection: CallbackRejection | None = None

    @property
    def ok(self) -> bool:
        return self.rejection is None


def authorize_url(
    *, shop_url: str, client_id: str, scopes: Sequence[str], redirect_uri: str, state: str
) -> str:
    query = urlencode(
        {"client_id": client_id, "scope": ",".join(scopes), "redirect_uri": redirect_uri, "state": state}
    )
    return f"{shop_url}/admin/oauth/authorize?{query}"


def verify_callback(
    params: Sequence[tuple[str, str]], *, secrets: Sequence[str], now: float | None = None
) -> CallbackResult:
    """Check an OAuth callback's query: HMAC first, then the shop domain, timestamp and code."""
    if not verify_query_hmac(params, secrets):
        return CallbackResult(rejection=CallbackRejection.BAD_HMAC)
    values = dict(params)
    try:
        shop = normalise_shop_domain(values.get("shop"))
    except InvalidShopDomain:
        return CallbackResult(rejection=CallbackRejection.BAD_SHOP)
    try:
        timestamp = int(values.get("timestamp", ""))
    except ValueError:
        return CallbackResult(rejection=CallbackRejection.STALE_TIMESTAMP)
    current = time.time() if now is None else now
    if abs(current - timestamp) > CALLBACK_MAX_AGE_SECONDS:
        return CallbackResult(rejection=CallbackRejection.STALE_TIMESTAMP)
    if not values.get("code"):
        return CallbackResult(rejection=CallbackRejection.MISSING_CODE)
    return CallbackResult(shop=shop, code=values["code"], state=values.get("state", ""))


@dataclass(frozen=True, slots=True)
class AccessToken:
    access_token: str
    scope: str
    expires_at: float | None
    refresh_token: str | None
    refresh_token_expires_at: float | None

    def __repr__(self) -> str:
        return f"AccessToken(scope={self.scope!r}, expires_at={self.expires_at!r}, access_token='***')"

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(s for s in self.scope.split(",") if s)


class OAuthClient:
    """Talks to ``/admin/oauth/access_token``. Shop domains are checked before any request."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str,
        shop_url: Callable[[str], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._shop_url = shop_url
        self._clock = clock

    async def exchange_code(self, shop: str, code: str) -> AccessToken:
        return await self._request(shop, {"code": code, "expiring": "1"})

    async def refresh(self, shop: str, refresh_token: str) -> AccessToken:
        return await self._request(shop, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def exchange_session_token(self, shop: str, session_token: str) -> AccessToken:
        return await self._request(
            shop,
            {
                "grant_type": TOKEN_EXCHANGE_GRANT,
                "subject_token": session_token,
                "subject_token_type": ID_TOKEN_TYPE,
                "requested_token_type": OFFLINE_TOKEN_TYPE,
                "expiring": "1",
            },
        )

    async def migrate_non_expiring_token(self, shop: str, access_token: str) -> AccessToken:
        return await self._request(
            shop,
            {
                "grant_type": TOKEN_EXCHANGE_GRANT,
                "subject_token": access_token,
                "subject_token_type": OFFLINE_TOKEN_TYPE,
                "requested_token_type": OFFLINE_TOKEN_TYPE,
                "expiring": "1",
            },
        )

    async def _request(self, shop: str, form: Mapping[str, str]) -> AccessToken:
        domain = normalise_shop_domain(shop)
        url = f"{self._shop_url(domain)}/admin/oauth/access_token"
        body = {"client_id": self._client_id, "client_secret": self._client_secret, **form}
        started = self._clock()
        try:
            response = await self._http.post(
                url, data=body, headers={"Accept": "application/json"}, timeout=TOKEN_REQUEST_TIMEOUT_SECONDS
            )
        except httpx.TransportError as error:
            raise ShopifyUnavailable(
                f"token endpoint unreachable: {type(error).__name__}", status_code=0
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ShopifyUnavailable("token endpoint failed", status_code=response.status_code)
        payload = _json_object(response)
        if response.status_code != 200 or "access_token" not in payload:
            code = str(payload.get("error") or "unexpected_response")
            if code == "invalid_grant":
                raise InvalidGrant(code, status_code=response.status_code)
            raise OAuthError(code, status_code=response.status_code)
        return _access_token(payload, issued_at=started)


def _json_object(response: httpx.Response) -> dict[str, object]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _access_token(payload: Mapping[str, object], *, issued_at: float) -> AccessToken:
    def expiry(key: str) -> float | None:
        value = payload.get(key)
        return issued_at + float(value) if isinstance(value, int | float) else None

    refresh = payload.get("refresh_token")
    return AccessToken(
        access_token=str(payload["access_token"]),
        scope=str(payload.get("scope", "")),
        expires_at=expiry("expires_in"),
        refresh_token=str(refresh) if refresh else None,
        refresh_token_expires_at=expiry("refresh_token_expires_in"),
    )

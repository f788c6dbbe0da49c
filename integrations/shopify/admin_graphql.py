"""An Admin GraphQL client that paces itself from Shopify's cost-based rate limit.

Every answer's ``extensions.cost.throttleStatus`` updates a local model of the shop's bucket; before each
request the client waits until the bucket can pay the expected cost, so it is almost never throttled.
``THROTTLED``, 429 (with ``Retry-After``), 5xx, timeouts and dropped connections are retried with
backoff. A 401 (Shopify refused the access token, even before its expiry) is told to ``token_refused``
once, which makes a new token, and the request is retried with it; a second 401 is told to it again and
raised as ``ShopifyUnauthorized``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from integrations.shopify.errors import (
    GraphQLError,
    ShopifyHTTPError,
    ShopifyUnauthorized,
    ShopifyUnavailable,
    Throttled,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 520, 522, 524})


@dataclass(slots=True)
class ThrottleState:
    maximum_available: float = 1000.0
    currently_available: float = 1000.0
    restore_rate: float = 50.0
    observed_at: float = 0.0
    known: bool = False

    def available_at(self, now: float) -> float:
        elapsed = max(0.0, now - self.observed_at)
        return min(self.maximum_available, self.currently_available + elapsed * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        if not self.known:
            return 0.0
        shortfall = min(cost, self.maximum_available) - self.available_at(now)
        return max(0.0, shortfall / self.restore_rate) if self.restore_rate > 0 else 0.0


@dataclass(frozen=True, slots=True)
class QueryCost:
    requested: float
    actual: float | None
    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass(frozen=True, slots=True)
class GraphQLResult:
    data: dict[str, Any]
    cost: QueryCost | None
    extensions: dict[str, Any] = field(default_factory=dict)


TokenSource = Callable[[], Awaitable[str]]


class TokenRefused(Protocol):
    """Told the access token Shopify answered 401 to. ``again`` is False the first time in a request: make
    a new token (the next ``TokenSource`` call returns it) or raise; True when the token that replaced it
    was refused too: the app decides (the shop must authorise again) and the client raises."""

    async def __call__(self, token: str, *, again: bool) -> None: ...


class AdminGraphQLClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        shop_url: str,
        api_version: str,
        access_token: TokenSource,
        token_refused: TokenRefused | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._http = http
        self._endpoint = f"{shop_url}/admin/api/{api_version}/graphql.json"
        self._access_token = access_token
        self._token_refused = token_refused
        self.clock = clock  # what it paces by; a sync measures its own rate with the same clock
        self._sleep = sleep
        self._max_attempts = max_attempts
        self.throttle = ThrottleState()
        self._expected_costs: dict[str, float] = {}
        self.total_cost_charged = 0.0
        self.last_cost: QueryCost | None = None
        self.throttled_count = 0
        self.requests = 0

    async def execute(
        self, document: str, variables: Mapping[str, Any] | None = None, *, expected_cost: float | None = None
    ) -> GraphQLResult:
        cost_guess = expected_cost or self._expected_costs.get(document, 10.0)
        refused_once = False
        for attempt in range(1, self._max_attempts + 1):
            wait = self.throttle.wait_for(cost_guess, self.clock())
            if wait > 0:
                await self._sleep(wait)
            token = await self._access_token()
            try:
                response = await self._post(document, variables, token)
            except httpx.TransportError as error:
                await self._backoff(attempt, f"transport error {type(error).__name__}")
                continue
            if response.status_code in RETRYABLE_STATUS:
                retry_after = _retry_after(response)
                await self._backoff(attempt, f"HTTP {response.status_code}", minimum=retry_after)
                continue
            if response.status_code == 401 and self._token_refused is not None:
                await self._token_refused(token, again=refused_once)
                if not refused_once:
                    refused_once = True
                    continue
            if response.status_code in (401, 403):
                raise ShopifyUnauthorized(
                    "Shopify refused the access token", status_code=response.status_code
                )
            if response.status_code != 200:
                raise ShopifyHTTPError("unexpected Admin API answer", status_code=response.status_code)
            payload = _json(response)
            cost = self._observe_cost(payload)
            if cost is not None:
                self._expected_costs[document] = cost.requested
                cost_guess = cost.requested
            errors = payload.get("errors")
            if errors:
                codes = _error_codes(errors)
                if "THROTTLED" in codes:
                    self.throttled_count += 1
                    await self._sleep(max(self.throttle.wait_for(cost_guess, self.clock()), 0.05))
                    continue
                raise GraphQLError(_error_message(errors), codes=codes)
            data = payload.get("data")
            return GraphQLResult(
                data=data if isinstance(data, dict) else {},
                cost=cost,
                extensions=payload.get("extensions") or {},
            )
        raise Throttled("gave up after repeated throttling or failures", codes=("THROTTLED",))

    async def _post(self, document: str, variables: Mapping[str, Any] | None, token: str) -> httpx.Response:
        self.requests += 1
        return await self._http.post(
            self._endpoint,
            content=json.dumps({"query": document, "variables": dict(variables or {})}),
            headers={
                "X-Shopify-Access-Token": token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            timeout=DEFAULT_TIMEOUT_SECONDS,
        )

    async def _backoff(self, attempt: int, reason: str, *, minimum: float = 0.0) -> None:
        if attempt >= self._max_attempts:
            raise ShopifyUnavailable(f"Admin API kept failing: {reason}", status_code=0)
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        delay = max(minimum, delay * (0.5 + random.random() / 2))
        logger.info("admin api retry attempt=%s reason=%s delay=%.2fs", attempt, reason, delay)
        await self._sleep(delay)

    def _observe_cost(self, payload: Mapping[str, Any]) -> QueryCost | None:
        cost = (payload.get("extensions") or {}).get("cost")
        if not isinstance(cost, dict):
            return None
        status = cost.get("throttleStatus") or {}
        try:
            observed = QueryCost(
                requested=float(cost.get("requestedQueryCost") or 0),
                actual=float(cost["actualQueryCost"]) if cost.get("actualQueryCost") is not None else None,
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        self.throttle = ThrottleState(
            maximum_available=observed.maximum_available,
            currently_available=observed.currently_available,
            restore_rate=observed.restore_rate,
            observed_at=self.clock(),
            known=True,
        )
        if observed.actual is not None:
            self.total_cost_charged += observed.actual
            self.last_cost = observed
        return observed


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        raise ShopifyHTTPError(
            "Admin API answered with invalid JSON", status_code=response.status_code
        ) from None
    if not isinstance(payload, dict):
        raise ShopifyHTTPError("Admin API answered with a non-object", status_code=response.status_code)
    return payload


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0


def _error_codes(errors: Any) -> tuple[str, ...]:
    if not isinstance(errors, list):
        return ()
    codes = []
    for error in errors:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code")
            if isinstance(code, str):
                codes.append(code)
    return tuple(codes)


def _error_message(errors: Any) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", "GraphQL error"))
    return str(errors)[:200]

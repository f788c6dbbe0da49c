"""Agent sign-in under attack: failures are limited per account and per address, with growing waits
(429 and Retry-After), in the database; the real agent is never kept out for long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from shop_app.database import SessionFactory, transaction
from shop_app.errors import TooManyRequests
from shop_app.helpdesk import sign_in_limits
from shop_app.helpdesk.sign_in_limits import (
    ACCOUNT_BACK_OFF,
    ADDRESS_BACK_OFF,
    address_key,
    begin_sign_in,
    sign_in_keys,
)
from shop_app.models import LimitScope, SignInFailure
from tests.conftest import FakeShopify, running_app
from tests.helpdesk.conftest import ALPHA, PASSWORD, Desk

pytestmark = pytest.mark.anyio

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.7"
KEY = "test-digest-key"


class Clock:
    """The limits' clock, moved by the test: waits are shown without waiting."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(sign_in_limits, "utcnow", clock)
    return clock


async def attempt(
    client: httpx.AsyncClient, password: str, email: str = "agent@alpha.test", shop: str = ALPHA
) -> httpx.Response:
    return await client.post("/api/v1/session", json={"shop": shop, "email": email, "password": password})


async def failures(sessions: SessionFactory, scope: LimitScope) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(SignInFailure).where(col(SignInFailure.scope) == scope)
        return int((await session.execute(query)).scalar_one())


async def test_many_wrong_passwords_from_one_client_are_answered_429_with_retry_after(
    desk: Desk, clock: Clock
) -> None:
    # given an attacker trying passwords as fast as the app answers
    async with desk.client_from(ATTACKER) as attacker:
        answers = [await attempt(attacker, f"guess number {n}") for n in range(40)]
        right_password = await attempt(attacker, PASSWORD)

    # then only the free failures reached a password check; every later try, the right password too, waits
    free = ACCOUNT_BACK_OFF.free_failures
    assert [a.status_code for a in answers] == [401] * free + [429] * (40 - free)
    refused = answers[free]
    assert refused.json()["error"]["code"] == "sign_in_throttled"
    assert refused.headers["Retry-After"] == str(ACCOUNT_BACK_OFF.first_delay_seconds)
    assert right_password.status_code == 429
    assert "shop_app_session" not in right_password.cookies
    assert await failures(desk.services.sessions, LimitScope.ACCOUNT) == free
    assert await failures(desk.services.sessions, LimitScope.ADDRESS) == free


async def test_the_real_agent_signs_in_from_another_address_during_the_attack(
    desk: Desk, clock: Clock
) -> None:
    # given an attacker whose wrong passwords hold the account back
    async with desk.client_from(ATTACKER) as attacker:
        for n in range(ACCOUNT_BACK_OFF.free_failures):
            assert (await attempt(attacker, f"guess number {n}")).status_code == 401
        assert (await attempt(attacker, "one more guess")).status_code == 429

        # when the agent signs in from the office
        async with desk.client_from(OFFICE) as office:
            signed_in = await attempt(office, PASSWORD)

        # then they are in, the account's failures are cleared, and the attacker's address keeps its own
        assert signed_in.status_code == 200
        assert signed_in.json()["agent"]["email"] == "agent@alpha.test"
        assert await failures(desk.services.sessions, LimitScope.ACCOUNT) == 0
        assert await failures(desk.services.sessions, LimitScope.ADDRESS) == ACCOUNT_BACK_OFF.free_failures


async def test_an_address_guessing_across_accounts_meets_the_hard_address_limit(
    desk: Desk, clock: Clock
) -> None:
    # given one address trying one password on each of many accounts (no account reaches its limit)
    free = ADDRESS_BACK_OFF.free_failures
    async with desk.client_from(ATTACKER) as attacker:
        tries = [
            await attempt(attacker, "Password123!", email=f"user{n}@alpha.test") for n in range(free + 1)
        ]
        # then from that address even a right password waits, for the address's delay
        right = await attempt(attacker, PASSWORD)
    assert [t.status_code for t in tries] == [401] * free + [429]
    assert tries[-1].headers["Retry-After"] == str(ADDRESS_BACK_OFF.first_delay_seconds)
    assert right.status_code == 429
    # and another address is not held
    async with desk.client_from(OFFICE) as office:
        assert (await attempt(office, PASSWORD)).status_code == 200


async def test_the_limits_hold_across_processes(desk: Desk, clock: Clock, shopify: FakeShopify) -> None:
    # given the failures one process counted
    async with desk.client_from(ATTACKER) as attacker:
        for n in range(ACCOUNT_BACK_OFF.free_failures):
            assert (await attempt(attacker, f"guess number {n}")).status_code == 401
    # when the attacker tries another process of the app (its own engine and state, the same database)
    async with shopify.client() as http, running_app(desk.services.settings, http) as (other, _state):
        other_app = other._transport
        assert isinstance(other_app, httpx.ASGITransport)
        transport = httpx.ASGITransport(app=other_app.app, client=(ATTACKER, 50_000))
        async with httpx.AsyncClient(transport=transport, base_url=str(other.base_url)) as attacker:
            answer = await attempt(attacker, "guess elsewhere")
    # then it is refused there too
    assert answer.status_code == 429


async def test_waits_double_with_each_failure_and_stop_at_the_cap() -> None:
    account = [ACCOUNT_BACK_OFF.delay_seconds(n) for n in range(12)]
    address = [ADDRESS_BACK_OFF.delay_seconds(n) for n in range(8, 22)]
    assert account == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert address == [0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600]
    assert ACCOUNT_BACK_OFF.delay_seconds(10_000) == ACCOUNT_BACK_OFF.max_delay_seconds


async def _refused_for(sessions: SessionFactory, keys: sign_in_limits.SignInKeys, now: datetime) -> int:
    """Seconds the try must wait (0: it was let through and counted as a failure)."""
    try:
        async with transaction(sessions) as session:
            await begin_sign_in(session, keys=keys, now=now)
    except TooManyRequests as refused:
        return refused.retry_after_seconds
    return 0


async def test_an_accounts_waits_grow_to_the_cap_and_never_beyond(desk: Desk) -> None:
    # given addresses that have each failed once elsewhere (so the account's waits apply to them)
    sessions, now = desk.services.sessions, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    addresses = [f"192.0.2.{n}" for n in range(10)]
    for n, address in enumerate(addresses):
        keys = sign_in_keys(shop=ALPHA, email=f"other{n}@alpha.test", address=address, key=KEY)
        assert await _refused_for(sessions, keys, now) == 0

    # when the account fails from them in turn, each try as soon as it is allowed
    waits: list[int] = []
    for n in range(12):
        keys = sign_in_keys(shop=ALPHA, email="agent@alpha.test", address=addresses[n % 10], key=KEY)
        wait = await _refused_for(sessions, keys, now)
        if wait:
            waits.append(wait)
            now += timedelta(seconds=wait)
            assert await _refused_for(sessions, keys, now) == 0

    # then the waits doubled from the first delay up to the cap
    assert waits == [2, 4, 8, 16, 32, 60, 60]


async def test_failures_are_forgotten_after_their_memory(desk: Desk) -> None:
    sessions, now = desk.services.sessions, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    account = sign_in_keys(shop=ALPHA, email="agent@alpha.test", address=ATTACKER, key=KEY)
    for _ in range(ACCOUNT_BACK_OFF.free_failures):
        assert await _refused_for(sessions, account, now) == 0
    assert await _refused_for(sessions, account, now) > 0

    # an hour on, the account's failures are gone (the address's are kept for a day)
    later = now + timedelta(seconds=ACCOUNT_BACK_OFF.memory_seconds + 1)
    assert await _refused_for(sessions, account, later) == 0
    assert await failures(sessions, LimitScope.ACCOUNT) == 1
    assert await failures(sessions, LimitScope.ADDRESS) == ACCOUNT_BACK_OFF.free_failures + 1

    # an address held by the hard limit is let go once its failures are a day old
    for n in range(ADDRESS_BACK_OFF.free_failures):
        keys = sign_in_keys(shop=ALPHA, email=f"user{n}@alpha.test", address=OFFICE, key=KEY)
        assert await _refused_for(sessions, keys, later) == 0
    assert await _refused_for(sessions, keys, later) == ADDRESS_BACK_OFF.first_delay_seconds
    next_day = later + timedelta(seconds=ADDRESS_BACK_OFF.memory_seconds + 1)
    assert await _refused_for(sessions, keys, next_day) == 0
    assert await failures(sessions, LimitScope.ADDRESS) == 1


def test_addresses_are_counted_by_what_one_client_holds() -> None:
    assert address_key("203.0.113.66") == "203.0.113.66"
    assert address_key("::ffff:203.0.113.66") == "203.0.113.66"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    keys = sign_in_keys(shop=ALPHA, email="Agent@Alpha.test", address="203.0.113.66", key=KEY)
    assert keys == sign_in_keys(
        shop=ALPHA.upper(), email="agent@alpha.test ", address="203.0.113.66", key=KEY
    )
    assert "agent" not in keys.account and "203" not in keys.address

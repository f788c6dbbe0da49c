"""Limits on agent sign-ins: failures are counted per account (a shop and an email, whether or not such an
agent exists) and per client address, in the database so every process sees them.

After a few failures each further try waits, the wait doubling with each failure up to a cap. The address
limit is the hard one (long waits, failures remembered for a day). The account limit only delays, briefly,
and only addresses that have themselves failed: an attacker cannot keep the real agent out, who signs in
from an address that has not been failing. A sign-in clears its account's failures, never the address's.

A try is counted before its password is checked (the check takes a while) and uncounted when it succeeds,
so a burst of parallel tries meets the limit as a series would; on PostgreSQL an advisory lock per key
makes the check and the count one step.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import TooManyRequests
from shop_app.models import LimitScope, SignInFailure
from shop_app.models.base import utcnow


@dataclass(frozen=True, slots=True)
class BackOff:
    """Up to ``free_failures`` failures cost nothing; from then on a try waits ``first_delay_seconds``
    after the last failure, doubled with each further failure up to ``max_delay_seconds``. Failures
    older than ``memory_seconds`` are forgotten."""

    free_failures: int
    first_delay_seconds: int
    max_delay_seconds: int
    memory_seconds: int

    def delay_seconds(self, failures: int) -> int:
        if failures < self.free_failures:
            return 0
        doublings = min(failures - self.free_failures, 32)
        return min(self.first_delay_seconds * (1 << doublings), self.max_delay_seconds)


ACCOUNT_BACK_OFF = BackOff(free_failures=5, first_delay_seconds=2, max_delay_seconds=60, memory_seconds=3600)
ADDRESS_BACK_OFF = BackOff(
    free_failures=10, first_delay_seconds=30, max_delay_seconds=3600, memory_seconds=24 * 3600
)
BACK_OFF = {LimitScope.ACCOUNT: ACCOUNT_BACK_OFF, LimitScope.ADDRESS: ADDRESS_BACK_OFF}

FAILURES = SignInFailure.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SignInKeys:
    """The account's and the address's keys: HMACs, so the table holds no email and no address."""

    account: str
    address: str


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A try counted before its password is checked; ``address_row_id`` is uncounted if it succeeds."""

    keys: SignInKeys
    address_row_id: int


def address_key(address: str) -> str:
    """The address counted: an IPv6 address by its /64 (one subscriber's share), anything else as given."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def sign_in_keys(*, shop: str, email: str, address: str, key: str) -> SignInKeys:
    def digest(value: str) -> str:
        return hmac.new(key.encode(), b"sign-in:" + value.encode(), hashlib.sha256).hexdigest()

    account = f"{shop.strip().lower()}\n{email.strip().lower()}"
    return SignInKeys(account=digest(f"account:{account}"), address=digest(f"address:{address_key(address)}"))


async def begin_sign_in(
    session: AsyncSession, *, keys: SignInKeys, now: datetime | None = None
) -> PendingSignIn:
    """Refuses a try while its address or account must wait (``TooManyRequests`` with the seconds left);
    otherwise counts it as a failure until ``sign_in_succeeded`` says otherwise."""
    now = now or utcnow()
    await _lock(session, keys)
    await _forget_old_failures(session, now=now)
    address_failures, address_last = await _failures(session, LimitScope.ADDRESS, keys.address, now=now)
    wait = _wait_seconds(LimitScope.ADDRESS, address_failures, address_last, now=now)
    if address_failures:  # only an address that has been failing waits for the account
        account_failures, account_last = await _failures(session, LimitScope.ACCOUNT, keys.account, now=now)
        wait = max(wait, _wait_seconds(LimitScope.ACCOUNT, account_failures, account_last, now=now))
    if wait > 0:
        raise TooManyRequests(
            f"Too many failed sign-ins: try again in {wait} seconds",
            retry_after_seconds=wait,
            code="sign_in_throttled",
        )
    await session.execute(
        insert(FAILURES).values(scope=LimitScope.ACCOUNT, key_digest=keys.account, created_at=now)
    )
    inserted = await session.execute(
        insert(FAILURES)
        .values(scope=LimitScope.ADDRESS, key_digest=keys.address, created_at=now)
        .returning(FAILURES.c.id)
    )
    return PendingSignIn(keys=keys, address_row_id=int(inserted.scalar_one()))


async def sign_in_succeeded(session: AsyncSession, *, pending: PendingSignIn) -> None:
    """The account's failures are cleared; the address keeps its earlier ones (only this try is uncounted:
    signing in to one's own account must not buy an address new guesses at others)."""
    await session.execute(
        delete(SignInFailure).where(
            col(SignInFailure.scope) == LimitScope.ACCOUNT,
            col(SignInFailure.key_digest) == pending.keys.account,
        )
    )
    await session.execute(delete(SignInFailure).where(col(SignInFailure.id) == pending.address_row_id))


async def _failures(
    session: AsyncSession, scope: LimitScope, key_digest: str, *, now: datetime
) -> tuple[int, datetime | None]:
    since = now - timedelta(seconds=BACK_OFF[scope].memory_seconds)
    row = (
        await session.execute(
            select(func.count(), func.max(col(SignInFailure.created_at))).where(
                col(SignInFailure.scope) == scope,
                col(SignInFailure.key_digest) == key_digest,
                col(SignInFailure.created_at) > since,
            )
        )
    ).one()
    last = row[1]
    if isinstance(last, str):  # SQLite's max() of a datetime column comes back as text
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    return int(row[0]), last


def _wait_seconds(scope: LimitScope, failures: int, last: datetime | None, *, now: datetime) -> int:
    delay = BACK_OFF[scope].delay_seconds(failures)
    if delay == 0 or last is None:
        return 0
    left = (last + timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(left))


async def _forget_old_failures(session: AsyncSession, *, now: datetime) -> None:
    for scope, back_off in BACK_OFF.items():
        await session.execute(
            delete(SignInFailure).where(
                col(SignInFailure.scope) == scope,
                col(SignInFailure.created_at) <= now - timedelta(seconds=back_off.memory_seconds),
            )
        )


async def _lock(session: AsyncSession, keys: SignInKeys) -> None:
    """PostgreSQL: one try at a time per address and per account, until the transaction ends (SQLite's
    transactions already take the write lock when they begin)."""
    if (await session.connection()).dialect.name != "postgresql":
        return
    for digest in (keys.address, keys.account):  # always in this order: no deadlock between two tries
        lock_id = int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})

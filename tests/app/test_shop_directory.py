"""The shop directory of the webhook hot path: requests that miss together share one lookup, a steady
stream never waits for the database (the entry is renewed ahead of its expiry), and a forgotten shop is
read again, never served from what was read before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.models import Shop, ShopStatus
from shop_app.shops import directory as directory_module
from shop_app.shops import installation
from shop_app.shops.directory import ShopDirectory

pytestmark = pytest.mark.anyio
DOMAIN = "directory.myshopify.com"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    async with transaction(factory) as session:
        session.add(Shop(domain=DOMAIN))
    yield factory
    await engine.dispose()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    get_shop = installation.get_shop

    async def counted(session: Any, domain: str) -> Any:
        made.append(domain)
        await asyncio.sleep(0.01)  # a lookup that takes a moment, as under load: others arrive meanwhile
        return await get_shop(session, domain)

    monkeypatch.setattr(directory_module, "get_shop", counted)
    return made


async def test_requests_that_miss_together_share_one_lookup(
    sessions: SessionFactory, lookups: list[str]
) -> None:
    directory = ShopDirectory(sessions)
    found = await asyncio.gather(*(directory.find(DOMAIN) for _ in range(50)))
    assert lookups == [DOMAIN]
    assert {ref.domain if ref else None for ref in found} == {DOMAIN}


async def test_an_entry_near_its_expiry_is_served_and_renewed_once_in_the_background(
    sessions: SessionFactory, lookups: list[str]
) -> None:
    now = [0.0]
    directory = ShopDirectory(sessions, ttl_seconds=2.0, clock=lambda: now[0])
    assert await directory.find(DOMAIN) is not None
    now[0] = 1.5  # in the last half of its life
    answers = await asyncio.gather(*(directory.find(DOMAIN) for _ in range(10)))
    assert all(ref is not None for ref in answers)
    assert lookups == [DOMAIN, DOMAIN]  # the first read, and one renewal for the ten
    await asyncio.sleep(0.1)
    now[0] = 2.5  # past the first entry's expiry, within the renewed one's
    assert await directory.find(DOMAIN) is not None
    assert len(lookups) == 2


async def test_a_forgotten_shop_is_read_again_and_a_read_under_way_keeps_nothing(
    sessions: SessionFactory, lookups: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = ShopDirectory(sessions)
    first = await directory.find(DOMAIN)
    assert first is not None and first.status != ShopStatus.UNINSTALLED
    gate, reading_started = asyncio.Event(), asyncio.Event()
    counted = directory_module.get_shop  # type: ignore[attr-defined]  # the lookups fixture's

    async def held(session: Any, domain: str) -> Any:
        reading_started.set()
        await gate.wait()  # this read is under way until the test lets it go on
        return await counted(session, domain)

    monkeypatch.setattr(directory_module, "get_shop", held)
    reading = asyncio.ensure_future(directory.find("other.myshopify.com"))
    await reading_started.wait()
    async with transaction(sessions) as session:
        shop = await session.get(Shop, first.id)
        assert shop is not None
        shop.status = ShopStatus.UNINSTALLED
    directory.forget(DOMAIN)
    gate.set()
    await reading
    after = await directory.find(DOMAIN)
    assert after is not None and after.status == ShopStatus.UNINSTALLED
    assert lookups.count(DOMAIN) == 2
    await directory.find("other.myshopify.com")
    assert lookups.count("other.myshopify.com") == 2  # read while a shop was forgotten: not kept

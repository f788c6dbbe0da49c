"""The backfill's estimate of the time left, against a paced run: the simulated store throttled at a known
rate on a fake clock that the app's client sleeps on, so minutes of pacing pass in no time and the run is
the same on every machine. From the first tenth of the run on, every estimate is within 25% of the time
that was really left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from devstore.graphql_api.throttle import BucketLimits
from shop_app.mirror import sync_run
from shop_app.mirror.backfill import backfill_shop
from shop_app.mirror.time_left import Bucket, TimeLeft
from shop_app.runtime import admin_client
from shop_app.settings import Settings
from tests.sync.test_backfill import SHOP, World, install, shop_id, sync_world

RESTORE_RATE = 50  # points a second
MAXIMUM_AVAILABLE = 1000
TOLERANCE = 0.25


class FakeClock:
    """Monotonic seconds that move only when someone sleeps on them."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Sample:
    at: float
    eta: float | None
    name: str


@pytest.fixture
async def installed(settings: Settings, tmp_path: Path) -> AsyncIterator[World]:
    async with sync_world(settings, tmp_path / "store", orders=160, customers=60) as world:
        await install(world, SHOP)
        yield world


async def paced_backfill(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[float, float, list[Sample]]:
    """A full backfill of SHOP paced by the store's bucket on the fake clock: (start, end, samples)."""
    clock = FakeClock()
    throttle = world.store.graphql.throttle
    throttle.clock = clock
    throttle.set_limits(BucketLimits(MAXIMUM_AVAILABLE, RESTORE_RATE), shop=SHOP)  # a new, full bucket
    monkeypatch.setattr(sync_run, "admin_client", partial(admin_client, clock=clock, sleep=clock.sleep))
    samples: list[Sample] = []
    commit = sync_run.SyncRun.commit

    async def sampled(run: sync_run.SyncRun, name: str, *args: Any, **kwargs: Any) -> Any:
        result = await commit(run, name, *args, **kwargs)
        samples.append(Sample(clock(), run.progress.get("eta_seconds"), name))
        return result

    monkeypatch.setattr(sync_run.SyncRun, "commit", sampled)
    start = clock()
    await backfill_shop(world.services, shop_id=await shop_id(world), full=True)
    return start, clock(), samples


async def test_the_estimate_holds_within_a_quarter_against_a_paced_run(
    installed: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # when: the shop is imported again at 50 points a second
    start, end, samples = await paced_backfill(installed, monkeypatch)

    # then: the run was paced by the bucket (minutes of it), and sampled all along
    duration = end - start
    assert duration > 60, duration
    assert len(samples) > 20
    late = [sample for sample in samples if sample.at - start >= duration / 10]
    assert len(late) >= 0.8 * len(samples) - 2
    misses = []
    for sample in late:
        actual = end - sample.at
        assert sample.eta is not None, sample
        if abs(sample.eta - actual) > TOLERANCE * actual + 1e-6:
            misses.append((sample.name, round(sample.at - start, 1), sample.eta, round(actual, 1)))
    assert not misses, misses
    assert samples[-1].eta == 0  # done: nothing left
    worst = max(abs(s.eta - (end - s.at)) / (end - s.at) for s in late if s.eta is not None and end > s.at)
    print(
        f"paced run: {duration:.0f} s on the fake clock, {len(samples)} samples, worst late error {worst:.1%}"
    )


def test_pages_left_are_paid_at_the_restore_rate_after_the_points_in_the_bucket() -> None:
    clock = FakeClock()
    estimate = TimeLeft(clock)
    clock.now += 10
    estimate.record("orders", records=80, points=4000, bulk=False)  # 50 points a record, 400 a second

    left = estimate.seconds_left(
        {"orders": (100, "pages"), "customers": (0, "pages")},
        Bucket(available=500, restore_rate=100, headroom=100),
    )

    assert left == pytest.approx((100 * 50 - 500 + 100) / 100)


def test_a_run_slower_than_its_bucket_is_paid_at_the_measured_rate() -> None:
    clock = FakeClock()
    estimate = TimeLeft(clock)
    clock.now += 100
    estimate.record("orders", records=80, points=2000, bulk=False)  # 20 points a second, bucket 100

    left = estimate.seconds_left({"orders": (40, "pages")}, Bucket(available=2000, restore_rate=100))

    assert left == pytest.approx(40 * 25 / 20)


def test_a_resource_not_yet_paged_is_costed_by_the_first_guess_and_bulk_by_records() -> None:
    clock = FakeClock()
    estimate = TimeLeft(clock)
    clock.now += 10
    estimate.record("customers", records=100, points=150, bulk=False)  # 15 points a second
    bucket = Bucket(available=0, restore_rate=15)
    orders_guess = estimate.points_per_record("orders")
    assert orders_guess is not None and orders_guess > estimate.points_per_record("customers") == 1.5  # type: ignore[operator]

    pages = estimate.seconds_left({"customers": (100, "pages"), "orders": (10, "pages")}, bucket)
    assert pages == pytest.approx((100 * 1.5 + 10 * orders_guess) / 15)

    assert estimate.seconds_left({"orders": (1000, "bulk")}, bucket) is None  # no bulk rate measured yet
    clock.now += 300  # the operation runs, then its first batch is written
    estimate.record("orders", records=250, points=0, bulk=True)
    assert estimate.seconds_left({"orders": (1000, "bulk")}, bucket) is None  # one batch: no rate yet
    clock.now += 5
    estimate.record("orders", records=250, points=0, bulk=True)
    assert estimate.seconds_left({"orders": (1000, "bulk")}, bucket) == pytest.approx(1000 / 50)


def test_the_window_forgets_the_first_burst() -> None:
    clock = FakeClock()
    estimate = TimeLeft(clock, window_seconds=60)
    estimate.record("orders", records=40, points=2000, bulk=False)  # the full bucket's burst, at once
    for _ in range(20):
        clock.now += 10
        estimate.record("orders", records=10, points=500, bulk=False)  # then 50 points a second

    assert estimate.records_per_second() == pytest.approx(1.0)

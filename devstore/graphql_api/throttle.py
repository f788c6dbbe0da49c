"""Shopify's cost-based rate limit: a leaky bucket of points per (app, shop)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

DEFAULT_MAXIMUM_AVAILABLE = 2000
DEFAULT_RESTORE_RATE_PER_SECOND = 100


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: int
    currently_available: int
    restore_rate: int

    def as_json(self) -> dict[str, int]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.currently_available,
            "restoreRate": self.restore_rate,
        }


@dataclass(frozen=True)
class BucketLimits:
    maximum_available: int = DEFAULT_MAXIMUM_AVAILABLE
    restore_rate: int = DEFAULT_RESTORE_RATE_PER_SECOND


class LeakyBucket:
    def __init__(self, limits: BucketLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._level = float(limits.maximum_available)
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._at)
        self._level = min(
            float(self.limits.maximum_available), self._level + elapsed * self.limits.restore_rate
        )
        self._at = now

    def try_charge(self, points: int) -> bool:
        self._refill()
        if self._level < points:
            return False
        self._level -= points
        return True

    def refund(self, points: int) -> None:
        self._refill()
        self._level = min(float(self.limits.maximum_available), self._level + max(points, 0))

    def status(self) -> ThrottleStatus:
        self._refill()
        return ThrottleStatus(self.limits.maximum_available, int(self._level), self.limits.restore_rate)


class Throttle:
    """Buckets per (client_id, shop); limits settable per shop; can be switched off for benchmarks."""

    def __init__(self, clock: Clock = time.monotonic, default: BucketLimits | None = None) -> None:
        self.clock = clock
        self.default = default or BucketLimits()
        self.enabled = True
        self._limits: dict[str, BucketLimits] = {}
        self._buckets: dict[tuple[str, str], LeakyBucket] = {}
        self._lock = threading.Lock()

    def set_limits(self, limits: BucketLimits, shop: str | None = None) -> None:
        with self._lock:
            if shop is None:
                self.default = limits
                self._limits.clear()
                self._buckets.clear()
            else:
                self._limits[shop] = limits
                for key in [key for key in self._buckets if key[1] == shop]:
                    del self._buckets[key]

    def bucket(self, client_id: str, shop: str) -> LeakyBucket:
        with self._lock:
            bucket = self._buckets.get((client_id, shop))
            if bucket is None:
                bucket = LeakyBucket(self._limits.get(shop, self.default), self.clock)
                self._buckets[(client_id, shop)] = bucket
            return bucket

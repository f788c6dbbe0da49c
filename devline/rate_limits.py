"""LINE's rate limits: a token bucket per channel and endpoint, a second's worth of requests deep."""

from __future__ import annotations

from dataclasses import dataclass

from devline.clock import Clock


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class RateLimiter:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def allow(self, *, channel_id: str, endpoint: str, per_second: float) -> bool:
        now = self._clock()
        bucket = self._buckets.get((channel_id, endpoint))
        if bucket is None:
            bucket = self._buckets[(channel_id, endpoint)] = _Bucket(tokens=per_second, updated_at=now)
        bucket.tokens = min(per_second, bucket.tokens + (now - bucket.updated_at) * per_second)
        bucket.updated_at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def reset(self, channel_id: str) -> None:
        for key in [key for key in self._buckets if key[0] == channel_id]:
            del self._buckets[key]

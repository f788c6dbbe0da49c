"""How long a sync has left: what remains of it, costed, at the rate it is measured to go.

Paged resources are paid for in Shopify query points. What is left of one costs its records times the
points a record of it has cost in this run (before its first page, a first guess from the demo store).
While the run keeps up with the shop's bucket (it is paced by it, the usual case) the points come at the
bucket's restore rate once those already in the bucket are spent, and the last request needs its whole
requested cost in the bucket (Shopify refunds the unused part only after it ran). A run slower than its
bucket (a slow database, a slow network) is paid at the rate measured over the last minute instead.
Bulk resources cost no points once the operation has run: what is left is records, at the rate the run
writes them (measured between its batches, so not counting the wait for the operation).

The estimate used to be all records left over the records per second since the start: cheap records
(customers, a hundred to a page) made the expensive ones (orders, eight to a page with their items and
shipments) look quick, and it said "about 5 min left" for sixteen minutes.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
# A run measured at this share of its bucket's restore rate or more is paced by the bucket.
PACED_SHARE = 0.8
# Points a record costs, measured on the simulated store's generated shops (tests/sync/test_sync_estimate.py
# runs one); replaced by the run's own figure from a resource's first page.
FIRST_GUESS_POINTS_PER_RECORD = {
    "locations": 3.0,
    "products": 24.0,
    "inventory": 11.0,
    "customers": 5.0,
    "orders": 45.0,
}


@dataclass(frozen=True, slots=True)
class Bucket:
    """The shop's rate-limit bucket as the client last saw it, brought to now."""

    available: float
    restore_rate: float
    headroom: float = 0.0  # what a request asks beyond what it is charged (requested minus actual)


@dataclass(frozen=True, slots=True)
class _Sample:
    at: float
    points: float  # both cumulative since the run's start
    records: int


class TimeLeft:
    """Samples of one run (after each committed page), and the estimate they give."""

    def __init__(self, clock: Callable[[], float], *, window_seconds: float = WINDOW_SECONDS) -> None:
        self._clock = clock
        self._window = window_seconds
        self._samples: deque[_Sample] = deque()
        self._points: dict[str, float] = defaultdict(float)
        self._records: dict[str, int] = defaultdict(int)
        self._bulk_seconds = 0.0
        self._bulk_records = 0
        self._last_bulk_at: float | None = None
        self.start()

    def start(self) -> None:
        self._samples.clear()
        self._points.clear()
        self._records.clear()
        self._bulk_seconds, self._bulk_records, self._last_bulk_at = 0.0, 0, None
        self._samples.append(_Sample(self._clock(), 0.0, 0))

    def record(self, name: str, *, records: int, points: float, bulk: bool) -> None:
        """A page (or a bulk batch) of ``records`` of ``name`` committed, having cost ``points``."""
        last = self._samples[-1]
        now = self._clock()
        if not bulk and records:
            self._points[name] += points
            self._records[name] += records
        if bulk and records:
            if self._last_bulk_at is not None:
                self._bulk_seconds += now - self._last_bulk_at
                self._bulk_records += records
            self._last_bulk_at = now
        self._samples.append(_Sample(at=now, points=last.points + points, records=last.records + records))
        # keep the newest sample at or before the window's start, so the window spans all of it
        while len(self._samples) > 2 and self._samples[1].at <= now - self._window:
            self._samples.popleft()

    def points_per_record(self, name: str) -> float | None:
        if self._records.get(name):
            return self._points[name] / self._records[name]
        return FIRST_GUESS_POINTS_PER_RECORD.get(name)

    def _rate(self, measure: Callable[[_Sample], float]) -> float | None:
        first, last = self._samples[0], self._samples[-1]
        span = last.at - first.at
        if span <= 0 or len(self._samples) < 2:
            return None
        return (measure(last) - measure(first)) / span

    def records_per_second(self) -> float | None:
        return self._rate(lambda sample: sample.records)

    def seconds_left(self, remaining: Mapping[str, tuple[int, str]], bucket: Bucket | None) -> float | None:
        """``remaining`` is each resource's records left and its mode (``pages`` or ``bulk``); None when
        nothing tells the cost or the rate yet."""
        points_left = 0.0
        bulk_left = 0
        for name, (count, mode) in remaining.items():
            if count <= 0:
                continue
            if mode == "bulk":
                bulk_left += count
                continue
            per_record = self.points_per_record(name)
            if per_record is None:
                return None
            points_left += count * per_record
        seconds = 0.0
        if points_left > 0:
            measured = self._rate(lambda sample: sample.points)
            restore = bucket.restore_rate if bucket is not None else 0.0
            if bucket is not None and restore > 0 and (measured is None or measured >= PACED_SHARE * restore):
                seconds += max(0.0, points_left - bucket.available + bucket.headroom) / bucket.restore_rate
            elif measured:
                seconds += points_left / measured
            else:
                return None
        if bulk_left > 0:
            if self._bulk_seconds <= 0:
                return None
            seconds += bulk_left * self._bulk_seconds / self._bulk_records
        return seconds

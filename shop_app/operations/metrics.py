"""Metrics as Prometheus reads them, never public by default.

The counters and histograms are recorded where things happen (``shop_app.observability.metrics``); the
figures that are state rather than events (the webhook inbox's backlog and its oldest delivery, the job
queue's depth, how far each running backfill is) are read from the database when Prometheus scrapes,
within ``SCRAPE_DATABASE_TIMEOUT_SECONDS``: a slow database costs a scrape those figures (and says so in
``shop_app_scrape_database_ok``), never the scrape itself.

Exposed only when asked for: on a port of its own (``SHOP_APP_METRICS_PORT``, on 127.0.0.1 unless
``SHOP_APP_METRICS_HOST`` says otherwise) or at ``/metrics`` of the app behind a bearer token
(``SHOP_APP_METRICS_TOKEN``, compared in constant time before anything else is done). With
``PROMETHEUS_MULTIPROC_DIR`` set, a scrape adds up every process's values (``serve --workers N``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shop_app.observability import metrics as m
from shop_app.runtime import Services
from shop_app.settings import JobEngine, Settings

SCRAPE_DATABASE_TIMEOUT_SECONDS = 1.0
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PHASES = frozenset({"idle", "backfilling", "bulk", "reconciling", "failed"})


def bearer_accepted(settings: Settings, authorization: str | None) -> bool:
    """Whether the request may read the metrics: always when no token is set (the port of its own is
    private), else only with ``Authorization: Bearer <token>``, compared in constant time."""
    expected = settings.metrics_token.reveal()
    if not expected:
        return True
    scheme, _, presented = (authorization or "").partition(" ")
    return (
        hmac.compare_digest(presented.strip().encode("utf-8", "replace"), expected.encode())
        and scheme.lower() == "bearer"
    )


async def scrape(
    services: Services,
    *,
    waiting_jobs: Mapping[str, int] | None = None,
    within_seconds: float = SCRAPE_DATABASE_TIMEOUT_SECONDS,
) -> bytes:
    """The exposition text: every recorded metric (every process's, in multiprocess mode), then the
    figures read now. ``waiting_jobs`` is the in-process queue's depth by task; procrastinate's queue
    (``SHOP_APP_JOB_ENGINE=procrastinate``) is read from its table instead."""
    figures = await database_figures(services, waiting_jobs=waiting_jobs, within_seconds=within_seconds)
    return generate_latest(recorded_registry()) + generate_latest(_Figures.registry(figures))


def recorded_registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


async def database_figures(
    services: Services,
    *,
    waiting_jobs: Mapping[str, int] | None = None,
    within_seconds: float = SCRAPE_DATABASE_TIMEOUT_SECONDS,
) -> list[Metric]:
    figures: list[Metric] = []
    if waiting_jobs is not None:
        figures.append(_job_depth(waiting_jobs))
    read: list[Metric] = []
    try:
        async with asyncio.timeout(within_seconds):
            await _read_database(
                services,
                read,
                queue_in_database=waiting_jobs is None
                and services.settings.job_engine is JobEngine.PROCRASTINATE,
            )
        ok = 1.0
    except (TimeoutError, OSError, DBAPIError):
        ok, read = 0.0, []
    figures.extend(read)
    figures.append(GaugeMetricFamily(*m.SCRAPE_DATABASE_FAMILY, value=ok))
    return figures


def _job_depth(waiting: Mapping[str, int], *, failed: bool = False) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        *(m.JOB_QUEUE_FAILED_FAMILY if failed else m.JOB_QUEUE_DEPTH_FAMILY), labels=["task"]
    )
    totals: dict[str, int] = {}
    for task, count in waiting.items():
        label = m.name_label(task)
        totals[label] = totals.get(label, 0) + count
    for task, count in sorted(totals.items()):
        family.add_metric([task], count)
    return family


async def _read_database(services: Services, figures: list[Metric], *, queue_in_database: bool) -> None:
    now = datetime.now(UTC)
    async with services.sessions() as session:
        inbox = (
            await session.execute(
                text(
                    "SELECT count(*), min(received_at) FROM webhook_deliveries "
                    "WHERE status IN ('pending', 'processing')"
                )
            )
        ).one()
        failed = (
            await session.execute(text("SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'"))
        ).scalar_one()
        figures.append(GaugeMetricFamily(*m.INBOX_BACKLOG_FAMILY, value=int(inbox[0])))
        figures.append(GaugeMetricFamily(*m.INBOX_OLDEST_AGE_FAMILY, value=_age_seconds(inbox[1], now)))
        figures.append(GaugeMetricFamily(*m.INBOX_FAILED_FAMILY, value=int(failed)))
        if queue_in_database:
            rows = await session.execute(
                text(
                    "SELECT task_name, status, count(*) FROM procrastinate_jobs "
                    "WHERE status IN ('todo', 'failed') GROUP BY task_name, status"
                )
            )
            counted = [(str(task), str(status), int(count)) for task, status, count in rows.all()]
            figures.append(_job_depth({t: c for t, s, c in counted if s == "todo"}))
            figures.append(_job_depth({t: c for t, s, c in counted if s == "failed"}, failed=True))
        phases = await session.execute(text("SELECT phase, count(*) FROM sync_states GROUP BY phase"))
        shops = GaugeMetricFamily(*m.SYNC_SHOPS_FAMILY, labels=["phase"])
        by_phase: dict[str, int] = {}
        for phase, count in phases.all():
            label = m.bounded(str(phase), PHASES)
            by_phase[label] = by_phase.get(label, 0) + int(count)
        for phase, count in sorted(by_phase.items()):
            shops.add_metric([phase], count)
        figures.append(shops)
        running = await session.execute(
            text(
                "SELECT shops.domain, sync_states.progress FROM sync_states "
                "JOIN shops ON shops.id = sync_states.shop_id "
                "WHERE sync_states.phase IN ('backfilling', 'bulk')"
            )
        )
        figures.extend(_backfill_figures((str(domain), progress) for domain, progress in running.all()))


def _age_seconds(oldest: Any, now: datetime) -> float:
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite hands a raw column back as text
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, float((now - oldest).total_seconds()))


def _backfill_figures(running: Iterable[tuple[str, Any]]) -> list[Metric]:
    """Per shop for at most ``MAX_SHOPS_IN_BACKFILL_FIGURES`` shops (those with the most left), and the
    sum for all: a thousand shops installing at once must not make a thousand series."""
    shops: list[tuple[int, str, int, int]] = []
    for domain, raw in running:
        progress = json.loads(raw) if isinstance(raw, str) else raw
        resources = (progress or {}).get("resources") or {}
        done = sum(int(entry.get("done") or 0) for entry in resources.values() if isinstance(entry, dict))
        expected = sum(
            int(entry.get("total") or entry.get("done") or 0)
            for entry in resources.values()
            if isinstance(entry, dict)
        )
        shops.append((max(0, expected - done), domain, done, expected))
    shops.sort(key=lambda shop: (-shop[0], shop[1]))
    done_family = GaugeMetricFamily(*m.BACKFILL_DONE_FAMILY, labels=["shop"])
    expected_family = GaugeMetricFamily(*m.BACKFILL_TOTAL_FAMILY, labels=["shop"])
    for _left, domain, done, expected in shops[: m.MAX_SHOPS_IN_BACKFILL_FIGURES]:
        done_family.add_metric([domain], done)
        expected_family.add_metric([domain], expected)
    remaining = GaugeMetricFamily(*m.BACKFILL_REMAINING_FAMILY, value=sum(shop[0] for shop in shops))
    return [done_family, expected_family, remaining]


class _Figures(Collector):
    def __init__(self, figures: list[Metric]) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        yield from self._figures

    @classmethod
    def registry(cls, figures: list[Metric]) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(cls(figures))
        return registry


def clear_multiprocess_directory() -> None:
    """Remove the previous run's value files (``serve`` does it before starting its workers), so a
    restart's counters start from zero as Prometheus expects of a restarted target."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if not directory or not os.path.isdir(directory):
        return
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def process_stopped() -> None:
    """In multiprocess mode, a stopping process's live gauges leave the sums."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

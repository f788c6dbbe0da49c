"""Every metric of the app, in one place, with label values from bounded sets only.

No label ever holds a ticket, customer, order, message or delivery id, nor raw text a stranger sends:
each label is passed through the ``*_label`` function beside it, which maps anything outside its known set
to ``"other"``. Topics are the toml's subscriptions (``known_topics``), tasks the job names, HTTP routes
the matched route's template (``"unmatched"`` when none matched). The figures read from the database at
scrape time (inbox backlog, queue depth, backfill progress) are named here too (``*_FAMILY``) and built by
``shop_app.operations.metrics``; backfill progress is the only per-shop figure, for at most
``MAX_SHOPS_IN_BACKFILL_FIGURES`` shops at once.

A process whose metrics nobody can read (no port and no token set) records nothing
(``record_metrics(False)``, as ``create_app`` and ``shop-app worker`` decide from the settings): the cost
of observing is paid only when someone observes.

With ``PROMETHEUS_MULTIPROC_DIR`` set before the process starts, prometheus_client keeps these values in
files in that directory (one set per process), and a scrape adds them up (``uvicorn --workers N``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client import Counter, Histogram

OTHER = "other"
UNMATCHED_ROUTE = "unmatched"
# Shopify's and ours: most acknowledgements take milliseconds; Shopify gives up after 5 s
ACK_BUCKETS_SECONDS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
HTTP_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS_SECONDS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0)
MAX_SHOPS_IN_BACKFILL_FIGURES = 20

WEBHOOK_OUTCOMES = frozenset(
    {
        "accepted",
        "duplicate",
        "ignored",
        "unknown_shop",
        "uninstalled_shop",
        "rejected_signature",
        "rejected_request",
        "error",
    }
)
JOB_OUTCOMES = frozenset({"ok", "retry", "error", "cancelled"})
DELIVERY_OUTCOMES = frozenset({"sent", "retrying", "failed"})
CHANNELS = frozenset({"web_chat", "api", "email", "line", "chatwoot", "zendesk"})
TOKEN_REFRESH_FAILURES_REASONS = frozenset({"invalid_grant", "refused_again", "error"})
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# a code-defined name (an intent, an action, a task, a resource): lower case words, short
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

WEBHOOK_ACK_SECONDS = Histogram(
    "shop_app_webhook_ack_seconds",
    "Time from a webhook request reaching the app to its answer, by topic",
    ["topic"],
    buckets=ACK_BUCKETS_SECONDS,
)
WEBHOOKS = Counter(
    "shop_app_webhooks",
    "Webhook requests answered, by topic and outcome (accepted, duplicate, ignored, unknown_shop, "
    "uninstalled_shop, rejected_signature, rejected_request, error)",
    ["topic", "outcome"],
)
JOBS = Counter(
    "shop_app_jobs",
    "Background jobs run, by task and outcome (ok, retry, error, cancelled: stopped with the process)",
    ["task", "outcome"],
)
JOB_SECONDS = Histogram(
    "shop_app_job_seconds", "How long background jobs ran, by task", ["task"], buckets=JOB_BUCKETS_SECONDS
)
RECONCILIATION_REPAIRS = Counter(
    "shop_app_reconciliation_repairs",
    "Records a reconciliation found wrong or missing in the mirror and rewrote, by resource",
    ["resource"],
)
RECONCILIATIONS = Counter("shop_app_reconciliations", "Reconciliations of a shop's mirror finished")
TOKEN_REFRESH_FAILURES = Counter(
    "shop_app_token_refresh_failures",
    "Access token refreshes that failed, by reason (invalid_grant: the shop must authorise again; "
    "refused_again: the fresh token was refused too; error: Shopify unreachable or answering wrongly)",
    ["reason"],
)
BOT_DECISIONS = Counter(
    "shop_app_bot_decisions", "The bot's decisions, by action and the intent it read", ["action", "intent"]
)
CHANNEL_DELIVERIES = Counter(
    "shop_app_channel_deliveries",
    "Outbox sends, by channel and outcome (sent, retrying, failed: given up)",
    ["channel", "outcome"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "shop_app_http_request_seconds",
    "HTTP requests, by method, route template and status class",
    ["method", "route", "status"],
    buckets=HTTP_BUCKETS_SECONDS,
)

# figures read from the database (and the in-process queue) at scrape time, by shop_app.operations.metrics
INBOX_BACKLOG_FAMILY = (
    "shop_app_webhook_inbox_backlog",
    "Stored webhook deliveries not processed yet (pending or being processed)",
)
INBOX_OLDEST_AGE_FAMILY = (
    "shop_app_webhook_inbox_oldest_age_seconds",
    "Age of the oldest stored webhook delivery not processed yet (0 when none)",
)
INBOX_FAILED_FAMILY = ("shop_app_webhook_inbox_failed", "Stored webhook deliveries that failed for good")
JOB_QUEUE_DEPTH_FAMILY = ("shop_app_job_queue_depth", "Jobs waiting to run, by task")
JOB_QUEUE_FAILED_FAMILY = ("shop_app_job_queue_failed", "Jobs the queue gave up on, by task (PostgreSQL)")
SYNC_SHOPS_FAMILY = ("shop_app_sync_shops", "Shops by the phase of their mirror's sync")
BACKFILL_DONE_FAMILY = (
    "shop_app_backfill_records_done",
    f"Records imported by a running backfill, per shop (at most {MAX_SHOPS_IN_BACKFILL_FIGURES} shops: "
    "those with the most left)",
)
BACKFILL_TOTAL_FAMILY = (
    "shop_app_backfill_records_expected",
    "Records a running backfill expects to import, per shop (as shop_app_backfill_records_done)",
)
BACKFILL_REMAINING_FAMILY = (
    "shop_app_backfill_records_remaining",
    "Records every running backfill has still to import, all shops together",
)
SCRAPE_DATABASE_FAMILY = (
    "shop_app_scrape_database_ok",
    "1 when this scrape read the database's figures in time, 0 when it could not (they are left out)",
)


class _Recording:
    on = True


_RECORDING = _Recording()


def record_metrics(on: bool) -> None:
    """Whether this process records its metrics (on unless told otherwise)."""
    _RECORDING.on = on


def recording() -> bool:
    return _RECORDING.on


def bounded(value: str, known: Iterable[str]) -> str:
    return value if value in known else OTHER


def name_label(value: object) -> str:
    """A code-defined name (task, intent, action, resource) as a label; anything else is "other"."""
    text = str(value)
    return text if _NAME.fullmatch(text) else OTHER


def record_bot_decision(*, action: object, intent: object) -> None:
    if not _RECORDING.on:
        return
    BOT_DECISIONS.labels(name_label(action), name_label(intent)).inc()


def record_channel_delivery(*, channel: object, outcome: str) -> None:
    if not _RECORDING.on:
        return
    CHANNEL_DELIVERIES.labels(bounded(str(channel), CHANNELS), bounded(outcome, DELIVERY_OUTCOMES)).inc()


def record_token_refresh_failure(reason: str) -> None:
    if not _RECORDING.on:
        return
    TOKEN_REFRESH_FAILURES.labels(bounded(reason, TOKEN_REFRESH_FAILURES_REASONS)).inc()


def record_reconciliation_repairs(*, resource: str, count: int) -> None:
    if not _RECORDING.on:
        return
    RECONCILIATION_REPAIRS.labels(name_label(resource)).inc(count)


def record_reconciliation() -> None:
    if not _RECORDING.on:
        return
    RECONCILIATIONS.inc()


def record_job(*, task: object, outcome: str, seconds: float) -> None:
    if not _RECORDING.on:
        return
    task_label = name_label(task)
    JOBS.labels(task_label, bounded(outcome, JOB_OUTCOMES)).inc()
    JOB_SECONDS.labels(task_label).observe(seconds)


def record_webhook(*, topic: str, known_topics: frozenset[str], outcome: str, seconds: float) -> None:
    if not _RECORDING.on:
        return
    topic_label = bounded(topic, known_topics)
    WEBHOOKS.labels(topic_label, bounded(outcome, WEBHOOK_OUTCOMES)).inc()
    WEBHOOK_ACK_SECONDS.labels(topic_label).observe(seconds)


def record_http_request(*, method: str, route: str | None, status: int, seconds: float) -> None:
    if not _RECORDING.on:
        return
    status_class = f"{status // 100}xx" if 100 <= status < 600 else OTHER
    HTTP_REQUEST_SECONDS.labels(
        bounded(method, HTTP_METHODS), route or UNMATCHED_ROUTE, status_class
    ).observe(seconds)

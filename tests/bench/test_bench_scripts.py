"""The benchmarks run end to end at a tiny size, so they cannot rot. Their figures are never asserted
(the machine is shared); what they count from the database is, since no load excuses a lost delivery."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVALID_EXIT = 3  # bench/webhook_ingest.py: the bare endpoint missed its p99 bar on this machine


def run_bench(script: str, *args: str, timeout: float) -> str:
    done = subprocess.run(  # noqa: S603 - this project's own scripts
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode in (0, INVALID_EXIT), done.stdout + done.stderr
    return done.stdout


def counted(output: str, label: str) -> int:
    found = re.search(rf"{re.escape(label)}:? (\d[\d,]*)", output)
    assert found is not None, f"{label!r} not in:\n{output}"
    return int(found.group(1).replace(",", ""))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_webhook_ingest_bench_reports_the_app_with_metrics_on_beside_off() -> None:
    output = run_bench(
        "webhook_ingest.py", "--rate", "20", "--seconds", "1", "--burst", "120", "--connections", "4",
        "--metrics", "both", "--rounds", "1", "--scrape-interval", "0.2", timeout=280,
    )  # fmt: skip

    assert "app, metrics off" in output and "app, metrics on" in output
    assert output.count("lost (acknowledged, not stored): 0;") == 2
    assert output.count("not processed: 0;") == 2
    cost = re.search(r"metrics on \(scraped every 0.2 s, (\d+) scrapes\)", output)
    assert cost is not None and int(cost.group(1)) > 0, output
    assert re.search(
        r"saturation accepted/s on/off per round: [\d.]+×; median [\d.]+× \([+-][\d.]+% cost", output
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_webhook_ingest_bench_counts_every_delivery_from_the_database(migrated_postgres: str | None) -> None:
    database = ["--database-url", migrated_postgres] if migrated_postgres else []
    output = run_bench(
        "webhook_ingest.py", "--rate", "50", "--seconds", "1", "--burst", "150", "--connections", "4",
        *database, timeout=280,
    )  # fmt: skip

    for row in ("generator → null", "bare endpoint", "app"):
        assert row in output
    assert "vs bare: accepted/s" in output
    sent = counted(output, "deliveries")
    assert counted(output, "acknowledged, not stored)") == 0
    assert counted(output, "stored twice") == 0
    assert counted(output, "stored but never sent") == 0
    assert counted(output, "processed") == sent
    assert counted(output, "processed more than once") == 0
    assert counted(output, "missing") == 0
    assert counted(output, "at an older version than the newest stored") == 0
    # an invalid run says so beside the app's figures, and only then
    assert ("app (NOT VALID)" in output) == ("NOT VALID: the bare endpoint" in output)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_profile_api_bench_prints_the_live_fetch_beside_the_mirror(migrated_postgres: str | None) -> None:
    database = ["--postgres", migrated_postgres] if migrated_postgres else []
    try:
        output = run_bench(
            "profile_api.py", "--orders", "600", "--customers", "120", "--profiles", "20",
            "--store-orders", "100", "--live-samples", "5", "--store-profiles", "1", "--shopify-rtt-ms", "150",
            *database, timeout=280,
        )  # fmt: skip
    finally:
        if migrated_postgres:  # the bench empties the database it is given: leave it as the session had it
            from dataclasses import replace

            from shop_app.cli import migrate
            from shop_app.settings import Settings

            migrate(replace(Settings(), database_url=migrated_postgres))

    assert "GET /api/v1/customers/{id}/profile (ASGI)" in output
    assert "5 random customers with orders" in output
    assert "+ 150 ms round trip per query" in output  # the stated round trip is the one asked for
    assert re.search(r"ratio, live fetch ÷ profile API from the mirror .*: p50 \d+×, p99 \d+×", output)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_channels_bench_prints_each_channel_beside_the_widget() -> None:
    output = run_bench(
        "channels.py", "--rate", "5", "--seconds", "1", "--widget", "5", "--mails", "10", timeout=280
    )

    assert "widget conversation (baseline), 5 one after another" in output
    assert re.search(r"LINE webhook 200 at 5/s: p50 [\d.]+ ms \([\d.]+x widget\)", output), output
    assert re.search(r"LINE webhook in -> reply call at 5/s: .*\(5 events\)", output), output
    assert "answers missing" not in output  # every LINE event was answered
    assert re.search(r"email in -> ticket at 20 mails/s: .*x bare.*\(10 mails\)", output), output


@pytest.mark.timeout(300)
def test_channels_bench_counts_one_line_events_work_beside_a_widget_conversations() -> None:
    output = run_bench("channels.py", "--profile", "2", timeout=280)

    webhook = re.search(
        r"LINE webhook to 200: [\d.]+ SQL statements, [\d.]+ transactions \(([\d.]+) writing\)", output
    )
    assert webhook is not None and float(webhook.group(1)) == 1.0, output  # the events stored, nothing else
    assert re.search(
        r"LINE job to reply call: [\d.]+ SQL statements, .* [\d.]+ LINE calls, [\d.]+ ms CPU", output
    )
    assert "widget conversation (baseline): " in output


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_channels_bench_runs_on_postgresql(migrated_postgres: str | None) -> None:
    if migrated_postgres is None:
        pytest.skip("PostgreSQL only (TEST_DATABASE_URL)")
    output = run_bench(
        "channels.py", "--rate", "5", "--seconds", "1", "--widget", "5", "--mails", "10",
        "--database-url", migrated_postgres, "--workers", "2", timeout=280,
    )  # fmt: skip

    assert "PostgreSQL, 2 workers" in output
    assert re.search(r"LINE webhook in -> reply call at 5/s: .*\(5 events\)", output), output
    assert "answers missing" not in output


@pytest.mark.timeout(120)
def test_knowledge_bench_reports_bm25_beside_the_baseline_and_its_accuracy() -> None:
    output = run_bench(
        "knowledge.py", "--entries", "20", "--policy-copies", "1", "--queries", "50", timeout=110
    )

    assert "character bigrams (the app's):" in output
    assert re.search(r"BM25/baseline p50 [\d.]+×, p99 [\d.]+×", output), output
    right = re.search(r"(\d+) of (\d+) answered from the right source", output)
    assert right is not None and int(right.group(2)) > 0, output


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_workers_bench_drains_a_backlog_with_each_worker_count(migrated_postgres: str | None) -> None:
    if migrated_postgres is None:
        pytest.skip("`shop-app worker` runs on PostgreSQL: set TEST_DATABASE_URL")
    output = run_bench(
        "workers.py", "--database-url", migrated_postgres, "--burst", "120", "--workers", "1,2", timeout=580
    )

    for workers in ("1 worker ", "2 workers"):
        line = next(row for row in output.splitlines() if row.strip().startswith(workers))
        assert "drained 120 in" in line and "deliveries/s" in line, output
        assert "not processed: 0;" in line and "processed more than once: 0;" in line, output
        assert "failed: 0;" in line and "orders missing: 0;" in line, output
        assert "at an older version: 0 " in line, output


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_connectors_bench_prints_the_reply_and_the_card_beside_the_console_sidebar() -> None:
    output = run_bench("connectors.py", "--rate", "5", "--seconds", "1", "--cards", "5", timeout=280)

    assert "console sidebar profile (baseline), 5 one after another" in output
    assert re.search(
        r"Chatwoot webhook in -> reply call at 5/s: p50 [\d.]+ ms \([\d.]+x sidebar\).*\(5 events\)", output
    ), output
    assert re.search(
        r"Chatwoot card load \(page \+ data\): p50 [\d.]+ ms \([\d.]+x sidebar\).*\(5 loads\)", output
    ), output
    assert re.search(
        r"Zendesk webhook in -> reply call at 5/s: p50 [\d.]+ ms \([\d.]+x sidebar\).*\(5 events\)", output
    ), output
    assert re.search(
        r"Zendesk card load \(page \+ data\): p50 [\d.]+ ms \([\d.]+x sidebar\).*\(5 loads\)", output
    ), output
    assert "replies missing" not in output  # every event was answered


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_backfill_bench_prints_memory_by_tenth_and_the_first_whole_profile() -> None:
    output = run_bench("backfill.py", "--orders", "0", "--bulk-orders", "120", timeout=580)

    assert counted(output, "bulk") == 120
    assert "(120 mirrored)" in output  # the run's own count of the mirror, not the store's
    tenths = re.search(r"as each tenth of the orders was written: (.*)", output)
    assert tenths is not None, output
    assert tenths.group(1).split()[-1].startswith("100%:"), output
    assert re.search(r"first whole profile of a customer with an order in the last 7 days: [\d.]+ s", output)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_insights_bench_prints_both_ranges_beside_the_baseline() -> None:
    output = run_bench("insights.py", "--scale", "0.005", "--requests", "3", timeout=280)

    assert re.search(r"filled 1,000 tickets and 5,000 messages over 365 days", output), output
    assert re.search(r"desk settings \(baseline\)\s+[\d.]+\s+[\d.]+\s+1\.0\s+1\.0", output), output
    for label in ("insights, 30 days", "insights, 365 days"):
        found = re.search(rf"{label}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(\d+)", output)
        assert found is not None, output
        assert int(found.group(1)) > 0  # the range held tickets
    assert "goal insights, 365 days: p99 < 1000 ms:" in output

"""``shop-app serve --workers 2`` as deployed: JSON log lines only, each request's line with its id, and
on the metrics port the sum of both processes' values (prometheus_client's multiprocess mode), the last
run's values cleared at start."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shop_app.settings import Settings
from tests.app.test_serving import _environment, _free_port
from tests.conftest import PROJECT_ROOT

STARTUP_SECONDS = 60
READYZ_REQUESTS = 12


def readyz_count(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "shop_app_http_request_seconds_count" and sample.labels.get("route") == "/readyz"
    )


@pytest.mark.slow
def test_two_workers_write_json_lines_and_one_port_sums_their_metrics(
    settings: Settings, tmp_path: Path
) -> None:
    if not settings.is_sqlite:
        pytest.skip("serve migrates SQLite by itself; the PostgreSQL run is covered in-process")
    # given: the last run's values left in the directory
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999.db").write_bytes(b"stale")
    port, metrics_port = _free_port(), _free_port()
    env = _environment(settings, tmp_path, "INFO")
    env.update(
        SHOP_APP_LOG_FORMAT="json",
        SHOP_APP_METRICS_PORT=str(metrics_port),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "shop_app", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).raise_for_status()
                break
            except (httpx.TransportError, httpx.HTTPStatusError):
                time.sleep(0.2)

        # when: requests spread over new connections (each may reach either process)
        for n in range(READYZ_REQUESTS):
            with httpx.Client() as client:
                client.get(
                    f"http://127.0.0.1:{port}/readyz", headers={"X-Request-Id": f"probe-request-{n:04d}"}
                )
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)

    # then
    assert readyz_count(scraped) == READYZ_REQUESTS
    assert "shop_app_webhook_inbox_backlog 0.0" in scraped
    assert not (metrics_dir / "counter_99999.db").exists()
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r.get("logger") == "uvicorn.access" and "/readyz" in r["message"]]
    assert len(access) == READYZ_REQUESTS
    assert {r.get("request_id") for r in access} == {f"probe-request-{n:04d}" for n in range(READYZ_REQUESTS)}
    assert len({r.get("process") for r in records if r.get("logger") == "uvicorn.error"}) >= 1

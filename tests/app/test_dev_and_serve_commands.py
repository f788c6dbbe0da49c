"""The commands against their database: `dev` prepares its own (on a fresh PostgreSQL database too, where
the job queue's tables and a job worker come with it) and listens where it is told; `serve` and `worker`
refuse a database that was never migrated or is behind this version, and say to run `shop-app migrate`."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text

from alembic import command
from shop_app.cli import migrate as full_migrate
from shop_app.database import alembic_config, migrate, sync_url
from shop_app.lifespan import database_not_ready
from shop_app.settings import Settings
from tests.conftest import PROJECT_ROOT

COMMAND_SECONDS = 60.0
DEV_SECONDS = 240.0
SMALL_STORE = ["--orders", "20", "--customers", "8", "--products", "4"]
DEMO_SHOPS = {"hinode-apparel.myshopify.com", "northwind-goods.myshopify.com"}


@pytest.fixture
def fresh_postgres(postgres_url: str | None) -> Iterator[str]:
    """A PostgreSQL database created empty for the test (beside TEST_DATABASE_URL's) and dropped after."""
    if postgres_url is None:
        pytest.skip("a fresh PostgreSQL database: set TEST_DATABASE_URL")
    url = make_url(sync_url(postgres_url))
    name = f"{url.database}_fresh"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SHOP_APP_", "SHOPIFY_")) and key not in ("DATABASE_URL", "PORT")
    }
    env.update(SHOP_APP_ENV="development", SHOP_APP_DATA_DIR=str(data_dir))
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def _shop_app(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command that must end by itself (a server that starts instead fails the test by timing out)."""
    return subprocess.run(  # noqa: S603 (this project's own command line)
        [sys.executable, "-m", "shop_app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


def _refusals(data_dir: Path, database_url: str) -> dict[str, subprocess.CompletedProcess[str]]:
    env = _environment(data_dir, database_url)
    return {
        "serve": _shop_app(["serve", "--port", str(_free_port())], env),
        "worker": _shop_app(["worker"], env),
    }


def test_serve_and_worker_refuse_a_database_never_migrated_and_say_to_migrate(
    fresh_postgres: str, tmp_path: Path
) -> None:
    for name, result in _refusals(tmp_path, fresh_postgres).items():
        assert result.returncode == 1, (name, result.stderr)
        assert "the database has never been migrated" in result.stderr
        assert "Run `shop-app migrate` first" in result.stderr


def test_serve_and_worker_refuse_a_database_behind_this_version(
    fresh_postgres: str, tmp_path: Path, settings: Settings
) -> None:
    # given: every migration but the newest, and the job queue's tables
    script = ScriptDirectory.from_config(alembic_config(fresh_postgres))
    newest = script.get_revision(script.get_current_head())
    assert newest is not None and isinstance(newest.down_revision, str)
    full_migrate(replace(settings, database_url=fresh_postgres))
    command.downgrade(alembic_config(fresh_postgres), newest.down_revision)

    for name, result in _refusals(tmp_path, fresh_postgres).items():
        assert result.returncode == 1, (name, result.stderr)
        assert "the database is behind this version (1 migrations to apply)" in result.stderr
        assert "Run `shop-app migrate` first" in result.stderr


def test_serve_and_worker_refuse_a_database_without_the_job_queues_tables(
    fresh_postgres: str, tmp_path: Path, settings: Settings
) -> None:
    migrate(fresh_postgres)  # Alembic only: what `dev` did before

    for name, result in _refusals(tmp_path, fresh_postgres).items():
        assert result.returncode == 1, (name, result.stderr)
        assert "the job queue's tables are missing" in result.stderr
        assert "Run `shop-app migrate` first" in result.stderr
    full_migrate(replace(settings, database_url=fresh_postgres))
    assert asyncio.run(database_not_ready(replace(settings, database_url=fresh_postgres))) is None


class DevProcess:
    """`shop-app dev` in a child process, its output in a file, stopped with Ctrl+C."""

    def __init__(self, data_dir: Path, database_url: str | None, *, port: int, store_port: int) -> None:
        self.output = data_dir.parent / f"{data_dir.name}-dev.log"
        self.port = port
        with self.output.open("w") as sink:
            line_port = _free_port()
            arguments = [
                "dev",
                "--port",
                str(port),
                "--store-port",
                str(store_port),
                "--line-port",
                str(line_port),
                "--chatwoot-port",
                str(_free_port()),
                "--zendesk-port",
                str(_free_port()),
            ]
            arguments += SMALL_STORE
            self.process = subprocess.Popen(  # noqa: S603 (this project's own command line)
                [sys.executable, "-m", "shop_app", *arguments],
                cwd=PROJECT_ROOT,
                env=_environment(data_dir, database_url),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def wait_for(self, line: str) -> str:
        for _ in range(int(DEV_SECONDS / 0.2)):
            printed = self.output.read_text()
            if line in printed:
                return printed
            if self.process.poll() is not None:
                raise AssertionError(f"`shop-app dev` stopped (exit {self.process.returncode}):\n{printed}")
            time.sleep(0.2)
        raise AssertionError(f"`shop-app dev` never printed {line!r}:\n{self.output.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(
                    f"`shop-app dev` did not stop on Ctrl+C:\n{self.output.read_text()}"
                ) from None


def _backfilled_shops(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT s.domain, st.checkpoints FROM sync_states st JOIN shops s ON s.id = st.shop_id")
            ).all()
    finally:
        engine.dispose()
    return {domain for domain, checkpoints in rows if (checkpoints or {}).get("completed_at")}


def test_dev_listens_on_the_port_it_is_given(tmp_path: Path) -> None:
    port, store_port = _free_port(), _free_port()
    dev = DevProcess(tmp_path / "data", None, port=port, store_port=store_port)
    try:
        printed = dev.wait_for("Order Desk is running")
        assert f"http://127.0.0.1:{port}/console" in printed
        assert f"http://127.0.0.1:{store_port}/s/" in printed
        # the simulated LINE platform, its channel connected to the Japanese demo shop
        chat = re.search(
            r"LINE chat page \(a LINE user of hinode-apparel.myshopify.com, simulated\): (\S+)", printed
        )
        assert chat is not None, printed
        assert httpx.get(chat.group(1), timeout=30, follow_redirects=True).status_code == 200
        # a LINE user adds the account: the platform's signed webhook reaches the app, which takes it
        line = chat.group(1).split("/chat/")[0]
        channel_id = chat.group(1).rsplit("/", 1)[1]
        added = httpx.post(f"{line}/_devline/channels/{channel_id}/users", json={"follow": True}, timeout=30)
        assert added.status_code == 201, added.text
        for _ in range(100):
            deliveries = httpx.get(f"{line}/_devline/deliveries", timeout=30).json()["deliveries"]
            if deliveries:
                break
            time.sleep(0.2)
        assert deliveries and deliveries[-1]["statusCode"] == 200, deliveries
        # the simulated Chatwoot, its account connected to the same shop: a conversation with the card framed
        chatwoot = re.search(
            r"Chatwoot conversation with the Order Desk card \(simulated Chatwoot\): (\S+)", printed
        )
        assert chatwoot is not None, printed
        page = httpx.get(chatwoot.group(1), timeout=30)
        assert page.status_code == 200 and 'class="dashboard-app"' in page.text
        assert f"http://127.0.0.1:{port}/connectors/chatwoot/card?connector=" in page.text
        # the simulated Zendesk, connected too: its demo ticket answered by the bot, the sidebar app framed
        zendesk = re.search(r"Zendesk ticket with the Order Desk sidebar \(simulated\): (\S+)", printed)
        assert zendesk is not None, printed
        ticket = httpx.get(zendesk.group(1), timeout=30)
        assert ticket.status_code == 200 and 'id="app-sidebar"' in ticket.text
        assert f"http://127.0.0.1:{port}/zendesk/sidebar?key=" in ticket.text
        # the store and the app share one event loop, busy with the first sync: allow a slow answer
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200
    finally:
        dev.stop()


def test_dev_prepares_a_fresh_postgresql_database_and_its_worker_syncs_the_demo_shops(
    fresh_postgres: str, tmp_path: Path
) -> None:
    dev = DevProcess(tmp_path / "data", fresh_postgres, port=_free_port(), store_port=_free_port())
    try:
        # the install (which queues the first sync) is answered, not a 500
        dev.wait_for("Order Desk is running")
        for _ in range(int(DEV_SECONDS / 0.5)):
            if _backfilled_shops(fresh_postgres) == DEMO_SHOPS:
                break
            assert dev.process.poll() is None, dev.output.read_text()
            time.sleep(0.5)
        assert _backfilled_shops(fresh_postgres) == DEMO_SHOPS
    finally:
        dev.stop()

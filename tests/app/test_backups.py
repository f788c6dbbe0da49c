# ruff: noqa: F811  (the desk fixture is imported from the helpdesk tests)
"""Backups: ``shop-app backup`` copies the running app's SQLite database while it keeps writing, and
``shop-app restore`` puts it back in a fresh directory, every row and encrypted token intact. PostgreSQL
is refused with the advice to use pg_dump; a damaged or foreign backup, or a restore over a live
database, is refused and changes nothing."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shop_app.cli import main
from shop_app.lifespan import open_services
from shop_app.models import Message, ShopCredential, Ticket
from shop_app.operations.backups import BackupError, backup, restore
from shop_app.operations.readiness import readiness
from shop_app.settings import DEV_SECRETS_FILE, Mode, Settings
from tests.helpdesk.conftest import Desk, desk  # noqa: F401

pytestmark = pytest.mark.anyio


def fresh(settings: Settings, directory: Path) -> Settings:
    return replace(
        settings, data_dir=directory, database_url=f"sqlite+aiosqlite:///{directory / 'shop_app.db'}"
    )


async def ticket_count(desk: Desk) -> int:
    async with desk.services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Ticket))).scalar_one())


async def test_a_backup_taken_under_writes_restores_into_a_fresh_directory_intact(
    desk: Desk, settings: Settings, tmp_path: Path
) -> None:
    if not settings.is_sqlite:
        pytest.skip("the embedded SQLite database; PostgreSQL is refused below")
    # given: a shopper's bot opens tickets without pause
    stop = asyncio.Event()
    written = 0
    wanted = {"count": 5}
    reached = asyncio.Event()

    async def write() -> None:
        nonlocal written
        while not stop.is_set():
            await desk.open_ticket(message=f"Where is order #{1001 + written}?")
            written += 1
            if written >= wanted["count"]:
                reached.set()

    writer = asyncio.create_task(write())
    await reached.wait()

    # when: the backup is taken while they keep coming, then restored elsewhere
    before = await ticket_count(desk)
    report = await asyncio.to_thread(backup, settings, tmp_path / "backup")
    after_backup = await ticket_count(desk)
    reached.clear()
    wanted["count"] = written + 3  # writes go on after it
    await reached.wait()
    stop.set()
    await writer
    restored_settings = fresh(settings, tmp_path / "restored")
    restore(restored_settings, tmp_path / "backup")

    # then: the copy is one consistent moment between the two counts, every ticket with all its messages,
    # the shops' tokens decrypt, and the restored app is ready
    async with open_services(restored_settings, listen=False) as restored:
        state = await readiness(restored)
        async with restored.sessions() as session:
            tickets = list((await session.execute(select(Ticket))).scalars())
            messages = dict(
                (
                    await session.execute(select(Message.ticket_id, func.count()).group_by(Message.ticket_id))
                ).all()
            )
            credentials = list((await session.execute(select(ShopCredential))).scalars())
        tokens = [json.loads(restored.cipher.decrypt(row.ciphertext)) for row in credentials]
    assert before <= len(tickets) <= after_backup
    assert report.rows["tickets"] == len(tickets)
    assert all(messages[ticket.id] == ticket.message_count for ticket in tickets)
    assert len(credentials) == 2
    assert all("shpat_current" in json.dumps(token) for token in tokens)
    assert state.ready, state.checks
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["revision"] == report.revision and manifest["rows"]["tickets"] == len(tickets)


async def test_postgres_is_refused_with_the_advice_to_use_pg_dump(settings: Settings, tmp_path: Path) -> None:
    postgres = replace(settings, database_url="postgresql+psycopg://app:hunter2@db.example/desk")
    with pytest.raises(BackupError) as refused:
        backup(postgres, tmp_path / "backup")
    assert refused.value.code == "postgres_uses_pg_dump" and "pg_dump" in refused.value.message
    assert not (tmp_path / "backup").exists()


def test_development_secrets_go_with_a_development_backup_and_never_with_a_production_one(
    tmp_path: Path, sqlite_template: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "shop_app.db").write_bytes(sqlite_template.read_bytes())
    (source / DEV_SECRETS_FILE).write_text('{"encryption_keys": "k"}')
    development = fresh(Settings(), source)

    dev_report = backup(development, tmp_path / "dev-backup")
    prod_report = backup(replace(development, mode=Mode.PRODUCTION), tmp_path / "prod-backup")
    restored = fresh(Settings(), tmp_path / "restored")
    restore(restored, tmp_path / "dev-backup")

    assert dev_report.secrets_included and (tmp_path / "dev-backup" / DEV_SECRETS_FILE).exists()
    assert (tmp_path / "dev-backup" / DEV_SECRETS_FILE).stat().st_mode & 0o777 == 0o600
    assert not prod_report.secrets_included and not (tmp_path / "prod-backup" / DEV_SECRETS_FILE).exists()
    assert (tmp_path / "restored" / DEV_SECRETS_FILE).read_text() == '{"encryption_keys": "k"}'


def test_the_commands_refuse_what_would_lose_or_damage_data(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "live"
    live.mkdir()
    (live / "shop_app.db").write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("SHOP_APP_DATA_DIR", str(live))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "notes.txt").write_text("mine")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "shop_app.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    (damaged / "manifest.json").write_text("{}")
    original = (live / "shop_app.db").read_bytes()

    into_occupied = main(["backup", str(tmp_path / "occupied")])
    made = main(["backup", str(tmp_path / "good")])
    over_live = main(["restore", str(tmp_path / "good")])
    untouched = (live / "shop_app.db").read_bytes() == original
    from_damaged = main(["restore", str(damaged), "--replace"])
    from_nothing = main(["restore", str(tmp_path / "occupied"), "--replace"])
    replaced = main(["restore", str(tmp_path / "good"), "--replace"])
    printed = capsys.readouterr()

    assert (into_occupied, made, over_live, from_damaged, from_nothing, replaced) == (1, 0, 1, 1, 1, 0)
    assert (tmp_path / "occupied" / "notes.txt").read_text() == "mine"
    assert "already holds files" in printed.err and "--replace" in printed.err
    assert "damaged" in printed.err and "not a backup" in printed.err
    assert "restored from" in printed.out
    assert untouched  # the refused restore left the live database as it was

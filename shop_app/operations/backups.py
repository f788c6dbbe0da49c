"""Backups of the embedded SQLite database, taken while the app runs, and their restore.

``backup`` copies the database with SQLite's online backup API in one step: the copy is the database as
one transaction saw it (the app keeps writing meanwhile: in WAL mode readers and the writer do not wait
for each other). A backup is a directory: the database, a manifest (when, which schema revision, how many
rows per table) and, in development mode only, the generated development secrets (whose encryption key the
stored Shopify tokens need). In production the keys come from the environment and never go into a backup:
keep them apart, as the README says.

PostgreSQL has its own tools (``pg_dump``/``pg_restore``); these functions refuse it with that advice.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shop_app.database import SQLITE_BUSY_TIMEOUT_MS
from shop_app.errors import AppError
from shop_app.settings import DEV_SECRETS_FILE, Mode, Settings

DATABASE_FILE = "shop_app.db"
MANIFEST_FILE = "manifest.json"
POSTGRES_ADVICE = (
    'PostgreSQL is backed up with its own tools: pg_dump --format=custom --file=desk.dump "$DATABASE_URL", '
    'and restored with pg_restore --clean --if-exists --dbname="$DATABASE_URL" desk.dump (see the README)'
)


class BackupError(AppError):
    http_status = 400
    default_code = "backup_failed"


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size_bytes: int
    revision: str | None
    rows: dict[str, int]
    secrets_included: bool


def sqlite_file(settings: Settings) -> Path:
    if not settings.is_sqlite:
        raise BackupError(POSTGRES_ADVICE, code="postgres_uses_pg_dump")
    return Path(settings.database_url.split("///", 1)[1])


def backup(settings: Settings, target: Path) -> BackupReport:
    """Write a backup of the running app's database into the new directory ``target``."""
    source_path = sqlite_file(settings)
    if not source_path.exists():
        raise BackupError(f"There is no database at {source_path} to back up", code="no_database")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} already holds files: give a new directory", code="target_not_empty")
    target.mkdir(parents=True, exist_ok=True)
    copy_path = target / DATABASE_FILE
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    copy = sqlite3.connect(copy_path)
    try:
        source.backup(copy)  # every page in one step: one consistent snapshot
    finally:
        source.close()
        copy.close()
    revision, rows = _check(copy_path)
    secrets_included = False
    if settings.mode is Mode.DEVELOPMENT and (settings.data_dir / DEV_SECRETS_FILE).exists():
        shutil.copy2(settings.data_dir / DEV_SECRETS_FILE, target / DEV_SECRETS_FILE)
        (target / DEV_SECRETS_FILE).chmod(0o600)
        secrets_included = True
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "rows": rows,
        "development_secrets": secrets_included,
    }
    (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return BackupReport(target, copy_path.stat().st_size, revision, rows, secrets_included)


def restore(settings: Settings, source: Path, *, replace_existing: bool = False) -> BackupReport:
    """Put the backup in ``source`` in place of this app's database (stop the app first)."""
    target_path = sqlite_file(settings)
    copy_path = source / DATABASE_FILE
    if not copy_path.exists() or not (source / MANIFEST_FILE).exists():
        raise BackupError(f"{source} is not a backup made by shop-app backup", code="not_a_backup")
    revision, rows = _check(copy_path)
    if target_path.exists() and not replace_existing:
        raise BackupError(
            f"A database already exists at {target_path}: stop the app and pass --replace to overwrite it",
            code="database_exists",
        )
    target_path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (target_path.with_name(target_path.name + suffix) for suffix in ("-wal", "-shm")):
        leftover.unlink(missing_ok=True)  # a write-ahead log of the replaced database must not replay
    copy = sqlite3.connect(f"file:{copy_path}?mode=ro", uri=True)
    restored = sqlite3.connect(target_path)
    try:
        copy.backup(restored)
    finally:
        copy.close()
        restored.close()
    secrets = source / DEV_SECRETS_FILE
    secrets_included = secrets.exists() and settings.mode is Mode.DEVELOPMENT
    if secrets_included:
        shutil.copy2(secrets, settings.data_dir / DEV_SECRETS_FILE)
        (settings.data_dir / DEV_SECRETS_FILE).chmod(0o600)
    return BackupReport(source, target_path.stat().st_size, revision, rows, secrets_included)


def _check(path: Path) -> tuple[str | None, dict[str, int]]:
    """The copy's integrity, its schema revision and its row counts (a damaged copy is refused)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (verdict,) = connection.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"The copy at {path} is damaged ({verdict})", code="damaged")
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        rows = {
            # table names come from the file's own schema, quoted as identifiers
            name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608
            for name in tables
        }
        revision = (
            connection.execute("SELECT version_num FROM alembic_version").fetchone()
            if "alembic_version" in tables
            else None
        )
        return (str(revision[0]) if revision else None), rows
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database", code="damaged") from error
    finally:
        connection.close()
